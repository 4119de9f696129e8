"""Metrics against hand-computed arrays, a direct numpy computation, and the empty policy."""

from __future__ import annotations

import numpy as np
import pytest

from eq_engine.errors import ConfigError, DataError
from eq_engine.evaluation import metrics as m

# 3x4 hand case. pred:      truth:
#   1 1 0 0                  1 0 0 0
#   1 1 0 0                  1 1 1 0
#   0 0 0 1                  0 0 0 0
# tp = 3 (0,0) (1,0) (1,1); fp = 2 (0,1) (2,3); fn = 1 (1,2); tn = 12 - 6 = 6
PRED = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 1]], dtype=bool)
TRUTH = np.array([[1, 0, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0]], dtype=bool)


def test_hand_case_counts_and_metrics():
    c = m.confusion(PRED, TRUTH)
    assert c == m.Confusion(tp=3, fp=2, fn=1, tn=6)
    assert m.dice(PRED, TRUTH) == pytest.approx(6 / 9)  # 2*3 / (2*3 + 2 + 1)
    assert m.iou(PRED, TRUTH) == pytest.approx(3 / 6)  # 3 / (3 + 2 + 1)
    assert m.jaccard(PRED, TRUTH) == m.iou(PRED, TRUTH)
    assert m.precision(PRED, TRUTH) == pytest.approx(3 / 5)
    assert m.recall(PRED, TRUTH) == pytest.approx(3 / 4)
    assert m.specificity(PRED, TRUTH) == pytest.approx(6 / 8)  # tn / (tn + fp)
    assert m.accuracy(PRED, TRUTH) == pytest.approx(9 / 12)


def test_integer_labels_and_0_255_masks_count_nonzero_as_foreground():
    pred = PRED.astype(np.uint8) * 255
    truth = TRUTH.astype(np.int32) * np.array([[1, 2, 3, 4]])  # labels 1..4, same support
    assert m.confusion(pred, truth) == m.Confusion(3, 2, 1, 6)


def test_probability_threshold_is_inclusive():
    # probs >= 0.5 -> [T, T, F, F]; truth [T, F, T, F] -> tp 1, fp 1, fn 1, tn 1
    probs = np.array([0.5, 0.9, 0.49, 0.1], dtype=np.float32)
    truth = np.array([1, 0, 1, 0])
    assert m.confusion(probs, truth) == m.Confusion(1, 1, 1, 1)
    assert m.dice(probs, truth) == pytest.approx(0.5)
    # threshold 0.3 -> [T, T, T, F]: tp 2, fp 1, fn 0
    assert m.confusion(probs, truth, threshold=0.3) == m.Confusion(2, 1, 0, 1)
    assert m.dice(probs, truth, threshold=0.3) == pytest.approx(4 / 5)


def test_both_empty_is_perfect():
    z = np.zeros((4, 5), dtype=bool)
    for fn in (m.dice, m.iou, m.precision, m.recall, m.specificity, m.accuracy):
        assert fn(z, z) == 1.0, fn.__name__


def test_one_empty_is_zero():
    z = np.zeros((4, 5), dtype=bool)
    some = z.copy()
    some[1, 2] = True
    for pred, truth in ((z, some), (some, z)):
        assert m.dice(pred, truth) == 0.0
        assert m.iou(pred, truth) == 0.0
        assert m.precision(pred, truth) == 0.0
        assert m.recall(pred, truth) == 0.0
    # truth all foreground, pred not: specificity undefined with an error -> 0
    full = np.ones((2, 2), dtype=bool)
    assert m.specificity(np.zeros((2, 2), bool), full) == 0.0
    assert m.specificity(full, full) == 1.0


def test_counts_pool_over_images():
    a = m.confusion(PRED, TRUTH)
    # ~PRED has 7 px; it covers truth (1,2) only: tp 1, fp 6, fn 4 - 1 = 3, tn 12 - 10 = 2
    b = m.confusion(~PRED, TRUTH)
    assert b == m.Confusion(1, 6, 3, 2)
    pooled = sum([a, b], m.Confusion())
    assert pooled == m.Confusion(4, 8, 4, 8)
    assert sum([a, b]) == pooled
    assert m.dice_from_counts(pooled) == pytest.approx(8 / 20)  # 2*4 / (8 + 8 + 4)
    stacked = m.confusion(np.stack([PRED, ~PRED]), np.stack([TRUTH, TRUTH]))
    assert stacked == pooled


def test_agrees_with_direct_numpy_on_random_masks():
    rng = np.random.default_rng(1234)
    for shape in ((37, 41), (5, 16, 23)):
        for density in (0.05, 0.3, 0.7):
            p = rng.random(shape).astype(np.float32)
            t = rng.random(shape) < density
            pb = p >= 0.5
            tp = np.sum(pb & t)
            fp = np.sum(pb & ~t)
            fn = np.sum(~pb & t)
            tn = np.sum(~pb & ~t)
            assert m.dice(p, t) == pytest.approx(2 * tp / (2 * tp + fp + fn))
            assert m.iou(p, t) == pytest.approx(tp / (tp + fp + fn))
            assert m.precision(p, t) == pytest.approx(tp / (tp + fp))
            assert m.recall(p, t) == pytest.approx(tp / (tp + fn))
            assert m.specificity(p, t) == pytest.approx(tn / (tn + fp))
            assert m.accuracy(p, t) == pytest.approx((tp + tn) / p.size)


def test_3d_hand_case():
    pred = np.zeros((2, 3, 3), dtype=bool)
    truth = np.zeros((2, 3, 3), dtype=bool)
    pred[0, :2, :2] = True  # 4 voxels
    truth[:, 0, 0] = True  # 2 voxels, overlap (0,0,0) only
    # tp 1, fp 3, fn 1, tn 18 - 5 = 13
    assert m.confusion(pred, truth) == m.Confusion(1, 3, 1, 13)
    assert m.dice(pred, truth) == pytest.approx(2 / 6)


def test_shape_mismatch_and_nan_raise_data_error():
    with pytest.raises(DataError, match=r"\(3, 4\).*\(4, 3\)"):
        m.dice(np.zeros((3, 4)), np.zeros((4, 3)))
    with pytest.raises(DataError, match="NaN"):
        m.dice(np.array([np.nan, 1.0]), np.array([0, 1]))
    with pytest.raises(DataError, match="shape"):
        m.match_objects(np.zeros((3, 4)), np.zeros((3, 5)))


def test_inputs_are_not_mutated():
    p = np.array([0.2, 0.7, 0.9])
    t = np.array([0, 5, 0])
    p0, t0 = p.copy(), t.copy()
    m.match_objects(p, t)
    m.dice(p, t)
    assert np.array_equal(p, p0) and np.array_equal(t, t0)


# ---------------------------------------------------------------- objects


def _square(a: np.ndarray, y: int, x: int, h: int, w: int, value=True) -> None:
    a[y:y + h, x:x + w] = value


def test_match_objects_hit_split_merge_and_miss():
    truth = np.zeros((20, 30), dtype=np.int32)
    pred = np.zeros((20, 30), dtype=bool)
    _square(truth, 1, 1, 4, 4, 1)  # T1 16 px, predicted exactly -> match IoU 1
    _square(pred, 1, 1, 4, 4)
    _square(truth, 1, 10, 4, 4, 2)  # T2 16 px (cols 10-13), split by a gap at col 11:
    _square(pred, 1, 10, 4, 1)  # left piece 4 px: IoU 4/16 -> unmatched
    _square(pred, 1, 12, 4, 2)  # right piece 8 px: IoU 8/16 = 0.5 -> matched (>= 0.5)
    _square(truth, 10, 1, 4, 4, 3)  # T3 and T4 merged into one prediction 4x9 = 36 px
    _square(truth, 10, 6, 4, 4, 4)  # IoU(P, T3) = 16/36 < 0.5 -> both missed
    _square(pred, 10, 1, 4, 9)
    _square(truth, 10, 20, 3, 3, 5)  # T5 missed completely
    res = m.match_objects(pred, truth)
    # pred components (8-connected, row-major): P1 T1 copy, P2 left col, P3 right half, P4 merge
    assert res.n_pred == 4 and res.n_truth == 5
    assert res.pairs == [(1, 1, 1.0), (3, 2, 0.5)]
    assert (res.tp, res.fp, res.fn) == (2, 2, 3)
    assert res.precision == pytest.approx(2 / 4)
    assert res.recall == pytest.approx(2 / 5)
    assert res.f1 == pytest.approx(4 / 9)  # 2*2 / (2*2 + 2 + 3)
    assert sorted(res.unmatched_pred) == [2, 4]
    assert sorted(res.unmatched_truth) == [3, 4, 5]
    assert res.truth_areas == {1: 16, 2: 16, 3: 16, 4: 16, 5: 9}
    assert res.pred_areas == {1: 16, 2: 4, 3: 8, 4: 36}


def test_match_objects_low_threshold_is_one_to_one():
    # Two truths 2x2 (4 px) merged in a 2x5 prediction (10 px): IoU 4/10 = 0.4 with each.
    truth = np.zeros((3, 6), dtype=np.int32)
    truth[0:2, 0:2] = 1
    truth[0:2, 3:5] = 2
    pred = np.zeros((3, 6), dtype=bool)
    pred[0:2, 0:5] = True
    res = m.match_objects(pred, truth, match_iou=0.3)
    assert res.tp == 1 and res.fn == 1 and res.fp == 0
    assert res.pairs[0][0] == 1 and res.pairs[0][2] == pytest.approx(0.4)
    assert m.match_objects(pred, truth).tp == 0  # at 0.5 nothing matches


def test_match_objects_given_labels_and_touching_objects():
    # Two touching truth labels stay two objects; the same support as a bool mask is one.
    truth = np.zeros((4, 8), dtype=np.uint16)
    truth[:, :4] = 7
    truth[:, 4:] = 9
    pred = truth.copy()
    res = m.match_objects(pred, truth)
    assert res.pairs == [(7, 7, 1.0), (9, 9, 1.0)]
    res_bool = m.match_objects(pred > 0, truth)
    # one 32 px component, IoU 16/32 = 0.5 with each truth: it can match only one of them
    assert (res_bool.n_pred, res_bool.tp, res_bool.fn) == (1, 1, 1)
    assert m.match_objects(pred > 0, truth, match_iou=0.6).tp == 0


def test_match_objects_empty_policy_and_3d():
    z = np.zeros((3, 4, 4), dtype=bool)
    res = m.match_objects(z, z)
    assert (res.n_pred, res.n_truth, res.precision, res.recall, res.f1) == (0, 0, 1.0, 1.0, 1.0)
    one = z.copy()
    one[0:2, 1:3, 1:3] = True  # one 3D object of 8 voxels, connected across z
    for pred, truth in ((z, one), (one, z)):
        res = m.match_objects(pred, truth)
        assert (res.precision, res.recall, res.f1) == (0.0, 0.0, 0.0)
    res = m.match_objects(one.astype(np.float32) * 0.8, one)
    assert res.n_pred == 1 and res.pairs == [(1, 1, 1.0)]
    assert res.mean_matched_iou == 1.0


def test_match_objects_rejects_bad_match_iou():
    with pytest.raises(ConfigError, match="match_iou"):
        m.match_objects(np.zeros((2, 2)), np.zeros((2, 2)), match_iou=0)
