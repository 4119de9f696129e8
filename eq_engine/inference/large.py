"""Tiled prediction of a 2D image too large for memory, streamed band by band to disk.

The image is read one band of tile rows at a time (``open_image_lazy``: a TIFF memmap or a
zarr view, reopened per band so pages already read leave memory), tiles are blended into a
float64 accumulator one tile high, and rows no later tile can touch are written to the output
file at once. Peak memory is a few bands, whatever the image size: a 16k x 16k RGB TIFF needs
about 0.3 GB with 512-px tiles (see BENCHMARKS.md).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError
from ..events import CancelToken, EventCallback
from ..io.atomic import atomic_path
from .tiling import (
    DEFAULT_TILE,
    Predictor,
    accumulate_tiles,
    as_plane_stack,
    blend_weights,
    check_tiling,
    count_tiles,
    progress_ticker,
    tile_starts,
    tile_stride,
)

log = logging.getLogger(__name__)
OUTPUTS = ("probability", "mask")
Preprocess = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class LargePrediction:
    """Where :func:`predict_large` wrote its result, and what it is."""

    path: Path
    shape: tuple[int, int]
    output: str  # "probability" (float32) or "mask" (uint8 0/255)
    n_tiles: int
    seconds: float


def _default_preprocess(band: np.ndarray) -> np.ndarray:
    return as_plane_stack(np.asarray(band), axes="YX" if band.ndim == 2 else "YXC")[0]


class BandReader:
    """Row bands of a 2D image (a path or an array-like); a path is reopened per band so its
    mapped pages are released."""

    def __init__(self, source) -> None:
        self.path = Path(source) if isinstance(source, (str, os.PathLike)) else None
        array = self._open() if self.path else source
        self.shape = tuple(int(s) for s in array.shape)
        if len(self.shape) not in (2, 3) or (len(self.shape) == 3 and self.shape[-1] > 4):
            raise DataError(
                f"{self.path or 'image'} has shape {self.shape}; streamed prediction needs a 2D "
                "image (Y, X) or (Y, X, C). Predict stacks slice by slice with predict_tiled"
            )
        self._array = None if self.path else array

    def _open(self):
        from ..io.images import open_image_lazy

        return open_image_lazy(self.path)

    def band(self, y0: int, y1: int) -> np.ndarray:
        array = self._open() if self.path else self._array
        out = np.array(array[y0:y1])  # a copy; the view (and its mapped pages) is dropped
        del array
        return out


class TiffRowWriter:
    """Rows written (``write(y0, rows)``) into a new uncompressed 2D TIFF through short-lived
    memmaps, flushed each time."""

    def __init__(self, path: Path, shape: tuple[int, int], dtype) -> None:
        import tifffile

        self.path = path
        mm = tifffile.memmap(path, shape=shape, dtype=dtype, photometric="minisblack")
        del mm

    def write(self, y0: int, rows: np.ndarray) -> None:
        import tifffile

        mm = tifffile.memmap(self.path, mode="r+")
        mm[y0:y0 + rows.shape[0]] = rows
        mm.flush()
        del mm


class _ZarrSink:
    def __init__(self, path: Path, shape: tuple[int, int], dtype, chunk: int) -> None:
        try:
            import zarr
        except ImportError as exc:
            raise ConfigError(
                f"writing {path.name} needs the 'zarr' package, which is not installed; "
                "install zarr or give an output ending in .tif"
            ) from exc
        self.array = zarr.open_array(str(path), mode="w", shape=shape, dtype=dtype,
                                     chunks=(chunk, chunk))

    def write(self, y0: int, rows: np.ndarray) -> None:
        self.array[y0:y0 + rows.shape[0]] = rows


class _ResizingSink:
    """Bilinear resize (no anti-aliasing, as :func:`predict` does) of streamed probability rows
    to ``shape``, then encoded and written; keeps only the input rows still needed."""

    def __init__(self, sink, in_shape: tuple[int, int], shape: tuple[int, int], encode) -> None:
        from ..data.normalize import bilinear_weights, tap_stops

        self.sink, self.encode = sink, encode
        self.rows = bilinear_weights(in_shape[0], shape[0], antialias=False)
        self.cols = bilinear_weights(in_shape[1], shape[1], antialias=False)
        self.stops = np.maximum.accumulate(tap_stops(*self.rows))
        self.buffer = np.zeros((0, in_shape[1]), np.float32)
        self.top = 0  # input row of buffer[0]
        self.next = 0  # next output row to write

    def write(self, y0: int, rows: np.ndarray) -> None:
        from ..data.normalize import resize_axis

        self.buffer = np.concatenate([self.buffer, rows.astype(np.float32)])
        stop = int(np.searchsorted(self.stops, self.top + len(self.buffer), side="right"))
        if stop > self.next:
            first, weights = self.rows[0][self.next:stop], self.rows[1][self.next:stop]
            out = resize_axis(self.buffer, first, weights, axis=0, offset=self.top)
            out = np.clip(resize_axis(out, *self.cols, axis=1), 0, 1)
            self.sink.write(self.next, self.encode(out))
            self.next = stop
        if self.next < len(self.stops):
            drop = int(self.rows[0][self.next]) - self.top
            self.buffer, self.top = self.buffer[drop:], self.top + drop


def _encode(rows: np.ndarray, *, output: str, threshold: float) -> np.ndarray:
    if output == "probability":
        return rows.astype(np.float32)
    from .postprocessing import binarize

    return binarize(rows.astype(np.float32), threshold=threshold).astype(np.uint8) * 255


def _check_output(out: Path, output: str, overwrite: bool) -> str:
    if output not in OUTPUTS:
        raise ConfigError(f"output={output!r}: must be one of {OUTPUTS}")
    kind = {".tif": "tiff", ".tiff": "tiff", ".zarr": "zarr"}.get(out.suffix.lower())
    if kind is None:
        raise ConfigError(f"output file {out}: must end with .tif, .tiff or .zarr")
    if out.exists() and not overwrite:
        raise DataError(f"{out} already exists; pass overwrite=True to replace it")
    return kind


def _stream(source: BandReader, predictor: Predictor, sink, *, tile_hw, overlap, weights,
            batch_size, preprocess, encode, tick) -> int:
    """Predict band by band and hand finished rows to ``sink``; returns the number of tiles."""
    (height, width), (th, tw) = source.shape[:2], tile_hw
    ys = tile_starts(height, th, tile_stride(th, overlap))
    corners = [(0, x) for x in tile_starts(width, tw, tile_stride(tw, overlap))]
    acc = np.zeros((th, width), dtype=np.float64)
    wsum = np.zeros_like(acc)
    top = 0  # image row of acc[0]
    for y in ys:
        if y > top:  # rows [top, y) are final: no later tile reaches above y
            done = y - top
            sink.write(top, encode(acc[:done] / wsum[:done]))
            acc = np.concatenate([acc[done:], np.zeros((done, width))])
            wsum = np.concatenate([wsum[done:], np.zeros((done, width))])
            top = y
        plane = preprocess(source.band(y, y + th))
        if plane.shape[-2:] != (th, width):
            raise DataError(f"preprocess returned shape {plane.shape}; expected (C, {th}, {width})")
        accumulate_tiles(plane, corners, predictor, weights=weights, batch_size=batch_size,
                         acc=acc, wsum=wsum, tick=tick)
    sink.write(top, encode(acc / wsum))
    return len(ys) * len(corners)


def predict_large(source, predictor: Predictor, out: str | os.PathLike, *, tile=DEFAULT_TILE,
                  overlap: float = 0.25, blend: str = "gaussian", batch_size: int = 8,
                  preprocess: Preprocess | None = None, output: str = "probability",
                  threshold: float = 0.5, out_shape: tuple[int, int] | None = None,
                  overwrite: bool = False, on_event: EventCallback | None = None,
                  cancel: CancelToken | None = None) -> LargePrediction:
    """Predict a large 2D image tile by tile and write the result incrementally to ``out``.

    ``source`` is an image path (read lazily with ``eq_engine.io.images.open_image_lazy``) or an
    array-like with ``.shape`` and slicing (a numpy memmap, a zarr array). ``preprocess`` turns a
    raw band ``(h, X[, C])`` into the predictor's float32 ``(C, h, X)`` input (default: cast and
    move channels first; pass the model's normalisation here). ``out`` ends in ``.tif`` (an
    uncompressed TIFF written through a memmap) or ``.zarr``; it appears only when complete.
    ``output="probability"`` writes float32, ``"mask"`` writes uint8 0/255 (``>= threshold``;
    no hole filling or object clean-up, which need the whole image). ``out_shape`` (Y, X)
    resizes the probability bilinearly as it streams out (for a source at a model's scale).
    Images smaller than one tile must use :func:`~eq_engine.inference.predict_tiled`. Emits
    ``Progress`` per batch.
    """
    tile_hw = check_tiling(tile, overlap, blend, batch_size)
    out = Path(out)
    kind = _check_output(out, output, overwrite)
    src = BandReader(source)
    height, width = src.shape[:2]
    if height < tile_hw[0] or width < tile_hw[1]:
        raise DataError(f"image {src.shape} is smaller than the tile {tile_hw}; it fits in "
                        "memory, use predict_tiled, or choose a smaller tile")
    n_tiles = count_tiles((height, width), tile_hw, overlap)
    tick = progress_ticker(n_tiles, on_event, cancel)
    shape = tuple(out_shape or (height, width))
    start = time.perf_counter()
    with atomic_path(out) as tmp:  # a killed run leaves only a temporary the next run removes
        sink = _open_sink(tmp, kind, shape, np.float32 if output == "probability" else np.uint8,
                          max(tile_hw))
        encode = functools.partial(_encode, output=output, threshold=threshold)
        if shape != (height, width):
            sink, encode = _ResizingSink(sink, (height, width), shape, encode), _as_float32
        _stream(src, predictor, sink, tile_hw=tile_hw, overlap=overlap,
                weights=blend_weights(tile_hw, blend=blend), batch_size=batch_size,
                preprocess=preprocess or _default_preprocess, encode=encode, tick=tick)
        if out.exists() and tmp.is_dir() != out.is_dir():
            _remove(out)  # a Zarr folder where a TIFF was, or the reverse
    seconds = time.perf_counter() - start
    log.info("predicted %s (%d tiles) into %s in %.1f s", src.shape, n_tiles, out, seconds)
    return LargePrediction(out, shape, output, n_tiles, seconds)


def _open_sink(path: Path, kind: str, shape: tuple[int, int], dtype, chunk: int):
    if kind == "tiff":
        return TiffRowWriter(path, shape, dtype)
    return _ZarrSink(path, shape, dtype, chunk)


def _as_float32(rows: np.ndarray) -> np.ndarray:
    return rows.astype(np.float32)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
