"""Public names of ``eq_engine.evaluation``; ``lazy_loader.attach_stub`` loads them on first use."""

from .arrays import evaluate_arrays
from .metrics import (
    Confusion,
    ObjectMatch,
    accuracy,
    confusion,
    dice,
    dice_from_counts,
    iou,
    iou_from_counts,
    match_objects,
    precision,
    precision_from_counts,
    recall,
    recall_from_counts,
    specificity,
)
from .report import EvalReport
from .scoring import evaluate
from .sweep import save_threshold, threshold_sweep
