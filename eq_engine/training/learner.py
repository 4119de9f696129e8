"""A fastai Learner for EQ: no printing, no progress bar, and CUDA out-of-memory recovery.

OOM policy: when a batch raises ``torch.cuda.OutOfMemoryError`` the learner frees what it can,
halves the batch size, emits :class:`~eq_engine.events.BatchSizeReduced`, and runs the same
samples again as two half batches (each a full fastai batch, so schedulers, mixed precision and
metrics stay consistent). Later batches of the epoch are split the same way and the DataLoader's
batch size is lowered for the next epochs. At batch size 1 the error is re-raised as a
ConfigError that suggests a smaller crop size.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

import torch
from fastai.callback.core import TrainEvalCallback
from fastai.callback.fp16 import MixedPrecision
from fastai.callback.schedule import fit_one_cycle  # noqa: F401  (patches Learner.fit_one_cycle)
from fastai.learner import Learner
from fastai.optimizer import OptimWrapper

from ..errors import ConfigError
from ..events import BatchSizeReduced, emit
from ..models.unet import ENCODER_STAGES, split_encoder_head
from .losses import get_loss

log = logging.getLogger(__name__)


def _batch_len(b) -> int:
    return int(b[0].shape[0])


def _chunks(b, size: int) -> list[tuple]:
    n = _batch_len(b)
    return [tuple(t[i:i + size] for t in b) for i in range(0, n, size)]


class EQLearner(Learner):
    """fastai ``Learner`` whose batches survive CUDA OOM by halving (see module docstring)."""

    on_event: Callable | None = None
    stage: str = "train"
    memory_format: torch.memory_format = torch.contiguous_format

    def one_batch(self, i, b):
        # images in the model's layout: otherwise every convolution converts them again
        b = (b[0].contiguous(memory_format=self.memory_format), *b[1:])
        limit = self._batch_limit.get(bool(self.training))
        if limit and _batch_len(b) > limit:
            for part in _chunks(b, limit):
                self._guarded_batch(i, part)
        else:
            self._guarded_batch(i, b)

    def _guarded_batch(self, i, b) -> None:
        try:
            super().one_batch(i, b)
            return
        except torch.cuda.OutOfMemoryError as exc:
            reason = (str(exc).splitlines() or ["CUDA out of memory"])[0][:200]
        # outside the except block, so the traceback no longer pins the failed batch's tensors
        self._free_after_oom()
        n = _batch_len(b)
        if n <= 1:
            raise ConfigError(f"out of GPU memory even with batch size 1 ({reason}); use a "
                              "smaller --size, a smaller --arch, or --device cpu")
        new = n // 2
        self._batch_limit[bool(self.training)] = new
        if self.dl is not None and getattr(self.dl, "bs", None) and self.dl.bs > new:
            self.dl.bs = new  # applies from the next epoch; this epoch is split in one_batch
        emit(self.on_event, BatchSizeReduced(self.stage, n, new, reason))
        log.warning("CUDA out of memory at batch size %d; retrying with %d", n, new)
        for part in _chunks(b, new):
            self.one_batch(i, part)

    def _free_after_oom(self) -> None:
        self.pred = self.loss = self.loss_grad = None
        if self.opt is not None:
            self.opt.zero_grad()
        amp = next((cb for cb in self.cbs if isinstance(cb, MixedPrecision)), None)
        if amp is not None and getattr(amp, "autocast", None) is not None \
                and torch.is_autocast_enabled("cuda"):
            amp.autocast.__exit__(None, None, None)  # the batch died before MixedPrecision.after_loss
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def build_learner(dls, model, *, loss: str, lr: float, weight_decay: float, callbacks: list,
                  mixed_precision: bool, on_event: Callable | None, stage: str,
                  memory_format: torch.memory_format = torch.contiguous_format,
                  pretrained_stages: int = ENCODER_STAGES) -> EQLearner:
    """An :class:`EQLearner` with AdamW, the encoder/head splitter and only EQ's callbacks
    (fastai's Recorder and progress bar are left out: the engine never prints). Batches are
    put in ``memory_format``, the layout the model was moved to. ``pretrained_stages`` says
    which encoder stages form the group that ``freeze`` holds (see ``split_encoder_head``).

    The optimiser is torch's AdamW wrapped for fastai: fastai's own Adam steps each parameter
    in Python, which costs ~0.1 s per batch on a ResNet U-Net.
    """
    opt_func = partial(OptimWrapper, opt=torch.optim.AdamW)
    learn = EQLearner(dls, model, loss_func=get_loss(loss), opt_func=opt_func, lr=lr, wd=weight_decay,
                      splitter=partial(split_encoder_head, stages=pretrained_stages),
                      cbs=[TrainEvalCallback(), *callbacks], default_cbs=False)
    learn.logger = log.debug
    learn._batch_limit = {}  # training? -> largest batch that fits, after an OOM
    learn.on_event, learn.stage, learn.memory_format = on_event, stage, memory_format
    if mixed_precision:
        learn.to_fp16()
    return learn
