"""Openness-versus-grade figure (matplotlib Figure rendered by Agg: no display, no pyplot)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_path
from .grading_metrics import spearman
from .tables import QuantTable


def plot_openness_vs_grade(
    table: QuantTable, path: str | os.PathLike, *, cv=None,
) -> Path:
    """Scatter of tuft openness against the true grade (``grade_true``) per row of ``table``
    (glomeruli or images), with per-grade means; a second panel shows out-of-fold predicted
    against true grades when a CV report ``cv`` is given. Written atomically as PNG."""
    from matplotlib.figure import Figure  # no pyplot: renders with Agg, never touches a GUI

    truth, openness = table.column("grade_true"), table.column("openness")
    ok = np.isfinite(truth) & np.isfinite(openness)
    fig = Figure(figsize=(10 if cv is not None else 5, 4), dpi=100)
    ax = fig.add_subplot(1, 2 if cv is not None else 1, 1)
    _scatter_by_grade(ax, truth[ok], openness[ok])
    rho = spearman(truth[ok], openness[ok])
    ax.set_title(f"tuft openness vs grade ({table.level}s, n={ok.sum()}, rho={_fmt(rho)})")
    ax.set_xlabel("endotheliosis grade (score sheet)")
    ax.set_ylabel("open lumen fraction of the tuft")
    if cv is not None:
        pred = cv.predictions
        ax2 = fig.add_subplot(1, 2, 2)
        _scatter_by_grade(ax2, pred.column("grade"), pred.column("grade_expected"))
        m = cv.metrics
        ax2.set_title(f"grouped CV: MAE {_fmt(m['mae']['value'])}, "
                      f"kappa {_fmt(m['qwk']['value'])}, n={cv.n}")
        ax2.set_xlabel("true grade")
        ax2.set_ylabel("predicted grade (expected, out of fold)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)


def _scatter_by_grade(ax, grade: np.ndarray, value: np.ndarray) -> None:
    jitter = np.random.default_rng(0).uniform(-0.08, 0.08, grade.size)
    ax.scatter(grade + jitter, value, s=14, alpha=0.6, color="tab:blue")
    levels = np.unique(grade)
    means = [value[grade == g].mean() for g in levels]
    ax.plot(levels, means, "o-", color="tab:red", label="mean per grade")
    ax.legend(loc="best", fontsize=8)


def _fmt(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.2f}"
