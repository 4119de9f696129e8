"""TIFF specifics behind :mod:`eq_engine.io.images`: axes normalisation, integrity, lazy access.

Use the public functions of :mod:`eq_engine.io.images`; this module is their TIFF back end.

Axes rule (the same for eager, memory-mapped and lazy reads): the samples axis ``S`` (or, when
there is none, the channel axis ``C``) of size 3 or 4 becomes a trailing RGB axis (alpha dropped);
``S`` of size 2 (gray + alpha) becomes gray; every other non-spatial axis (Z, T, I, Q, ...) is
flattened, in file order, into one leading Z axis. Results: (Y,X), (Y,X,3), (Z,Y,X), (Z,Y,X,3).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from ..errors import DataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AxesPlan:
    """How to turn a squeezed TIFF series array into EQ's normalised axes."""

    order: tuple[int, ...]  # transpose of the squeezed series array
    shape: tuple[int, ...]  # normalised shape
    rgb: bool
    channel: str | None  # "S" or "C" when the file has a channel axis
    n_pages_axes: int  # leading non-spatial, non-channel axes (flattened into Z)


def plan_axes(axes: str, shape: tuple[int, ...], path: Path) -> AxesPlan:
    """Plan the normalisation of a series with tifffile ``axes`` and squeezed ``shape``."""
    axes = axes.upper()
    if "Y" not in axes or "X" not in axes or len(axes) != len(shape):
        raise DataError(f"{path}: unsupported TIFF layout (axes {axes!r}, shape {shape})")
    channel = "S" if "S" in axes else ("C" if "C" in axes else None)
    n_channels = shape[axes.index(channel)] if channel else 1
    if channel and not (n_channels in (3, 4) or (channel == "S" and n_channels == 2)):
        raise DataError(
            f"{path}: {n_channels} channels (axes {axes}, shape {shape}); EQ reads grayscale "
            "or RGB(A) images: export the channel you need as its own TIFF"
        )
    others = [i for i, a in enumerate(axes) if a not in ("Y", "X", channel)]
    order = others + [axes.index("Y"), axes.index("X")]
    if channel:
        order.append(axes.index(channel))
    rgb = channel is not None and n_channels in (3, 4)
    spatial = (shape[axes.index("Y")], shape[axes.index("X")])
    if others:
        spatial = (math.prod(shape[i] for i in others), *spatial)
    return AxesPlan(tuple(order), spatial + ((3,) if rgb else ()), rgb, channel, len(others))


def apply_plan(array: np.ndarray, plan: AxesPlan, *, allow_copy: bool = True) -> np.ndarray:
    """Normalise a squeezed series ``array``; with ``allow_copy=False`` raise ValueError if the
    result cannot be a view (used to keep memory maps lazy)."""
    out = array.transpose(plan.order)
    if plan.channel:
        out = out[..., :3] if plan.rgb else out[..., 0]
    if out.shape != plan.shape:
        out = np.reshape(out, plan.shape, copy=None if allow_copy else False)
    return out


def open_tiff(path: Path) -> tifffile.TiffFile:
    """Open ``path`` as TIFF, translating library errors into :class:`DataError`."""
    try:
        return tifffile.TiffFile(path)
    except Exception as exc:  # tifffile raises many types for bad structure
        raise DataError(f"{path}: corrupt or truncated TIFF ({exc})") from exc


def first_series(tif: tifffile.TiffFile, path: Path) -> tifffile.TiffPageSeries:
    if not tif.series or not tif.series[0].pages:
        raise DataError(f"{path}: corrupt or truncated TIFF: no readable image in it")
    return tif.series[0]


def check_complete(tif: tifffile.TiffFile, path: Path) -> None:
    """Raise :class:`DataError` when a page's data would lie past the end of the file."""
    size = tif.filehandle.size
    for index, page in enumerate(tif.pages):
        ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=False)
                if o and n]
        if ends and max(ends) > size:
            raise DataError(
                f"{path}: truncated TIFF: page {index} needs {max(ends)} bytes but the file "
                f"has {size}; copy the file again"
            )


def checked_series(tif: tifffile.TiffFile,
                   path: Path) -> tuple[tifffile.TiffPageSeries, AxesPlan]:
    """The first series of an open TIFF and its axes plan, after the integrity checks."""
    series = first_series(tif, path)
    check_complete(tif, path)
    return series, plan_axes(series.axes, tuple(series.shape), path)


def tiff_info(path: Path) -> tuple[tuple[int, ...], np.dtype, bool]:
    """(normalised shape, dtype, rgb) read from the header, after an integrity check."""
    with open_tiff(path) as tif:
        series, plan = checked_series(tif, path)
        return plan.shape, np.dtype(series.dtype), plan.rgb


def read_tiff(path: Path) -> tuple[np.ndarray, bool]:
    """Whole first series, normalised; returns (array, rgb)."""
    with open_tiff(path) as tif:
        series, plan = checked_series(tif, path)
        try:
            data = series.asarray()
        except MemoryError as exc:
            raise DataError(f"{path}: too large to load; use open_image_lazy") from exc
        except Exception as exc:  # codec errors, short reads
            raise DataError(f"{path}: cannot decode TIFF data ({exc})") from exc
    return apply_plan(data.reshape(series.shape), plan), plan.rgb


def open_tiff_lazy(path: Path):
    """Memory map when the data is one uncompressed block, else a :class:`LazyTiff`.

    Returns ``None`` when neither applies (the caller then reads eagerly).
    """
    tif = open_tiff(path)
    keep_open = False
    try:
        series, plan = checked_series(tif, path)
        if series.dataoffset is not None:
            try:
                mapped = tifffile.memmap(path, series=0, mode="r")
                return apply_plan(mapped.reshape(series.shape), plan, allow_copy=False)
            except ValueError:
                log.debug("%s: cannot memory-map; reading pages lazily", path)
        n_planes = plan.shape[0] if plan.n_pages_axes else 1
        flat = all(page is not None and page.keyframe.imagedepth == 1 for page in series.pages)
        if plan.channel == "C" or len(series.pages) != n_planes or not flat:
            return None
        keep_open = True
        return LazyTiff(path, tif, series, plan)
    finally:
        if not keep_open:
            tif.close()


class LazyTiff:
    """Array-like view of a TIFF series with EQ's normalised axes.

    Indexing with ints and slices reads only the pages it touches, and inside tiled or striped
    pages only the tiles/strips it touches, so an image larger than RAM can be streamed region by
    region. Other indices (arrays, masks) read the whole series first. ``np.asarray`` reads all.
    """

    def __init__(self, path: Path, tif: tifffile.TiffFile, series, plan: AxesPlan):
        self.path = Path(path)
        self._tif = tif
        self._pages = list(series.pages)
        self._plan = plan
        self.shape = plan.shape
        self.dtype = np.dtype(series.dtype)
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"LazyTiff({str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"

    def close(self) -> None:
        self._tif.close()

    def __enter__(self) -> LazyTiff:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self[...]
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getitem__(self, key) -> np.ndarray:
        parts = _expand_key(key, self.ndim)
        if parts is None:
            return np.asarray(self)[key]
        stacked = self._plan.n_pages_axes > 0
        page_key = parts[0] if stacked else 0
        y_key, x_key = parts[int(stacked)], parts[int(stacked) + 1]
        rest = parts[int(stacked) + 2:]
        (y0, y1), y_post = _bounds(y_key, self.shape[int(stacked)])
        (x0, x1), x_post = _bounds(x_key, self.shape[int(stacked) + 1])
        page_ids = range(len(self._pages))[page_key]
        pick = (y_post, x_post, *rest)
        if isinstance(page_ids, int):
            return self._region(self._pages[page_ids], y0, y1, x0, x1)[pick]
        planes = [self._region(self._pages[i], y0, y1, x0, x1)[pick] for i in page_ids]
        if not planes:  # empty Z selection: shape from one plane's region
            plane = self._region(self._pages[0], y0, y1, x0, x1)[pick]
            return np.empty((0, *plane.shape), self.dtype)
        return np.stack(planes)

    def _region(self, page, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        try:
            data = _read_page_region(page, y0, y1, x0, x1)
        except Exception as exc:  # codec errors, short reads
            raise DataError(f"{self.path}: cannot decode TIFF data ({exc})") from exc
        if self._plan.channel:
            data = data[..., :3] if self._plan.rgb else data[..., 0]
        return data


def _expand_key(key, ndim: int) -> list | None:
    """Key as one int/slice per axis, or None for keys LazyTiff cannot read partially."""
    key = key if isinstance(key, tuple) else (key,)
    if sum(k is Ellipsis for k in key) > 1:
        return None
    if Ellipsis in key:
        at = key.index(Ellipsis)
        key = key[:at] + (slice(None),) * (ndim - len(key) + 1) + key[at + 1:]
    key = key + (slice(None),) * (ndim - len(key))
    ok = all(isinstance(k, slice | int | np.integer) and not isinstance(k, bool) for k in key)
    return list(key) if ok and len(key) == ndim else None


def _bounds(key, size: int) -> tuple[tuple[int, int], int | slice]:
    """Bounding [lo, hi) to read for ``key`` on an axis of ``size``, and the index into it."""
    picked = range(size)[key]
    if isinstance(picked, int):
        return (picked, picked + 1), 0
    if len(picked) == 0:
        return (0, 0), slice(0, 0)
    lo, hi = min(picked), max(picked) + 1
    stop = picked.stop - lo
    return (lo, hi), slice(picked.start - lo, stop if stop >= 0 else None, picked.step)


def _read_page_region(page, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """Pixels [y0:y1, x0:x1] of one page, decoding only the segments that overlap them."""
    key = page.keyframe
    height, width = key.imagelength, key.imagewidth
    simple = key.imagedepth == 1 and (key.planarconfig == 1 or key.samplesperpixel == 1)
    if not simple or (y1 - y0) * (x1 - x0) == height * width:
        data = page.asarray()
        if key.planarconfig == 2 and key.samplesperpixel > 1:
            data = np.moveaxis(data, 0, -1)  # separate planes (S,Y,X) -> (Y,X,S)
        return data[y0:y1, x0:x1]
    samples = key.samplesperpixel
    rows = key.chunks[0]
    cols, n_cols = (key.chunks[1], key.chunked[1]) if key.is_tiled else (width, 1)
    indices = [
        r * n_cols + c
        for r in range(y0 // rows, (max(y1, y0 + 1) - 1) // rows + 1)
        for c in range(x0 // cols, (max(x1, x0 + 1) - 1) // cols + 1)
    ]
    out = np.zeros((y1 - y0, x1 - x0, samples), key.dtype)
    fh = page.parent.filehandle
    offsets = [page.dataoffsets[i] for i in indices]
    counts = [page.databytecounts[i] for i in indices]
    for data, index in fh.read_segments(offsets, counts, indices=indices, lock=fh.lock):
        segment, pos, shape = key.decode(data, index, jpegtables=page.jpegtables,
                                         jpegheader=key.jpegheader)
        if segment is None:
            continue  # empty segment: stays zero
        sy, sx = pos[2], pos[3]
        h, w = min(shape[1], height - sy), min(shape[2], width - sx)
        segment = segment.reshape(shape)[0, :h, :w]
        ty0, ty1, tx0, tx1 = max(sy, y0), min(sy + h, y1), max(sx, x0), min(sx + w, x1)
        if ty0 < ty1 and tx0 < tx1:
            out[ty0 - y0:ty1 - y0, tx0 - x0:tx1 - x0] = segment[ty0 - sy:ty1 - sy, tx0 - sx:tx1 - sx]
    return out if samples > 1 else out[..., 0]
