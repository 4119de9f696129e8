"""Endotheliosis quantification config."""

from __future__ import annotations

from dataclasses import dataclass

from .base import ConfigBase

LUMEN_METHODS = ("otsu", "hed")


@dataclass(frozen=True)
class QuantConfig(ConfigBase):
    """How glomeruli are measured and graded.

    The tuft is the glomerulus mask eroded by ``tuft_erosion`` times its equivalent radius, which
    drops Bowman's space (the white rim) from lumen measurements. ``group_pattern`` names the
    subject of an image for grouped cross-validation (first regex group of the image stem).
    """

    tuft_erosion: float = 0.12
    lumen_method: str = "otsu"
    min_lumen_area: int = 4
    exclude_border: bool = True
    min_area: int = 50
    group_pattern: str | None = r"^([A-Za-z]+\d+)_"
    cv_folds: int = 0  # 0: one fold per group (leave-one-subject-out)
    seed: int = 0

    def __post_init__(self) -> None:
        self._check_range("tuft_erosion", 0, 0.9)
        self._check_choice("lumen_method", LUMEN_METHODS)
        self._check(isinstance(self.min_lumen_area, int) and self.min_lumen_area >= 1,
                    "min_lumen_area", "must be an integer >= 1")
        self._check(isinstance(self.min_area, int) and self.min_area >= 1, "min_area",
                    "must be an integer >= 1")
        self._check(isinstance(self.cv_folds, int) and self.cv_folds >= 0, "cv_folds",
                    "must be 0 (leave-one-group-out) or an integer >= 2")
