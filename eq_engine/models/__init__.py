"""Models: the U-Net builder and encoder transfer learning.

``build_unet``, ``encoder`` and ``transfer_train`` load lazily, so importing this package does
not import torch or fastai.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_PUBLIC = {
    "build_unet": "eq_engine.models.unet",
    "encoder": "eq_engine.models.unet",
    "ARCHS": "eq_engine.models.unet",
    "copy_encoder": "eq_engine.models.transfer",
    "transfer_train": "eq_engine.models.transfer",
}

__all__ = sorted(_PUBLIC)
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
