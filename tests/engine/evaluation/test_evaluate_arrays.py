"""evaluate_arrays(): one image's arrays scored by hand-computed numbers, like evaluate()."""

from __future__ import annotations

import numpy as np
import pytest

from eq_engine.config import EvalConfig
from eq_engine.errors import DataError
from eq_engine.evaluation import EvalReport, evaluate_arrays


def square(shape, ys, xs):
    mask = np.zeros(shape, bool)
    mask[ys[0]:ys[1], xs[0]:xs[1]] = True
    return mask


def test_mask_against_labels_by_hand():
    truth = square((40, 40), (5, 15), (5, 15)) | square((40, 40), (25, 35), (25, 35))
    pred = square((40, 40), (5, 15), (5, 15)) | square((40, 40), (0, 2), (30, 40))
    report = evaluate_arrays(pred.astype(np.int32), truth.astype(np.uint8), name="T19_Image0")
    assert isinstance(report, EvalReport)
    (row,) = report.per_image
    # tp 100, fp 20 (2x10 strip), fn 100
    assert (row["tp"], row["fp"], row["fn"]) == (100, 20, 100)
    assert row["dice"] == pytest.approx(200 / 320)
    assert row["iou"] == pytest.approx(100 / 220)
    assert row["image"] == "T19_Image0" and row["threshold"] is None
    assert sorted(r["kind"] for r in report.per_object) == ["false_positive", "matched", "missed"]
    assert {r["image"] for r in report.per_object} == {"T19_Image0"}
    assert report.aggregates["pooled"]["object_f1"] == pytest.approx(0.5)


def test_probability_is_thresholded_at_the_config_threshold():
    truth = square((20, 20), (0, 10), (0, 20))
    prob = np.where(truth, 0.6, 0.2).astype(np.float32)
    low = evaluate_arrays(prob, truth, EvalConfig(threshold=0.5))
    high = evaluate_arrays(prob, truth, EvalConfig(threshold=0.7))
    assert low.per_image[0]["dice"] == pytest.approx(1.0)
    assert low.per_image[0]["threshold"] == 0.5
    assert high.per_image[0]["tp"] == 0


def test_valid_region_limits_the_scored_pixels():
    truth = square((10, 10), (0, 10), (0, 5))
    pred = square((10, 10), (0, 10), (0, 10))  # right half is a false positive
    valid = square((10, 10), (0, 10), (0, 5))
    report = evaluate_arrays(pred, truth, valid=valid)
    assert report.per_image[0]["fp"] == 0 and report.per_image[0]["scored_pixels"] == 50


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(DataError, match=r"\(4, 4\).*\(5, 5\)"):
        evaluate_arrays(np.zeros((4, 4), bool), np.zeros((5, 5), bool))
