"""Ensembles: several EQ models (for example the fold models of ``eq cv --ensemble``) run as one.

An ensemble file is a small JSON manifest, ``{"eq_ensemble": 1, "members": [paths]}``, with
member paths relative to the manifest. Loaded, it is one :class:`LoadedModel` whose predictor
averages the members' foreground probabilities, so every prediction path (fields, batches,
large TIFFs, slides) takes it where it takes a model file. The first member's metadata (tile,
threshold, normalisation) drives tiling, at the members' median scale and with their median
learned minimum object size; each member gets the batch re-standardised with its own training
mean and std. Members must agree on the task, channels and percentile normalisation, and on the
scale within :data:`SCALE_TOLERANCE` of the median.

Averaging paid on animals none of the members saw: +0.03 (transfer) and +0.11 (scratch) Dice
over the average member for three 4-image glomeruli models (BENCHMARKS.md, "Ensembles"), at the
cost of one prediction per member.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..io.model_info import ModelInfo
from ..io.recipe_meta import POSTPROCESS, learned_min_size
from .loading import LoadedModel, load_model

FORMAT_KEY = "eq_ensemble"
# --scale auto gives each fold its own scale (0.146-0.162 for 4-image glomeruli models); members
# trained with zoom augmentation 0.8-1.25 cope with a fifth either way
SCALE_TOLERANCE = 0.2


def is_ensemble(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an ensemble manifest (a ``.json`` file with the ensemble key)."""
    path = Path(path)
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        return FORMAT_KEY in json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, TypeError):
        return False


def write_ensemble(path: str | os.PathLike, members) -> Path:
    """Write a manifest naming ``members`` (model files) relative to it; returns its path."""
    path = Path(path)
    members = _checked(path, [Path(m) for m in members])
    names = [os.path.relpath(m.resolve(), path.resolve().parent) for m in members]
    path.write_text(json.dumps({FORMAT_KEY: 1, "members": names}, indent=2) + "\n",
                    encoding="utf-8")
    return path


def ensemble_members(path: str | os.PathLike) -> list[Path]:
    """The member model files of a manifest, each checked to exist."""
    path = Path(path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        members = [path.parent / name for name in manifest["members"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{path}: not a readable EQ ensemble manifest ({exc})") from exc
    return _checked(path, members)


def _checked(path: Path, members: list[Path]) -> list[Path]:
    """``members``, once there are at least two and each exists."""
    if len(members) < 2:
        raise ModelError(f"{path}: an ensemble needs at least two models, got {len(members)}")
    missing = [str(m) for m in members if not m.is_file()]
    if missing:
        raise ModelError(f"{path}: ensemble members not found: {', '.join(missing)}")
    return members


def _check_compatible(path: Path, infos: list[ModelInfo], names: list[str],
                      scale: float) -> None:
    first = infos[0]
    for info, name in zip(infos[1:], names[1:], strict=True):
        norm, norm0 = info.normalization, first.normalization
        for what, a, b in (("task", info.task, first.task),
                           ("input channels", info.in_channels, first.in_channels),
                           ("normalisation", (norm["method"], norm["low"], norm["high"]),
                            (norm0["method"], norm0["low"], norm0["high"]))):
            if a != b:
                raise ModelError(f"{path}: {name} has {what} {a!r}, {names[0]} has {b!r}; "
                                 "ensemble models trained for the same data")
    for info, name in zip(infos, names, strict=True):
        if abs(info.scale / scale - 1) > SCALE_TOLERANCE:
            raise ModelError(f"{path}: {name} was trained at scale {info.scale:g}, the "
                             f"members' median is {scale:g}; members must see objects at about "
                             "the same size")


def ensemble_metadata(path: str | os.PathLike) -> dict:
    """The metadata an ensemble predicts with, from its members' headers only (no torch): the
    first member's, at the members' median scale and median learned minimum object size, with
    ``ensemble`` listing the member files. Incompatible members raise ModelError."""
    from ..io.models import read_metadata

    path = Path(path)
    files = ensemble_members(path)
    metas = [read_metadata(f) for f in files]
    infos = [ModelInfo.from_metadata(m) for m in metas]
    names = [f.name if len({g.name for g in files}) == len(files) else str(f) for f in files]
    scale = float(np.median([i.scale for i in infos]))
    _check_compatible(path, infos, names, scale)
    metadata = dict(metas[0])
    metadata.update(scale=scale, ensemble=[str(f) for f in files])
    sizes = [learned_min_size(m) for m in metas]
    if any(sizes):
        metadata[POSTPROCESS] = {**metadata.get(POSTPROCESS, {}),
                                 "min_size": int(np.median(sizes))}
    return metadata


def model_metadata(path: str | os.PathLike) -> dict:
    """The metadata of a model file or of an ensemble manifest; headers only, no torch."""
    from ..io.models import read_metadata

    return ensemble_metadata(path) if is_ensemble(path) else read_metadata(path)


def ensemble_predictor(models: list[LoadedModel]):
    """``predictor(batch)``: the mean of the members' probabilities, each member given the
    batch (standardised with the first member's statistics) in its own statistics."""
    def stats(model):
        norm = model.info.normalization
        return (np.asarray(norm["mean"], np.float32)[None, :, None, None],
                np.asarray(norm["std"], np.float32)[None, :, None, None])

    mean0, std0 = stats(models[0])
    members = [(model.predictor, *stats(model)) for model in models]

    def averaged(batch: np.ndarray) -> np.ndarray:
        unit = batch * std0 + mean0  # back to percentile-scaled values, shared by all members
        total = None
        for predictor, mean, std in members:
            out = np.asarray(predictor(((unit - mean) / std).astype(np.float32)))
            out = out[:, 0] if out.ndim == 4 else out
            total = out.astype(np.float64) if total is None else total + out
        return (total / len(members)).astype(np.float32)

    return averaged


def load_ensemble(path: str | os.PathLike, *, device: str = "auto",
                  mixed_precision: bool = True) -> LoadedModel:
    """Load every member of a manifest on ``device`` and return them as one model (each member
    under autocast on CUDA unless ``mixed_precision`` is False)."""
    metadata = ensemble_metadata(path)
    models = [load_model(f, device=device, mixed_precision=mixed_precision)
              for f in metadata["ensemble"]]
    return LoadedModel(None, metadata, ensemble_predictor(models), device=models[0].device)


def load_model_or_ensemble(path: str | os.PathLike, *, device: str = "auto",
                           mixed_precision: bool = True) -> LoadedModel:
    """:func:`load_ensemble` for a manifest, :func:`~eq_engine.models.loading.load_model` for a
    model file: what every prediction path loads a path with."""
    load = load_ensemble if is_ensemble(path) else load_model
    return load(path, device=device, mixed_precision=mixed_precision)
