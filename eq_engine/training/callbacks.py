"""fastai callbacks that connect a Learner to EQ: events, metrics, cancel, best checkpoint.

Imported lazily (it imports fastai). Callback order: cancel checks first (order -10), then
fastai's own callbacks, then :class:`EpochMetrics` (60) which fills the history and emits
events, then :class:`BestCheckpoint` (70) which reads the history row just written.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastai.callback.core import Callback, CancelFitException

from ..data.crops import IGNORE
from ..evaluation.metrics import Confusion, confusion, dice_from_counts, iou_from_counts
from ..events import BatchEnd, CheckpointSaved, EpochEnd, emit


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


class CancelCheck(Callback):
    """Raise ``CancelFitException`` between batches once the CancelToken is set."""

    order = -10

    def __init__(self, cancel) -> None:
        self.token = cancel

    def _check(self) -> None:
        if self.token is not None and self.token.cancelled:
            raise CancelFitException()

    def before_batch(self) -> None:
        self._check()

    def after_batch(self) -> None:
        self._check()


@dataclass
class RunLog:
    """What a training run has produced so far; shared by all stages of one run."""

    history: list[dict] = field(default_factory=list)
    best_value: float | None = None
    best_row: dict = field(default_factory=dict)
    best_state: dict | None = None


class EpochMetrics(Callback):
    """Per-epoch train/valid loss and validation Dice/IoU; emits BatchEnd and EpochEnd.

    Dice and IoU come from :mod:`eq_engine.evaluation.metrics`: confusion counts of the
    thresholded foreground probability, pooled over every non-IGNORE validation pixel.
    """

    order = 60

    def __init__(self, run: RunLog, *, stage: str, epoch_offset: int, n_epochs: int,
                 threshold: float, on_event: Callable | None) -> None:
        self.run, self.stage, self.offset = run, stage, epoch_offset
        self.total_epochs, self.threshold, self.on_event = n_epochs, threshold, on_event

    def before_epoch(self) -> None:
        self._t0 = time.perf_counter()
        self._sums = {True: [0.0, 0], False: [0.0, 0]}  # training? -> [loss * n, n]
        self._counts = Confusion()

    def after_loss(self) -> None:
        target = self.yb[0]
        n = int(target.shape[0])
        acc = self._sums[bool(self.training)]
        acc[0] += _float(self.loss.detach()) * n
        acc[1] += n
        if not self.training:
            self._counts = self._counts + self._batch_confusion(self.pred, target)

    def _batch_confusion(self, pred, target) -> Confusion:
        import torch

        prob = torch.softmax(pred.as_subclass(torch.Tensor).float(), dim=1)[:, 1]
        valid = target != IGNORE
        predicted = (prob >= self.threshold)[valid].cpu().numpy()
        truth = (target[valid] == 1).cpu().numpy()
        return confusion(predicted, truth)

    def after_batch(self) -> None:
        if self.training:
            emit(self.on_event, BatchEnd(self.stage, self.offset + self.epoch + 1, self.iter + 1,
                                         self.n_iter, _float(self.loss.detach())))

    def after_epoch(self) -> None:
        (tl, tn), (vl, vn) = self._sums[True], self._sums[False]
        c = self._counts
        row = {
            "epoch": self.offset + self.epoch + 1,
            "stage": self.stage,
            "train_loss": tl / tn if tn else float("nan"),
            "valid_loss": vl / vn if vn else float("nan"),
            "dice": dice_from_counts(c) if c.total else float("nan"),
            "iou": iou_from_counts(c) if c.total else float("nan"),
            "lr": _float(self.opt.hypers[-1]["lr"]),
            "seconds": time.perf_counter() - self._t0,
        }
        self.run.history.append(row)
        emit(self.on_event, EpochEnd(self.stage, row["epoch"], self.total_epochs,
                                     row["train_loss"], row["valid_loss"],
                                     {"dice": row["dice"], "iou": row["iou"]}, row["lr"],
                                     row["seconds"]))


class BestCheckpoint(Callback):
    """Keep the weights of the best epoch by validation Dice; write them with ``save`` each time
    the Dice improves (``save(state, row) -> path or None``; EQ's save is atomic)."""

    order = 70

    def __init__(self, run: RunLog, *, stage: str, save: Callable | None,
                 on_event: Callable | None, metric: str = "dice") -> None:
        self.run, self.stage, self.save_fn, self.on_event = run, stage, save, on_event
        self.metric = metric

    def after_epoch(self) -> None:
        row = self.run.history[-1]
        value = row[self.metric]
        score = value if isinstance(value, float) and math.isfinite(value) else -math.inf
        if self.run.best_value is not None and score <= self.run.best_value:
            return
        self.run.best_value, self.run.best_row = score, dict(row)
        self.run.best_state = {k: v.detach().to("cpu", copy=True)
                               for k, v in self.model.state_dict().items()}
        path = self.save_fn(self.run.best_state, row) if self.save_fn else None
        if path is not None:
            emit(self.on_event, CheckpointSaved(self.stage, str(path), row["epoch"], self.metric,
                                                _float(value)))

