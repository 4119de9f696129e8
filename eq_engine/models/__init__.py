"""Models: the U-Net builder and encoder transfer learning.

``build_unet``, ``encoder`` and ``transfer_train`` load lazily, so importing this package does
not import torch or fastai.
"""

from __future__ import annotations

import importlib

_PUBLIC = {
    "build_unet": "eq_engine.models.unet",
    "encoder": "eq_engine.models.unet",
    "ARCHS": "eq_engine.models.unet",
    "copy_encoder": "eq_engine.models.transfer",
    "transfer_train": "eq_engine.models.transfer",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'eq_engine.models' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
