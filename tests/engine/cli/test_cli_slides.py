"""`eq predict` and `eq quantify` on a whole slide, with a tiny real (untrained) U-Net."""

from __future__ import annotations

import json

import pytest

from eq_engine.cli import main


@pytest.fixture
def unet_file(tmp_path):
    from eq_engine.io.models import save_model
    from eq_engine.models.unet import build_unet

    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 3,
            "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    meta = {"task": "glomeruli", "arch": "resnet18", "in_channels": 3, "n_classes": 2,
            "normalization": norm, "tile_size": 64, "scale": 0.25, "threshold": 0.5}
    return save_model(tmp_path / "tiny.eqm", build_unet("resnet18", in_channels=3), meta)


def test_predict_detects_a_slide_and_resumes(unet_file, make_slide, tmp_path, capsys):
    slide = make_slide("svs")
    args = ["predict", str(unet_file), str(slide), "--out", str(tmp_path / "out"),
            "--region", "128", "--halo", "32", "--device", "cpu", "--batch-size", "4"]
    assert main(args) == 0
    out = tmp_path / "out" / "slide_svs"
    for name in ("labels.ome.zarr", "objects.csv", "thumbnail.png", "slide_state.json"):
        assert (out / name).exists()
    text = capsys.readouterr().out
    assert "level 1 (x1)" in text and "regions predicted" in text
    assert main(args) == 0
    assert "0 regions predicted" in capsys.readouterr().out  # all resumed


def test_quantify_a_slide_with_a_grade_model(unet_file, make_slide, tmp_path, capsys):
    from eq_engine.quantification.grade_model_io import save_grade_model
    from eq_engine.quantification.ordinal import GradeModel

    grades = save_grade_model(tmp_path / "g.json", GradeModel(
        features=("openness",), mean=(0.1,), scale=(0.1,), coef=(1.0,), cuts=(-1.0, 1.0),
        classes=(0.0, 1.0, 2.0), level="glomerulus"))
    out = tmp_path / "q"
    code = main(["quantify", str(unet_file), str(make_slide("ome")), "--out", str(out),
                 "--grade-model", str(grades), "--region", "128", "--device", "cpu"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["glomeruli"] == len((out / "glomeruli.csv").read_text().splitlines()) - 1
    assert (out / "histogram.png").stat().st_size > 0
    assert "glomeruli" in capsys.readouterr().out


def test_quantify_a_slide_needs_a_model_not_masks(make_slide, tmp_path, capsys):
    code = main(["quantify", str(tmp_path), str(make_slide("ome")), "--out", str(tmp_path / "q")])
    assert code == 1
    assert "segmentation model" in capsys.readouterr().err
