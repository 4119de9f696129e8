"""`eq cv` on a tiny synthetic cohort; argument mapping; `--scale auto`."""

import json

import pytest

from eq_engine.cli import build_parser, main
from eq_engine.cli.cv import cv_config

TINY = ["--arch", "resnet18", "--size", "32", "--batch-size", "2", "--crops-per-image", "1"]


pytestmark = pytest.mark.usefixtures("quiet_machine")


def test_arguments_become_a_cv_config():
    args = build_parser().parse_args(
        ["cv", "d", "--group-pattern", r"^(T\d+)_", "--out", "o", "--folds", "2", "--base",
         "m.eqm", "--compare-scratch", "--freeze-epochs", "1", "--epochs", "3", "--scale", "auto",
         "--tta"])
    config = cv_config(args)
    assert config.folds == 2 and config.base_model == "m.eqm" and config.arms == ("transfer", "scratch")
    assert (config.freeze_epochs, config.unfreeze_epochs) == (1, 2)
    assert config.train.scale == 0.0 and config.prediction.tta is True
    default = cv_config(build_parser().parse_args(["cv", "d", "--group-pattern", "^(T.)_", "--out",
                                                   "o"]))
    assert default.prediction.tta == "auto"  # on for a GPU only
    transfer = cv_config(build_parser().parse_args(["cv", "d", "--group-pattern", "^(T.)_",
                                                    "--out", "o", "--base", "m.eqm"]))
    assert (transfer.freeze_epochs, transfer.unfreeze_epochs, transfer.train.epochs) == (2, 8, 10)
    assert build_parser().parse_args(["train", "mito", "d", "--out", "m", "--scale", "0.5"]).scale == 0.5
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "mito", "d", "--out", "m", "--scale", "big"])


def test_cv_writes_folds_summary_and_a_run_record(tmp_path, capsys):
    from eq_engine.data.synthetic import write_histology_dataset
    from eq_engine.runs import list_runs

    data = write_histology_dataset(tmp_path / "hist", n_images=4, size=64, seed=2, n_glomeruli=1)
    out = tmp_path / "cv"
    assert main(["cv", str(data), "--group-pattern", r"^(S\d+)_", "--out", str(out), "--epochs",
                 "1", "--valid-fraction", "0.5", *TINY, "--crops-per-image", "2",
                 "--ensemble"]) == 0
    text = capsys.readouterr().out
    assert "scratch: Dice over 2 folds" in text and "run record" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["arms"]["scratch"]["n_folds"] == 2
    record = list_runs(kind="cv")[0]
    assert len(record.models) == 2 and "scratch_pooled_dice_mean" in record.metrics
    # the fold models as one model: eq predict takes the manifest like a model file
    assert json.loads((out / "ensemble.json").read_text())["members"] == [
        "fold0/scratch.eqm", "fold1/scratch.eqm"]
    assert main(["predict", str(out / "ensemble.json"), str(data / "images"), "--out",
                 str(tmp_path / "pred"), "--threads", "--device", "cpu"]) == 0
    assert len(list((tmp_path / "pred").glob("*_mask.tif"))) == 4
