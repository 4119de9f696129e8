"""Frozen, validated configs for every long engine call."""

from .base import ConfigBase
from .crossval import CVConfig
from .inference import EvalConfig, PredictConfig
from .quant import QuantConfig
from .slide import SlideConfig
from .train import ARCHS, LOSSES, TrainConfig, TransferConfig

__all__ = ["ARCHS", "LOSSES", "ConfigBase", "TrainConfig", "TransferConfig", "PredictConfig", "EvalConfig",
           "QuantConfig", "CVConfig", "SlideConfig"]
