"""Fixtures shared by engine tests: tiny pyramidal slides written with tifffile (never committed),
and NDPI slides written by hand (no library writes NDPI).

The NDPI layout follows what readers of real NDPI files expect: a classic little-endian TIFF
header whose first-IFD offset is 8 bytes, IFDs of 12-byte entries followed by an 8-byte
next-IFD offset and one 4-byte block of high offset bits per entry, one top-level page per
pyramid level, each a single baseline-JPEG strip, resolution in pixels per centimetre, Make
"Hamamatsu" and the NDPI tags 65420 (format flag) and 65421 (source lens magnification).
Real scanners also write McuStarts (65426) for random access; without them a reader decodes
a level's whole strip, which is fine for test-sized files.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

GLASS = (240, 240, 240)
TISSUE = (230, 170, 200)
NUCLEUS = (120, 40, 110)


def synthetic_slide_image(shape=(1024, 1536), discs=((256, 256), (400, 700), (600, 1100)),
                          radius=60, tissue=(100, 700, 100, 1300)) -> np.ndarray:
    """Glass with one pink tissue rectangle holding dark discs ("glomeruli")."""
    from skimage.draw import disk

    image = np.full((*shape, 3), GLASS, np.uint8)
    y0, y1, x0, x1 = tissue
    image[y0:y1, x0:x1] = TISSUE
    for centre in discs:
        rr, cc = disk(centre, radius, shape=shape)
        image[rr, cc] = NUCLEUS
    return image


SHORT, LONG, RATIONAL, ASCII, FLOAT = 3, 4, 5, 2, 11


def _block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return image
    h, w = image.shape[0] // factor, image.shape[1] // factor
    blocks = image[:h * factor, :w * factor].reshape(h, factor, w, factor, -1)
    return blocks.mean(axis=(1, 3)).round().astype(np.uint8)


def _entry_bytes(type_: int, values) -> bytes:
    if type_ == ASCII:
        return values.encode("ascii") + b"\0"
    if type_ == RATIONAL:
        return b"".join(struct.pack("<II", *pair) for pair in values)
    fmt = {SHORT: "H", LONG: "I", FLOAT: "f"}[type_]
    return struct.pack(f"<{len(values)}{fmt}", *values)


def _ifd(tags: list[tuple[int, int, object]], at: int) -> tuple[bytes, int]:
    """One NDPI IFD written at offset ``at`` with its out-of-line values after it; returns the
    bytes and the position of its next-IFD field (relative to ``at``)."""
    tags = sorted(tags)
    head = 2 + 12 * len(tags) + 8 + 4 * len(tags)
    entries, extra = [], b""
    for code, type_, values in tags:
        data = _entry_bytes(type_, values)
        count = len(data) if type_ == ASCII else len(values)
        if len(data) <= 4:
            field = data.ljust(4, b"\0")
        else:
            field = struct.pack("<I", at + head + len(extra))
            extra += data + b"\0" * (len(data) % 2)
        entries.append(struct.pack("<HHI", code, type_, count) + field)
    body = struct.pack("<H", len(tags)) + b"".join(entries)
    next_at = len(body)
    body += struct.pack("<Q", 0) + b"\0" * (4 * len(tags))  # next IFD, high offset bits
    return body + extra, next_at


def write_ndpi(path: str | Path, image: np.ndarray, *, mpp: float,
               downsamples=(1, 4, 16), magnification: float = 20.0) -> Path:
    """Write RGB ``image`` as an NDPI pyramid with ``mpp`` µm per level-0 pixel."""
    import imagecodecs

    path = Path(path)
    out = bytearray(b"II" + struct.pack("<H", 42) + struct.pack("<Q", 0))
    link = 4  # where the previous pointer to the next IFD lives
    for factor in downsamples:
        level = np.ascontiguousarray(_block_mean(image, factor))
        strip = imagecodecs.jpeg_encode(level, level=95)
        strip_at = len(out)
        out += strip + b"\0" * (len(strip) % 2)
        per_cm = 1e4 / (mpp * factor)
        tags = [(256, LONG, [level.shape[1]]), (257, LONG, [level.shape[0]]),
                (258, SHORT, [8, 8, 8]), (259, SHORT, [7]), (262, SHORT, [6]),
                (271, ASCII, "Hamamatsu"), (272, ASCII, "C13210"), (273, LONG, [strip_at]),
                (277, SHORT, [3]), (278, LONG, [level.shape[0]]), (279, LONG, [len(strip)]),
                (282, RATIONAL, [(round(per_cm * 1000), 1000)]),
                (283, RATIONAL, [(round(per_cm * 1000), 1000)]), (296, SHORT, [3]),
                (65420, LONG, [1]), (65421, FLOAT, [magnification / factor])]
        ifd_at = len(out)
        body, next_at = _ifd(tags, ifd_at)
        out[link:link + 8] = struct.pack("<Q", ifd_at)
        link = ifd_at + next_at
        out += body
    path.write_bytes(bytes(out))
    return path


@pytest.fixture
def make_slide(tmp_path):
    """``make_slide(kind="ome", image=None, mpp=0.5, name=None, **kw)`` -> path of a pyramid
    (levels 1, 1/4, 1/16) written into tmp_path."""
    from eq_engine.io.slide_writer import write_pyramid

    def make(kind: str = "ome", image=None, mpp: float | None = 0.5, name: str | None = None,
             **kwargs):
        image = synthetic_slide_image() if image is None else image
        suffix = {"ome": ".ome.tif", "svs": ".svs", "generic": ".tif", "ndpi": ".ndpi"}[kind]
        path = tmp_path / (name or f"slide_{kind}{suffix}")
        if kind == "ndpi":
            return write_ndpi(path, image, mpp=mpp, **kwargs)
        return write_pyramid(path, image, mpp=mpp, kind=kind, **kwargs)

    return make


def threshold_model(*, scale: float = 0.5, tile: int = 64, threshold: float = 0.5):
    """A LoadedModel-like predictor: dark pixels (normalised mean < 0.5) are foreground."""
    from eq_engine.models.loading import LoadedModel

    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 3,
            "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}
    meta = {"normalization": norm, "in_channels": 3, "tile_size": tile, "scale": scale,
            "threshold": threshold}
    return LoadedModel(None, meta, lambda batch: (batch.mean(axis=1) < 0.5).astype(np.float32))


@pytest.fixture(name="threshold_model")
def threshold_model_fixture():
    """The :func:`threshold_model` factory (test modules cannot import conftest)."""
    return threshold_model


@pytest.fixture(name="slide_image")
def slide_image_fixture():
    """The :func:`synthetic_slide_image` factory."""
    return synthetic_slide_image
