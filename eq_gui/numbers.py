"""Numbers as the docks show them: rounded to what they mean.

Scores between 0 and 1 get three decimals, learning rates two significant digits, pixel counts
and areas whole numbers, seconds one decimal. Everything else keeps three significant digits.
"""

from __future__ import annotations

import math

import numpy as np

WHOLE = ("area", "pred_area", "epoch", "n_", "tp", "fp", "fn", "tn", "pixels", "label",
         "count", "objects")
SCORES = ("dice", "iou", "precision", "recall", "f1", "loss", "openness", "circularity",
          "fraction", "grade", "accuracy", "kappa", "mae")


def format_number(value, key: str = "") -> str:
    """``value`` as text for a table cell or summary line; ``key`` is its column name."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        return "" if value is None else ("yes" if value else "no")
    if not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    value = float(value)
    if not math.isfinite(value):
        return "n/a"
    key = key.lower()
    if key in ("lr", "learning_rate") or key.endswith("_lr"):
        return f"{value:.1e}"
    if key.startswith("centroid") or any(key.startswith(w) or key.endswith(w) for w in WHOLE):
        return f"{value:.0f}"
    if key.endswith("seconds") or key.endswith("_s"):
        return f"{value:.1f}"
    if any(s in key for s in SCORES):
        return f"{value:.3f}"
    if value.is_integer():
        return f"{value:.0f}"
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def format_metrics(values: dict | None) -> str:
    """``"dice 0.912, iou 0.838, epoch 7"``: a metrics dict on one line, rounded."""
    if not values:
        return "n/a"
    return ", ".join(f"{key} {format_number(value, key)}" for key, value in values.items())
