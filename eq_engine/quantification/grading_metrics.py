"""Agreement metrics for ordinal grades (not segmentation metrics, which live in evaluation).

MAE, Spearman's rho, quadratic weighted kappa, and AUROC for no/low (grade <= 0.5) versus
moderate/severe (grade >= 1), each with a percentile bootstrap confidence interval.
"""

from __future__ import annotations

import math

import numpy as np

HIGH_CUT = 0.5  # grades above this are "moderate/severe" (>= 1 on the 0, 0.5, 1, ... scale)


def mae(truth: np.ndarray, pred: np.ndarray) -> float:
    truth, pred = np.asarray(truth, float), np.asarray(pred, float)
    return float(np.mean(np.abs(truth - pred))) if truth.size else math.nan


def spearman(truth: np.ndarray, score: np.ndarray) -> float:
    """Spearman's rho; NaN when either side is constant (rank correlation undefined)."""
    truth, score = np.asarray(truth, float), np.asarray(score, float)
    if truth.size < 2 or np.ptp(truth) == 0 or np.ptp(score) == 0:
        return math.nan
    # Pearson correlation of average ranks (what spearmanr computes, without its overhead:
    # the bootstraps call this tens of thousands of times)
    a, b = average_ranks(truth), average_ranks(score)
    a, b = a - a.mean(), b - b.mean()
    return float(np.clip((a @ b) / math.sqrt((a @ a) * (b @ b)), -1.0, 1.0))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties sharing their average rank (as scipy's ``rankdata``)."""
    values = np.asarray(values, float)
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(first) - 1
    counts = np.bincount(group)
    average = np.flatnonzero(first) + (counts - 1) / 2 + 1
    ranks = np.empty(values.size)
    ranks[order] = average[group]
    return ranks


def quadratic_weighted_kappa(truth: np.ndarray, pred: np.ndarray) -> float:
    """Cohen's kappa with quadratic weights over the ordered categories seen in either input.

    1 is perfect agreement, 0 is chance; NaN when only one category occurs.
    """
    truth, pred = np.asarray(truth, float), np.asarray(pred, float)
    categories = np.unique(np.concatenate([truth, pred]))
    k = categories.size
    if k < 2 or truth.size == 0:
        return math.nan
    t, p = np.searchsorted(categories, truth), np.searchsorted(categories, pred)
    observed = np.zeros((k, k))
    np.add.at(observed, (t, p), 1)
    expected = np.outer(observed.sum(1), observed.sum(0)) / truth.size
    i, j = np.indices((k, k))
    weights = (i - j) ** 2 / (k - 1) ** 2
    denominator = (weights * expected).sum()
    return float(1 - (weights * observed).sum() / denominator) if denominator else math.nan


def auroc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); NaN with one class only."""
    positive, score = np.asarray(positive, bool), np.asarray(score, float)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = average_ranks(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def grading_metrics(
    truth: np.ndarray, pred: np.ndarray, expected: np.ndarray, p_high: np.ndarray,
) -> dict[str, float]:
    """All four metrics. ``pred``: predicted grade (a class, for MAE and kappa); ``expected``:
    continuous predicted grade (for Spearman); ``p_high``: probability of grade > 0.5 (AUROC)."""
    truth = np.asarray(truth, float)
    return {
        "mae": mae(truth, pred),
        "spearman": spearman(truth, expected),
        "qwk": quadratic_weighted_kappa(truth, pred),
        "auroc": auroc(truth > HIGH_CUT, p_high),
    }


def bootstrap_ci(
    statistic, *arrays: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95,
) -> dict[str, float]:
    """``statistic(*arrays)`` with a percentile bootstrap interval over rows resampled with
    replacement (non-finite resamples, e.g. one class only, are skipped)."""
    arrays = tuple(np.asarray(a, float) for a in arrays)
    value = statistic(*arrays)
    n = arrays[0].size
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n_boot if n else 0):
        idx = rng.integers(0, n, n)
        samples.append(statistic(*(a[idx] for a in arrays)))
    finite = np.array([v for v in samples if math.isfinite(v)])
    alpha = (1 - level) / 2
    low, high = np.quantile(finite, [alpha, 1 - alpha]) if finite.size else (math.nan, math.nan)
    return {"value": float(value), "ci_low": float(low), "ci_high": float(high)}


def bootstrap_metrics(
    truth: np.ndarray, pred: np.ndarray, expected: np.ndarray, p_high: np.ndarray,
    *, n_boot: int = 2000, seed: int = 0, level: float = 0.95,
) -> dict[str, dict[str, float]]:
    """The four grading metrics, each with a percentile bootstrap interval over rows.

    Rows resampled independently ignore clustering (several images of one animal), so with few
    subjects the intervals are optimistic; report per-subject folds beside them.
    """
    kw = {"n_boot": n_boot, "seed": seed, "level": level}
    return {
        "mae": bootstrap_ci(mae, truth, pred, **kw),
        "spearman": bootstrap_ci(spearman, truth, expected, **kw),
        "qwk": bootstrap_ci(quadratic_weighted_kappa, truth, pred, **kw),
        "auroc": bootstrap_ci(lambda t, s: auroc(t > HIGH_CUT, s), truth, p_high, **kw),
    }


def within_subject_spearman(
    truth: np.ndarray, score: np.ndarray, subjects: np.ndarray,
) -> dict[str, float]:
    """Spearman's rho inside each subject (animal), plus ``combined``: their mean over the
    subjects where it is defined.

    Ranking images inside one animal is what a grade model must do on a new slide; it is immune
    to per-animal offsets (stain batch, a fold's intercept) that dominate pooled rho when there
    are only a few animals.
    """
    truth, score = np.asarray(truth, float), np.asarray(score, float)
    subjects = np.asarray(subjects, dtype=object)
    out = {str(s): spearman(truth[subjects == s], score[subjects == s])
           for s in dict.fromkeys(subjects.tolist())}
    finite = [v for v in out.values() if math.isfinite(v)]
    out["combined"] = float(np.mean(finite)) if finite else math.nan
    return out


def combined_within_spearman(truth: np.ndarray, score: np.ndarray, subjects: np.ndarray) -> float:
    """Mean within-subject Spearman's rho (see :func:`within_subject_spearman`)."""
    return within_subject_spearman(truth, score, subjects)["combined"]


def cluster_bootstrap_ci(
    statistic, subjects: np.ndarray, *arrays: np.ndarray, n_boot: int = 2000, seed: int = 0,
    level: float = 0.95,
) -> dict[str, float]:
    """Two-stage bootstrap: resample subjects with replacement, then rows inside each drawn
    subject. ``statistic(*arrays, subjects)`` gets the resampled subject ids (a subject drawn
    twice counts as two), so the interval reflects between-animal and between-image spread.
    """
    subjects = np.asarray(subjects, dtype=object)
    arrays = tuple(np.asarray(a, float) for a in arrays)
    value = statistic(*arrays, subjects)
    members = [np.flatnonzero(subjects == s) for s in dict.fromkeys(subjects.tolist())]
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n_boot if members else 0):
        picks = rng.integers(0, len(members), len(members))
        idx = [rng.choice(members[k], members[k].size) for k in picks]
        ids = np.concatenate([np.full(i.size, f"c{j}", dtype=object) for j, i in enumerate(idx)])
        idx = np.concatenate(idx)
        samples.append(statistic(*(a[idx] for a in arrays), ids))
    return _interval(value, samples, level)


def _interval(value: float, samples: list[float], level: float) -> dict[str, float]:
    finite = np.array([v for v in samples if math.isfinite(v)])
    alpha = (1 - level) / 2
    low, high = np.quantile(finite, [alpha, 1 - alpha]) if finite.size else (math.nan, math.nan)
    return {"value": float(value), "ci_low": float(low), "ci_high": float(high)}


def parse_score(text) -> float:
    """A pathologist's score as a number: ``0.5`` -> 0.5, a range ``0.5-1`` (an animal graded
    twice, or between two grades) -> its midpoint 0.75; NaN when unreadable."""
    text = str(text).strip().replace(",", ".")
    parts = [p for p in text.replace("–", "-").split("-") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return math.nan
    return float(np.mean(values)) if values and not text.startswith("-") else math.nan
