"""The work plan of a slide prediction: analysis grid, regions, tissue, one region's prediction.

*Analysis space* is the chosen pyramid level resized by the residual factor, i.e. the slide at
the model's scale. It is cut into square regions (``SlideConfig.region`` px); each region is
read with a halo of context, resized with the global bilinear taps (so a region's pixels equal
those of resizing the whole level), normalised with slide-wide percentiles and predicted with
:func:`~eq_engine.inference.tiling.predict_plane`; only its core is kept.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import DataError
from .tiling import Predictor, blend_weights, predict_plane

log = logging.getLogger(__name__)
SAMPLE_WINDOW = 64
MAX_SAMPLE_WINDOWS = 256


@dataclass(frozen=True)
class SlidePlan:
    """Where a slide is predicted: level, residual scale, analysis shape and region grid."""

    level: int
    residual: float
    level_shape: tuple[int, int]
    shape: tuple[int, int]  # analysis space (Y, X)
    slide_shape: tuple[int, int]  # level 0 (Y, X)
    region: int
    halo: int
    mpp: float | None  # µm per level-0 pixel

    @property
    def grid(self) -> tuple[int, int]:
        return -(-self.shape[0] // self.region), -(-self.shape[1] // self.region)

    def core(self, index: int) -> tuple[int, int, int, int]:
        """``(y0, y1, x0, x1)`` of region ``index`` (raster order) in analysis space."""
        iy, ix = divmod(index, self.grid[1])
        y0, x0 = iy * self.region, ix * self.region
        return y0, min(y0 + self.region, self.shape[0]), x0, min(x0 + self.region, self.shape[1])

    @property
    def n_regions(self) -> int:
        return self.grid[0] * self.grid[1]

    @property
    def to_slide(self) -> tuple[float, float]:
        """Level-0 pixels per analysis pixel along (Y, X)."""
        return (self.slide_shape[0] / self.shape[0], self.slide_shape[1] / self.shape[1])

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SlidePlan:
        data = dict(data)
        for key in ("level_shape", "shape", "slide_shape"):
            data[key] = tuple(data[key])
        return cls(**data)


def make_plan(info, scale: float, *, region: int, halo: int, level: int | None) -> SlidePlan:
    """The plan for a slide (``SlideInfo``) and a model ``scale`` (relative to level 0)."""
    from ..data.normalize import scaled_shape
    from ..io.slides import choose_level

    if level is None:
        level, residual = choose_level(info, scale)
    else:
        if level >= len(info.shapes):
            raise DataError(f"{info.path} has levels 0..{len(info.shapes) - 1}, not {level}")
        residual = scale * info.downsamples[level]
    level_shape = tuple(info.shapes[level])
    shape = tuple(scaled_shape(level_shape, residual)) if residual != 1 else level_shape
    return SlidePlan(level, float(residual), level_shape, shape, tuple(info.shapes[0]), region,
                     halo, info.mpp)


# -- tissue ------------------------------------------------------------------------------------
def tissue_mask(image: np.ndarray, *, saturation: float = 0.07,
                lightness: float = 0.8) -> np.ndarray:
    """Tissue (True) vs glass and background of a slide thumbnail ``(Y, X[, 3])``.

    Glass is bright and grey: a pixel is tissue when its saturation exceeds ``saturation`` or
    its lightness is below ``lightness`` (fractions of the dtype's range). Black scanner
    padding (all channels 0) is not tissue.
    """
    image = np.asarray(image)
    top = float(np.iinfo(image.dtype).max) if image.dtype.kind in "ui" else 1.0
    x = image.astype(np.float32) / top
    if x.ndim == 2:
        tissue = (x < lightness) & (x > 0)
    else:
        high, low = x[..., :3].max(axis=-1), x[..., :3].min(axis=-1)
        sat = (high - low) / np.maximum(high, 1e-6)
        tissue = ((sat > saturation) | (x[..., :3].mean(axis=-1) < lightness)) & (high > 0)
    return tissue


def regions_with_tissue(plan: SlidePlan, tissue: np.ndarray) -> list[int]:
    """Indices of regions whose core holds tissue in the thumbnail mask ``tissue``.

    The core, not its halo: an object lies in tissue, so a core of glass has none to find (the
    halo's tissue is predicted by the region that owns it), and time follows the tissue area."""
    fy, fx = tissue.shape[0] / plan.shape[0], tissue.shape[1] / plan.shape[1]
    keep = []
    for index in range(plan.n_regions):
        y0, y1, x0, x1 = plan.core(index)
        ty0, tx0 = int(y0 * fy), int(x0 * fx)
        ty1, tx1 = int(np.ceil(y1 * fy)), int(np.ceil(x1 * fx))
        if tissue[max(ty0, 0):max(ty1, ty0 + 1), max(tx0, 0):max(tx1, tx0 + 1)].any():
            keep.append(index)
    return keep


# -- reading analysis pixels --------------------------------------------------------------------
class AnalysisReader:
    """Windows of analysis space read from a slide level (resized with global taps)."""

    def __init__(self, level, plan: SlidePlan) -> None:
        from ..data.normalize import bilinear_weights

        self.level, self.plan = level, plan
        self.taps = None
        if plan.residual != 1:
            antialias = plan.residual < 1
            self.taps = (bilinear_weights(plan.level_shape[0], plan.shape[0], antialias=antialias),
                         bilinear_weights(plan.level_shape[1], plan.shape[1], antialias=antialias))

    def window(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """Analysis pixels ``[y0:y1, x0:x1]`` (float32 when resized, else the level's dtype)."""
        if self.taps is None:
            return self.level[y0:y1, x0:x1]
        from ..data.normalize import resize_axis, tap_stops

        (rf, rw), (cf, cw) = self.taps
        rf, rw, cf, cw = rf[y0:y1], rw[y0:y1], cf[x0:x1], cw[x0:x1]
        ry0, ry1 = int(rf.min()), int(tap_stops(rf, rw).max())
        rx0, rx1 = int(cf.min()), int(tap_stops(cf, cw).max())
        raw = self.level[ry0:ry1, rx0:rx1]
        out = resize_axis(raw, rf, rw, axis=0, offset=ry0)
        return resize_axis(out, cf, cw, axis=1, offset=rx0)


def sample_percentiles(reader: AnalysisReader, tissue: np.ndarray, norm: dict) -> np.ndarray:
    """The slide's normalisation percentiles from windows inside the tissue: up to 256 windows
    of 64 px, spread evenly over it.

    A window is centred where it holds no glass (the tissue mask with its holes filled, shrunk
    by half a window), so the percentiles are those of tissue, as a field's are; glass would
    pull the bright percentile up to its own grey and darken everything the model sees. Thin
    tissue falls back to windows centred on any tissue, and no tissue to the whole slide.
    """
    from scipy import ndimage

    from ..data.normalize import percentiles_from_sample

    plan = reader.plan
    fy, fx = plan.shape[0] / tissue.shape[0], plan.shape[1] / tissue.shape[1]
    half = SAMPLE_WINDOW // 2
    # half a window in tissue-mask pixels, plus one for the part-glass pixels at its edge
    reach = int(np.ceil(half / min(fy, fx))) + 1
    inside = ndimage.binary_erosion(ndimage.binary_fill_holes(tissue), iterations=reach,
                                    border_value=0)
    for candidates in (inside, tissue, np.ones_like(tissue)):
        ys, xs = np.nonzero(candidates)
        if len(ys):
            break
    pick = np.unique(np.linspace(0, len(ys) - 1, min(MAX_SAMPLE_WINDOWS, len(ys))).astype(int))
    windows = []
    for y, x in zip(ys[pick], xs[pick], strict=True):
        cy, cx = int((y + 0.5) * fy), int((x + 0.5) * fx)
        y0, x0 = max(0, cy - half), max(0, cx - half)
        windows.append(reader.window(y0, min(plan.shape[0], y0 + SAMPLE_WINDOW),
                                     x0, min(plan.shape[1], x0 + SAMPLE_WINDOW)))
    return percentiles_from_sample(windows, norm)


def predict_region(reader: AnalysisReader, index: int, predictor: Predictor, *, norm: dict,
                   percentiles: np.ndarray, tile: int, overlap: float, blend: str,
                   batch_size: int) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Foreground probability (float32) of region ``index`` with its halo, and the slices of
    its core inside that window."""
    from ..data.normalize import normalize_with_percentiles

    plan = reader.plan
    y0, y1, x0, x1 = plan.core(index)
    wy0, wx0 = max(0, y0 - plan.halo), max(0, x0 - plan.halo)
    wy1, wx1 = min(plan.shape[0], y1 + plan.halo), min(plan.shape[1], x1 + plan.halo)
    x = normalize_with_percentiles(reader.window(wy0, wy1, wx0, wx1), percentiles, norm)
    prob = predict_plane(x, predictor, tile_hw=(tile, tile), overlap=overlap,
                         weights=blend_weights(tile, blend=blend), batch_size=batch_size)
    return prob, (slice(y0 - wy0, y1 - wy0), slice(x0 - wx0, x1 - wx0))


def region_mask(reader: AnalysisReader, index: int, predictor: Predictor, facts: dict,
                config) -> np.ndarray:
    """Region ``index``'s core thresholded (uint8 0/1). ``facts``: the model's ``norm``,
    ``tile`` and ``threshold`` and the slide's ``percentiles``; ``config`` a PredictConfig.

    Holes are filled over the whole window (core plus halo), so a hole cut by a region border
    is filled the same way on both sides."""
    from scipy import ndimage

    prob, core = predict_region(reader, index, predictor, norm=facts["norm"],
                                percentiles=np.asarray(facts["percentiles"]),
                                tile=facts["tile"], overlap=config.overlap, blend=config.blend,
                                batch_size=config.batch_size)
    mask = prob >= facts["threshold"]
    if config.fill_holes:
        mask = ndimage.binary_fill_holes(mask)
    return mask[core].astype(np.uint8)
