"""Slides: each format's levels and pixel size, lazy region reads, level choice."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from eq_engine.errors import ConfigError, DataError
from eq_engine.io.slide_writer import write_pyramid
from eq_engine.io.slides import (
    SlideInfo,
    choose_level,
    is_slide,
    open_slide,
    slide_info,
)

SHAPES = ((1024, 1536), (256, 384), (64, 96))


@pytest.mark.parametrize("kind", ["ome", "svs", "generic", "ndpi"])
def test_levels_and_pixel_size(make_slide, slide_image, kind):
    image = slide_image()
    path = make_slide(kind, image=image, mpp=0.25)  # NDPI: JPEG pages, pixels per cm
    assert is_slide(path)
    info = slide_info(path)
    assert info.kind == kind
    assert info.shapes == SHAPES
    assert info.downsamples == (1.0, 4.0, 16.0)
    assert info.channels == 3 and info.dtype == "uint8"
    assert info.mpp == pytest.approx(0.25, rel=1e-4)
    assert info.level_mpp(2) == pytest.approx(4.0, rel=1e-4)
    with open_slide(path) as slide:
        region = slide.level(0)[300:340, 500:560]
        level2 = slide.level(2)[:, :]
    assert region.shape == (40, 60, 3)
    assert level2.shape == (64, 96, 3)
    expected_l2 = image.reshape(64, 16, 96, 16, 3).mean(axis=(1, 3))
    # SVS and NDPI are JPEG (lossy: compare mean errors); the others are lossless
    lossy = kind in ("svs", "ndpi")
    error = np.mean if lossy else np.max
    tolerance = 3 if lossy else 0.51
    assert error(np.abs(region.astype(float) - image[300:340, 500:560])) <= tolerance
    assert error(np.abs(level2.astype(float) - expected_l2)) <= tolerance


def test_svs_file_is_recognised_by_tifffile_as_aperio(make_slide):
    path = make_slide("svs")
    with tifffile.TiffFile(path) as tif:
        assert tif.is_svs
        assert [s.name for s in tif.series][:2] == ["Baseline", "Thumbnail"]


def test_grayscale_slide_and_unknown_pixel_size(make_slide, slide_image):
    gray = slide_image()[..., 1]
    path = make_slide("generic", image=gray, mpp=None)
    info = slide_info(path)
    assert info.channels == 1 and info.mpp is None and info.level_mpp(1) is None
    with open_slide(path) as slide:
        np.testing.assert_array_equal(slide.level(0)[10:20, 30:40], gray[10:20, 30:40])
        lazy = slide.level(1).lazy_array()
    assert lazy.shape == (256, 384)
    np.testing.assert_array_equal(np.asarray(lazy[:4, :4]),
                                  gray[:16, :16].reshape(4, 4, 4, 4).mean(axis=(1, 3)).round())


def test_lazy_levels_of_rgb_are_the_tiled_zarr_arrays(make_slide):
    with open_slide(make_slide("ome")) as slide:
        levels = [slide.level(i).lazy_array() for i in range(3)]
        assert [lv.shape for lv in levels] == [(*s, 3) for s in SHAPES]
        assert not any(isinstance(lv, np.ndarray) for lv in levels)
        assert levels[0].chunks[:2] == (256, 256)  # tiles, never the whole level
        np.testing.assert_array_equal(np.asarray(levels[0][5:9, 7:11]), slide.level(0)[5:9, 7:11])


@pytest.mark.parametrize("layout", ["planar", "rgba"])
def test_lazy_levels_of_other_layouts_are_yx3_dask_views(tmp_path, layout):
    import dask.array as da

    rng = np.random.default_rng(0)
    channels_last = rng.integers(0, 256, (128, 192, 4), np.uint8)
    if layout == "planar":
        stored, kw = channels_last[..., :3].transpose(2, 0, 1), {"planarconfig": "separate"}
        down, photometric = stored[:, ::4, ::4], "rgb"
    else:
        stored, kw = channels_last, {"extrasamples": ["unassalpha"]}
        down, photometric = stored[::4, ::4], "rgb"
    path = tmp_path / f"{layout}.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(stored, tile=(64, 64), photometric=photometric, subifds=1, **kw)
        tif.write(down, tile=(16, 16), photometric=photometric, subfiletype=1, **kw)
    with open_slide(path) as slide:
        lazy = slide.level(0).lazy_array()
        assert isinstance(lazy, da.Array) and lazy.shape == (128, 192, 3)
        np.testing.assert_array_equal(np.asarray(lazy[10:20, 30:50]),
                                      channels_last[10:20, 30:50, :3])
        assert slide.level(1).lazy_array().shape == (32, 48, 3)


def test_plain_tiff_and_other_files_are_not_slides(tmp_path):
    plain = tmp_path / "field.tif"
    tifffile.imwrite(plain, np.zeros((64, 64, 3), np.uint8), photometric="rgb")
    text = tmp_path / "notes.svs.txt"
    text.write_text("x")
    assert not is_slide(plain)
    assert not is_slide(text)
    assert not is_slide(tmp_path / "missing.svs")
    with pytest.raises(DataError, match="does not exist"):
        open_slide(tmp_path / "missing.svs")
    bad = tmp_path / "broken.svs"
    bad.write_bytes(b"not a tiff")
    with pytest.raises(DataError, match="broken.svs"):
        open_slide(bad)


def test_choose_level_reads_the_fewest_pixels_without_upsampling():
    info = SlideInfo(None, "ome", SHAPES, 3, "uint8", 0.25)
    assert choose_level(info, 1.0) == (0, 1.0)
    assert choose_level(info, 0.5) == (0, 0.5)
    assert choose_level(info, 0.25) == (1, 1.0)
    assert choose_level(info, 0.1) == (1, pytest.approx(0.4))
    assert choose_level(info, 1 / 16) == (2, 1.0)
    assert choose_level(info, 0.01) == (2, pytest.approx(0.16))
    assert choose_level(info, 2.0) == (0, 2.0)  # a model finer than the slide: level 0, upsampled
    with pytest.raises(DataError, match="positive"):
        choose_level(info, 0.0)


def test_writer_rejects_bad_arguments(tmp_path, slide_image):
    image = slide_image()
    with pytest.raises(ConfigError, match="kind"):
        write_pyramid(tmp_path / "a.tif", image, kind="ndpi")
    with pytest.raises(ConfigError, match="downsamples"):
        write_pyramid(tmp_path / "a.tif", image, downsamples=(2, 4))
    with pytest.raises(ConfigError, match="SVS"):
        write_pyramid(tmp_path / "a.svs", image[..., 0], kind="svs")
    with pytest.raises(DataError, match="shape"):
        write_pyramid(tmp_path / "a.tif", np.zeros((8, 8, 5), np.uint8))
    assert not list(tmp_path.iterdir())
