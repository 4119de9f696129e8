"""ProgressBar: the one on_event every CLI command uses."""

import io
import math

from eq_engine.cli.progress import ProgressBar, epoch_line, format_float
from eq_engine.events import BatchEnd, BatchSizeReduced, EpochEnd, Finished, Progress, StageStarted


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_events_draw_a_bar_on_a_terminal(monkeypatch):
    term = _Terminal()
    monkeypatch.setattr("sys.stderr", term)
    with ProgressBar("images") as on_event:
        on_event(Progress("predict-batch", 3, 8, "3/8 images"))
        assert on_event.bar.n == 3 and on_event.bar.total == 8
    assert on_event.bar is None  # closed on exit
    assert "3/8" in term.getvalue() and "3/8 images" in term.getvalue()


def test_training_events_one_bar_per_phase_and_lines(monkeypatch, capsys):
    term = _Terminal()
    monkeypatch.setattr("sys.stderr", term)
    with ProgressBar("batch", epochs=[2, 3], stages=True) as on_event:
        on_event(StageStarted("train", "stage 1"))
        on_event(BatchEnd("train", 1, 1, 4, 0.5))
        assert on_event.bar.total == 2 * 4 and on_event.bar.n == 1
        on_event(EpochEnd("train", 1, 2, 0.5, 0.25, {"dice": 0.75}, lr=1e-3, seconds=2.0))
        on_event(BatchSizeReduced("train", 8, 4, "out of memory"))
        on_event(Finished("train"))
        assert on_event.bar is None and on_event.epochs == [3]
        on_event(BatchEnd("scratch", 1, 1, 5, 0.5))
        assert on_event.bar.total == 3 * 5
    assert "epoch 1/2 [train] train_loss 0.5000 valid_loss 0.2500 dice 0.7500" in (
        capsys.readouterr().out)
    assert "[train] stage 1" in term.getvalue()
    assert "out of memory: batch size 8 -> 4" in term.getvalue()


def test_stage_messages_only_when_asked(capsys):
    with ProgressBar("steps") as on_event:
        on_event(StageStarted("quantify", "a -> b"))
    assert "a -> b" not in capsys.readouterr().err


def test_format_float_and_epoch_line_tolerate_nan():
    assert format_float(0.123456) == "0.1235" and format_float(math.nan) == "nan"
    assert format_float(None) == "None" and format_float(3) == "3"
    line = epoch_line(EpochEnd("train", 2, 5, math.inf, math.nan, {}))
    assert line == "epoch 2/5 [train] train_loss inf valid_loss nan dice None iou None lr nan nans"
