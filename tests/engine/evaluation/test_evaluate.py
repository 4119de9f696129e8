"""evaluate(): hand-computed tables and aggregates, valid regions, overlays, errors, real data."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from eq_engine.config import EvalConfig
from eq_engine.errors import ConfigError, DataError
from eq_engine.evaluation import EvalReport, evaluate
from eq_engine.io.images import read_image, read_mask, write_image, write_mask
from eq_engine.models.loading import LoadedModel


def square(shape, ys, xs):
    mask = np.zeros(shape, bool)
    mask[ys[0]:ys[1], xs[0]:xs[1]] = True
    return mask


@pytest.fixture
def dataset(tmp_path):
    """Image a: one of two squares found + a false positive; image b: half of one square."""
    root, preds = tmp_path / "data", tmp_path / "pred"
    truth_a = square((40, 40), (5, 15), (5, 15)) | square((40, 40), (25, 35), (25, 35))
    pred_a = square((40, 40), (5, 15), (5, 15)) | square((40, 40), (0, 2), (30, 40))
    truth_b = square((40, 40), (10, 30), (10, 30))
    pred_b = square((40, 40), (10, 30), (10, 20))
    for name, truth, pred in (("a", truth_a, pred_a), ("b", truth_b, pred_b)):
        write_image(root / "images" / f"{name}.png", np.where(truth, 200, 30).astype(np.uint8))
        write_mask(root / "masks" / f"{name}.png", truth)
        write_mask(preds / f"{name}_mask.png", pred)
    return root, preds


def test_per_image_per_object_and_aggregates_by_hand(dataset, tmp_path):
    root, preds = dataset
    out = tmp_path / "report"
    events = []
    report = evaluate(root, EvalConfig(n_overlays=1), predictions=preds, out=out,
                      on_event=events.append)
    assert isinstance(report, EvalReport)
    a, b = report.per_image
    assert (a["tp"], a["fp"], a["fn"], a["tn"]) == (100, 20, 100, 1380)
    assert a["dice"] == pytest.approx(200 / 320) and a["iou"] == pytest.approx(100 / 220)
    assert (a["n_truth_objects"], a["n_pred_objects"], a["matched_objects"]) == (2, 2, 1)
    assert a["object_f1"] == pytest.approx(0.5)
    assert b["dice"] == pytest.approx(400 / 600) and b["recall"] == pytest.approx(0.5)
    assert b["matched_objects"] == 1 and b["mean_matched_iou"] == pytest.approx(0.5)

    pooled, mean = report.aggregates["pooled"], report.aggregates["mean"]
    assert pooled["dice"] == pytest.approx(600 / 920)
    assert mean["dice"] == pytest.approx((200 / 320 + 400 / 600) / 2)
    assert pooled["object_f1"] == pytest.approx(4 / 6) and mean["object_f1"] == pytest.approx(0.75)
    assert "summed" in report.aggregates["meaning"]["pooled"]

    kinds = {(r["image"], r["kind"]): r for r in report.per_object}
    assert len(report.per_object) == 4
    assert kinds[("a", "matched")]["iou"] == 1.0
    assert (kinds[("a", "matched")]["centroid_y"], kinds[("a", "matched")]["bbox_x1"]) == (9.5, 15)
    assert kinds[("a", "missed")]["area"] == 100 and kinds[("a", "missed")]["centroid_x"] == 29.5
    fp = kinds[("a", "false_positive")]
    assert (fp["area"], fp["bbox_y0"], fp["bbox_x0"], fp["bbox_y1"], fp["bbox_x1"]) == (20, 0, 30, 2, 40)

    assert report.baselines["all_background"]["pooled"]["dice"] == 0.0
    # the image is bright exactly on the truth, so the bright Otsu class is a perfect oracle
    assert report.baselines["otsu_bright"]["pooled"]["dice"] == 1.0
    assert report.sweep is None and report.recommended_threshold is None  # masks only
    assert events[-1].step == events[-1].total == 2

    with open(out / "per_image.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["image"] for r in rows] == ["a", "b"] and float(rows[0]["dice"]) == pytest.approx(0.625)
    with open(out / "per_object.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["aggregates"]["pooled"]["dice"] == pytest.approx(600 / 920)
    overlays = sorted(p.name for p in (out / "overlays").iterdir())
    assert overlays == ["best1_b.png", "worst1_a.png"]
    rgb = read_image(out / "overlays" / "worst1_a.png")
    assert rgb.shape == (40, 40, 3)
    assert rgb[30, 30, 2] > rgb[30, 30, 1]  # missed square drawn blue
    assert rgb[1, 35, 0] > rgb[1, 35, 1]  # false positive drawn orange
    assert "pooled" in report.table()


def test_valid_region_scores_only_inside(dataset, tmp_path):
    root, preds = dataset
    valid = np.zeros((40, 40), bool)
    valid[:, :20] = True  # hides a's missed square and false positive
    for name in ("a", "b"):
        write_mask(root / "valid_regions" / f"{name}.png", valid)
    report = evaluate(root, predictions=preds)
    a, b = report.per_image
    assert (a["tp"], a["fp"], a["fn"], a["scored_pixels"]) == (100, 0, 0, 800)
    assert a["dice"] == 1.0 and a["n_truth_objects"] == a["matched_objects"] == 1
    assert b["tp"] == 200 and b["fn"] == 0  # b's truth is clipped to the region too


def test_model_mode_with_sweep_and_probability_files(dataset, tmp_path):
    root, _ = dataset
    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 1,
            "mean": [0.5], "std": [0.25]}
    meta = {"in_channels": 1, "normalization": norm, "tile_size": 32, "scale": 1.0,
            "threshold": 0.5}
    model = LoadedModel(None, meta, lambda b: 1 / (1 + np.exp(-8 * b[:, 0])))
    report = evaluate(root, model=model)
    assert report.aggregates["pooled"]["dice"] == 1.0
    assert [r["threshold"] for r in report.sweep] == list(EvalConfig().sweep)
    assert report.recommended_threshold is not None
    best = max(r["pooled_dice"] for r in report.sweep)
    assert best == 1.0 and report.source["model"] == "loaded model"

    probs = tmp_path / "probs"
    for name in ("a", "b"):
        truth = read_mask(root / "masks" / f"{name}.png")
        write_image(probs / f"{name}_prob.tif", np.where(truth, 0.7, 0.2).astype(np.float32))
    from_files = evaluate(root, EvalConfig(threshold=0.6), predictions=probs)
    assert from_files.aggregates["pooled"]["dice"] == 1.0 and from_files.per_image[0]["threshold"] == 0.6
    sweep = {r["threshold"]: r["pooled_dice"] for r in from_files.sweep}
    assert sweep[0.5] == 1.0 and sweep[0.8] == 0.0 and sweep[0.1] < 1.0


def test_errors_list_the_problem_files(dataset, tmp_path):
    root, preds = dataset
    with pytest.raises(ConfigError, match="exactly one"):
        evaluate(root)
    write_mask(preds / "zz_mask.png", np.zeros((40, 40), bool))
    (preds / "b_mask.png").unlink()
    with pytest.raises(DataError, match=r"(?s)no prediction.*'b'.*without a truth.*zz_mask"):
        evaluate(root, predictions=preds)
    (preds / "zz_mask.png").unlink()
    write_mask(preds / "b_mask.png", np.zeros((30, 40), bool))
    with pytest.raises(DataError, match=r"b: truth \(40, 40\).*prediction \(30, 40\)"):
        evaluate(root, predictions=preds)


def test_oracle_on_real_aidpath_via_cli(shared_data, tmp_path, capsys):
    from eq_engine.cli import main

    root = shared_data("kidney_aidpath_human_pas")
    out = tmp_path / "report"
    code = main(["evaluate", "--pred", str(root / "masks"), "--truth", str(root), "--out",
                 str(out), "--overlays", "2"])
    assert code == 0
    assert "Dice 1.0000" in capsys.readouterr().out
    with open(out / "per_image.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 24 and all(float(r["dice"]) == 1.0 for r in rows)
    with open(out / "per_object.csv") as fh:
        objects = list(csv.DictReader(fh))
    assert objects and all(r["kind"] == "matched" and float(r["iou"]) == 1.0 for r in objects)
    assert len(list((out / "overlays").glob("*.png"))) == 4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["baselines"]["all_background"]["pooled"]["dice"] == 0.0
    assert 0 < summary["baselines"]["otsu_dark"]["pooled"]["dice"] < 1


def test_real_bouteldja_valid_regions_ignore_outside(shared_data, tmp_path):
    root = shared_data("kidney_bouteldja_mouse_pas")
    preds = tmp_path / "pred"
    for path in sorted((root / "masks").iterdir()):
        truth = read_mask(path)
        valid = read_mask(root / "valid_regions" / path.name)
        write_mask(preds / f"{path.stem}_mask.png", truth | ~valid)  # wrong only outside
    report = evaluate(root, predictions=preds)
    assert report.aggregates["pooled"]["dice"] == 1.0
    assert all(r["fp"] == 0 and r["scored_pixels"] < 640 * 640 for r in report.per_image)
    everywhere = evaluate(root / "masks", predictions=preds)  # a mask folder: no valid regions
    assert everywhere.aggregates["pooled"]["dice"] < 0.5


def test_stack_objects_have_z_geometry(tmp_path):
    truth = np.zeros((3, 20, 20), bool)
    truth[0:2, 5:10, 5:10] = True  # one object over two slices
    pred = truth.copy()
    pred[2, 15:18, 15:18] = True  # a false positive in the last slice
    write_mask(tmp_path / "truth" / "s.tif", truth)
    write_mask(tmp_path / "pred" / "s_mask.tif", pred)
    report = evaluate(tmp_path / "truth", predictions=tmp_path / "pred", out=tmp_path / "r")
    rows = {r["kind"]: r for r in report.per_object}
    assert rows["matched"]["centroid_z"] == 0.5 and rows["matched"]["bbox_z1"] == 2
    assert rows["false_positive"]["centroid_z"] == 2.0 and rows["false_positive"]["area"] == 9
    assert report.per_image[0]["fp"] == 9 and len(report.overlays) == 2  # 1 best + 1 worst
