"""Trivial baselines every model must beat on the same data: all-background and Otsu."""

from __future__ import annotations

import numpy as np

BASELINES = ("all_background", "otsu_dark", "otsu_bright")


def baseline_masks(image: np.ndarray, shape: tuple[int, ...], *,
                   valid: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Masks of each baseline for ``image`` (spatial ``shape``).

    Otsu thresholds the channel mean (inside ``valid`` when given); ``otsu_dark`` calls the
    darker class foreground (stained tissue, EM membranes), ``otsu_bright`` the brighter one.
    Both are reported because the foreground's polarity depends on stain and modality.
    """
    from skimage.filters import threshold_otsu

    gray = np.asarray(image, dtype=np.float32)
    if gray.ndim == len(shape) + 1:
        gray = gray.mean(axis=-1)
    values = gray[valid] if valid is not None else gray
    level = threshold_otsu(values) if values.size and values.min() < values.max() else np.inf
    return {"all_background": np.zeros(shape, bool), "otsu_dark": gray <= level,
            "otsu_bright": gray > level}
