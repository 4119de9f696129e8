"""Tiled prediction, post-processing and batch prediction.

Public names load lazily (``predict`` imports torch on first use, not on import):
``predict_tiled``, ``predict``, ``Prediction``, ``postprocess``, ``predict_large``,
``predict_batch``, ``BatchResult``.
"""

from __future__ import annotations

import importlib

_PUBLIC = {
    "predict_tiled": "eq_engine.inference.tiling",
    "blend_weights": "eq_engine.inference.tiling",
    "tile_grid": "eq_engine.inference.tiling",
    "predict": "eq_engine.inference.prediction",
    "Prediction": "eq_engine.inference.prediction",
    "postprocess": "eq_engine.inference.postprocessing",
    "predict_large": "eq_engine.inference.large",
    "LargePrediction": "eq_engine.inference.large",
    "predict_batch": "eq_engine.inference.batch",
    "BatchResult": "eq_engine.inference.batch",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'eq_engine.inference' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
