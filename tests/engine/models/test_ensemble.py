"""Ensembles: the manifest, per-member re-standardisation, compatibility checks, and prediction
through the same paths as a single model file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eq_engine.config import PredictConfig
from eq_engine.errors import ModelError
from eq_engine.inference import predict
from eq_engine.models.ensemble import (
    ensemble_members,
    ensemble_predictor,
    is_ensemble,
    load_ensemble,
    write_ensemble,
)
from eq_engine.models.loading import LoadedModel


def _norm(mean, std):
    return {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 1,
            "mean": [mean], "std": [std]}


def _identity(mean, std):
    """A stand-in member whose 'probability' is its standardised input."""
    meta = {"in_channels": 1, "normalization": _norm(mean, std), "tile_size": 32, "scale": 1.0}
    return LoadedModel(None, meta, lambda batch: batch[:, 0])


def test_each_member_sees_the_batch_in_its_own_statistics():
    a, b = _identity(0.5, 0.25), _identity(0.4, 0.2)
    batch = np.array([0.0, 2.0], np.float32).reshape(2, 1, 1, 1)  # in a's statistics
    # unit values 0.5 and 1.0; a sees 0 and 2, b sees (0.5-0.4)/0.2 = 0.5 and (1-0.4)/0.2 = 3
    out = ensemble_predictor([a, b])(batch)
    np.testing.assert_allclose(out.ravel(), [0.25, 2.5], rtol=1e-6)


def _model_file(path, *, scale=1.0, mean=0.5, in_channels=1):
    from eq_engine.io.models import save_model
    from eq_engine.models.unet import build_unet

    meta = {"task": "glomeruli", "arch": "resnet18", "in_channels": in_channels, "n_classes": 2,
            "normalization": {**_norm(mean, 0.2), "channels": in_channels,
                              "mean": [mean] * in_channels, "std": [0.2] * in_channels},
            "tile_size": 32, "scale": scale, "threshold": 0.5}
    return save_model(path, build_unet("resnet18", in_channels=in_channels), meta)


def test_manifest_round_trip_and_prediction(tmp_path):
    members = [_model_file(tmp_path / "fold0" / "scratch.eqm"),
               _model_file(tmp_path / "fold1" / "scratch.eqm", scale=1.05, mean=0.45)]
    path = write_ensemble(tmp_path / "ensemble.json", members)
    assert json.loads(path.read_text())["members"] == ["fold0/scratch.eqm", "fold1/scratch.eqm"]
    assert is_ensemble(path) and not is_ensemble(members[0])
    assert ensemble_members(path) == [tmp_path / "fold0/scratch.eqm", tmp_path / "fold1/scratch.eqm"]
    image = np.random.default_rng(0).random((40, 50)).astype(np.float32)
    config = PredictConfig(device="cpu", tile=32)
    assert predict(path, image, config).probability.shape == (40, 50)
    loaded = load_ensemble(path, device="cpu")
    assert loaded.metadata["ensemble"] == [str(m) for m in members]
    assert loaded.info.scale == pytest.approx(1.025)  # the members' median
    # two copies of one model average to that model's own prediction
    twin = tmp_path / "twin.eqm"
    twin.write_bytes(members[0].read_bytes())
    same = write_ensemble(tmp_path / "same.json", [members[0], twin])
    np.testing.assert_allclose(predict(same, image, config).probability,
                               predict(members[0], image, config).probability, atol=1e-5)


def test_bad_manifests_name_the_problem(tmp_path):
    one = _model_file(tmp_path / "a.eqm")
    with pytest.raises(ModelError, match="at least two"):
        write_ensemble(tmp_path / "e.json", [one])
    with pytest.raises(ModelError, match="missing.eqm"):
        write_ensemble(tmp_path / "e.json", [one, tmp_path / "missing.eqm"])
    two = _model_file(tmp_path / "b.eqm", scale=0.9)
    far = _model_file(tmp_path / "far.eqm", scale=0.5)
    with pytest.raises(ModelError, match="far.eqm was trained at scale 0.5, the members' median is 0.9"):
        load_ensemble(write_ensemble(tmp_path / "e.json", [one, two, far]), device="cpu")
    rgb = _model_file(tmp_path / "rgb.eqm", in_channels=3)
    with pytest.raises(ModelError, match="input channels"):
        load_ensemble(write_ensemble(tmp_path / "e.json", [one, rgb]), device="cpu")
    (tmp_path / "other.json").write_text('{"members": []}')
    assert not is_ensemble(tmp_path / "other.json")
    (tmp_path / "e.json").write_text('{"eq_ensemble": 1, "members": ["gone.eqm", "a.eqm"]}')
    with pytest.raises(ModelError, match="gone.eqm"):
        ensemble_members(tmp_path / "e.json")


def test_headers_alone_describe_an_ensemble_without_importing_torch(tmp_path):
    import subprocess
    import sys

    from eq_engine import model_metadata

    members = [_model_file(tmp_path / "a.eqm", scale=0.9), _model_file(tmp_path / "b.eqm")]
    path = write_ensemble(tmp_path / "ensemble.json", members)
    meta = model_metadata(path)
    assert meta["scale"] == pytest.approx(0.95) and meta["ensemble"] == [str(m) for m in members]
    assert model_metadata(members[0])["scale"] == 0.9  # a model file is read as it is
    # the studio's GUI process checks models this way and must never import torch
    code = ("import sys; from eq_engine import model_metadata; "
            f"model_metadata({str(path)!r}); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
