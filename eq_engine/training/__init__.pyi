"""Public names of ``eq_engine.training``; ``lazy_loader.attach_stub`` loads them on first use."""

from .crossval import CVResult, cross_validate
from .losses import LOSSES, get_loss
from .results import CopyReport, TrainResult, TransferResult
from .trainer import train
from .transfer import copy_encoder, transfer_train
