"""Models: the U-Net builder, encoder access and loading a runnable model from a model file.

``build_unet``, ``encoder`` and ``load_model`` load lazily, so importing this package does not
import torch or fastai. Encoder transfer training lives in :mod:`eq_engine.training.transfer`.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_PUBLIC = {
    "build_unet": "eq_engine.models.unet",
    "encoder": "eq_engine.models.unet",
    "ARCHS": "eq_engine.models.unet",
    "LoadedModel": "eq_engine.models.loading",
    "load_model": "eq_engine.models.loading",
    "make_predictor": "eq_engine.models.loading",
}

__all__ = sorted(_PUBLIC)
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
