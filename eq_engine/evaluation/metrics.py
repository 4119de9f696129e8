"""Segmentation metrics: the single implementation used everywhere in EQ.

Everything derives from one primitive, :class:`Confusion` (pixel counts tp, fp, fn, tn). Counts
add up, so a caller can pool them over images or batches and compute a metric once at the end::

    total = sum((confusion(p, t) for p, t in pairs), Confusion())
    dice_from_counts(total)

Inputs (``pred`` and ``truth``) may be 2D or 3D (any ndim), of equal shape:

- ``truth`` is always binarised as ``truth != 0`` (bool masks, 0/1, 0/255 or label images).
- ``pred``: bool and integer arrays are binarised as ``pred != 0``; floating-point arrays are
  probability maps binarised as ``pred >= threshold`` (so a 0/1 float mask works with the default
  0.5). NaN in a probability map raises :class:`~eq_engine.errors.DataError`.

Empty policy (documented and tested): when a ratio is undefined because there was nothing to
find and nothing was found, it is 1; when only one side is empty, it is 0. So both masks empty
gives Dice = IoU = precision = recall = 1, and one empty gives 0. The same policy holds for
specificity (no negatives in either) and for object precision/recall/F1.

Per-object scores come from :func:`match_objects`, which pairs connected components (or given
labels) at IoU >= ``match_iou``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eq_engine.errors import ConfigError, DataError
from eq_engine.inference.postprocessing import binarize  # thresholding belongs to inference

__all__ = [
    "Confusion",
    "ObjectMatch",
    "accuracy",
    "accuracy_from_counts",
    "binarize",
    "confusion",
    "dice",
    "dice_from_counts",
    "iou",
    "iou_from_counts",
    "jaccard",
    "match_objects",
    "object_labels",
    "precision",
    "precision_from_counts",
    "recall",
    "recall_from_counts",
    "specificity",
    "specificity_from_counts",
]


@dataclass(frozen=True)
class Confusion:
    """Pixel (or voxel) confusion counts. ``a + b`` pools counts; ``sum(cs, Confusion())`` too."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __add__(self, other: Confusion) -> Confusion:
        if not isinstance(other, Confusion):
            return NotImplemented
        return Confusion(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn,
                         self.tn + other.tn)

    def __radd__(self, other: object) -> Confusion:
        if other == 0:  # lets the builtin sum() start from 0
            return self
        return NotImplemented

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


def _check_shapes(pred: np.ndarray, truth: np.ndarray) -> None:
    if pred.shape != truth.shape:
        raise DataError(f"prediction shape {pred.shape} does not match truth shape "
                        f"{truth.shape}; resize or crop one of them so they match")


def confusion(pred: np.ndarray, truth: np.ndarray, *, threshold: float = 0.5) -> Confusion:
    """Count tp, fp, fn, tn between ``pred`` and ``truth`` (see the module doc for inputs)."""
    p, t = np.asarray(pred), np.asarray(truth)
    _check_shapes(p, t)
    p = binarize(p, threshold=threshold)
    t = t != 0
    n_pred = int(np.count_nonzero(p))
    n_truth = int(np.count_nonzero(t))
    tp = int(np.count_nonzero(p & t))
    fp, fn = n_pred - tp, n_truth - tp
    return Confusion(tp=tp, fp=fp, fn=fn, tn=int(p.size) - tp - fp - fn)


def _ratio(num: int, den: int, *, other_errors: int) -> float:
    """num/den; when den == 0 it is 1 if nothing else went wrong, else 0 (the empty policy)."""
    if den == 0:
        return 1.0 if other_errors == 0 else 0.0
    return num / den


def dice_from_counts(c: Confusion) -> float:
    """Dice = 2tp / (2tp + fp + fn); 1 when both masks are empty."""
    return _ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn, other_errors=0)


def iou_from_counts(c: Confusion) -> float:
    """IoU (Jaccard) = tp / (tp + fp + fn); 1 when both masks are empty."""
    return _ratio(c.tp, c.tp + c.fp + c.fn, other_errors=0)


def precision_from_counts(c: Confusion) -> float:
    """tp / (tp + fp); with nothing predicted: 1 if there was nothing to find, else 0."""
    return _ratio(c.tp, c.tp + c.fp, other_errors=c.fn)


def recall_from_counts(c: Confusion) -> float:
    """tp / (tp + fn); with nothing to find: 1 if nothing was predicted, else 0."""
    return _ratio(c.tp, c.tp + c.fn, other_errors=c.fp)


def specificity_from_counts(c: Confusion) -> float:
    """tn / (tn + fp); with no true background: 1 if no background was predicted, else 0."""
    return _ratio(c.tn, c.tn + c.fp, other_errors=c.fn)


def accuracy_from_counts(c: Confusion) -> float:
    """(tp + tn) / total; 1 for empty arrays."""
    return _ratio(c.tp + c.tn, c.total, other_errors=0)


def dice(pred: np.ndarray, truth: np.ndarray, *, threshold: float = 0.5) -> float:
    """Dice coefficient (pixel F1) of ``pred`` against ``truth``."""
    return dice_from_counts(confusion(pred, truth, threshold=threshold))


def iou(pred: np.ndarray, truth: np.ndarray, *, threshold: float = 0.5) -> float:
    """Intersection over union (Jaccard index) of ``pred`` against ``truth``."""
    return iou_from_counts(confusion(pred, truth, threshold=threshold))


jaccard = iou


def precision(pred: np.ndarray, truth: np.ndarray, *, threshold: float = 0.5) -> float:
    """Pixel precision tp / (tp + fp)."""
    return precision_from_counts(confusion(pred, truth, threshold=threshold))


def recall(pred: np.ndarray, truth: np.ndarray, *, threshold: float = 0.5) -> float:
    """Pixel recall (sensitivity) tp / (tp + fn)."""
    return recall_from_counts(confusion(pred, truth, threshold=threshold))


def specificity(pred: np.ndarray, truth: np.ndarray, *, threshold: float = 0.5) -> float:
    """Pixel specificity tn / (tn + fp)."""
    return specificity_from_counts(confusion(pred, truth, threshold=threshold))


def accuracy(pred: np.ndarray, truth: np.ndarray, *, threshold: float = 0.5) -> float:
    """Pixel accuracy (tp + tn) / total."""
    return accuracy_from_counts(confusion(pred, truth, threshold=threshold))


# ---------------------------------------------------------------- per-object matching


@dataclass(frozen=True)
class ObjectMatch:
    """Result of :func:`match_objects`. Labels are those of the (possibly derived) label images.

    ``pairs`` holds ``(pred_label, truth_label, iou)`` for each matched pair, sorted by truth
    label. ``pred_areas``/``truth_areas`` give every object's size in pixels (voxels).
    """

    pairs: list[tuple[int, int, float]]
    n_pred: int
    n_truth: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    unmatched_pred: list[int]
    unmatched_truth: list[int]
    match_iou: float = 0.5
    pred_areas: dict[int, int] = field(default_factory=dict)
    truth_areas: dict[int, int] = field(default_factory=dict)

    @property
    def mean_matched_iou(self) -> float:
        """Mean IoU over matched pairs (0 when nothing matched)."""
        return float(np.mean([p[2] for p in self.pairs])) if self.pairs else 0.0


def object_labels(mask_or_labels: np.ndarray, *, threshold: float = 0.5) -> np.ndarray:
    """The int32 label image :func:`match_objects` uses for ``mask_or_labels``.

    Integer arrays with two or more distinct non-zero values are taken as label images as they
    are. Anything else (bool, a probability map thresholded at ``threshold``, or an integer mask
    with a single foreground value such as 0/255) is split into connected components with full
    connectivity (8-connected in 2D, 26-connected in 3D), numbered 1..n.
    """
    from scipy import ndimage

    arr = np.asarray(mask_or_labels)
    if np.issubdtype(arr.dtype, np.integer) and arr.dtype != bool:
        values = np.unique(arr)
        if np.count_nonzero(values) >= 2:
            if values[0] < 0:
                raise DataError(f"label image has negative label {values[0]}; "
                                "labels must be 0 (background) or positive")
            return arr.astype(np.int32, copy=False)
    fg = binarize(arr, threshold=threshold)
    labels, _ = ndimage.label(fg, structure=np.ones((3,) * fg.ndim, dtype=bool))
    return labels.astype(np.int32, copy=False)


def _overlaps(pred_lab: np.ndarray, truth_lab: np.ndarray):
    """Sparse overlap table: unique (pred, truth) label pairs with their intersection sizes."""
    both = (pred_lab != 0) & (truth_lab != 0)
    p = pred_lab[both].astype(np.int64)
    t = truth_lab[both].astype(np.int64)
    stride = int(truth_lab.max()) + 1
    codes, inter = np.unique(p * stride + t, return_counts=True)
    return codes // stride, codes % stride, inter


def _areas(labels: np.ndarray) -> dict[int, int]:
    ids, counts = np.unique(labels[labels != 0], return_counts=True)
    return {int(i): int(c) for i, c in zip(ids, counts, strict=True)}


def _assign(p_ids, t_ids, ious, match_iou: float) -> list[tuple[int, int, float]]:
    """One-to-one matching of candidate pairs maximising total IoU.

    Candidates form a bipartite graph; each connected group with a conflict (an object in two
    candidate pairs, possible only when match_iou <= 0.5) is solved with the Hungarian algorithm.
    """
    keep = ious >= match_iou
    p_ids, t_ids, ious = p_ids[keep], t_ids[keep], ious[keep]
    if len(ious) == 0:
        return []
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    up, pi = np.unique(p_ids, return_inverse=True)
    ut, ti = np.unique(t_ids, return_inverse=True)
    n = len(up) + len(ut)
    graph = coo_matrix((np.ones(len(ious)), (pi, len(up) + ti)), shape=(n, n))
    group = connected_components(graph, directed=False)[1][pi]
    sizes = np.bincount(group)
    single = sizes[group] == 1
    pairs = [(int(a), int(b), float(v))
             for a, b, v in zip(p_ids[single], t_ids[single], ious[single], strict=True)]
    for g in np.unique(group[~single]):
        sel = group == g
        pairs += _hungarian(p_ids[sel], t_ids[sel], ious[sel], match_iou)
    return pairs


def _hungarian(p_ids, t_ids, ious, match_iou: float) -> list[tuple[int, int, float]]:
    from scipy.optimize import linear_sum_assignment

    up, pi = np.unique(p_ids, return_inverse=True)
    ut, ti = np.unique(t_ids, return_inverse=True)
    matrix = np.zeros((len(up), len(ut)))
    matrix[pi, ti] = ious
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    return [(int(up[r]), int(ut[c]), float(matrix[r, c]))
            for r, c in zip(rows, cols, strict=True) if matrix[r, c] >= match_iou]


def match_objects(pred: np.ndarray, truth: np.ndarray, *, match_iou: float = 0.5,
                  threshold: float = 0.5) -> ObjectMatch:
    """Match predicted objects to true objects at IoU >= ``match_iou``.

    ``pred``/``truth`` are label images or masks (see :func:`object_labels` for how each is
    turned into objects). The IoU of every overlapping pair is computed from a sparse overlap
    table. For ``match_iou > 0.5`` a match is necessarily unique; for lower thresholds the
    one-to-one assignment maximising total IoU is used (Hungarian algorithm). A truth object split
    into two halves or two truths merged into one prediction therefore match at most once.
    Object precision = tp / n_pred, recall = tp / n_truth, with the module's empty policy.
    """
    if not 0.0 < match_iou <= 1.0:
        raise ConfigError(f"match_iou={match_iou!r} must be in (0, 1]; 0.5 is the usual choice")
    p_arr, t_arr = np.asarray(pred), np.asarray(truth)
    _check_shapes(p_arr, t_arr)
    pred_lab = object_labels(p_arr, threshold=threshold)
    # truth is binarised as != 0 whatever its dtype (module policy); integer labels stay labels
    truth_lab = object_labels(t_arr if t_arr.dtype.kind in "iub" else t_arr != 0)
    pred_areas, truth_areas = _areas(pred_lab), _areas(truth_lab)
    p_ids, t_ids, inter = _overlaps(pred_lab, truth_lab)
    area_p = np.array([pred_areas[int(i)] for i in p_ids], dtype=np.int64)
    area_t = np.array([truth_areas[int(i)] for i in t_ids], dtype=np.int64)
    ious = inter / (area_p + area_t - inter) if len(inter) else np.zeros(0)
    pairs = sorted(_assign(p_ids, t_ids, ious, match_iou), key=lambda x: (x[1], x[0]))
    n_pred, n_truth, tp = len(pred_areas), len(truth_areas), len(pairs)
    fp, fn = n_pred - tp, n_truth - tp
    prec = _ratio(tp, n_pred, other_errors=fn)
    rec = _ratio(tp, n_truth, other_errors=fp)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn, other_errors=0)
    matched_p = {a for a, _, _ in pairs}
    matched_t = {b for _, b, _ in pairs}
    return ObjectMatch(
        pairs=pairs, n_pred=n_pred, n_truth=n_truth, tp=tp, fp=fp, fn=fn,
        precision=prec, recall=rec, f1=f1,
        unmatched_pred=[i for i in pred_areas if i not in matched_p],
        unmatched_truth=[i for i in truth_areas if i not in matched_t],
        match_iou=float(match_iou), pred_areas=pred_areas, truth_areas=truth_areas,
    )
