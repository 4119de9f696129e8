"""Threshold sweep on a validation set, and writing the chosen threshold into a model file."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .metrics import (
    Confusion,
    confusion,
    dice_from_counts,
    iou_from_counts,
    precision_from_counts,
    recall_from_counts,
)


def sweep_confusions(probability: np.ndarray, truth: np.ndarray, thresholds: Sequence[float],
                     *, valid: np.ndarray | None = None) -> list[Confusion]:
    """Confusion counts of ``probability >= t`` against ``truth`` for each threshold ``t``,
    counted inside ``valid`` only when given."""
    if valid is not None:
        probability, truth = probability[valid], truth[valid]
    return [confusion(probability, truth, threshold=float(t)) for t in thresholds]


def summarize_sweep(per_image: Sequence[Sequence[Confusion]],
                    thresholds: Sequence[float]) -> tuple[list[dict], float]:
    """Rows (one per threshold: pooled and mean Dice/IoU, pooled precision/recall) and the
    recommended threshold: the best pooled Dice, ties going to the threshold nearest 0.5."""
    if not per_image:
        raise ConfigError("the threshold sweep needs at least one image with a probability map")
    rows = []
    for i, t in enumerate(thresholds):
        counts = [image[i] for image in per_image]
        pooled = sum(counts, Confusion())
        rows.append({
            "threshold": float(t),
            "pooled_dice": dice_from_counts(pooled), "pooled_iou": iou_from_counts(pooled),
            "mean_dice": float(np.mean([dice_from_counts(c) for c in counts])),
            "mean_iou": float(np.mean([iou_from_counts(c) for c in counts])),
            "pooled_precision": precision_from_counts(pooled),
            "pooled_recall": recall_from_counts(pooled),
        })
    best = max(rows, key=lambda r: (r["pooled_dice"], -abs(r["threshold"] - 0.5)))
    return rows, best["threshold"]


def threshold_sweep(probabilities: Sequence[np.ndarray], truths: Sequence[np.ndarray],
                    thresholds: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
                    *, valids: Sequence[np.ndarray | None] | None = None
                    ) -> tuple[list[dict], float]:
    """Sweep ``thresholds`` over paired probability maps and truth masks; see
    :func:`summarize_sweep`. Pick the threshold on validation images, not the test set."""
    if len(probabilities) != len(truths):
        raise ConfigError(f"{len(probabilities)} probability maps but {len(truths)} truth masks")
    valids = valids if valids is not None else [None] * len(truths)
    per_image = [sweep_confusions(p, t, thresholds, valid=v)
                 for p, t, v in zip(probabilities, truths, valids, strict=True)]
    return summarize_sweep(per_image, thresholds)


def save_threshold(model_path: str | os.PathLike, threshold: float, *,
                   source: dict | None = None) -> Path:
    """Store ``threshold`` as the model file's default (atomically rewriting the file).

    ``source`` (e.g. the dataset and the sweep table) is kept under
    ``metadata["threshold_source"]`` so the choice can be traced.
    """
    from ..io.model_info import ModelInfo
    from ..io.models import load_weights, save_model

    if not 0 < threshold < 1:
        raise ConfigError(f"threshold={threshold!r}: must be strictly between 0 and 1")
    state, meta = load_weights(model_path)
    info = ModelInfo.from_metadata(meta)
    extra = info.extra if source is None else {**info.extra, "threshold_source": source}
    info = info.replace(threshold=float(threshold), extra=extra)
    return save_model(model_path, state, info.to_metadata())
