"""Whole-slide prediction config."""

from __future__ import annotations

from dataclasses import dataclass

from .base import ConfigBase
from .inference import PredictConfig


@dataclass(frozen=True)
class SlideConfig(ConfigBase):
    """How a slide is streamed through a model (see :func:`eq_engine.inference.slide.predict_slide`).

    ``region`` and ``halo`` are pixels at the model's scale: each region's core is predicted
    from the core plus ``halo`` pixels of context on every side. ``level=None`` picks the
    pyramid level for the model's scale; ``tissue=False`` predicts glass too. Tissue is
    pixels with saturation above ``tissue_saturation`` or lightness below
    ``tissue_lightness`` (fractions of the dtype's range) on the slide's thumbnail level.
    """

    predict: PredictConfig = PredictConfig()
    region: int = 2048
    halo: int = 128
    level: int | None = None
    tissue: bool = True
    tissue_saturation: float = 0.07
    tissue_lightness: float = 0.8
    thumbnail: int = 2048  # longest side of the thumbnail PNG, px

    def __post_init__(self) -> None:
        self._check(isinstance(self.predict, PredictConfig), "predict", "must be a PredictConfig")
        self._check(isinstance(self.region, int) and self.region >= 64 and self.region % 64 == 0,
                    "region", "must be a multiple of 64 px >= 64, e.g. 2048")
        self._check(isinstance(self.halo, int) and 0 <= self.halo <= self.region, "halo",
                    "must be an integer in [0, region] px, e.g. 128")
        self._check(self.level is None or (isinstance(self.level, int) and self.level >= 0),
                    "level", "must be None (automatic) or a level index >= 0")
        self._check_range("tissue_saturation", 0, 1)
        self._check_range("tissue_lightness", 0, 1)
        self._check(isinstance(self.thumbnail, int) and self.thumbnail >= 64, "thumbnail",
                    "must be an integer >= 64 px")
