"""Cross-validation tables: per-fold rows, the summary over folds, and the files they go to.

``summary.json`` holds, per arm (``transfer``/``scratch``):

- ``folds``: for each fold metric (pooled Dice/IoU, per-image mean Dice, object F1, baselines),
  the mean and sample sd over folds and a 95% t-interval for the mean (n = number of folds);
- ``pooled``: Dice, IoU and object F1 from the pixel and object counts of *all* held-out images
  added together, with a 95% percentile bootstrap interval of the pooled Dice over images. That
  interval ignores the clustering of images in subjects, so with few subjects it is too narrow;
  the fold spread is the honest one;
- with both arms, ``transfer_minus_scratch``: the paired per-fold difference.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..evaluation import metrics as m

FOLD_METRICS = ("pooled_dice", "pooled_iou", "mean_dice", "object_f1", "object_precision",
                "object_recall", "otsu_dark_dice", "otsu_bright_dice", "all_background_dice")


def fold_row(fold, arm: str, trained, report) -> dict:
    """One ``folds.csv`` row: the held-out scores of ``arm``'s model on ``fold``."""
    pooled, mean = report.aggregates["pooled"], report.aggregates["mean"]
    base = report.baselines or {}
    best = trained.best or {}
    row = {"fold": fold.index, "arm": arm, "held_out": " ".join(fold.test_groups),
           "n_train_images": len(fold.train), "n_test_images": len(fold.test),
           "pooled_dice": pooled["dice"], "pooled_iou": pooled["iou"],
           "pooled_precision": pooled["precision"], "pooled_recall": pooled["recall"],
           "mean_dice": mean["dice"], "mean_iou": mean["iou"], "object_f1": pooled["object_f1"],
           "object_precision": pooled["object_precision"],
           "object_recall": pooled["object_recall"]}
    for name in ("otsu_dark", "otsu_bright", "all_background"):
        row[f"{name}_dice"] = base[name]["pooled"]["dice"] if name in base else None
    row |= {"inner_valid_dice": best.get("dice"), "best_epoch": best.get("epoch"),
            "train_seconds": trained.seconds, "scale": trained.metadata.get("scale"),
            "model": str(trained.model_path)}
    return row


def _stats(values: list[float]) -> dict:
    """mean, sample sd and 95% t-interval of the mean (None where undefined)."""
    from scipy import stats

    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if not len(x):
        return {"n": 0, "mean": None, "sd": None, "ci95": None, "min": None}
    out = {"n": int(len(x)), "mean": float(x.mean()), "sd": None, "ci95": None,
           "min": float(x.min())}
    if len(x) > 1:
        sd = float(x.std(ddof=1))
        half = float(stats.t.ppf(0.975, len(x) - 1)) * sd / math.sqrt(len(x))
        out |= {"sd": sd, "ci95": [out["mean"] - half, out["mean"] + half]}
    return out


def _counts(rows: list[dict]) -> tuple[m.Confusion, m.Confusion]:
    pixels = m.Confusion(tp=sum(r["tp"] for r in rows), fp=sum(r["fp"] for r in rows),
                         fn=sum(r["fn"] for r in rows), tn=sum(r["tn"] for r in rows))
    matched = sum(r["matched_objects"] for r in rows)
    objects = m.Confusion(tp=matched, fp=sum(r["n_pred_objects"] for r in rows) - matched,
                          fn=sum(r["n_truth_objects"] for r in rows) - matched)
    return pixels, objects


def pooled_over_images(rows: list[dict], *, bootstrap: int = 2000, seed: int = 0) -> dict:
    """Dice/IoU/object F1 from the summed counts of ``rows`` (per-image evaluation rows)."""
    if not rows:
        return {"n_images": 0}
    pixels, objects = _counts(rows)
    out = {"n_images": len(rows), "dice": m.dice_from_counts(pixels),
           "iou": m.iou_from_counts(pixels), "object_f1": m.dice_from_counts(objects),
           "object_precision": m.precision_from_counts(objects),
           "object_recall": m.recall_from_counts(objects)}
    if bootstrap and len(rows) > 1:
        tp, fp, fn = (np.array([r[k] for r in rows], dtype=np.float64) for k in ("tp", "fp", "fn"))
        idx = np.random.default_rng(seed).integers(0, len(rows), size=(bootstrap, len(rows)))
        a, b, c = tp[idx].sum(1), fp[idx].sum(1), fn[idx].sum(1)
        denom = 2 * a + b + c
        dice = np.where(denom > 0, 2 * a / np.where(denom > 0, denom, 1), 1.0)
        out["dice_ci95_bootstrap_images"] = [float(np.percentile(dice, 2.5)),
                                             float(np.percentile(dice, 97.5))]
    return out


def fold_entries(folds) -> list[dict]:
    """The ``folds`` list of ``summary.json``: held-out subjects and images of each fold."""
    return [{"fold": f.index, "held_out": list(f.test_groups), "test": [p.stem for p in f.test],
             "n_train": len(f.train)} for f in folds]


def summarize(rows: list[dict], images: list[dict], config, *, folds: list[dict],
              cancelled: bool, seconds: float) -> dict:
    """The ``summary.json`` dict (see module doc); ``folds`` as :func:`fold_entries` gives."""
    arms = {}
    for arm in config.arms:
        arm_rows = [r for r in rows if r["arm"] == arm]
        arms[arm] = {"n_folds": len(arm_rows),
                     "folds": {k: _stats([r[k] for r in arm_rows]) for k in FOLD_METRICS},
                     "pooled": pooled_over_images([r for r in images if r["arm"] == arm],
                                                  bootstrap=config.bootstrap,
                                                  seed=config.train.seed)}
    summary = {"arms": arms, "n_folds_planned": len(folds), "cancelled": cancelled,
               "seconds": seconds, "group_pattern": config.group_pattern,
               "folds": folds,
               "config": config.to_dict()}
    if set(config.arms) == {"transfer", "scratch"}:
        summary["transfer_minus_scratch"] = _paired(rows)
    return summary


def _paired(rows: list[dict]) -> dict:
    by = {(r["fold"], r["arm"]): r for r in rows}
    folds = sorted({f for f, _ in by})
    out = {}
    for k in ("pooled_dice", "object_f1"):
        diffs = [by[f, "transfer"][k] - by[f, "scratch"][k] for f in folds
                 if (f, "transfer") in by and (f, "scratch") in by]
        out[k] = _stats(diffs)
    return out


def write_outputs(out: Path, rows: list[dict], images: list[dict], summary: dict) -> list[Path]:
    """``folds.csv``, ``per_image.csv``, ``summary.json`` and ``folds.png`` into ``out``."""
    import json

    from ..evaluation.report import rows_to_csv
    from ..io.atomic import atomic_write_text
    from ..jsonsafe import jsonable

    out.mkdir(parents=True, exist_ok=True)
    written = [atomic_write_text(out / "folds.csv", rows_to_csv(rows)),
               atomic_write_text(out / "per_image.csv", rows_to_csv(images)),
               atomic_write_text(out / "summary.json",
                                 json.dumps(jsonable(summary), indent=2, allow_nan=False) + "\n")]
    if rows:
        written.append(plot_folds(rows, out / "folds.png"))
    return written


def plot_folds(rows: list[dict], path: Path) -> Path:
    """Per-fold held-out pooled Dice per arm, with the Otsu baseline (Agg, no pyplot)."""
    from matplotlib.figure import Figure

    from ..io.atomic import atomic_path

    folds = sorted({r["fold"] for r in rows})
    labels = [next(r["held_out"] for r in rows if r["fold"] == f) for f in folds]
    arms = sorted({r["arm"] for r in rows}, reverse=True)
    fig = Figure(figsize=(max(4.0, 1.2 * len(folds) + 2), 3.6), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / (len(arms) + 1)
    for j, arm in enumerate(arms):
        values = [next((r["pooled_dice"] for r in rows if r["fold"] == f and r["arm"] == arm),
                       np.nan) for f in folds]
        ax.bar(np.arange(len(folds)) + j * width, values, width, label=f"{arm} (held out)")
    first = [next(r for r in rows if r["fold"] == f) for f in folds]
    otsu = [max(r.get("otsu_dark_dice") or 0, r.get("otsu_bright_dice") or 0) for r in first]
    ax.bar(np.arange(len(folds)) + len(arms) * width, otsu, width, color="0.7",
           label="best Otsu baseline")
    ax.set_xticks(np.arange(len(folds)) + width * len(arms) / 2, labels, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("pooled Dice on held-out subject(s)")
    ax.set_title("cross-validation by subject")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)
