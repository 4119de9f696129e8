"""Public names of ``eq_engine.quantification``; ``lazy_loader.attach_stub`` loads them on first use."""

from .features import FEATURES, image_thresholds, instance_labels, measure_glomeruli, tuft_mask
from .filtering import flag_glomeruli
from .glomerulus_grades import (
    HALF_STEPS,
    grade_entry,
    match_grades,
    object_centroids,
    read_grades,
    sheet_from_entries,
    write_grades,
)
from .grade_model_io import load_grade_model, save_grade_model
from .grading import CVReport, GradeFit, cross_validate, fit_grade_model, grade, grouped_folds
from .ordinal import GradeModel
from .pipeline import QuantResult, quantify
from .presentation import colour_range, display_value, header, tooltip
from .scoresheet import ScoreSheet, read_score_sheet, subject_of
from .tables import QuantTable, aggregate
from .validation import GradeValidation, validate_predictions
