"""Frozen, validated configs for every long engine call."""

from .base import ConfigBase
from .crossval import CVConfig
from .inference import EvalConfig, PredictConfig
from .quant import QuantConfig
from .train import TrainConfig, TransferConfig

__all__ = ["ConfigBase", "TrainConfig", "TransferConfig", "PredictConfig", "EvalConfig", "QuantConfig", "CVConfig"]
