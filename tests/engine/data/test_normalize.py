"""Normalisation, channels and scale: how a model sees its input."""

import numpy as np
import pytest

from eq_engine.data.normalize import (
    METHOD,
    compute_norm_stats,
    image_channels,
    normalize,
    percentile_normalize,
    prepare_input,
    rescale_image,
    rescale_mask,
    to_channels_first,
)
from eq_engine.errors import DataError, ModelError


def test_percentiles_map_to_zero_and_one():
    image = np.arange(1000, dtype=np.float32).reshape(25, 40)
    out = percentile_normalize(image, low=1.0, high=99.8)
    lo, hi = np.percentile(image, (1.0, 99.8))
    assert out.shape == (1, 25, 40) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], (image - lo) / (hi - lo), rtol=1e-5)
    assert out.max() > 1  # no clipping: the brightest pixels keep their contrast


def test_stats_are_mean_and_std_of_percentile_normalised_training_images():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (20, 30, 3), dtype=np.uint8) for _ in range(2)]
    norm = compute_norm_stats(images)
    stacked = np.concatenate([percentile_normalize(i).reshape(3, -1) for i in images], axis=1)
    assert norm["method"] == METHOD and norm["channels"] == 3
    np.testing.assert_allclose(norm["mean"], stacked.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(norm["std"], stacked.std(axis=1), rtol=1e-4)


def test_normalize_standardises_and_does_not_mutate():
    rng = np.random.default_rng(1)
    image = rng.normal(120, 30, (32, 32)).clip(0, 255).astype(np.uint8)
    before = image.copy()
    norm = compute_norm_stats([image])
    out = normalize(image, norm)
    assert out.shape == (1, 32, 32) and out.dtype == np.float32
    assert abs(float(out.mean())) < 1e-4 and abs(float(out.std()) - 1) < 1e-3
    np.testing.assert_array_equal(image, before)


def test_percentile_normalisation_survives_a_darker_microscope():
    rng = np.random.default_rng(2)
    image = rng.normal(150, 25, (40, 40)).clip(0, 255)
    norm = compute_norm_stats([image])
    darker = image * 0.5 + 10  # another lab's exposure: affine change of intensities
    np.testing.assert_allclose(normalize(darker, norm), normalize(image, norm), atol=1e-4)


def test_channel_conversion_gray_to_rgb_and_back():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rgb = to_channels_first(gray, 3)
    assert rgb.shape == (3, 3, 4) and all(np.array_equal(rgb[c], gray) for c in range(3))
    colour = np.stack([gray, gray * 2, gray * 3], axis=-1).astype(np.float32)
    np.testing.assert_allclose(to_channels_first(colour, 1)[0], gray * 2.0)
    assert image_channels(np.zeros((5, 5, 4))) == 3  # alpha dropped


def test_bad_inputs_raise_named_errors():
    with pytest.raises(DataError, match="shape"):
        image_channels(np.zeros((4, 5, 6, 7)))
    with pytest.raises(ModelError, match="lacks"):
        normalize(np.zeros((4, 4)), {"method": METHOD})


def test_rescale_image_and_mask():
    image = np.zeros((100, 80, 3), np.uint8)
    mask = np.zeros((100, 80), bool)
    mask[20:60, 20:60] = True
    assert rescale_image(image, 0.25).shape == (25, 20, 3)
    small = rescale_mask(mask, 0.25)
    assert small.dtype == bool and small.shape == (25, 20)
    assert abs(int(small.sum()) - 100) <= 12  # 40x40 px -> about 10x10
    assert rescale_image(image, 1.0) is image


def test_prepare_input_applies_scale_then_normalisation():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (64, 48, 3), dtype=np.uint8)
    norm = compute_norm_stats([image])
    out = prepare_input(image, norm=norm, scale=0.5)
    assert out.shape == (3, 32, 24)
    np.testing.assert_allclose(out, normalize(rescale_image(image, 0.5), norm))
