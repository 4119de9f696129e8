"""Tiling: identity and constant predictors reconstruct exactly; bad parameters fail clearly."""

from __future__ import annotations

import numpy as np
import pytest

from eq_engine.errors import Cancelled, ConfigError, DataError, ModelError
from eq_engine.events import CancelToken, Progress
from eq_engine.inference import predict_tiled
from eq_engine.inference.tiling import blend_weights, tile_grid, tile_starts

RGB_MIX = np.array([0.25, 0.5, 0.25], dtype=np.float32)


def identity(batch):
    return batch[:, 0]


def rgb_mix(batch):
    return np.einsum("bchw,c->bhw", batch, RGB_MIX)


def expected_mix(image):
    return np.einsum("...c,c->...", image.astype(np.float32), RGB_MIX)


# (shape_yx, tile, overlap): smaller than a tile, equal, not divisible by the stride, non-square
CASES = [
    ((20, 17), 32, 0.25),
    ((32, 32), 32, 0.0),
    ((50, 70), 32, 0.25),
    ((65, 33), 16, 0.5),
    ((97, 41), 24, 0.9),
    ((40, 40), (16, 24), 0.3),
    ((7, 90), 16, 0.0),
]


@pytest.mark.parametrize("blend", ["gaussian", "constant"])
@pytest.mark.parametrize(("shape", "tile", "overlap"), CASES)
def test_identity_reconstructs_2d_gray(shape, tile, overlap, blend):
    image = np.random.default_rng(0).random(shape, dtype=np.float32)
    out = predict_tiled(image, identity, tile=tile, overlap=overlap, blend=blend, batch_size=3)
    assert out.dtype == np.float32 and out.shape == shape
    np.testing.assert_array_equal(out, image)


@pytest.mark.parametrize(("shape", "tile", "overlap"), CASES)
def test_identity_reconstructs_2d_rgb(shape, tile, overlap):
    image = np.random.default_rng(1).integers(0, 256, (*shape, 3), dtype=np.uint8)
    before = image.copy()
    out = predict_tiled(image, rgb_mix, tile=tile, overlap=overlap, batch_size=5)
    assert out.shape == shape
    np.testing.assert_array_equal(out, expected_mix(image))
    np.testing.assert_array_equal(image, before)  # input untouched


@pytest.mark.parametrize(("shape", "tile", "overlap"), CASES[:4])
def test_identity_reconstructs_3d_stack_slice_by_slice(shape, tile, overlap):
    stack = np.random.default_rng(2).random((3, *shape), dtype=np.float32)
    out = predict_tiled(stack, identity, tile=tile, overlap=overlap)
    assert out.shape == stack.shape
    np.testing.assert_array_equal(out, stack)


def test_identity_reconstructs_rgb_stack():
    stack = np.random.default_rng(3).integers(0, 256, (2, 45, 38, 3), dtype=np.uint8)
    out = predict_tiled(stack, rgb_mix, tile=16, overlap=0.25)
    np.testing.assert_array_equal(out, expected_mix(stack))


def test_axes_override_treats_narrow_image_as_stack():
    stack = np.random.default_rng(4).random((6, 20, 3), dtype=np.float32)  # Z=6, Y=20, X=3
    out = predict_tiled(stack, identity, tile=8, overlap=0.5, axes="ZYX")
    np.testing.assert_array_equal(out, stack)


def test_constant_predictor_gives_constant_map():
    image = np.zeros((70, 45), dtype=np.uint8)
    out = predict_tiled(image, lambda b: np.full((len(b), *b.shape[2:]), 0.7, np.float32),
                        tile=32, overlap=0.4)
    np.testing.assert_array_equal(out, np.full(image.shape, 0.7, np.float32))


def test_tile_starts_cover_and_end_exactly():
    for length, tile, stride in [(100, 32, 24), (32, 32, 8), (33, 32, 32), (1000, 256, 192)]:
        starts = tile_starts(length, tile, stride)
        assert starts[0] == 0 and starts[-1] == length - tile
        assert all(0 < b - a <= stride for a, b in zip(starts[:-1], starts[1:], strict=True))


def test_tile_grid_counts_rows_and_columns():
    corners = tile_grid((100, 60), tile=32, overlap=0.25)  # stride 24
    assert sorted({y for y, _ in corners}) == [0, 24, 48, 68]
    assert sorted({x for _, x in corners}) == [0, 24, 28]
    assert len(corners) == 12


def test_gaussian_weights_peak_in_centre_and_stay_positive():
    w = blend_weights(33, blend="gaussian")
    assert w.shape == (33, 33) and w[16, 16] == w.max() == 1.0
    assert w.min() > 0 and w[0, 0] < w[8, 8] < w[16, 16]
    np.testing.assert_array_equal(w, w.T)
    assert np.all(blend_weights((8, 12), blend="constant") == 1.0)


@pytest.mark.parametrize("kwargs", [
    {"tile": 0}, {"tile": -16}, {"tile": 12.5}, {"overlap": 1.0}, {"overlap": -0.1},
    {"blend": "linear"}, {"batch_size": 0},
])
def test_bad_parameters_raise_config_error_with_fix(kwargs):
    params = {"tile": 16, "overlap": 0.25} | kwargs
    with pytest.raises(ConfigError, match=next(iter(kwargs))):
        predict_tiled(np.zeros((20, 20), np.float32), identity, **params)


def test_wrong_channel_count_raises_data_error():
    with pytest.raises(DataError, match="expects 1.*convert"):
        predict_tiled(np.zeros((20, 20, 3), np.uint8), identity, tile=16, in_channels=1)
    with pytest.raises(DataError, match="not 2D"):
        predict_tiled(np.zeros((2, 2, 2, 2, 2)), identity, tile=16)


def test_predictor_with_wrong_output_shape_raises_model_error():
    with pytest.raises(ModelError, match="must return"):
        predict_tiled(np.zeros((20, 20), np.float32), lambda b: b[:, 0, :4], tile=16)


def test_progress_events_and_cancel():
    events = []
    image = np.zeros((40, 40), np.float32)
    predict_tiled(image, identity, tile=16, overlap=0.0, batch_size=4, on_event=events.append)
    assert [e.step for e in events] == [4, 8, 9] and all(isinstance(e, Progress) for e in events)
    assert events[-1].total == 9

    token = CancelToken()

    def cancel_after_first(ev):
        token.cancel()

    with pytest.raises(Cancelled):
        predict_tiled(image, identity, tile=16, batch_size=4, on_event=cancel_after_first,
                      cancel=token)


def test_public_names_import_without_torch():
    import subprocess
    import sys

    code = ("import sys; import eq_engine.inference as inf, eq_engine.evaluation as ev; "
            "from eq_engine.inference import predict_tiled, postprocess, predict_large; "
            "import eq_engine.inference.batch, eq_engine.evaluation.scoring; "
            "assert callable(inf.predict_tiled) and callable(inf.postprocess); "
            "assert callable(ev.evaluate); "
            "bad = [m for m in ('torch', 'fastai', 'distributed') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
