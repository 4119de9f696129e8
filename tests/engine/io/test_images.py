"""Image I/O: axes normalisation, masks, atomic writes, lazy access, and DataError on bad input."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from eq_engine.errors import DataError
from eq_engine.io.images import (
    distinct_values,
    image_info,
    open_image_lazy,
    read_image,
    read_mask,
    to_mask,
    write_image,
    write_mask,
)
from eq_engine.io.tiff import LazyTiff

RNG = np.random.default_rng(0)
GRAY = RNG.integers(0, 256, (24, 32), dtype=np.uint8)
RGB = RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize(("name", "array"), [
    ("g.tif", GRAY), ("g16.tif", GRAY.astype(np.uint16) * 200), ("f.tif", GRAY / 7.0),
    ("rgb.tif", RGB), ("stack.tif", np.stack([GRAY, GRAY[::-1], np.roll(GRAY, 5)])),
    ("rgbstack.tif", np.stack([RGB, RGB[::-1]])), ("g.png", GRAY), ("rgb.png", RGB),
    ("g16.png", GRAY.astype(np.uint16) * 250),
])
def test_write_read_round_trip_keeps_values_dtype_and_axes(tmp_path, name, array):
    path = write_image(tmp_path / name, array)
    back = read_image(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    info = image_info(path)
    assert info.shape == array.shape and info.dtype == array.dtype


def test_jpeg_reads_as_rgb_uint8_close_to_the_original(tmp_path):
    smooth = np.repeat(np.linspace(0, 255, 32, dtype=np.uint8)[None, :, None], 24, 0).repeat(3, 2)
    back = read_image(write_image(tmp_path / "a.jpg", smooth))
    assert back.shape == (24, 32, 3) and back.dtype == np.uint8
    assert np.abs(back.astype(int) - smooth).max() < 8
    assert image_info(tmp_path / "a.jpg").spatial_shape == (24, 32)


def test_pillow_modes_are_normalised(tmp_path):
    rgba = np.dstack([RGB, np.full((24, 32), 7, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png"), RGB)
    Image.fromarray(np.dstack([GRAY, GRAY]), "LA").save(tmp_path / "la.png")
    np.testing.assert_array_equal(read_image(tmp_path / "la.png"), GRAY)
    Image.fromarray(GRAY > 128).save(tmp_path / "bit.png")
    np.testing.assert_array_equal(read_image(tmp_path / "bit.png"), (GRAY > 128) * 255)
    assert read_image(tmp_path / "bit.png").dtype == np.uint8


def test_palette_png_gives_colours_as_image_and_indices_as_mask(tmp_path):
    indices = np.zeros((24, 32), np.uint8)
    indices[5:10, 5:20] = 1
    pal = Image.fromarray(indices, "P")
    pal.putpalette([0, 0, 0, 200, 10, 30] + [0] * 762)
    pal.save(tmp_path / "pal.png")
    image = read_image(tmp_path / "pal.png")
    assert image.shape == (24, 32, 3)
    assert tuple(image[6, 6]) == (200, 10, 30)
    np.testing.assert_array_equal(read_mask(tmp_path / "pal.png"), indices == 1)
    np.testing.assert_array_equal(read_mask(tmp_path / "pal.png", binary=False), indices)


def test_tiff_axes_are_normalised(tmp_path):
    planar = np.moveaxis(RGB, -1, 0)  # (3, Y, X) stored as separate RGB planes
    tifffile.imwrite(tmp_path / "planar.tif", planar, photometric="rgb", planarconfig="separate")
    np.testing.assert_array_equal(read_image(tmp_path / "planar.tif"), RGB)
    tzyx = RNG.integers(0, 9, (2, 3, 8, 10), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "tz.tif", tzyx, metadata={"axes": "TZYX"})
    np.testing.assert_array_equal(read_image(tmp_path / "tz.tif"), tzyx.reshape(6, 8, 10))
    tifffile.imwrite(tmp_path / "ij.tif", np.moveaxis(RGB, -1, 0)[None], imagej=True,
                     metadata={"axes": "ZCYX"})
    assert read_image(tmp_path / "ij.tif").shape == (24, 32, 3)
    tifffile.imwrite(tmp_path / "five.tif", np.zeros((5, 8, 8), np.uint8), metadata={"axes": "CYX"})
    with pytest.raises(DataError, match=r"five\.tif: 5 channels"):
        read_image(tmp_path / "five.tif")


@pytest.mark.parametrize(("values", "expected"), [
    (np.array([[0, 1], [1, 0]], np.uint8), [[False, True], [True, False]]),
    (np.array([[0, 255], [0, 0]], np.uint8), [[False, True], [False, False]]),
    (np.array([[0, 0], [0, 0]], np.uint16), [[False, False], [False, False]]),
])
def test_read_mask_binary_from_gray_files(tmp_path, values, expected):
    write_image(tmp_path / "m.png", values)
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png"), expected)


def test_rgb_masks_decode_by_colour(tmp_path):
    colours = np.zeros((6, 6, 3), np.uint8)
    colours[:2] = (255, 0, 0)
    colours[4:] = (0, 0, 255)
    Image.fromarray(colours).save(tmp_path / "c.png")
    labels = read_mask(tmp_path / "c.png", binary=False)
    assert labels.dtype == np.int32
    assert set(np.unique(labels)) == {0, 1, 2} and labels[0, 0] != labels[5, 0]
    with pytest.raises(DataError, match="3 distinct values"):
        read_mask(tmp_path / "c.png")
    gray_rgb = np.dstack([colours[..., 0]] * 3)  # gray in disguise: values kept
    Image.fromarray(gray_rgb).save(tmp_path / "g.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "g.png"), colours[..., 0] > 0)


def test_non_binary_mask_error_says_how_many_values_and_the_fix(tmp_path):
    write_image(tmp_path / "m.png", np.array([[0, 1, 2, 3]], np.uint8))
    with pytest.raises(DataError, match=r"m\.png: mask has 4 distinct values.*eq data check"):
        read_mask(tmp_path / "m.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png", binary=False), [[0, 1, 2, 3]])
    write_image(tmp_path / "j.jpg", RGB)
    with pytest.raises(DataError, match="JPEG compression"):
        read_mask(tmp_path / "j.jpg")
    with pytest.raises(DataError, match="no 0 background"):
        to_mask(np.array([1, 2, 2]))
    with pytest.raises(DataError, match="fractional"):
        to_mask(np.array([0.0, 0.5]))


def test_write_mask_labels_and_stacks_round_trip(tmp_path):
    labels = np.zeros((2, 8, 8), np.int64)
    labels[0, 2:4, 2:4], labels[1, 5:, 5:] = 300, 7
    path = write_mask(tmp_path / "labels.tif", labels)
    np.testing.assert_array_equal(read_mask(path, binary=False), labels)
    assert tifffile.imread(path).dtype == np.uint16
    binary = labels[0] > 0
    write_mask(tmp_path / "b.png", binary)
    assert set(np.unique(np.asarray(Image.open(tmp_path / "b.png")))) == {0, 255}
    np.testing.assert_array_equal(read_mask(tmp_path / "b.png"), binary)


def test_writes_are_atomic_and_refuse_bad_targets(tmp_path):
    target = write_mask(tmp_path / "m.png", GRAY > 100)
    before = target.read_bytes()
    with pytest.raises(DataError, match="exists"):
        write_mask(target, GRAY > 5, overwrite=False)
    with pytest.raises(DataError, match="write a .tif"):
        write_mask(target, np.zeros((2, 4, 4), bool))  # PNG cannot hold a stack
    assert target.read_bytes() == before
    with pytest.raises(DataError, match="lossy"):
        write_mask(tmp_path / "m.jpg", GRAY > 1)
    with pytest.raises(DataError, match="threshold"):
        write_mask(tmp_path / "p.tif", GRAY / 255.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png"]  # no temp files left


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("missing.tif", None, "file not found"),
    ("empty.png", b"", r"empty file \(0 bytes\)"),
    ("notes.bmp", b"BM not supported", "unknown image format '.bmp'"),
    ("fake.png", b"this is text, not a png", "not a valid PNG"),
    ("junk.tif", b"II*\x00" + b"\xff" * 40, "corrupt or truncated TIFF"),
])
def test_bad_files_raise_data_error_naming_the_file(tmp_path, name, content, problem):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    for reader in (read_image, read_mask, image_info, open_image_lazy):
        with pytest.raises(DataError, match=f"{name}: {problem}"):
            reader(path)


@pytest.mark.parametrize("name", ["t.tif", "t.png", "t.jpg"])
def test_truncated_files_raise_data_error(tmp_path, name):
    full = write_image(tmp_path / f"full{name[1:]}", RNG.integers(0, 256, (64, 64, 3), np.uint8))
    data = full.read_bytes()
    (tmp_path / name).write_bytes(data[: len(data) * 2 // 3])
    for reader in (read_image, image_info, read_mask):
        with pytest.raises(DataError, match=rf"{name}: (corrupt|truncated)"):
            reader(tmp_path / name)


def test_float_image_with_nan_is_rejected(tmp_path):
    image = np.ones((8, 8), np.float32)
    image[2, 3] = np.nan
    tifffile.imwrite(tmp_path / "nan.tif", image)
    with pytest.raises(DataError, match=r"nan\.tif: float image contains 1 NaN"):
        read_image(tmp_path / "nan.tif")


def test_lazy_contiguous_tiff_is_a_memory_map(tmp_path):
    stack = RNG.integers(0, 60000, (3, 20, 30), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "s.tif", stack, metadata={"axes": "ZYX"})
    lazy = open_image_lazy(tmp_path / "s.tif")
    assert isinstance(lazy.base, np.memmap) or isinstance(lazy, np.memmap)
    np.testing.assert_array_equal(lazy[1, 5:9], stack[1, 5:9])


def test_lazy_tiled_tiff_reads_only_the_tiles_a_slice_touches(tmp_path):
    image = RNG.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    path = tmp_path / "tiled.tif"
    tifffile.imwrite(path, image, tile=(32, 32), compression="zlib", photometric="rgb")
    with tifffile.TiffFile(path) as tif:  # wreck the last tile's compressed data
        offset, count = tif.pages[0].dataoffsets[-1], tif.pages[0].databytecounts[-1]
    raw = bytearray(path.read_bytes())
    raw[offset:offset + count] = b"\x00" * count
    path.write_bytes(bytes(raw))
    lazy = open_image_lazy(path)
    assert isinstance(lazy, LazyTiff) and lazy.shape == (96, 128, 3)
    for key in [(slice(3, 40), slice(10, 70)), (5,), (slice(60, 2, -7), 17)]:
        np.testing.assert_array_equal(lazy[key], image[key])
    np.testing.assert_array_equal(lazy[:64, ..., 1], image[:64, ..., 1])
    with pytest.raises(DataError, match="tiled.tif: cannot decode"):
        lazy[90:, 120:]
    with pytest.raises(DataError, match="tiled.tif"):
        read_image(path)
    lazy.close()


def test_lazy_compressed_stack_slices_match_the_eager_read(tmp_path):
    stack = RNG.integers(0, 256, (5, 40, 50), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "z.tif", stack, compression="zlib", rowsperstrip=8,
                     metadata={"axes": "ZYX"})
    with open_image_lazy(tmp_path / "z.tif") as lazy:
        assert isinstance(lazy, LazyTiff) and len(lazy) == 5
        for key in [2, (slice(1, 4), slice(9, 30)), (slice(None, None, -2), 3, slice(5, 7)),
                    (slice(2, 2),)]:
            np.testing.assert_array_equal(lazy[key], stack[key])
        np.testing.assert_array_equal(np.asarray(lazy), stack)
    assert open_image_lazy(write_image(tmp_path / "p.png", GRAY)).shape == GRAY.shape


def test_distinct_values_fast_path_matches_numpy():
    for values in (GRAY, GRAY.astype(np.int32) * 1000, GRAY > 3, GRAY - 128.5):
        np.testing.assert_array_equal(distinct_values(values), np.unique(values))
