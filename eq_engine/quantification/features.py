"""Per-glomerulus measurements: morphology, lumen openness of the tuft, stain and nuclei.

Endotheliosis closes the capillary lumens of the glomerular tuft. A glomerulus mask usually also
holds Bowman's space (the white rim between tuft and capsule), which is not lumen, so lumens are
measured inside the *tuft*: the mask eroded from its edge by ``QuantConfig.tuft_erosion`` times the
glomerulus' equivalent radius.

Lumen and nuclei thresholds are chosen once per image from the whole field (a stain-robust rule,
see :func:`image_thresholds`), so a glomerulus whose lumens are all closed reads as closed instead
of being split in two by a threshold fitted to itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..config import QuantConfig
from ..errors import DataError
from ..events import Progress, check_cancel, emit
from .tables import QuantTable

log = logging.getLogger(__name__)

# Rec. 709 luma weights: lightness of an RGB pixel, cheap and monotone with CIELAB L*.
_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
_CONTEXT_STRIDE = 4  # thresholds come from every 4th pixel of the field: plenty for a histogram
MORPHOLOGY = ("area", "perimeter", "equivalent_diameter", "eccentricity", "solidity",
              "circularity")
FEATURES = (
    "tuft_area", "openness", "mask_openness", "rim_openness", "lumen_count", "lumen_density",
    "lumen_area_mean", "lumen_area_median", "lumen_area_p90", "hematoxylin_mean", "eosin_mean",
    "nuclear_fraction", "nuclear_density",
)


@dataclass(frozen=True)
class ImageThresholds:
    """Per-image rule: a tuft pixel is lumen when ``signal > lumen`` (signal: lightness for
    ``otsu``, negated H+E optical density for ``hed``) and nucleus when lightness < ``nuclear``."""

    method: str
    lumen: float
    nuclear: float


def instance_labels(labels: np.ndarray) -> np.ndarray:
    """Label image of glomeruli: a binary mask (bool, or one non-zero value such as 0/255) is
    split into connected components; an integer label image is returned as int32 unchanged."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise DataError(f"glomerulus labels must be a 2-D image, got shape {labels.shape}")
    if labels.dtype == bool:
        binary = labels
    elif np.issubdtype(labels.dtype, np.integer):
        fg = labels[labels != 0]
        if fg.size and fg.min() != fg.max():
            return labels.astype(np.int32, copy=False)
        binary = labels != 0
    else:
        raise DataError(f"glomerulus labels must be integer or bool, got dtype {labels.dtype}")
    from skimage.measure import label

    return label(binary, connectivity=2).astype(np.int32)


def lightness(image: np.ndarray) -> np.ndarray:
    """Lightness in [0, 1] (float32) of a gray (Y,X) or RGB (Y,X,3) image of any dtype."""
    image = np.asarray(image)
    rgb = image.ndim == 3 and image.shape[-1] == 3
    if not rgb and image.ndim != 2:
        raise DataError(f"image must be gray (Y,X) or RGB (Y,X,3), got shape {image.shape}")
    scale = _value_scale(image)
    if rgb:
        return (image.astype(np.float32) @ _LUMA) / scale
    return image.astype(np.float32) / scale


def _value_scale(image: np.ndarray) -> float:
    if np.issubdtype(image.dtype, np.integer):
        return float(np.iinfo(image.dtype).max) if image.max(initial=0) > 255 else 255.0
    return 1.0 if image.max(initial=0) <= 1.0 else float(image.max())


def _hed(image: np.ndarray) -> np.ndarray:
    """Haematoxylin, eosin, DAB optical densities (Y,X,3); gray images count as haematoxylin-free
    eosin-free (zeros) since deconvolution needs colour."""
    from skimage.color import rgb2hed

    if image.ndim == 2:
        return np.zeros(image.shape + (3,), np.float32)
    rgb = np.clip(image.astype(np.float32) / _value_scale(image), 0, 1)
    return rgb2hed(rgb).astype(np.float32)


def image_thresholds(image: np.ndarray, config: QuantConfig = QuantConfig()) -> ImageThresholds:
    """Lumen and nuclei thresholds for one field, from a 3-class Otsu over the whole image.

    The three classes of an H&E/PAS field are nuclei (dark), stained tissue, and unstained space
    (lumens, Bowman's space, tubule lumens, glass). ``otsu`` separates them by lightness; ``hed``
    separates lumen from tissue by total H+E optical density (colour deconvolution), which ignores
    pale-but-stained matrix. Nuclei always use the lower lightness threshold.
    """
    context = np.asarray(image)[::_CONTEXT_STRIDE, ::_CONTEXT_STRIDE]
    light = lightness(context)
    low, high = _three_class_thresholds(light)
    if config.lumen_method == "hed":
        hed = _hed(context)
        od = -(hed[..., 0] + hed[..., 1])
        _, high = _three_class_thresholds(od)
    return ImageThresholds(config.lumen_method, float(high), float(low))


def _three_class_thresholds(values: np.ndarray) -> tuple[float, float]:
    from skimage.filters import threshold_multiotsu, threshold_otsu

    values = values[np.isfinite(values)].ravel()
    if values.size == 0 or values.min() == values.max():
        raise DataError("image is blank (one intensity everywhere): no lumen threshold exists")
    try:
        low, high = threshold_multiotsu(values, classes=3, nbins=256)
    except ValueError:  # too few distinct values for three classes: fall back to two
        high = threshold_otsu(values)
        low = values.min()
    return float(low), float(high)


def tuft_mask(
    mask: np.ndarray, *, erosion: float, bright: np.ndarray | None = None,
    rim_max: float = 0.35, n_sectors: int = 16,
) -> np.ndarray:
    """The tuft of one glomerulus (bool crop ``mask``), without Bowman's space.

    Pixels deeper than ``erosion`` x equivalent radius from the mask edge are kept. With a
    ``bright`` map (lumen-bright pixels), each of ``n_sectors`` angular sectors is trimmed further
    by the bright band that hugs the mask edge (Bowman's space, often a crescent), up to
    ``rim_max`` x radius. Falls back to the whole mask when nothing would be left.
    """
    from scipy.ndimage import distance_transform_edt

    mask = np.asarray(mask, bool)
    if not mask.any():
        return mask.copy()
    depth = distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    radius = np.sqrt(mask.sum() / np.pi)
    limit = np.full(mask.shape, erosion * radius, np.float32)
    if bright is not None and rim_max > erosion:
        limit = np.maximum(limit, _rim_depth(mask, depth, bright, radius, erosion, rim_max,
                                             n_sectors))
    tuft = mask & (depth > limit)
    return tuft if tuft.any() else mask.copy()


def _rim_depth(mask, depth, bright, radius, erosion, rim_max, n_sectors) -> np.ndarray:
    """Per-pixel depth of the bright edge band of its angular sector (0 where there is none)."""
    yy, xx = np.indices(mask.shape)
    cy, cx = yy[mask].mean(), xx[mask].mean()
    sector = ((np.arctan2(yy - cy, xx - cx) + np.pi) / (2 * np.pi) * n_sectors).astype(int)
    sector %= n_sectors
    n_depth = max(1, int(np.ceil(rim_max * radius)))
    ring = np.floor(depth).astype(int)
    sel = mask & (ring < n_depth)
    total = np.zeros((n_sectors, n_depth))
    hits = np.zeros((n_sectors, n_depth))
    np.add.at(total, (sector[sel], ring[sel]), 1)
    np.add.at(hits, (sector[sel], ring[sel]), np.asarray(bright, bool)[sel])
    band = hits >= 0.5 * np.maximum(total, 1)  # mostly bright ring segment
    # the band must start near the edge (a thin dark capsule may come first) and run inward
    start = min(n_depth, int(np.ceil(erosion * radius)) + 2)
    rim = np.zeros(n_sectors, np.float32)
    for s in range(n_sectors):
        first = np.flatnonzero(band[s, :start])
        if first.size:
            inner = np.flatnonzero(~band[s, first[0]:])
            rim[s] = first[0] + (inner[0] if inner.size else n_depth - first[0])
    return rim[sector]


def morphology(labels: np.ndarray) -> dict[str, np.ndarray]:
    """Shape of every labelled object (regionprops_table): label, area, perimeter, equivalent
    diameter, eccentricity, solidity, circularity (4 pi A / P^2), centroid, bbox, border flag."""
    from skimage.measure import regionprops_table

    props = regionprops_table(
        labels,
        properties=("label", "area", "perimeter", "equivalent_diameter_area", "eccentricity",
                    "solidity", "centroid", "bbox"),
    )
    perimeter = props["perimeter"]
    with np.errstate(divide="ignore", invalid="ignore"):
        circularity = np.where(perimeter > 0, 4 * np.pi * props["area"] / perimeter**2, np.nan)
    y0, x0, y1, x1 = (props[f"bbox-{i}"] for i in range(4))
    height, width = labels.shape
    return {
        "label": props["label"].astype(int),
        "centroid_y": props["centroid-0"], "centroid_x": props["centroid-1"],
        "bbox_y0": y0, "bbox_x0": x0, "bbox_y1": y1, "bbox_x1": x1,
        "area": props["area"], "perimeter": perimeter,
        "equivalent_diameter": props["equivalent_diameter_area"],
        "eccentricity": props["eccentricity"], "solidity": props["solidity"],
        "circularity": np.minimum(circularity, 1.0),
        "touches_border": (y0 == 0) | (x0 == 0) | (y1 == height) | (x1 == width),
    }


@dataclass(frozen=True)
class GlomerulusMaps:
    """Pixel maps of one glomerulus crop: ``tuft``, open ``lumen`` (components of at least
    ``min_lumen_area`` px), ``nuclei``, and every lumen-``bright`` pixel of the mask."""

    tuft: np.ndarray
    lumen: np.ndarray
    nuclei: np.ndarray
    bright: np.ndarray
    lumen_sizes: np.ndarray
    hed: np.ndarray


def glomerulus_maps(
    crop: np.ndarray, mask: np.ndarray, thresholds: ImageThresholds, config: QuantConfig,
) -> GlomerulusMaps:
    """Tuft, lumens and nuclei of one glomerulus from its bbox ``crop`` and ``mask``."""
    from skimage.measure import label

    light = lightness(crop)
    hed = _hed(crop)
    signal = -(hed[..., 0] + hed[..., 1]) if thresholds.method == "hed" else light
    bright = (signal > thresholds.lumen) & mask
    tuft = tuft_mask(mask, erosion=config.tuft_erosion, bright=bright, rim_max=config.rim_max)
    lumen_labels = label(bright & tuft, connectivity=1)
    sizes = np.bincount(lumen_labels.ravel())
    keep = sizes >= config.min_lumen_area
    keep[0] = False
    nuclei = (light < thresholds.nuclear) & tuft
    return GlomerulusMaps(tuft, keep[lumen_labels], nuclei, bright, sizes[keep], hed)


def glomerulus_features(
    crop: np.ndarray, mask: np.ndarray, thresholds: ImageThresholds, config: QuantConfig,
) -> dict[str, float]:
    """Lumen, stain and nuclei features of one glomerulus from its bbox ``crop`` and ``mask``."""
    from skimage.measure import label

    maps = glomerulus_maps(crop, mask, thresholds, config)
    tuft, sizes = maps.tuft, maps.lumen_sizes
    tuft_area = float(tuft.sum())
    rim = mask & ~tuft
    nuclear_sizes = np.bincount(label(maps.nuclei, connectivity=1).ravel())[1:]
    per_10k = 1e4 / tuft_area
    return {
        "tuft_area": tuft_area,
        "openness": float(sizes.sum()) / tuft_area,
        "mask_openness": float(maps.bright.sum()) / float(mask.sum()),
        "rim_openness": float((maps.bright & rim).sum()) / float(rim.sum()) if rim.any()
        else np.nan,
        "lumen_count": int(sizes.size),
        "lumen_density": sizes.size * per_10k,
        "lumen_area_mean": float(sizes.mean()) if sizes.size else 0.0,
        "lumen_area_median": float(np.median(sizes)) if sizes.size else 0.0,
        "lumen_area_p90": float(np.percentile(sizes, 90)) if sizes.size else 0.0,
        "hematoxylin_mean": float(maps.hed[..., 0][tuft].mean()),
        "eosin_mean": float(maps.hed[..., 1][tuft].mean()),
        "nuclear_fraction": float(maps.nuclei.sum()) / tuft_area,
        "nuclear_density": int((nuclear_sizes >= config.min_lumen_area).sum()) * per_10k,
    }


def structure_maps(
    image: np.ndarray, labels: np.ndarray, config: QuantConfig = QuantConfig(), *,
    thresholds: ImageThresholds | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole-image ``(tuft labels int32, lumen bool, nuclei bool)`` for overlays and viewer
    layers; the tuft of glomerulus ``k`` carries label ``k``."""
    image, labels = np.asarray(image), instance_labels(labels)
    thresholds = thresholds or image_thresholds(image, config)
    tuft = np.zeros(labels.shape, np.int32)
    lumen = np.zeros(labels.shape, bool)
    nuclei = np.zeros(labels.shape, bool)
    shape = morphology(labels)
    for i, label_id in enumerate(shape["label"]):
        y0, x0, y1, x1 = (int(shape[k][i]) for k in ("bbox_y0", "bbox_x0", "bbox_y1", "bbox_x1"))
        mask = labels[y0:y1, x0:x1] == label_id
        maps = glomerulus_maps(image[y0:y1, x0:x1], mask, thresholds, config)
        tuft[y0:y1, x0:x1][maps.tuft] = label_id
        lumen[y0:y1, x0:x1] |= maps.lumen
        nuclei[y0:y1, x0:x1] |= maps.nuclei
    return tuft, lumen, nuclei


def measure_glomeruli(
    image: np.ndarray,
    labels: np.ndarray,
    config: QuantConfig = QuantConfig(),
    *,
    name: str = "",
    thresholds: ImageThresholds | None = None,
    on_event=None,
    cancel=None,
) -> QuantTable:
    """Measure every glomerulus of one image: one row per glomerulus.

    ``labels`` is a label image or a binary mask (split into connected components). Rows hold
    image ``name``, label id, centroid, bbox, morphology, the border flag, the features listed in
    :data:`FEATURES`, and ``excluded`` (touches the border and ``config.exclude_border``).
    Objects smaller than ``config.min_area`` pixels are dropped as noise.
    """
    image = np.asarray(image)
    labels = instance_labels(labels)
    if image.shape[:2] != labels.shape:
        raise DataError(f"image {name or ''} is {image.shape[:2]} but its labels are "
                        f"{labels.shape}; masks must match the image size")
    thresholds = thresholds or image_thresholds(image, config)
    shape = morphology(labels)
    rows, n = [], len(shape["label"])
    for i in range(n):
        check_cancel(cancel)
        if shape["area"][i] < config.min_area:
            continue
        rows.append(_glomerulus_row(image, labels, shape, i, thresholds, config, name))
        emit(on_event, Progress("measure", i + 1, n, name))
    if n > len(rows):
        log.info("%s: dropped %d object(s) under min_area=%d px", name, n - len(rows),
                 config.min_area)
    return QuantTable(rows, "glomerulus")


def _glomerulus_row(image, labels, shape, i, thresholds, config, name) -> dict:
    y0, x0, y1, x1 = (int(shape[k][i]) for k in ("bbox_y0", "bbox_x0", "bbox_y1", "bbox_x1"))
    label_id = int(shape["label"][i])
    mask = labels[y0:y1, x0:x1] == label_id
    row: dict = {"image": name, "label": label_id}
    for key in ("centroid_y", "centroid_x", "bbox_y0", "bbox_x0", "bbox_y1", "bbox_x1",
                *MORPHOLOGY):
        row[key] = shape[key][i].item()
    border = bool(shape["touches_border"][i])
    row["touches_border"] = border
    row["excluded"] = border and config.exclude_border
    row["exclude_reason"] = "border" if row["excluded"] else ""
    row.update(glomerulus_features(image[y0:y1, x0:x1], mask, thresholds, config))
    row["lumen_threshold"] = thresholds.lumen
    return row
