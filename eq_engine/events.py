"""Events emitted by long engine calls, and the cancel token they honour.

Every long call has the tail ``fn(..., *, on_event=None, cancel=None)``. ``on_event`` receives
the small frozen dataclasses below; float fields may be NaN or Inf (e.g. a diverging loss) and
listeners must tolerate that. ``cancel`` is a :class:`CancelToken`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import Cancelled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Base class of all events."""


@dataclass(frozen=True)
class Progress(Event):
    stage: str
    step: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class BatchEnd(Event):
    stage: str
    epoch: int
    step: int
    total: int
    loss: float


@dataclass(frozen=True)
class EpochEnd(Event):
    stage: str
    epoch: int
    n_epochs: int
    train_loss: float
    valid_loss: float
    metrics: dict = field(default_factory=dict)
    lr: float = float("nan")
    seconds: float = float("nan")


@dataclass(frozen=True)
class CheckpointSaved(Event):
    stage: str
    path: str
    epoch: int
    metric: str
    value: float


@dataclass(frozen=True)
class BatchSizeReduced(Event):
    stage: str
    old: int
    new: int
    reason: str


@dataclass(frozen=True)
class StageStarted(Event):
    stage: str
    message: str = ""


@dataclass(frozen=True)
class Finished(Event):
    stage: str
    cancelled: bool = False
    message: str = ""


EventCallback = Callable[[Event], None]


class CancelToken:
    """A thread-safe flag a caller sets to stop a long engine call at its next checkpoint."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled by the caller")


def check_cancel(cancel: CancelToken | None) -> None:
    """Raise :class:`Cancelled` when ``cancel`` is set; ``None`` never cancels."""
    if cancel is not None:
        cancel.raise_if_cancelled()


def emit(on_event: EventCallback | None, event: Event) -> None:
    """Send ``event`` to ``on_event``; a listener that raises is logged, never fatal to the work."""
    if on_event is None:
        return
    try:
        on_event(event)
    except Cancelled:
        raise
    except Exception:  # a broken progress listener must not kill hours of training
        log.exception("event listener failed on %r", event)
