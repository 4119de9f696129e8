"""Probability map -> binary mask and instance labels (threshold, clean-up, labelling)."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, DataError


def binarize(pred: np.ndarray, *, threshold: float = 0.5) -> np.ndarray:
    """Foreground of ``pred`` as bool: ``>= threshold`` for floats, ``!= 0`` otherwise."""
    arr = np.asarray(pred)
    if arr.dtype == bool:
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        if np.isnan(arr).any():
            raise DataError("prediction contains NaN; fix the model output or replace NaN "
                            "before computing metrics")
        return arr >= threshold
    if np.issubdtype(arr.dtype, np.integer):
        return arr != 0
    raise DataError(f"cannot use an array of dtype {arr.dtype} as a mask; "
                    "pass bool, integer labels or a float probability map")


def _check(probability: np.ndarray, threshold: float, min_size: int) -> None:
    if probability.ndim not in (2, 3):
        raise DataError(
            f"probability map of shape {probability.shape} must be 2D (Y, X) or a stack (Z, Y, X)"
        )
    if not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
        raise ConfigError(f"threshold={threshold!r}: must be strictly between 0 and 1, e.g. 0.5")
    if not isinstance(min_size, (int, np.integer)) or min_size < 0:
        raise ConfigError(f"min_size={min_size!r}: must be an integer >= 0 (pixels)")


def clean_mask(mask: np.ndarray, *, min_size: int = 0, fill_holes: bool = True) -> np.ndarray:
    """Fill holes, then drop 2D objects smaller than ``min_size`` pixels; returns a new bool mask."""
    from scipy import ndimage
    from skimage.measure import label

    out = ndimage.binary_fill_holes(mask) if fill_holes else mask.astype(bool, copy=True)
    if min_size > 1 and out.any():
        labels = label(out)  # full connectivity, as eq_engine.evaluation.metrics counts objects
        sizes = np.bincount(labels.ravel())
        small = sizes < min_size
        small[0] = False
        out = out & ~small[labels]
    return out


def postprocess(probability: np.ndarray, *, threshold: float = 0.5, min_size: int = 0,
                fill_holes: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Threshold ``probability`` (``>= threshold``), clean it up and label its objects.

    Holes inside objects are filled (``fill_holes``) before objects under ``min_size`` pixels
    are removed. Stacks ``(Z, Y, X)`` are processed slice by slice, and their labels are unique
    across the stack. Returns ``(mask bool, labels int32)``; labels use full connectivity
    (8-connected), matching how :func:`eq_engine.evaluation.metrics.match_objects` splits masks.
    """
    from skimage.measure import label


    probability = np.asarray(probability)
    _check(probability, threshold, min_size)
    planes = probability[None] if probability.ndim == 2 else probability
    masks, labels, offset = [], [], 0
    for plane in planes:
        mask = clean_mask(binarize(plane, threshold=threshold), min_size=min_size,
                          fill_holes=fill_holes)
        lab = label(mask).astype(np.int32)
        lab[lab > 0] += offset
        offset = max(offset, int(lab.max()))
        masks.append(mask)
        labels.append(lab)
    if probability.ndim == 2:
        return masks[0], labels[0]
    return np.stack(masks), np.stack(labels)
