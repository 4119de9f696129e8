"""Compare two run records: metrics side by side and their training curves in one PNG."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .io.atomic import atomic_path
from .runs import RunRecord

CURVES = ("train_loss", "valid_loss", "dice", "iou")


@dataclass(frozen=True)
class RunComparison:
    runs: tuple
    rows: list  # [{"metric", <run id>: value, ...}]
    plot: Path | None

    def table(self) -> str:
        ids = [r.id for r in self.runs]
        width = max(12, *(len(i) for i in ids))
        lines = ["metric".ljust(16) + "".join(i.rjust(width + 2) for i in ids)]
        for row in self.rows:
            cells = "".join(_fmt(row.get(i)).rjust(width + 2) for i in ids)
            lines.append(str(row["metric"]).ljust(16) + cells)
        return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


def _curve(history: list[dict], key: str) -> tuple[list, list]:
    xs, ys = [], []
    for i, row in enumerate(history):
        value = row.get(key, row.get("metrics", {}).get(key) if isinstance(row.get("metrics"), dict) else None)
        if isinstance(value, (int, float)) and value == value:
            xs.append(row.get("epoch", i + 1))
            ys.append(value)
    return xs, ys


def compare_runs(a: RunRecord, b: RunRecord, *, plot: str | os.PathLike | None = None) -> RunComparison:
    """Metrics table of both runs; with ``plot``, a PNG with their curves overlaid."""
    runs = (a, b)
    names = sorted(set(a.metrics) | set(b.metrics))
    rows = [{"metric": m, **{r.id: r.metrics.get(m) for r in runs}} for m in names]
    rows.append({"metric": "seconds", **{r.id: r.timings.get("total_s") for r in runs}})
    histories = {f"{r.kind}: {r.id[-13:]}": r.history for r in runs}
    out = plot_histories(histories, Path(plot)) if plot else None
    return RunComparison(runs=runs, rows=rows, plot=out)


def plot_histories(histories: dict[str, list[dict]], path: str | os.PathLike) -> Path:
    """One PNG with a panel per curve in CURVES; each named history is one line per panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, axes = plt.subplots(1, len(CURVES), figsize=(4 * len(CURVES), 3.4), constrained_layout=True)
    for ax, key in zip(axes, CURVES, strict=True):
        for label, history in histories.items():
            xs, ys = _curve(history, key)
            if xs:
                ax.plot(xs, ys, marker="o", ms=3, label=label)
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path
