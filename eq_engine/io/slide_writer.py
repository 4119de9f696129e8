"""Write an image as a pyramidal slide (OME-TIFF, Aperio-SVS-like or generic SubIFD TIFF).

Used to build test and benchmark slides (mosaics of real fields, large generated slides) and
to save a mosaic for other viewers. Levels are made by block averaging (``downsamples`` must
be integers); the image can be an array or any array-like that reads regions (a memmap, a
procedural generator), and is written tile by tile so a 50k x 40k slide never sits in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError
from .atomic import atomic_path

KINDS = ("ome", "svs", "generic")
SVS_HEADER = "Aperio Image Library v12.0.15"


def _level_tiles(image, factor: int, tile: int) -> Iterator[np.ndarray]:
    """Tiles (row-major) of ``image`` block-averaged by ``factor``, each read on its own, so
    memory stays at one source block whatever the image size."""
    height, width = image.shape[:2]
    out_h, out_w = height // factor, width // factor
    for ty in range(0, out_h, tile):
        rows = min(tile, out_h - ty)
        for tx in range(0, out_w, tile):
            cols = min(tile, out_w - tx)
            block = np.asarray(image[ty * factor:(ty + rows) * factor,
                                     tx * factor:(tx + cols) * factor])
            if factor > 1:
                shape = (rows, factor, cols, factor, *block.shape[2:])
                mean = block.reshape(shape).mean(axis=(1, 3), dtype=np.float32)
                block = mean.round().astype(block.dtype)
            pad = ((0, tile - rows), (0, tile - cols)) + ((0, 0),) * (block.ndim - 2)
            yield np.pad(block, pad)


def write_pyramid(path: str | os.PathLike, image, *, downsamples: Sequence[int] = (1, 4, 16),
                  mpp: float | None = None, kind: str = "ome", tile: int = 256,
                  compression: str | None = None) -> Path:
    """Write ``image`` ((Y, X) or (Y, X, 3) uint8/uint16) as a pyramidal TIFF at ``path``.

    ``kind="ome"``: OME-TIFF with SubIFD levels and ``PhysicalSizeX/Y = mpp`` µm;
    ``"svs"``: Aperio layout (tiled JPEG levels as pages, the description's ``MPP``, a
    thumbnail page), as far as tifffile can write it; ``"generic"``: SubIFD pyramid with the
    pixel size in the resolution tags. ``downsamples`` start with 1 and are integers. Atomic.
    """
    if kind not in KINDS:
        raise ConfigError(f"kind={kind!r}: must be one of {KINDS}")
    factors = [int(d) for d in downsamples]
    if factors[0] != 1 or any(f < 1 or f != d for f, d in zip(factors, downsamples, strict=True)):
        raise ConfigError(f"downsamples={downsamples!r}: integers starting with 1, e.g. (1, 4, 16)")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
        raise DataError(f"image of shape {image.shape}: write (Y, X) or (Y, X, 3) slides")
    if kind == "svs" and (tile % 16 or image.ndim != 3):
        raise ConfigError("SVS-like slides are RGB with JPEG tiles of a multiple of 16 px")
    path = Path(path)
    with atomic_path(path) as tmp:
        if kind == "svs":
            _write_svs(tmp, image, factors, mpp, tile)
        else:
            _write_subifds(tmp, image, factors, mpp, tile, kind, compression)
    return path


def _level_args(image, factor: int, tile: int) -> dict:
    height, width = image.shape[0] // factor, image.shape[1] // factor
    shape = (height, width, *image.shape[2:])
    return {"data": _level_tiles(image, factor, tile), "shape": shape, "dtype": image.dtype,
            "tile": (tile, tile), "photometric": "rgb" if image.ndim == 3 else "minisblack"}


def _write_subifds(tmp, image, factors, mpp, tile, kind, compression) -> None:
    import tifffile

    metadata = {"axes": "YXS" if image.ndim == 3 else "YX"} if kind == "ome" else None
    if kind == "ome" and mpp:
        metadata.update(PhysicalSizeX=mpp, PhysicalSizeY=mpp, PhysicalSizeXUnit="µm",
                        PhysicalSizeYUnit="µm")
    resolution = {}
    if kind == "generic" and mpp:
        resolution = {"resolution": (1e4 / mpp, 1e4 / mpp), "resolutionunit": "CENTIMETER"}
    with tifffile.TiffWriter(tmp, bigtiff=True, ome=kind == "ome") as tw:
        tw.write(**_level_args(image, 1, tile), subifds=len(factors) - 1, metadata=metadata,
                 compression=compression, **resolution)
        for factor in factors[1:]:
            tw.write(**_level_args(image, factor, tile), subfiletype=1, compression=compression)


def _write_svs(tmp, image, factors, mpp, tile) -> None:
    import tifffile

    height, width = image.shape[:2]
    description = (f"{SVS_HEADER}\r\n{width}x{height} [0,0 {width}x{height}] ({tile}x{tile}) "
                   f"JPEG/RGB Q=90|AppMag = 20" + (f"|MPP = {mpp:.4f}" if mpp else ""))
    thumb_factor = max(1, max(height, width) // 256)
    thumbnail = np.asarray(image[::thumb_factor, ::thumb_factor])
    with tifffile.TiffWriter(tmp, bigtiff=True) as tw:
        tw.write(**_level_args(image, 1, tile), compression="jpeg", description=description,
                 metadata=None)
        tw.write(thumbnail, photometric="rgb", compression="jpeg", metadata=None,
                 description=f"{SVS_HEADER}\r\nthumbnail")
        for factor in factors[1:]:
            tw.write(**_level_args(image, factor, tile), compression="jpeg", metadata=None,
                     description=f"{SVS_HEADER}\r\nlevel {factor}")
