"""Evaluation: metrics (the single implementation), ``evaluate`` reports, threshold sweeps.

Public names load lazily: ``evaluate``, ``evaluate_arrays``, ``EvalReport``, ``threshold_sweep``,
``save_threshold``, and the metrics (``dice``, ``iou``, ``confusion``, ``match_objects``, ...)
from :mod:`eq_engine.evaluation.metrics`.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_PUBLIC = {
    "evaluate": "eq_engine.evaluation.scoring",
    "evaluate_arrays": "eq_engine.evaluation.arrays",
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
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
