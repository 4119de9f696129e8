"""Pictures for the demo report: a prediction next to its image and truth."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_path


def _outline(labels: np.ndarray) -> np.ndarray:
    from skimage.segmentation import find_boundaries

    return find_boundaries(labels, mode="inner")


def plot_prediction(image: np.ndarray, probability: np.ndarray, labels: np.ndarray,
                    truth: np.ndarray | None, path: str | os.PathLike, *, title: str = "") -> Path:
    """Image | probability | image with predicted outlines (yellow) and truth outlines (cyan)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = image if image.ndim == 3 else np.stack([image] * 3, axis=-1)
    shown = shown.astype(np.float32)
    shown = (shown - shown.min()) / max(float(np.ptp(shown)), 1e-6)
    overlay = shown.copy()
    if truth is not None:
        overlay[_outline(truth)] = (0.0, 0.9, 1.0)
    overlay[_outline(labels)] = (1.0, 0.9, 0.0)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.9), constrained_layout=True)
    for ax, picture, name in zip(axes, (shown, probability, overlay),
                                 ("image", "foreground probability", "predicted (yellow) / truth (cyan)"),
                                 strict=True):
        ax.imshow(picture, cmap="magma" if picture.ndim == 2 else None, vmin=0, vmax=1)
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return path
