"""Endotheliosis quantification config."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .base import ConfigBase

LUMEN_METHODS = ("otsu", "hed")


@dataclass(frozen=True)
class QuantConfig(ConfigBase):
    """How glomeruli are measured and graded.

    The tuft is the glomerulus mask eroded by ``tuft_erosion`` times its equivalent radius and,
    per angular sector, by the bright band hugging the mask edge (up to ``rim_max`` x radius),
    which drops Bowman's space (the white rim) from lumen measurements. ``group_pattern`` names the
    subject of an image for grouped cross-validation (first regex group of the image stem).
    """

    tuft_erosion: float = 0.12
    rim_max: float = 0.35  # trim a bright edge band (Bowman's space) up to this x radius; 0: off
    lumen_method: str = "otsu"
    min_lumen_area: int = 4
    exclude_border: bool = True
    min_area: int = 50
    group_pattern: str | None = r"^([A-Za-z]+\d+)_"
    cv_folds: int = 0  # 0: one fold per group (leave-one-subject-out)
    seed: int = 0
    # grade model: ordinal logistic regression on these standardised features, ridge penalty
    grade_features: tuple = ("openness", "lumen_density", "nuclear_fraction")
    grade_l2: float = 1.0
    n_bootstrap: int = 2000  # resamples for confidence intervals of the CV metrics

    def __post_init__(self) -> None:
        self._check_range("tuft_erosion", 0, 0.9)
        self._check_range("rim_max", 0, 0.9)
        self._check_choice("lumen_method", LUMEN_METHODS)
        self._check(isinstance(self.min_lumen_area, int) and self.min_lumen_area >= 1,
                    "min_lumen_area", "must be an integer >= 1")
        self._check(isinstance(self.min_area, int) and self.min_area >= 1, "min_area",
                    "must be an integer >= 1")
        self._check(isinstance(self.cv_folds, int) and self.cv_folds >= 0, "cv_folds",
                    "must be 0 (leave-one-group-out) or an integer >= 2")
        self._check(self.cv_folds != 1, "cv_folds", "must be 0 (leave-one-group-out) or >= 2")
        self._check(len(self.grade_features) >= 1
                    and all(isinstance(f, str) and f for f in self.grade_features),
                    "grade_features", "must be a non-empty list of feature column names")
        self._check_range("grade_l2", 0)
        self._check(isinstance(self.n_bootstrap, int) and self.n_bootstrap >= 0, "n_bootstrap",
                    "must be an integer >= 0 (0: no confidence intervals)")
        if self.group_pattern is not None:
            try:
                re.compile(self.group_pattern)
            except re.error as exc:
                self._check(False, "group_pattern", f"is not a valid regex ({exc})")
