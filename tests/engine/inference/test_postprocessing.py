"""Post-processing: threshold, fill holes, remove small objects, label instances."""

from __future__ import annotations

import numpy as np
import pytest

from eq_engine.errors import ConfigError, DataError
from eq_engine.inference import postprocess


def field():
    prob = np.zeros((30, 30), np.float32)
    prob[2:12, 2:12] = 0.9  # 100 px square with a hole
    prob[6:8, 6:8] = 0.1
    prob[20:23, 20:23] = 0.6  # 9 px object
    prob[25, 2] = 0.5  # 1 px object exactly at the threshold
    return prob


def test_threshold_and_labels():
    mask, labels = postprocess(field(), threshold=0.5, fill_holes=False)
    assert mask.dtype == bool and labels.dtype == np.int32
    assert mask.sum() == 96 + 9 + 1  # >= threshold counts as foreground
    assert labels.max() == 3 and set(np.unique(labels[mask])) == {1, 2, 3}
    assert not labels[~mask].any()


def test_fill_holes_then_remove_small_objects():
    prob = field()
    before = prob.copy()
    mask, labels = postprocess(prob, threshold=0.5, min_size=10, fill_holes=True)
    assert mask.sum() == 100  # hole filled, 9-px and 1-px objects dropped
    assert labels.max() == 1
    np.testing.assert_array_equal(prob, before)
    mask, _ = postprocess(prob, threshold=0.7, min_size=9)
    assert mask.sum() == 100  # 0.6 object below the threshold, 1-px one too


def test_diagonal_pixels_form_one_object():
    prob = np.zeros((5, 5), np.float32)
    prob[1, 1] = prob[2, 2] = 1.0
    _, labels = postprocess(prob)
    assert labels.max() == 1


def test_stack_labels_unique_across_slices():
    stack = np.stack([field(), field()[::-1]])
    mask, labels = postprocess(stack, threshold=0.5, min_size=5)
    assert mask.shape == labels.shape == stack.shape
    assert set(np.unique(labels[0])) == {0, 1, 2} and set(np.unique(labels[1])) == {0, 3, 4}


def test_bad_arguments():
    with pytest.raises(ConfigError, match="threshold"):
        postprocess(field(), threshold=1.5)
    with pytest.raises(ConfigError, match="min_size"):
        postprocess(field(), min_size=-1)
    with pytest.raises(DataError, match="2D"):
        postprocess(np.zeros(5))
