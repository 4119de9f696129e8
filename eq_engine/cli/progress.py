"""The CLI's ``on_event``: a tqdm bar with ETA on stderr, drawn from engine events."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence


def format_float(value) -> str:
    """Four decimals for a finite float; anything else (NaN, None, ints) as ``str``."""
    return f"{value:.4f}" if isinstance(value, float) and math.isfinite(value) else str(value)


class ProgressBar:
    """``on_event`` for a CLI command: ``with ProgressBar("images") as on_event: fn(...)``.

    One tqdm bar with ETA on stderr (hidden when stderr is not a TTY), driven by ``Progress``
    events (step of total) or by training's ``BatchEnd`` events; for those, ``epochs`` lists the
    epochs of each training phase, and a ``Finished`` event ends a phase and its bar. Training
    extras: ``EpochEnd`` prints a metrics line on stdout, ``BatchSizeReduced`` a note on stderr,
    and with ``stages=True`` each ``StageStarted`` prints its message on stderr.
    """

    def __init__(self, unit: str, *, epochs: Sequence[int] = (), stages: bool = False) -> None:
        self.unit, self.epochs, self.stages = unit, list(epochs), stages
        self.bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def __call__(self, event) -> None:
        from ..events import BatchEnd, BatchSizeReduced, EpochEnd, Finished, Progress, StageStarted

        if isinstance(event, Progress):
            bar = self._bar(event.total)
            bar.total, bar.n = event.total, event.step
            bar.set_postfix_str(event.message, refresh=False)
            bar.refresh()
        elif isinstance(event, BatchEnd):
            bar = self._bar((self.epochs[0] if self.epochs else 1) * event.total)
            bar.update(1)
            bar.set_postfix_str(f"epoch {event.epoch} loss {format_float(event.loss)}",
                                refresh=False)
        elif isinstance(event, EpochEnd):
            self._write(epoch_line(event), sys.stdout)
        elif isinstance(event, BatchSizeReduced):
            self._write(f"out of memory: batch size {event.old} -> {event.new}", sys.stderr)
        elif isinstance(event, StageStarted) and self.stages:
            self._write(f"[{event.stage}] {event.message}", sys.stderr)
        elif isinstance(event, Finished):
            self._close()
            self.epochs = self.epochs[1:]

    def _bar(self, total: int):
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=f" {self.unit}", file=sys.stderr,
                            dynamic_ncols=True, disable=None, leave=False)
        return self.bar

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar = None

    @staticmethod
    def _write(line: str, file) -> None:
        from tqdm import tqdm

        tqdm.write(line, file=file)  # clears and redraws the bar around the line


def epoch_line(event) -> str:
    """One line of an ``EpochEnd`` event: losses, validation Dice/IoU, learning rate, time."""
    m = event.metrics
    return (f"epoch {event.epoch}/{event.n_epochs} [{event.stage}] "
            f"train_loss {format_float(event.train_loss)} "
            f"valid_loss {format_float(event.valid_loss)} "
            f"dice {format_float(m.get('dice'))} iou {format_float(m.get('iou'))} "
            f"lr {event.lr:.2e} {event.seconds:.1f}s")
