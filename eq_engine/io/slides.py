"""Whole-slide images: pyramidal TIFF, OME-TIFF, Aperio SVS and Hamamatsu NDPI, read lazily.

tifffile finds a slide's pyramid (``series[0].levels``: OME SubIFDs, SVS pages, NDPI, generic
SubIFD pyramids) and exposes each level as a Zarr store, so a region read decodes only the
tiles it touches and a 50k x 40k level is never decoded whole. Axes are normalised as
:mod:`eq_engine.io.images` does: ``(Y, X)`` gray or ``(Y, X, 3)`` RGB; extra planes (Z, T) are
read at their first index.

The pixel size (µm per level-0 pixel) comes from the file's metadata: OME ``PhysicalSizeX``,
the ``MPP`` field of an Aperio description, or the TIFF resolution tags (NDPI and generic TIFF).
:func:`choose_level` picks the pyramid level that reads the fewest pixels for a model's scale.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .pixel_size import pixel_size_um

log = logging.getLogger(__name__)
SLIDE_SUFFIXES = (".svs", ".ndpi", ".scn", ".bif")  # always slides; TIFFs only with a pyramid
_PLANE_AXES = "ZTIQRLHEAPVMB"  # non-spatial, non-channel axes: read at index 0


@dataclass(frozen=True)
class SlideInfo:
    """What a slide holds, from its header: one ``(Y, X)`` shape per pyramid level."""

    path: Path
    kind: str  # tifffile's series kind: "ome", "svs", "ndpi", "generic", ...
    shapes: tuple[tuple[int, int], ...]
    channels: int  # 1 (gray) or 3 (RGB)
    dtype: str
    mpp: float | None  # µm per level-0 pixel; None when the file does not say

    @property
    def downsamples(self) -> tuple[float, ...]:
        """Level-0 pixels per level pixel, one per level (1.0 first)."""
        y0, x0 = self.shapes[0]
        return tuple(float(np.sqrt((y0 / y) * (x0 / x))) for y, x in self.shapes)

    def level_mpp(self, level: int) -> float | None:
        return None if self.mpp is None else self.mpp * self.downsamples[level]


def is_slide(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a whole slide: an SVS/NDPI file or a TIFF with a pyramid (or OME)."""
    path = Path(path)
    if not path.is_file():
        return False
    if path.suffix.lower() in SLIDE_SUFFIXES:
        return True
    if path.suffix.lower() not in (".tif", ".tiff", ".btf", ".tf8"):
        return False
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            return bool(tif.series) and (len(tif.series[0].levels) > 1 or tif.is_ome
                                         or tif.is_svs or tif.is_ndpi)
    except Exception:  # not a readable TIFF: not a slide, the image readers report why
        return False


def _channel_axis(axes: str, shape: tuple[int, ...], path: Path) -> str | None:
    channel = "S" if "S" in axes else ("C" if "C" in axes else None)
    if channel and shape[axes.index(channel)] not in (1, 2, 3, 4):
        raise DataError(f"{path}: {shape[axes.index(channel)]} channels (axes {axes}); EQ reads "
                        "grayscale or RGB slides: export the channel you need")
    return channel


class SlideLevel:
    """One pyramid level as an array-like ``(Y, X[, 3])``: ``level[y0:y1, x0:x1]`` decodes only
    the tiles of that region (through tifffile's Zarr store)."""

    def __init__(self, array, axes: str, path: Path) -> None:
        self._array, self._axes, self.path = array, axes, path
        self._channel = _channel_axis(axes, tuple(array.shape), path)
        n = array.shape[axes.index(self._channel)] if self._channel else 1
        self.channels = 3 if n >= 3 else 1
        height, width = array.shape[axes.index("Y")], array.shape[axes.index("X")]
        self.shape = (height, width, 3) if self.channels == 3 else (height, width)
        self.dtype = np.dtype(array.dtype)
        self.ndim = len(self.shape)

    def _key(self, ys: slice, xs: slice) -> tuple:
        key = {"Y": ys, "X": xs}
        return tuple(key.get(a, slice(None) if a in "SC" else 0) for a in self._axes)

    def _normalise(self, data, kept: str):
        """Move the channel axis last and keep gray or the first three channels."""
        if self._channel is None:
            return data
        data = data.transpose([kept.index(a) for a in ("Y", "X", self._channel)])
        return data[..., :3] if self.channels == 3 else data[..., 0]

    def __getitem__(self, key) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        ys = key[0] if key else slice(None)
        xs = key[1] if len(key) > 1 else slice(None)
        if not isinstance(ys, slice) or not isinstance(xs, slice) or len(key) > 2:
            raise TypeError("slide levels support region slices level[y0:y1, x0:x1] only")
        kept = "".join(a for a in self._axes if a in "YXSC")
        try:
            data = np.asarray(self._array[self._key(ys, xs)])
        except Exception as exc:  # codec errors, short reads
            raise DataError(f"{self.path}: cannot decode slide region ({exc})") from exc
        return self._normalise(data, kept)

    def lazy_array(self):
        """The level as a lazy array ``(Y, X[, 3])`` for napari's multiscale layers.

        When the file stores the level as ``(Y, X)`` or ``(Y, X, 3)`` this is tifffile's Zarr
        array itself: slicing it decodes only the tiles of the region, with none of the
        per-chunk overhead of a dask graph (about 30 ms a frame on a 50k slide). Other layouts
        (planar channels, RGBA) get a dask view that moves and trims the channels.
        """
        if self._axes == "YX" or (self._axes in ("YXS", "YXC") and self._array.shape[-1] == 3):
            return self._array
        import dask.array as da

        kept = "".join(a for a in self._axes if a in "YXSC")
        array = da.from_zarr(self._array)
        return self._normalise(array[self._key(slice(None), slice(None))], kept)


class Slide:
    """An open slide: :attr:`info` and :meth:`level` views. Close it (or use ``with``)."""

    def __init__(self, path: str | os.PathLike) -> None:
        import tifffile

        self.path = Path(path)
        if not self.path.is_file():
            raise DataError(f"slide {self.path} does not exist")
        try:
            self._tif = tifffile.TiffFile(self.path)
        except Exception as exc:  # tifffile raises many types for bad structure
            raise DataError(f"{self.path}: not a readable TIFF-based slide ({exc})") from exc
        try:
            self._series = self._tif.series[0]
            self._levels = [self._open_level(i) for i in range(len(self._series.levels))]
            self.info = SlideInfo(self.path, str(self._series.kind),
                                  tuple(tuple(lv.shape[:2]) for lv in self._levels),
                                  self._levels[0].channels, str(self._levels[0].dtype),
                                  pixel_size_um(self._tif))
        except DataError:
            self.close()
            raise
        except Exception as exc:  # unexpected layouts: name the file
            self.close()
            raise DataError(f"{self.path}: cannot read the slide's pyramid ({exc})") from exc

    def _open_level(self, index: int) -> SlideLevel:
        import zarr

        level = self._series.levels[index]
        store = self._series.aszarr(level=index)
        return SlideLevel(zarr.open(store, mode="r"), level.axes, self.path)

    def level(self, index: int) -> SlideLevel:
        if not 0 <= index < len(self._levels):
            raise DataError(f"{self.path} has levels 0..{len(self._levels) - 1}, not {index}")
        return self._levels[index]

    def close(self) -> None:
        self._tif.close()

    def __enter__(self) -> Slide:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_slide(path: str | os.PathLike) -> Slide:
    """Open a slide lazily; DataError when it is missing or not TIFF-based."""
    return Slide(path)


def slide_info(path: str | os.PathLike) -> SlideInfo:
    """The levels, channels and pixel size of a slide, from its header."""
    with open_slide(path) as slide:
        return slide.info


def choose_level(info: SlideInfo, scale: float) -> tuple[int, float]:
    """The level to read for a model that sees images resized by ``scale`` (relative to level
    0), and the residual resize factor to apply to that level.

    The coarsest level that still has at least the model's resolution is chosen, so prediction
    reads the fewest pixels and only ever shrinks: ``residual = scale * downsample <= 1``.
    """
    if not np.isfinite(scale) or scale <= 0:
        raise DataError(f"scale={scale!r} must be a positive number")
    best = 0
    for index, downsample in enumerate(info.downsamples):
        if downsample * scale <= 1 + 1e-3 and downsample > info.downsamples[best]:
            best = index
    residual = scale * info.downsamples[best]
    return best, 1.0 if abs(residual - 1) < 1e-3 else residual
