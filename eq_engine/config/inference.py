"""Prediction and evaluation configs."""

from __future__ import annotations

from dataclasses import dataclass

from .base import ConfigBase

BLENDS = ("gaussian", "constant")
STREAM_MODES = ("auto", "always", "never")


@dataclass(frozen=True)
class PredictConfig(ConfigBase):
    """How to run a model over images. ``tile=0``, ``threshold=None`` and ``min_size=-1`` take
    the model's own (its prediction tile, threshold and learned minimum object size)."""

    tile: int = 0
    overlap: float = 0.25
    blend: str = "gaussian"
    batch_size: int = 8
    threshold: float | None = None
    # flip test-time augmentation: "auto" is on for a GPU, off on a CPU, where the four flips
    # quadruple a field's time for -0.002 to +0.018 Dice (BENCHMARKS.md, "Test-time augmentation")
    tta: bool | str = "auto"
    device: str = "auto"
    mixed_precision: bool = True
    min_size: int = -1  # objects smaller than this many pixels are removed; -1: the model's
    fill_holes: bool = True
    # file outputs of large 2D images: "auto" streams TIFFs too big for memory (stream_model.py)
    stream: str = "auto"
    # µm per pixel of the input; 0: the file's own (TIFF metadata), or unknown for arrays. With
    # a model that records its training pixel size, the image is rescaled to match it.
    pixel_size: float = 0.0
    # typical object diameter in the input's pixels; 0: unknown. When given, the image is
    # resized so that its objects match the model's training objects (overrides pixel_size).
    object_diameter: float = 0.0

    def __post_init__(self) -> None:
        self._check_choice("stream", STREAM_MODES)
        self._check(isinstance(self.tile, int) and (self.tile == 0 or self.tile >= 16), "tile",
                    "must be 0 (the model's tile size) or an integer >= 16")
        self._check_range("overlap", 0, 1, high_open=True)
        self._check_choice("blend", BLENDS)
        self._check(self.tta == "auto" or isinstance(self.tta, bool), "tta",
                    "must be True, False or 'auto' (on when the model runs on a GPU)")
        self._check(isinstance(self.batch_size, int) and self.batch_size >= 1, "batch_size",
                    "must be an integer >= 1")
        if self.threshold is not None:
            self._check_range("threshold", 0, 1, low_open=True, high_open=True)
        self._check(isinstance(self.min_size, int) and self.min_size >= -1, "min_size",
                    "must be an integer >= 0, or -1 for the model's learned minimum")
        self._check(isinstance(self.pixel_size, (int, float)) and 0 <= self.pixel_size < 1e3,
                    "pixel_size", "must be µm per pixel (> 0), or 0 for the file's own")
        self._check(isinstance(self.object_diameter, (int, float))
                    and 0 <= self.object_diameter < 1e5, "object_diameter",
                    "must be a diameter in pixels (> 0), or 0 for the model's own scale")


@dataclass(frozen=True)
class EvalConfig(ConfigBase):
    """How predictions are scored against truth."""

    threshold: float = 0.5
    match_iou: float = 0.5  # objects match when their IoU is at least this
    n_overlays: int = 3  # best and worst images drawn as overlay PNGs
    sweep: tuple = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)

    def __post_init__(self) -> None:
        self._check_range("threshold", 0, 1, low_open=True, high_open=True)
        self._check_range("match_iou", 0, 1, low_open=True)
        self._check(isinstance(self.n_overlays, int) and self.n_overlays >= 0, "n_overlays",
                    "must be an integer >= 0")
        self._check(len(self.sweep) > 0 and all(0 < t < 1 for t in self.sweep), "sweep",
                    "must be a non-empty list of thresholds strictly between 0 and 1")
