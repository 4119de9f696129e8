"""EQ engine: headless microscopy segmentation, transfer learning and endotheliosis quantification.

Importing this package is cheap: torch, fastai and scikit-image load only when a public function
is first used, e.g. ``eq_engine.train``. Every long call has the tail
``fn(data..., config, *, on_event=None, cancel=None) -> Result``.
"""

from __future__ import annotations

from .lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it (resolved lazily, see __getattr__)
_PUBLIC = {
    "TrainConfig": "eq_engine.config",
    "TransferConfig": "eq_engine.config",
    "PredictConfig": "eq_engine.config",
    "EvalConfig": "eq_engine.config",
    "QuantConfig": "eq_engine.config",
    "CancelToken": "eq_engine.events",
    "EngineError": "eq_engine.errors",
    "DataError": "eq_engine.errors",
    "ConfigError": "eq_engine.errors",
    "ModelError": "eq_engine.errors",
    "Cancelled": "eq_engine.errors",
    "read_image": "eq_engine.io.images",
    "read_mask": "eq_engine.io.images",
    "write_mask": "eq_engine.io.images",
    "find_pairs": "eq_engine.io.datasets",
    "check_dataset": "eq_engine.io.datasets",
    "load_model": "eq_engine.models.loading",
    "read_metadata": "eq_engine.io.models",
    "ModelInfo": "eq_engine.io.model_info",
    "train": "eq_engine.training",
    "transfer_train": "eq_engine.training.transfer",
    "predict": "eq_engine.inference",
    "predict_tiled": "eq_engine.inference",
    "evaluate": "eq_engine.evaluation",
    "measure_glomeruli": "eq_engine.quantification",
}

__all__ = sorted(_PUBLIC)
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
