"""Endotheliosis quantification: per-glomerulus features, the grade model, tables, pipeline.

Names resolve lazily (scikit-image and scipy load on first use)::

    table = measure_glomeruli(image, labels, QuantConfig(), name="T19_Image0")
    fit = fit_grade_model(table, "scores.csv")          # fit.cv.summary(), fit.model
    graded = grade(table, fit.model)                    # grade_expected, grade_class, grade_sd
    result = quantify("masks/", "images/", out="quant/", grades="scores.csv")
"""

from __future__ import annotations

from ..lazy import lazy_exports

_PUBLIC = {
    "measure_glomeruli": "features",
    "image_thresholds": "features",
    "instance_labels": "features",
    "tuft_mask": "features",
    "FEATURES": "features",
    "QuantTable": "tables",
    "aggregate": "tables",
    "ScoreSheet": "scoresheet",
    "read_score_sheet": "scoresheet",
    "GradeModel": "ordinal",
    "GradeFit": "grading",
    "CVReport": "grading",
    "fit_grade_model": "grading",
    "grade": "grading",
    "cross_validate": "grading",
    "grouped_folds": "grading",
    "save_grade_model": "grade_model_io",
    "load_grade_model": "grade_model_io",
    "flag_glomeruli": "filtering",
    "GradeValidation": "validation",
    "validate_predictions": "validation",
    "grade_entry": "glomerulus_grades",
    "match_grades": "glomerulus_grades",
    "read_grades": "glomerulus_grades",
    "write_grades": "glomerulus_grades",
    "quantify": "pipeline",
    "QuantResult": "pipeline",
}

__all__ = sorted(_PUBLIC)
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
