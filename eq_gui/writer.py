"""napari writer for Labels layers: masks to TIFF or PNG through the engine's atomic writer."""

from __future__ import annotations

from typing import Any

import numpy as np


def mask_data(data: Any) -> np.ndarray:
    """Labels layer data as EQ writes masks: one object -> bool (0/255), several -> labels."""
    labels = np.asarray(data[0] if isinstance(data, list) else data)  # multiscale: full res
    if labels.dtype == bool:
        return labels
    if labels.dtype.kind not in "ui":
        raise TypeError(f"a labels layer holds integers, got {labels.dtype}")
    top = int(labels.max()) if labels.size else 0
    return labels > 0 if top <= 1 else labels


def write_labels(path: str, data: Any, meta: dict) -> list[str]:
    """npe2 single-layer writer: write one Labels layer; returns the written path."""
    from eq_engine import write_mask

    written = write_mask(path, mask_data(data), overwrite=True)  # napari's dialog confirmed
    return [str(written)]
