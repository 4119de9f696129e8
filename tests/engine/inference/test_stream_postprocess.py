"""Band-by-band post-processing gives exactly postprocess()'s mask and labels."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from eq_engine.errors import Cancelled, ConfigError
from eq_engine.events import CancelToken
from eq_engine.inference import postprocess
from eq_engine.inference.stream_postprocess import postprocess_file


def run(tmp_path, probability, **options):
    n = postprocess_file(probability, mask_out=tmp_path / "m.tif", labels_out=tmp_path / "l.tif",
                         **options)
    return n, tifffile.imread(tmp_path / "m.tif"), tifffile.imread(tmp_path / "l.tif")


def test_holes_diagonals_and_small_objects_across_band_edges(tmp_path):
    prob = np.zeros((12, 10), np.float32)
    prob[1:8, 1:6] = 0.9
    prob[3:6, 2:5] = 0.1  # a hole spanning bands 1 and 2 (3 rows each)
    prob[8, 6] = prob[9, 7] = prob[10, 8] = 0.9  # diagonal chain, touches the ring at (7, 5)
    prob[0, 9] = 0.9  # single pixel: removed by min_size
    prob[9:12, 0:3] = 0.8  # object at the bottom border: its neighbour hole (none) stays
    n, mask, labels = run(tmp_path, prob, threshold=0.5, min_size=2, band_rows=3)
    expected_mask, expected_labels = postprocess(prob, threshold=0.5, min_size=2)
    np.testing.assert_array_equal(mask, expected_mask.astype(np.uint8) * 255)
    np.testing.assert_array_equal(labels, expected_labels)
    assert n == 2 and mask[4, 3] == 255 and mask[0, 9] == 0 and labels[10, 8] == labels[1, 1]


@pytest.mark.parametrize("seed", range(8))
def test_random_maps_match_postprocess(tmp_path, seed):
    rng = np.random.default_rng(seed)
    height, width = rng.integers(20, 70, 2)
    prob = ndimage.gaussian_filter(rng.random((height, width)), rng.uniform(0.8, 2.5))
    prob = ((prob - prob.min()) / np.ptp(prob)).astype(np.float32)
    options = {"threshold": float(rng.uniform(0.35, 0.65)), "min_size": int(rng.integers(0, 20)),
               "fill_holes": bool(seed % 2)}
    n, mask, labels = run(tmp_path, prob, band_rows=int(rng.integers(1, 9)), **options)
    expected_mask, expected_labels = postprocess(prob, **options)
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_array_equal(mask == 255, expected_mask)
    assert n == expected_labels.max() and labels.dtype == np.uint8


def test_reads_a_file_cancels_and_checks_threshold(tmp_path):
    prob = np.zeros((40, 30), np.float32)
    prob[5:20, 5:20] = 1
    tifffile.imwrite(tmp_path / "p.tif", prob)
    n, mask, _ = run(tmp_path, tmp_path / "p.tif", band_rows=7)
    assert n == 1 and (mask == 255).sum() == 225
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        postprocess_file(prob, mask_out=tmp_path / "m2.tif", labels_out=tmp_path / "l2.tif",
                         cancel=token)
    assert not (tmp_path / "m2.tif").exists() and not (tmp_path / "l2.tif").exists()
    with pytest.raises(ConfigError, match="threshold"):
        run(tmp_path, prob, threshold=1.0)
