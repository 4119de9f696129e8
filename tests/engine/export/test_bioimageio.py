"""bioimage.io export: the package of a tiny U-Net passes bioimageio.core's model test."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from eq_engine.errors import ConfigError


@pytest.fixture
def tiny_model(tmp_path):
    from eq_engine.io.models import save_model
    from eq_engine.models.unet import build_unet

    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 3,
            "mean": [0.4, 0.5, 0.6], "std": [0.2, 0.25, 0.3]}
    meta = {"task": "glomeruli", "arch": "resnet18", "in_channels": 3, "n_classes": 2,
            "normalization": norm, "tile_size": 64, "scale": 0.25, "threshold": 0.5}
    return save_model(tmp_path / "tiny.eqm", build_unet("resnet18", in_channels=3), meta)


def test_exported_package_passes_bioimageio_core_test_model(tiny_model, tmp_path, capsys):
    core = pytest.importorskip("bioimageio.core", reason="bioimageio.core (dev extra) missing")
    from eq_engine.cli import main

    out = tmp_path / "pkg.zip"
    assert main(["export", str(tiny_model), "--bioimageio", str(out), "--author", "A. Tester"]) == 0
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        rdf = json.loads(zf.read("rdf.yaml"))
        expected = np.load(zf.open("test_output.npy"))
    assert {"rdf.yaml", "weights.pt", "weights_torchscript.pt", "eq_unet.py", "test_input.npy",
            "test_output.npy", "cover.png", "README.md"} <= names
    pre = rdf["inputs"][0]["preprocessing"]
    assert pre[0]["kwargs"]["min_percentile"] == 1.0 and pre[0]["kwargs"]["max_percentile"] == 99.8
    assert pre[1]["kwargs"]["mean"] == [0.4, 0.5, 0.6]
    assert rdf["config"]["eq"]["scale"] == 0.25 and rdf["authors"] == [{"name": "A. Tester"}]
    assert expected.shape == (1, 1, 64, 64) and 0 <= expected.min() <= expected.max() <= 1
    summary = core.test_model(out)
    failed = [d.name for d in summary.details if d.status == "failed"]
    assert summary.status == "passed", failed


def test_export_needs_a_zip(tiny_model, tmp_path):
    from eq_engine.export.bioimageio import export_bioimageio

    with pytest.raises(ConfigError, match="zip"):
        export_bioimageio(tiny_model, tmp_path / "pkg.tar")
    with pytest.raises(ConfigError, match="multiple of 32"):
        export_bioimageio(tiny_model, tmp_path / "pkg.zip", test_size=48)
