"""Band-wise forms of normalisation and resizing agree with the whole-image ones."""

from __future__ import annotations

import numpy as np
import pytest

from eq_engine.data.normalize import (
    bilinear_weights,
    compute_norm_stats,
    normalize,
    normalize_with_percentiles,
    percentiles_from_sample,
    resize_axis,
    resize_image,
    tap_stops,
)
from eq_engine.errors import DataError


@pytest.mark.parametrize("channels", [1, 3])
def test_sampled_percentiles_reproduce_normalize(channels):
    image = np.random.default_rng(0).integers(0, 256, (37, 29, 3), dtype=np.uint8)
    norm = compute_norm_stats([image], channels=channels)
    windows = [image[y:y + 8, x:x + 8] for y in range(0, 37, 8) for x in range(0, 29, 8)]
    percentiles = percentiles_from_sample(windows, norm)
    assert percentiles.shape == (channels, 2)
    np.testing.assert_array_equal(normalize_with_percentiles(image, percentiles, norm),
                                  normalize(image, norm))
    band = normalize_with_percentiles(image[10:20], percentiles, norm)  # bands agree too
    np.testing.assert_array_equal(band, normalize(image, norm)[:, 10:20])
    with pytest.raises(DataError, match="percentiles of shape"):
        normalize_with_percentiles(image, percentiles[:, :1], norm)
    with pytest.raises(DataError, match="no pixels"):
        percentiles_from_sample([], norm)


@pytest.mark.parametrize(("size", "out", "antialias"), [
    ((101, 77), (50, 38), True), ((1001, 40), (250, 13), True), ((37, 41), (111, 123), True),
    ((50, 38), (101, 77), False), ((90, 90), (31, 29), False)])
def test_band_by_band_resize_matches_resize_image(size, out, antialias):
    image = np.random.default_rng(1).integers(0, 256, (*size, 3)).astype(np.uint8)
    rows, cols = (bilinear_weights(n, m, antialias=antialias) for n, m in zip(size, out, strict=True))
    bands = []
    for y0 in range(0, out[0], 7):
        first, weights = rows[0][y0:y0 + 7], rows[1][y0:y0 + 7]
        top, bottom = first[0], tap_stops(first, weights).max()
        band = resize_axis(image[top:bottom], first, weights, axis=0, offset=top)
        bands.append(resize_axis(band, *cols, axis=1))
    expected = resize_image(image, out, antialias=antialias)
    np.testing.assert_allclose(np.concatenate(bands), expected, atol=2e-3)  # of 0..255
    with pytest.raises(ValueError, match="do not hold"):
        resize_axis(image[1:], *rows, axis=0, offset=1)
