"""Training: ``train(data, config, *, out=None, resume_from=None, on_event=None, cancel=None)``.

Public names load lazily so that importing this package does not import torch or fastai.
The implementation lives in ``trainer.py`` (not ``train.py``): a submodule named like the
function would replace ``eq_engine.training.train`` with the module once imported.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_PUBLIC = {
    "train": "eq_engine.training.trainer",
    "TrainResult": "eq_engine.training.results",
    "TransferResult": "eq_engine.training.results",
    "CopyReport": "eq_engine.training.results",
    "get_loss": "eq_engine.training.losses",
    "transfer_train": "eq_engine.training.transfer",
    "copy_encoder": "eq_engine.training.transfer",
    "LOSSES": "eq_engine.training.losses",
}

__all__ = sorted(_PUBLIC)
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
