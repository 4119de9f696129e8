import logging
import math
import threading

import pytest

from eq_engine.errors import Cancelled
from eq_engine.events import CancelToken, EpochEnd, Progress, check_cancel, emit


def test_cancel_token_is_thread_safe_flag():
    token = CancelToken()
    assert not token.cancelled
    check_cancel(token)
    t = threading.Thread(target=token.cancel)
    t.start()
    t.join()
    assert token.cancelled
    with pytest.raises(Cancelled):
        check_cancel(token)
    check_cancel(None)  # None never cancels


def test_emit_tolerates_broken_listener(caplog):
    def broken(event):
        raise RuntimeError("listener bug")

    with caplog.at_level(logging.ERROR):
        emit(broken, Progress("x", 1, 2))
    assert "listener failed" in caplog.text
    emit(None, Progress("x", 1, 2))


def test_emit_lets_cancel_through():
    def cancelling(event):
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        emit(cancelling, Progress("x", 1, 2))


def test_events_carry_nan():
    seen = []
    emit(seen.append, EpochEnd("train", 1, 3, float("nan"), float("inf"), {"dice": float("nan")}))
    assert math.isnan(seen[0].train_loss) and math.isinf(seen[0].valid_loss)
