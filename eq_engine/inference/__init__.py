"""Tiled prediction, post-processing and batch prediction.

Public names load lazily (``predict`` imports torch on first use, not on import):
``predict_tiled``, ``predict``, ``Prediction``, ``postprocess``, ``predict_large``,
``predict_batch``, ``BatchResult``.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_PUBLIC = {
    "predict_tiled": "eq_engine.inference.tiling",
    "blend_weights": "eq_engine.inference.tiling",
    "tile_grid": "eq_engine.inference.tiling",
    "predict": "eq_engine.inference.prediction",
    "Prediction": "eq_engine.inference.prediction",
    "postprocess": "eq_engine.inference.postprocessing",
    "model_min_size": "eq_engine.inference.prediction",
    "predict_large": "eq_engine.inference.large",
    "predict_file_streaming": "eq_engine.inference.stream_model",
    "LargePrediction": "eq_engine.inference.large",
    "predict_batch": "eq_engine.inference.batch",
    "BatchResult": "eq_engine.inference.batch",
}

__all__ = sorted(_PUBLIC)
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
