"""Validation of out-of-fold grade predictions that holds up with few animals.

Leave-one-animal-out with 4 animals of 12 images each is dominated by between-animal effects:
each fold's cut points follow the *training* animals' grade mix, so a held-out animal with many
high grades is predicted low (the fold intercept), and pooled rank metrics mix that offset with
the ranking inside the animal. Within-animal rank correlation measures the ranking alone, and a
two-stage bootstrap (animals, then images) gives intervals that admit how few animals there are.

Which number to read first: ``within_spearman`` (combined, with its animal bootstrap interval),
because on a new slide the model must rank that slide's glomeruli and images; then AUROC for
grade >= 1 (does it find the affected fields), then MAE against the median baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .grading_metrics import (
    HIGH_CUT,
    auroc,
    bootstrap_ci,
    cluster_bootstrap_ci,
    combined_within_spearman,
    mae,
    quadratic_weighted_kappa,
    spearman,
    within_subject_spearman,
)

READ_FIRST = ("within-animal Spearman (combined): ranks the images inside each held-out animal, "
              "immune to per-animal offsets and fold intercepts; its interval resamples animals")


@dataclass(frozen=True)
class GradeValidation:
    """Out-of-fold agreement at one level (images or glomeruli).

    ``metrics``: name -> {value, ci_low, ci_high, ci_images_low, ci_images_high}; ``ci_*`` come
    from the bootstrap over animals then images, ``ci_images_*`` over rows only (too narrow with
    few animals, shown for comparison). ``within``: Spearman per animal. ``animals``: one row per
    animal with mean true and predicted grade and the pathologist's animal score when known.
    """

    n: int
    n_subjects: int
    metrics: dict
    within: dict
    animals: list[dict] = field(default_factory=list)
    animal_spearman: float = math.nan
    read_first: str = READ_FIRST

    def to_dict(self) -> dict:
        return {"n": self.n, "n_subjects": self.n_subjects, "metrics": self.metrics,
                "within": self.within, "animals": self.animals,
                "animal_spearman": self.animal_spearman, "read_first": self.read_first}

    def summary(self) -> str:
        lines = [f"n={self.n} from {self.n_subjects} animals; 95% CIs: animals+images "
                 "bootstrap [rows-only bootstrap]", f"read first: {self.read_first}"]
        for name, m in self.metrics.items():
            lines.append(f"  {name:<22} {m['value']:7.3f}  [{m['ci_low']:.3f}, {m['ci_high']:.3f}]"
                         f"  [{m['ci_images_low']:.3f}, {m['ci_images_high']:.3f}]")
        per = ", ".join(f"{k} {v:+.2f}" for k, v in self.within.items() if k != "combined")
        lines.append(f"  within-animal rho: {per}")
        if self.animals:
            parts = [f"{a['subject']} pred {a['mean_predicted']:.2f} / true {a['mean_true']:.2f}"
                     f" / pathologist {a['pathologist_score']}" for a in self.animals]
            lines.append("  animals: " + "; ".join(parts))
            lines.append(f"  animal-level Spearman (mean predicted vs pathologist): "
                         f"{_fmt(self.animal_spearman)} (n={len(self.animals)} animals)")
        return "\n".join(lines)


def validate_predictions(
    truth, expected, predicted_class, p_high, baseline, subjects, *,
    subject_scores: dict | None = None, n_boot: int = 2000, seed: int = 0,
) -> GradeValidation:
    """All validation numbers for out-of-fold predictions (one entry per row).

    ``expected``: continuous predicted grade; ``predicted_class``: a grade class (MAE, kappa);
    ``p_high``: P(grade >= 1); ``baseline``: the training folds' median grade per row;
    ``subject_scores``: animal -> pathologist score (numbers or text such as ``0.5-1``).
    """
    y, e, c, p, b = (np.asarray(a, float) for a in (truth, expected, predicted_class, p_high,
                                                   baseline))
    subjects = np.asarray(subjects, dtype=object)
    stats = {
        "within_spearman": lambda t, s, g: combined_within_spearman(t, s, g),
        "pooled_spearman": lambda t, s, g: spearman(t, s),
        "auroc_grade_ge_1": lambda t, s, g: auroc(t > HIGH_CUT, s),
        "mae": lambda t, s, g: mae(t, s),
        "baseline_mae": lambda t, s, g: mae(t, s),
        "qwk": lambda t, s, g: quadratic_weighted_kappa(t, s),
    }
    inputs = {"within_spearman": e, "pooled_spearman": e, "auroc_grade_ge_1": p, "mae": c,
              "baseline_mae": b, "qwk": c}
    kw = {"n_boot": n_boot, "seed": seed}
    metrics = {}
    for name, fn in stats.items():
        two_stage = cluster_bootstrap_ci(fn, subjects, y, inputs[name], **kw)
        if name == "within_spearman":  # a row bootstrap must keep the animal of every row
            rows = _row_bootstrap_within(y, e, subjects, **kw)
        else:
            rows = bootstrap_ci(lambda t, s, f=fn: f(t, s, None), y, inputs[name], **kw)
        metrics[name] = {**two_stage, "ci_images_low": rows["ci_low"],
                         "ci_images_high": rows["ci_high"]}
    animals, rho = animal_agreement(y, e, subjects, subject_scores)
    return GradeValidation(int(y.size), len(set(subjects.tolist())), metrics,
                           within_subject_spearman(y, e, subjects), animals, rho)


def _row_bootstrap_within(y, e, subjects, *, n_boot, seed) -> dict:
    codes = {s: i for i, s in enumerate(dict.fromkeys(subjects.tolist()))}
    g = np.array([codes[s] for s in subjects.tolist()], float)
    return bootstrap_ci(lambda t, s, k: combined_within_spearman(t, s, k.astype(int)), y, e, g,
                        n_boot=n_boot, seed=seed)


def animal_agreement(truth, expected, subjects, subject_scores: dict | None):
    """Per animal: mean true and predicted grade, the pathologist's score; and the Spearman
    rho between mean predicted grade and pathologist score over animals (NaN without scores)."""
    from .grading_metrics import parse_score

    y, e = np.asarray(truth, float), np.asarray(expected, float)
    subjects = np.asarray(subjects, dtype=object)
    rows = []
    for s in dict.fromkeys(subjects.tolist()):
        m = subjects == s
        score = (subject_scores or {}).get(s)
        rows.append({"subject": str(s), "n": int(m.sum()), "mean_true": float(np.mean(y[m])),
                     "mean_predicted": float(np.nanmean(e[m])),
                     "pathologist_score": score if score is not None else "",
                     "pathologist_value": parse_score(score) if score is not None else math.nan})
    values = np.array([r["pathologist_value"] for r in rows])
    ok = np.isfinite(values)
    rho = spearman(values[ok], np.array([r["mean_predicted"] for r in rows])[ok]) \
        if ok.sum() >= 3 else math.nan
    return rows, rho


def _fmt(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:+.2f}"
