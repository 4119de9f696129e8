"""Export an EQ model file as a bioimage.io model package (zip) for deepImageJ, ilastik,
QuPath, the BioImage Model Zoo and ``bioimageio.core``.

The package holds ``rdf.yaml`` (written as JSON, which is YAML), the weights twice
(``pytorch_state_dict`` with its architecture source :mod:`.bioimageio_unet`, and TorchScript),
a test input and the output EQ itself computes for it, a cover image and a README.

Mapping of EQ's model to the spec (format 0.5):

- input ``raw`` ``(batch, channel, y, x)`` float32 with the model's ``in_channels``; y/x any
  multiple of 32 from 64 (a U-Net halves five times);
- preprocessing = EQ's normalisation: ``scale_range`` per sample and channel over y/x at the
  model's ``low``/``high`` percentiles, then ``fixed_zero_mean_unit_variance`` along the channel
  with the stored training mean/std;
- output ``probability`` ``(batch, channel=1, y, x)``: foreground softmax probability;
- what the spec cannot express (input resize ``scale``, ``tile_size``, ``threshold``) is in
  ``config.eq`` and in the README: resize inputs by ``scale`` first, threshold the output.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..errors import ConfigError, ModelError

log = logging.getLogger(__name__)
ARCH_FILE = "eq_unet.py"
CITATIONS = [
    {"text": "Ronneberger et al. U-Net: Convolutional Networks for Biomedical Image "
             "Segmentation. MICCAI 2015", "doi": "10.1007/978-3-319-24574-4_28"},
    {"text": "Howard and Gugger. fastai: A Layered API for Deep Learning. Information 2020",
     "doi": "10.3390/info11020108"},
]


def _test_image(info, size: int) -> np.ndarray:
    """A synthetic field of the model's kind: H&E-like for RGB models, EM-like for gray."""
    if info.in_channels == 3:
        from ..data.synthetic_histology import make_histology_field

        return make_histology_field(size, n_glomeruli=1, seed=0).image
    from ..data.synthetic_em import make_em_stack

    return make_em_stack(1, size, seed=0)[0][0]


def _test_size(info, size: int | None) -> int:
    size = size or min(int(info.tile or 256), 256)
    if size < 64 or size % 32:
        raise ConfigError(f"test tensor size {size}: must be a multiple of 32, at least 64")
    return size


def _wrapped(loaded):
    """The package's module: EQUNet holding the EQ model's weights."""
    from .bioimageio_unet import EQUNet

    info = loaded.info
    wrapper = EQUNet(info.arch, info.in_channels, info.n_classes)
    wrapper.unet.load_state_dict(loaded.module.state_dict(), strict=True)
    return wrapper.eval()


def _tensors(loaded, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw test input (1,C,Y,X), EQ's normalised input and EQ's output (1,1,Y,X)."""
    from ..data.normalize import normalize, to_channels_first

    channels = loaded.info.in_channels
    raw = to_channels_first(image, channels)[None].astype(np.float32)
    x = normalize(image, dict(loaded.info.normalization))[None]
    out = np.asarray(loaded.predictor(x), np.float32)
    return raw, x, out.reshape(1, 1, *out.shape[-2:])


def _cover(raw: np.ndarray, out: np.ndarray, path: Path) -> None:
    from ..io.images import write_image

    image = np.moveaxis(raw[0], 0, -1)
    image = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
    lo, hi = np.percentile(image, (1, 99.8))
    image = np.clip((image - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8)
    prob = np.repeat((out[0, 0] * 255).astype(np.uint8)[..., None], 3, axis=-1)
    write_image(path, np.concatenate([image, prob], axis=1))


def _axes(channels: list[str], size: dict) -> list[dict]:
    return [{"type": "batch"}, {"type": "channel", "channel_names": channels},
            {"type": "space", "id": "y", "size": size},
            {"type": "space", "id": "x", "size": size}]


def _preprocessing(norm: dict) -> list[dict]:
    return [{"id": "scale_range", "kwargs": {"axes": ["y", "x"],
                                             "min_percentile": float(norm["low"]),
                                             "max_percentile": float(norm["high"]),
                                             "eps": 1e-6}},
            {"id": "fixed_zero_mean_unit_variance",
             "kwargs": {"axis": "channel", "mean": [float(m) for m in norm["mean"]],
                        "std": [float(s) for s in norm["std"]]}}]


def _rdf(info, *, name: str, description: str, authors: list[str], license: str,
         torch_version: str, torchscript: bool) -> dict:
    from ..io.models import FORMAT_VERSION

    channels = ["gray"] if info.in_channels == 1 else ["red", "green", "blue"]
    weights = {"pytorch_state_dict": {
        "source": "weights.pt", "pytorch_version": torch_version,
        "architecture": {"source": ARCH_FILE, "callable": "EQUNet",
                         "kwargs": {"arch": info.arch, "in_channels": info.in_channels,
                                    "n_classes": info.n_classes}}}}
    if torchscript:
        weights["torchscript"] = {"source": "weights_torchscript.pt",
                                  "pytorch_version": torch_version,
                                  "parent": "pytorch_state_dict"}
    return {
        "type": "model", "format_version": "0.5.4", "name": name, "description": description,
        "authors": [{"name": a} for a in authors], "cite": CITATIONS, "license": license,
        "tags": ["segmentation", "unet", "2d", "pytorch", "eq", str(info.task)],
        "documentation": "README.md", "covers": ["cover.png"],
        "inputs": [{"id": "raw", "axes": _axes(channels, {"min": 64, "step": 32}),
                    "test_tensor": {"source": "test_input.npy"}, "data": {"type": "float32"},
                    "preprocessing": _preprocessing(dict(info.normalization))}],
        "outputs": [{"id": "probability",
                     "axes": _axes(["foreground"], None)[:2] + [
                         {"type": "space", "id": a,
                          "size": {"tensor_id": "raw", "axis_id": a}} for a in ("y", "x")],
                     "test_tensor": {"source": "test_output.npy"},
                     "data": {"type": "float32", "range": [0.0, 1.0]}}],
        "weights": weights,
        "config": {"eq": {"scale": float(info.scale),
                          "tile_size": int(info.tile),
                          "threshold": float(info.threshold),
                          "normalization": dict(info.normalization), "task": info.task,
                          "eq_model_format_version": FORMAT_VERSION}},
    }


README = """# {name}

{description}

Exported from an EQ model file (`eq export MODEL --bioimageio OUT.zip`).

## How to use it

- Input `raw`: {channels} image(s) as float32 `(batch, channel, y, x)`, y and x multiples of
  32 (at least 64). **Resize your image by {scale:g} first** (the model was trained at that
  scale; bioimage.io has no resize step). EQ predicted in {tile}-px tiles.
- Preprocessing (in the package): per-image, per-channel percentile scaling
  ({low:g}th -> 0, {high:g}th -> 1), then the training set's mean/std per channel.
- Output `probability`: foreground probability; EQ thresholds it at {threshold:g}.

## Validation

The test input is a synthetic field generated by EQ and the test output is what EQ's own
predictor gives for it. Measure Dice/IoU/object F1 on your own annotated images before use
(`eq evaluate`).
"""


def export_bioimageio(model: str | os.PathLike, out: str | os.PathLike, *,
                      name: str | None = None, description: str | None = None,
                      authors: tuple[str, ...] = ("EQ contributors",),
                      license: str = "CC-BY-4.0", test_size: int | None = None,
                      torchscript: bool = True) -> Path:
    """Write the EQ model file ``model`` as a bioimage.io model package zip at ``out``.

    ``test_size`` is the side of the test tensors (default: the model's tile, at most 256).
    Returns ``out``. Raises ModelError for files that are not EQ U-Net models.
    """
    import torch

    from ..io.atomic import atomic_path
    from ..models.loading import load_model

    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise ConfigError(f"bioimage.io package {out}: must end with .zip")
    loaded = load_model(model, device="cpu")
    info = loaded.info
    if info.n_classes != 2:
        raise ModelError(f"{model}: only 2-class (foreground) EQ models can be exported")
    size = _test_size(info, test_size)
    raw, x, expected = _tensors(loaded, _test_image(info, size))
    wrapper = _wrapped(loaded)
    torch_version = torch.__version__.split("+")[0]
    work = Path(tempfile.mkdtemp(prefix="eq-bioimageio-"))
    try:
        torch.save(wrapper.state_dict(), work / "weights.pt")
        shutil.copyfile(Path(__file__).with_name("bioimageio_unet.py"), work / ARCH_FILE)
        if torchscript:
            torchscript = _save_torchscript(wrapper, x, work / "weights_torchscript.pt")
        np.save(work / "test_input.npy", raw)
        np.save(work / "test_output.npy", expected)
        _cover(raw, expected, work / "cover.png")
        name = name or f"EQ {info.task or 'segmentation'} U-Net ({info.arch})"
        description = description or (
            f"EQ {info.arch} U-Net segmenting {info.task or 'foreground'} in "
            f"{'RGB' if info.in_channels == 3 else 'grayscale'} microscopy images")
        norm = dict(info.normalization)
        (work / "README.md").write_text(README.format(
            name=name, description=description, scale=float(info.scale),
            channels="RGB" if info.in_channels == 3 else "grayscale",
            tile=info.tile, low=norm["low"], high=norm["high"],
            threshold=float(info.threshold)))
        rdf = _rdf(info, name=name, description=description, authors=list(authors),
                   license=license, torch_version=torch_version, torchscript=bool(torchscript))
        (work / "rdf.yaml").write_text(json.dumps(rdf, indent=2))
        with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(work.iterdir()):
                zf.write(path, path.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("wrote bioimage.io package %s", out)
    return out


def _save_torchscript(wrapper, x: np.ndarray, path: Path) -> bool:
    """Trace ``wrapper`` on the test input; False (with a warning) when tracing fails."""
    import torch

    try:
        with torch.no_grad():
            traced = torch.jit.trace(wrapper, torch.from_numpy(x), check_trace=False)
        traced.save(str(path))
        return True
    except Exception as exc:  # tracing support varies by torch version: keep the state dict
        log.warning("TorchScript export failed (%s); the package has pytorch_state_dict only",
                    exc)
        return False
