"""Evaluation: metrics (the single implementation), ``evaluate`` reports, threshold sweeps.

Public names load lazily: ``evaluate``, ``EvalReport``, ``threshold_sweep``,
``save_threshold``, and the metrics (``dice``, ``iou``, ``confusion``, ``match_objects``, ...)
from :mod:`eq_engine.evaluation.metrics`.
"""

from __future__ import annotations

import importlib

_PUBLIC = {
    "evaluate": "eq_engine.evaluation.scoring",
    "EvalReport": "eq_engine.evaluation.report",
    "threshold_sweep": "eq_engine.evaluation.sweep",
    "save_threshold": "eq_engine.evaluation.sweep",
    **dict.fromkeys(
        ("Confusion", "ObjectMatch", "confusion", "dice", "iou", "precision", "recall",
         "specificity", "accuracy", "dice_from_counts", "iou_from_counts",
         "precision_from_counts", "recall_from_counts", "match_objects"),
        "eq_engine.evaluation.metrics"),
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'eq_engine.evaluation' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
