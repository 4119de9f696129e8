"""Training: ``train(data, config, *, out=None, resume_from=None, on_event=None, cancel=None)``.

Public names load lazily so that importing this package does not import torch or fastai.
The implementation lives in ``trainer.py`` (not ``train.py``): a submodule named like the
function would replace ``eq_engine.training.train`` with the module once imported.
"""

from __future__ import annotations

import importlib

_PUBLIC = {
    "train": "eq_engine.training.trainer",
    "TrainResult": "eq_engine.training.results",
    "TransferResult": "eq_engine.training.results",
    "CopyReport": "eq_engine.training.results",
    "get_loss": "eq_engine.training.losses",
    "LOSSES": "eq_engine.training.losses",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'eq_engine.training' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
