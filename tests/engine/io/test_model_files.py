"""EQ model files: safetensors + JSON metadata, round trips, and refusing pickles."""

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from eq_engine.errors import ModelError
from eq_engine.io.models import (
    FORMAT,
    load_weights,
    read_metadata,
    read_state_dict,
    save_model,
)
from eq_engine.models.loading import load_model
from eq_engine.models.unet import build_unet


def _meta(**extra):
    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 1,
            "mean": [0.4], "std": [0.2]}
    return {"task": "mitochondria", "arch": "resnet18", "in_channels": 1, "n_classes": 2,
            "normalization": norm, "tile_size": 64, "scale": 1.0, "threshold": 0.5, **extra}


@pytest.fixture(scope="module")
def unet():
    torch.manual_seed(0)
    return build_unet("resnet18", in_channels=1).eval()


class _Payload:
    """Unpickling this object runs code: it creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.makedirs, (self.marker,))


def test_round_trip_gives_identical_predictions(tmp_path, unet):
    path = save_model(tmp_path / "m.eqm", unet, _meta(history=[{"epoch": 1, "dice": float("nan")}]))
    loaded = load_model(path, device="cpu")
    x = np.random.default_rng(0).normal(size=(2, 1, 64, 64)).astype(np.float32)
    with torch.inference_mode():
        expected = torch.softmax(unet(torch.from_numpy(x)).as_subclass(torch.Tensor), 1)[:, 1].numpy()
    got = loaded.predictor(x)
    assert got.shape == (2, 64, 64) and got.dtype == np.float32
    # the loaded model runs channels_last on CPU: the same numbers up to float summation order
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    assert loaded.metadata["format"] == FORMAT and loaded.metadata["history"][0]["dice"] is None
    assert [p.name for p in tmp_path.iterdir()] == ["m.eqm"]  # atomic write left no temp file


def test_metadata_is_plain_safetensors_json_readable_without_torch(tmp_path, unet):
    path = save_model(tmp_path / "m.safetensors", unet.state_dict(), _meta())
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        assert json.loads(fh.metadata()["eq"])["arch"] == "resnet18"
    code = ("import sys; from eq_engine.io.models import read_metadata; "
            f"m = read_metadata({str(path)!r}); print(m['task'], 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["mitochondria", "False"]


def test_crafted_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    for name in ("evil.eqm", "evil.pth", "evil.safetensors"):
        path = tmp_path / name
        path.write_bytes(pickle.dumps(_Payload(marker), protocol=2))
        for loader in (read_metadata, load_model, read_state_dict):
            with pytest.raises(ModelError, match="pickle|never unpickles"):
                loader(path)
    protocol0 = tmp_path / "old.eqm"
    protocol0.write_bytes(pickle.dumps(_Payload(marker), protocol=0))
    with pytest.raises(ModelError):
        load_model(protocol0)
    assert not marker.exists()


def test_pth_with_arbitrary_objects_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "weights.pth"
    torch.save({"conv1.weight": torch.zeros(2), "extra": _Payload(marker)}, path)
    with pytest.raises(ModelError, match="refused|never unpickles"):
        read_state_dict(path)
    with pytest.raises(ModelError, match="never unpickles"):
        load_model(path)
    assert not marker.exists()


def test_plain_pth_state_dict_is_read_weights_only(tmp_path):
    path = tmp_path / "weights.pth"
    torch.save({"a": torch.arange(3.0)}, path)
    assert torch.equal(read_state_dict(path)["a"], torch.arange(3.0))


def test_non_eq_and_incomplete_files_are_refused(tmp_path, unet):
    from safetensors.torch import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(ModelError, match="not an EQ segmentation model"):
        read_metadata(plain)
    with pytest.raises(ModelError, match="lacks"):
        save_model(tmp_path / "x.eqm", unet, {"task": "generic"})
    with pytest.raises(ModelError, match="must end with"):
        save_model(tmp_path / "x.pt", unet, _meta())
    junk = tmp_path / "junk.eqm"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(ModelError, match="not a safetensors"):
        read_metadata(junk)
    with pytest.raises(ModelError, match="does not exist"):
        read_metadata(tmp_path / "missing.eqm")


def test_newer_format_version_is_refused(tmp_path, unet):
    path = save_model(tmp_path / "m.eqm", unet, _meta())
    state, meta = load_weights(path)
    from safetensors.torch import save_file

    meta["format_version"] = 99
    save_file({k: v.contiguous() for k, v in state.items()}, str(path), metadata={"eq": json.dumps(meta)})
    with pytest.raises(ModelError, match="Upgrade EQ"):
        read_metadata(path)


def test_weights_that_do_not_fit_the_architecture_are_refused(tmp_path, unet):
    path = save_model(tmp_path / "m.eqm", unet, _meta(arch="resnet34"))
    with pytest.raises(ModelError, match="do not match a resnet34"):
        load_model(path, device="cpu")


def test_header_length_that_starts_like_a_pickle_still_loads(tmp_path):
    """The first byte of a safetensors file is the header length's low byte; 0x80 is legal."""
    state = {"w": torch.zeros(3)}
    path = tmp_path / "m.eqm"
    pad = ""
    for _ in range(3):
        save_model(path, state, _meta(pad=pad))
        low = path.read_bytes()[0]
        if low == 0x80:
            break
        pad += "x" * ((0x80 - low) % 256)
    assert path.read_bytes()[0] == 0x80
    assert read_metadata(path)["pad"] == pad
    assert torch.equal(read_state_dict(path)["w"], state["w"])
