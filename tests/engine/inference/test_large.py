"""Streamed prediction of large images: same numbers as in-memory tiling, written incrementally."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from eq_engine.errors import ConfigError, DataError
from eq_engine.events import Progress
from eq_engine.inference import predict_large, predict_tiled

RGB_MIX = np.array([0.25, 0.5, 0.25], dtype=np.float32)


def rgb_mix(batch):
    return np.einsum("bchw,c->bhw", batch, RGB_MIX) / 255


def tile_mean(batch):
    """Position-dependent output: blending differences would show."""
    means = batch.mean(axis=(1, 2, 3), keepdims=True)[:, 0]
    return np.broadcast_to(means, (batch.shape[0], *batch.shape[2:])) / 255 + batch[:, 0] * 1e-4


@pytest.fixture
def rgb_tiff(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (101, 77, 3), dtype=np.uint8)
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, image, photometric="rgb")
    return path, image


@pytest.mark.parametrize(("tile", "overlap"), [(32, 0.25), (16, 0.0), (40, 0.5), (77, 0.1)])
def test_stream_matches_in_memory_tiling(rgb_tiff, tmp_path, tile, overlap):
    path, image = rgb_tiff
    out = tmp_path / "prob.tif"
    result = predict_large(tifffile.memmap(path, mode="r"), tile_mean, out, tile=tile,
                           overlap=overlap, batch_size=3)
    expected = predict_tiled(image, tile_mean, tile=tile, overlap=overlap, batch_size=3)
    written = tifffile.imread(out)
    assert written.dtype == np.float32 and result.shape == image.shape[:2]
    np.testing.assert_array_equal(written, expected)


def test_identity_reconstruction_and_mask_output(rgb_tiff, tmp_path):
    path, image = rgb_tiff
    src = tifffile.memmap(path, mode="r")
    predict_large(src, rgb_mix, tmp_path / "p.tif", tile=24, overlap=0.3)
    expected = np.einsum("...c,c->...", image.astype(np.float32), RGB_MIX) / 255
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "p.tif"), expected)

    events = []
    res = predict_large(src, rgb_mix, tmp_path / "m.tif", tile=24, overlap=0.3,
                        output="mask", threshold=0.5, on_event=events.append)
    mask = tifffile.imread(res.path)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
    np.testing.assert_array_equal(mask == 255, expected >= 0.5)
    assert isinstance(events[-1], Progress) and events[-1].step == events[-1].total == res.n_tiles
    assert not list(tmp_path.glob(".*part*"))  # no temporary files left behind


def test_gray_source_path_and_custom_preprocess(tmp_path):
    image = np.random.default_rng(1).integers(0, 4096, (70, 90), dtype=np.uint16)
    path = tmp_path / "gray.tif"
    tifffile.imwrite(path, image)
    pytest.importorskip("eq_engine.io.images")
    res = predict_large(path, lambda b: b[:, 0], tmp_path / "g.tif", tile=32,
                        preprocess=lambda band: (band.astype(np.float32) / 4095)[None])
    np.testing.assert_array_equal(tifffile.imread(res.path), image.astype(np.float32) / 4095)


def test_refuses_bad_output_and_existing_file(rgb_tiff, tmp_path):
    path, _ = rgb_tiff
    src = tifffile.memmap(path, mode="r")
    with pytest.raises(ConfigError, match=r"\.tif"):
        predict_large(src, rgb_mix, tmp_path / "x.png", tile=32)
    with pytest.raises(ConfigError, match="output"):
        predict_large(src, rgb_mix, tmp_path / "x.tif", tile=32, output="labels")
    (tmp_path / "x.tif").write_bytes(b"old")
    with pytest.raises(DataError, match="overwrite"):
        predict_large(src, rgb_mix, tmp_path / "x.tif", tile=32)
    with pytest.raises(DataError, match="smaller than the tile"):
        predict_large(src, rgb_mix, tmp_path / "y.tif", tile=128)
    assert (tmp_path / "x.tif").read_bytes() == b"old"


def test_zarr_output(rgb_tiff, tmp_path):
    pytest.importorskip("zarr")
    import zarr

    path, image = rgb_tiff
    res = predict_large(tifffile.memmap(path, mode="r"), rgb_mix, tmp_path / "p.zarr", tile=32)
    expected = predict_tiled(image, rgb_mix, tile=32)
    np.testing.assert_array_equal(zarr.open_array(str(res.path), mode="r")[:], expected)
