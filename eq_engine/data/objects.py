"""What the training masks say about their objects: size, hence scale and clean-up.

``--scale auto`` resizes images so that the median object is :data:`TARGET_DIAMETER` pixels
across at the network's input: big enough to see its inside, small enough that a crop of
:data:`CONTEXT` diameters shows its surroundings. Never upsampled (scale <= 1): fine detail is
not invented, and an object smaller than the target simply trains at full resolution.

The post-processing learned here: objects smaller than :data:`MIN_SIZE_FRACTION` of the
smallest whole training object (one not cut by the image border) are removed at prediction,
or :data:`FEW_OBJECTS_FRACTION` of it when there are fewer than :data:`MIN_OBJECTS_FOR_SIZE`
whole objects (the smallest of a handful is far above the smallest a new image holds);
holes are filled (training objects are solid by construction in these datasets). Annotation
specks (objects under :data:`SPECK_FRACTION` of the median area; the preeclampsia masks have
4-px ones) do not count as the smallest object.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..errors import DataError

TARGET_DIAMETER = 64  # px at the network's input
CONTEXT = 3  # a training crop spans about this many object diameters
MIN_SCALE, MAX_SCALE = 1 / 16, 1.0
# Chosen on the T19/T20 leave-one-animal-out folds (0.25-1.5 tried), confirmed on T21/T26:
# glomeruli object F1 0.79 -> 0.87 there (BENCHMARKS.md, "Minimum object size").
MIN_SIZE_FRACTION = 0.75
# Set a priori after 2 training images (3 glomeruli, the smallest 115k px; 20k px over all 24
# images of those animals) removed every prediction on the held-out animals (BENCHMARKS.md).
MIN_OBJECTS_FOR_SIZE = 20
FEW_OBJECTS_FRACTION = 0.25
SPECK_FRACTION = 0.02
# crops_per_image "auto": an epoch draws COVERAGE x the crop-sized tiles of the median training
# image at the model's scale, at least MIN_CROPS (what a 2448x2048 H&E field gives at ~0.16).
# Coverage 1/8 (the old fixed 8 on EM), 1/2 and 1 tried on CDeep3M, confirmed on Drosophila
# (in-domain IoU 0.33 -> 0.63): BENCHMARKS.md, "crops per epoch".
CROP_COVERAGE = 0.5
MIN_CROPS = 8


@dataclass(frozen=True)
class ObjectStats:
    """Objects of the training masks at full resolution (whole objects, border-cut excluded)."""

    n_objects: int
    median_diameter: float  # equivalent-circle diameter, px
    min_area: int  # px
    n_images: int
    median_image_px: float = 0.0  # pixels of the median training image (plane), full resolution


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Areas of all objects of a 2D mask and whether each touches the border."""
    from skimage.measure import label

    labels = label(np.asarray(mask) != 0)
    areas = np.bincount(labels.ravel())[1:]
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    touches = np.zeros(len(areas), bool)
    touches[edge[edge > 0] - 1] = True
    return areas, touches


def object_stats(masks: Iterable[np.ndarray]) -> ObjectStats:
    """Sizes of the objects in 2D ``masks``; border-cut objects count only if none is whole."""
    whole, cut, sizes = [], [], []
    for mask in masks:
        areas, touches = _components(mask)
        whole += areas[~touches].tolist()
        cut += areas[touches].tolist()
        sizes.append(np.asarray(mask).size)
    n = len(sizes)
    areas = np.asarray(whole or cut, dtype=np.float64)
    if not len(areas):
        raise DataError(f"the {n} training mask(s) hold no foreground object; scale='auto' needs "
                        "annotated objects (or give a scale, e.g. 0.25)")
    diameters = np.sqrt(4 * areas / np.pi)
    real = areas[areas >= SPECK_FRACTION * np.median(areas)]
    return ObjectStats(len(areas), float(np.median(diameters)), int(real.min()), n,
                       float(np.median(sizes)))


def choose_scale(stats: ObjectStats, *, target: float = TARGET_DIAMETER) -> float:
    """The resize factor that makes the median object ``target`` px across (within bounds)."""
    scale = float(np.clip(target / stats.median_diameter, MIN_SCALE, MAX_SCALE))
    return round(scale, 4)


def choose_crops_per_image(stats: ObjectStats, *, scale: float, size: int) -> int:
    """Random crops per image and epoch for images of the median training size (module doc)."""
    tiles = stats.median_image_px * scale * scale / (size * size)
    return max(MIN_CROPS, int(round(CROP_COVERAGE * tiles)))


def learned_postprocess(stats: ObjectStats) -> dict:
    """Clean-up parameters for prediction at full resolution (see module doc)."""
    fraction = (MIN_SIZE_FRACTION if stats.n_objects >= MIN_OBJECTS_FOR_SIZE
                else FEW_OBJECTS_FRACTION)
    return {"fill_holes": True, "min_size": int(fraction * stats.min_area),
            "opening_radius": 0, "from": {"min_training_area": stats.min_area,
                                          "fraction": fraction, "n_objects": stats.n_objects}}
