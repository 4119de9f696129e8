"""Grade model: fit from a score sheet, subject-grouped cross-validation, and prediction.

Typical use (the Quantify dock does the same in two lines)::

    fit = fit_grade_model(glomeruli_table, "scores.csv", QuantConfig())
    print(fit.cv.summary())
    graded = grade(glomeruli_table, fit.model)
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field

import numpy as np

from ..config import QuantConfig
from ..errors import DataError
from ..events import Progress, check_cancel, emit
from .grading_metrics import bootstrap_ci, bootstrap_metrics, grading_metrics, mae, spearman
from .ordinal import GradeModel, fit_ordinal
from .scoresheet import (
    ScoreSheet,
    check_images,
    glomerulus_grades,
    read_score_sheet,
    sheet_subject_scores,
    subjects_for,
)
from .tables import QuantTable, aggregate
from .validation import GradeValidation, validate_predictions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CVReport:
    """Out-of-fold results of subject-grouped cross-validation.

    ``metrics``: name -> {value, ci_low, ci_high} over all out-of-fold rows (``n`` of them, from
    ``n_subjects`` subjects); ``baseline``: the same for always predicting the training median
    grade; ``openness_spearman``: rank agreement of (negated) openness alone, no model;
    ``folds``: per-fold metrics; ``predictions``: one row per evaluated image or glomerulus.
    """

    level: str
    features: tuple[str, ...]
    n: int
    n_subjects: int
    metrics: dict
    baseline: dict
    openness_spearman: dict
    folds: list[dict] = field(default_factory=list)
    predictions: QuantTable = field(default_factory=QuantTable)
    validation: GradeValidation | None = None

    def to_dict(self) -> dict:
        return {"level": self.level, "features": list(self.features), "n": self.n,
                "n_subjects": self.n_subjects, "metrics": self.metrics,
                "baseline": self.baseline, "openness_spearman": self.openness_spearman,
                "folds": self.folds,
                "validation": self.validation.to_dict() if self.validation else None}

    def summary(self) -> str:
        """A small text table of the metrics with 95% intervals."""
        unit = "glomeruli" if self.level == "glomerulus" else f"{self.level}s"
        lines = [f"grouped CV ({len(self.folds)} folds by subject): n={self.n} {unit} "
                 f"from {self.n_subjects} subjects (95% bootstrap CIs over rows)"]
        for name, m in {**self.metrics, "baseline_mae": self.baseline.get("mae", {}),
                        "openness_spearman": self.openness_spearman}.items():
            if m:
                lines.append(f"  {name:<18} {m['value']:7.3f}  [{m['ci_low']:.3f}, "
                             f"{m['ci_high']:.3f}]")
        if self.validation is not None:
            lines.append(self.validation.summary())
        return "\n".join(lines)


@dataclass(frozen=True)
class GradeFit:
    """A grade model fitted on all graded rows, its CV report, and the training rows."""

    model: GradeModel
    cv: CVReport | None
    training: QuantTable
    dropped: list[str] = field(default_factory=list)


def grouped_folds(
    groups, *, n_folds: int = 0, seed: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index arrays in which no group appears on both sides.

    ``n_folds=0`` leaves one group out per fold; otherwise groups are shuffled (``seed``) and
    dealt round-robin into ``n_folds`` folds.
    """
    groups = np.asarray(groups, dtype=object)
    unique = list(dict.fromkeys(groups.tolist()))
    if len(unique) < 2:
        raise DataError(f"grouped cross-validation needs at least 2 subjects, got {unique}")
    if n_folds == 0 or n_folds >= len(unique):
        assignment = {g: i for i, g in enumerate(unique)}
    else:
        order = np.random.default_rng(seed).permutation(len(unique))
        assignment = {unique[j]: k % n_folds for k, j in enumerate(order)}
    fold_of = np.array([assignment[g] for g in groups.tolist()])
    return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f))
            for f in sorted(set(assignment.values()))]


def training_table(
    table: QuantTable, sheet: ScoreSheet, config: QuantConfig = QuantConfig(), *,
    allow_missing: bool = False,
) -> tuple[QuantTable, list[str]]:
    """Rows to fit on, at the sheet's level, with ``grade`` and ``subject`` columns, plus the
    names of graded rows dropped for lack of features (e.g. every glomerulus on the border)."""
    check_images(sheet, list(dict.fromkeys(r["image"] for r in table.rows)),
                 allow_missing=allow_missing)
    if sheet.level == "glomerulus":
        rows = table.with_columns({"grade": glomerulus_grades(table, sheet)}).included().rows
        rows = [r for r in rows if math.isfinite(r["grade"])]
    else:
        grades = {r["image"]: r["grade"] for r in sheet.rows}
        rows = [dict(r, grade=grades[r["image"]]) for r in aggregate(table, by="image").rows
                if r["image"] in grades]
    images = [r["image"] for r in rows]
    subjects = subjects_for(images, sheet, config.group_pattern)
    rows = [dict(r, subject=s) for r, s in zip(rows, subjects, strict=True)]
    names = list(config.grade_features)
    absent = [f for f in names if rows and f not in rows[0]]
    if absent:
        raise DataError(f"grade features {absent} are not measured; choose from "
                        f"{[c for c in rows[0] if isinstance(rows[0][c], float)]}")
    keep = [r for r in rows if all(_finite(r.get(f)) for f in names)]
    dropped = [_row_name(r) for r in rows if r not in keep]
    if dropped:
        log.warning("%d graded %s(s) have no usable features (e.g. all glomeruli excluded): %s",
                    len(dropped), sheet.level, dropped[:10])
    if not keep:
        raise DataError("no graded rows with usable features; check exclude_border and masks")
    return QuantTable(keep, sheet.level), dropped


def cross_validate(
    training: QuantTable, config: QuantConfig = QuantConfig(), *,
    subject_scores: dict | None = None, on_event=None, cancel=None,
) -> CVReport:
    """Subject-grouped CV of the ordinal model on ``training`` (from :func:`training_table`).

    Fold rows carry the training and held-out mean grades beside the held-out mean prediction
    (the fold intercept effect); ``validation`` holds within-animal and animal-level agreement
    (``subject_scores``: animal -> pathologist score).
    """
    names = tuple(config.grade_features)
    x = np.array([[r[f] for f in names] for r in training.rows], float)
    y = training.column("grade")
    subjects = training.column("subject")
    folds = grouped_folds(subjects, n_folds=config.cv_folds, seed=config.seed)
    out = {k: np.full(y.size, np.nan) for k in ("grade_class", "grade_expected", "p_grade_high",
                                                "baseline", "fold")}
    fold_rows = []
    for f, (train, test) in enumerate(folds):
        check_cancel(cancel)
        model = fit_ordinal(x[train], y[train], names=names, l2=config.grade_l2,
                            level=training.level)
        pred = model.predict(x[test])
        for key in ("grade_class", "grade_expected", "p_grade_high"):
            out[key][test] = pred[key]
        out["baseline"][test] = _median_class(y[train])
        out["fold"][test] = f
        fold_rows.append({"fold": f, "test_subjects": sorted(set(subjects[test].tolist())),
                          "n_test": int(test.size), "train_mean_grade": float(y[train].mean()),
                          "test_mean_grade": float(y[test].mean()),
                          "test_mean_predicted": float(np.nanmean(pred["grade_expected"])),
                          **grading_metrics(y[test], pred["grade_class"],
                                            pred["grade_expected"], pred["p_grade_high"])})
        emit(on_event, Progress("grade-cv", f + 1, len(folds), ",".join(fold_rows[-1]["test_subjects"])))
    kw = {"n_boot": config.n_bootstrap, "seed": config.seed}
    openness = training.column("openness") if "openness" in training.columns else None
    predictions = training.with_columns({k: out[k] for k in ("grade_class", "grade_expected",
                                                             "p_grade_high", "fold")})
    return CVReport(
        level=training.level, features=names, n=int(y.size),
        n_subjects=len(set(subjects.tolist())),
        metrics=bootstrap_metrics(y, out["grade_class"], out["grade_expected"],
                                  out["p_grade_high"], **kw),
        baseline={"mae": bootstrap_ci(mae, y, out["baseline"], **kw)},
        openness_spearman=bootstrap_ci(spearman, y, -openness, **kw) if openness is not None
        else {},
        folds=fold_rows, predictions=predictions,
        validation=validate_predictions(y, out["grade_expected"], out["grade_class"],
                                        out["p_grade_high"], out["baseline"], subjects,
                                        subject_scores=subject_scores, **kw),
    )


def fit_grade_model(
    table: QuantTable, sheet: ScoreSheet | str | os.PathLike,
    config: QuantConfig = QuantConfig(), *, grade_column: str | None = None,
    subject_column: str | None = None, allow_missing: bool = False, validate: bool = True,
    on_event=None, cancel=None,
) -> GradeFit:
    """Fit the ordinal grade model from a glomerulus ``table`` and a score ``sheet`` (a path or
    a :class:`ScoreSheet`), cross-validated by subject when ``validate``.

    The final model is fitted on all graded rows; its metadata holds the CV metrics.
    """
    if not isinstance(sheet, ScoreSheet):
        sheet = read_score_sheet(sheet, grade_column=grade_column, subject_column=subject_column)
    training, dropped = training_table(table, sheet, config, allow_missing=allow_missing)
    cv = cross_validate(training, config, subject_scores=sheet_subject_scores(sheet),
                        on_event=on_event, cancel=cancel) if validate else None
    names = tuple(config.grade_features)
    x = np.array([[r[f] for f in names] for r in training.rows], float)
    model = fit_ordinal(x, training.column("grade"), names=names, l2=config.grade_l2,
                        level=training.level)
    metadata = dict(model.metadata, sheet=sheet.path, grade_column=sheet.grade_column,
                    subject_column=sheet.subject_column, n_subjects=len(
                        set(training.column("subject").tolist())),
                    cv=cv.to_dict() if cv else None, quant_config=config.to_dict())
    model = GradeModel(**{**model.__dict__, "metadata": metadata})
    return GradeFit(model, cv, training, dropped)


def grade(table: QuantTable, model: GradeModel) -> QuantTable:
    """``table`` with the model's predictions added to every row (glomeruli or images).

    Excluded rows (border glomeruli) and rows missing a feature get NaN predictions.
    """
    absent = [f for f in model.features if table.rows and f not in table.rows[0]]
    if absent:
        raise DataError(f"the grade model needs features {absent} that the table lacks")
    x = np.array([[r.get(f, math.nan) for f in model.features] for r in table.rows], float)
    x = x.reshape(len(table.rows), len(model.features))
    x[[bool(r.get("excluded", False)) for r in table.rows]] = np.nan
    return table.with_columns(model.predict(x)) if table.rows else table


def _median_class(y: np.ndarray) -> float:
    values = np.sort(y)
    return float(values[(values.size - 1) // 2])


def _finite(value) -> bool:
    return isinstance(value, (int, float, np.number)) and math.isfinite(float(value))


def _row_name(row: dict) -> str:
    return f"{row['image']}#{row['label']}" if "label" in row else str(row["image"])
