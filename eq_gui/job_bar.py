"""Start/Stop buttons, a progress bar with ETA and a status line for one engine job at a time.

The bar runs the job through :func:`eq_gui.workers.engine_worker` (a worker process) or
:func:`eq_gui.workers.thread_worker_call` (numpy work), mirrors its progress in napari's activity
area, turns errors and stops into napari notifications, tells the app state which jobs run, and
always returns to idle.
"""

from __future__ import annotations

import logging
import math
import time

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from eq_engine import Cancelled, EngineError
from eq_engine.events import BatchEnd, EpochEnd, Finished, Progress, StageStarted

from . import notify, workers

log = logging.getLogger(__name__)


def format_eta(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


class JobBar(QWidget):
    """Runs one job; the owning dock listens to ``event``, ``result``, ``error`` and ``idle``."""

    event = Signal(object)
    result = Signal(object)
    error = Signal(object)
    idle = Signal()

    def __init__(self, start_text: str, parent: QWidget | None = None, *, state=None) -> None:
        super().__init__(parent)
        self._state = state  # the viewer's AppState: told when a job starts and ends
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.start_button = QPushButton(start_text)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        layout.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.progress.setTextVisible(True)
        layout.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.worker = None
        self._napari_bar = None
        self._plan_epochs = 0
        self._epochs_done = 0
        self._t0 = math.nan
        self.stop_requested_at = math.nan

    @property
    def running(self) -> bool:
        return self.worker is not None

    # -- starting -----------------------------------------------------------------------------
    def start_engine(self, kind: str, payload: dict, *, description: str, epochs: int = 0) -> None:
        """Run engine job ``kind`` in a worker process; ``epochs`` lets the bar count epochs."""
        self._begin(description, epochs)
        try:
            self.worker = workers.engine_worker(
                kind, payload, on_event=self._on_event, on_result=self._on_result,
                on_error=self._on_error, on_finished=self._on_finished)
        except (EngineError, OSError) as exc:  # no worker thread: report it and stay idle
            self._on_error(exc)
            self._on_finished()

    def start_thread(self, fn, *args, description: str, **kwargs) -> None:
        """Run numpy-only ``fn`` in a thread worker (no Stop)."""
        self._begin(description, 0)
        self.stop_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy indicator
        self.worker = workers.thread_worker_call(fn, *args, on_result=self._on_result,
                                                 on_error=self._on_error,
                                                 on_finished=self._on_finished, owner=self,
                                                 **kwargs)

    def _begin(self, description: str, epochs: int) -> None:
        from napari.utils import progress

        self._plan_epochs = epochs
        self._epochs_done = 0
        self._t0 = math.nan
        self.stop_requested_at = math.nan
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat(f"{description}: starting…")
        self.status.setText("")
        self._description = description
        self._napari_bar = progress(total=1000, desc=f"EQ {description}")
        if self._state is not None:
            self._state.job_started(description)

    # -- stopping -----------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the running engine job to stop; training keeps its best model so far."""
        job = getattr(self.worker, "job", None)
        if job is not None:
            self.stop_requested_at = time.monotonic()
            job.cancel()
            self.stop_button.setEnabled(False)
            self.progress.setFormat(f"{self._description}: stopping…")

    # -- events -------------------------------------------------------------------------------
    def _on_event(self, event) -> None:
        fraction = self._fraction(event)
        if fraction is not None:
            if math.isnan(self._t0):
                self._t0 = time.monotonic()
                self._f0 = fraction
            self._show_fraction(fraction)
        if isinstance(event, (StageStarted, Finished)) and event.message:
            self.status.setText(event.message)
        elif isinstance(event, Progress) and event.message:
            self.status.setText(event.message)
        self.event.emit(event)

    def _fraction(self, event) -> float | None:
        if isinstance(event, EpochEnd):
            self._epochs_done += 1
            plan = self._plan_epochs or event.n_epochs
            return min(1.0, self._epochs_done / max(plan, 1))
        if isinstance(event, BatchEnd) and event.total > 0:
            plan = self._plan_epochs or 1
            return min(1.0, (self._epochs_done + event.step / event.total) / plan)
        if isinstance(event, Progress) and event.total > 0 and not self._plan_epochs:
            return min(1.0, event.step / event.total)
        return None

    def _show_fraction(self, fraction: float) -> None:
        elapsed = time.monotonic() - self._t0
        done = fraction - self._f0
        eta = elapsed * (1 - fraction) / done if done > 0 else math.nan
        value = int(round(fraction * 1000))
        self.progress.setValue(value)
        self.progress.setFormat(f"{self._description}: {fraction:.0%}  ETA {format_eta(eta)}")
        if self._napari_bar is not None:
            self._napari_bar.update(max(0, value - self._napari_bar.n))

    def _on_result(self, result) -> None:
        self.progress.setValue(1000)
        cancelled = bool(getattr(result, "cancelled", False))
        self.progress.setFormat(f"{self._description}: {'stopped' if cancelled else 'done'}")
        if cancelled:
            notify.show_info(stopped_message(self._description, result))
        self.result.emit(result)

    def _on_error(self, exc) -> None:
        if isinstance(exc, Cancelled):
            self.progress.setFormat(f"{self._description}: stopped")
            notify.show_info(f"EQ {self._description} stopped")
        else:
            log.error("EQ %s failed: %s", self._description, exc)
            self.progress.setFormat(f"{self._description}: failed")
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.status.setText(notify.shorten_paths(first))
            notify.show_error(f"{self._description} failed", exc)
        self.error.emit(exc)

    def _on_finished(self) -> None:
        self.worker = None
        if self._napari_bar is not None:
            self._napari_bar.close()
            self._napari_bar = None
        self.progress.setRange(0, 1000)
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        if self._state is not None:
            self._state.job_finished(self._description)
        self.idle.emit()


def stopped_message(description: str, result) -> str:
    """What a stopped job left behind: training keeps its best model so far."""
    main = getattr(result, "transfer", result)  # TransferResult wraps two TrainResults
    path = getattr(main, "model_path", None)
    if path:
        return f"EQ {description} stopped; the best model so far is kept in {path}"
    return f"EQ {description} stopped before a model was saved"
