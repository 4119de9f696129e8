"""Worker processes: events reach the GUI thread in order, Stop, errors, a dead process."""

from __future__ import annotations

import pytest
from qtpy.QtCore import QThread
from qtpy.QtWidgets import QApplication

from eq_engine.config import PredictConfig
from eq_engine.errors import Cancelled, DataError
from eq_engine.events import Progress
from eq_gui import workers

pytestmark = pytest.mark.gui


def _run(qtbot, kind, payload, *, stop_after_first=False, timeout=30_000):
    seen = {"events": [], "threads": set(), "result": None, "error": None, "finished": False}

    def on_event(event):
        seen["events"].append(event)
        seen["threads"].add(QThread.currentThread() is QApplication.instance().thread())
        if stop_after_first and len(seen["events"]) == 1:
            worker.job.cancel()

    worker = workers.engine_worker(kind, payload, on_event=on_event,
                                   on_result=lambda r: seen.update(result=r),
                                   on_error=lambda e: seen.update(error=e),
                                   on_finished=lambda: seen.update(finished=True))
    qtbot.waitUntil(lambda: seen["finished"], timeout=timeout)  # connected before the start
    return seen, worker


def test_events_arrive_in_order_on_the_gui_thread(qtbot):
    seen, worker = _run(qtbot, "probe", {"events": 5})
    assert [e.step for e in seen["events"]] == [1, 2, 3, 4, 5]
    assert all(isinstance(e, Progress) for e in seen["events"])
    assert seen["threads"] == {True}  # queued into the GUI thread, never called from the pump
    assert seen["error"] is None
    assert seen["result"]["pid"] == worker.job.pid


def test_stop_ends_a_waiting_job(qtbot):
    seen, _ = _run(qtbot, "probe", {"events": 1, "until_cancelled": True, "timeout": 600},
                   stop_after_first=True, timeout=120_000)  # without Stop it would wait 600 s
    assert isinstance(seen["error"], Cancelled)
    assert seen["result"] is None


def test_engine_errors_keep_their_type_and_the_process_survives(qtbot, tmp_path):
    seen, worker = _run(qtbot, "probe", {"events": "not a number"})
    assert seen["error"] is not None and "not a number" in str(seen["error"])
    pid = worker.job.pid
    assert pid in workers.live_processes()  # reused for the next job
    with pytest.raises(workers.JobFailed, match="unknown engine job 'nope'"):
        workers.submit("nope", {}).wait(timeout=30)
    with pytest.raises(DataError, match="no images"):  # engine errors keep their class
        workers.submit("predict_folder", {"model": "m.eqm", "folder": str(tmp_path),
                                          "out": str(tmp_path / "out"),
                                          "config": PredictConfig()}).wait(timeout=120)
    assert pid in workers.live_processes()


def test_a_dead_worker_process_is_reported(qtbot):
    job = workers.submit("probe", {"until_cancelled": True, "timeout": 60})
    job._proc.process.kill()
    with pytest.raises(workers.EngineProcessDied, match="exit code"):
        job.wait(timeout=30)
    assert job.pid not in workers.live_processes()


def test_a_retired_process_exits_and_a_cpu_process_is_reused():
    from eq_gui.workers import pool

    first = workers.submit("probe", {})
    first.wait(timeout=30)
    assert not first.used_gpu and first.pid in workers.live_processes()  # kept warm
    again = workers.submit("probe", {})
    again.wait(timeout=30)
    assert again.pid == first.pid  # no second start-up
    proc = pool._take_process()
    pool._give_back(proc, retire=True)  # what happens after a job that used CUDA
    assert proc.process.poll() is not None and proc.pid not in workers.live_processes()


def test_closing_the_gui_kills_a_training_worker_and_keeps_its_checkpoint(em_dataset, tmp_path,
                                                                          train_config):
    from eq_engine import read_metadata
    from eq_engine.events import CheckpointSaved
    from eq_gui.workers import pool

    out = tmp_path / "closing.eqm"
    config = train_config(epochs=200, checkpoint_path=str(out))  # as the Train dock runs it
    job = workers.submit("train", {"data": str(em_dataset), "config": config, "out": str(out)})
    proc = job._proc
    for event in job.events():
        if isinstance(event, CheckpointSaved):  # a best model is on disk
            break
    pool.shutdown()  # what closing the window does mid-training: no waiting for a batch
    assert proc.process.returncode == -9  # killed at once (SIGKILL), not asked to finish
    assert proc.pid not in workers.live_processes()
    meta = read_metadata(out)  # the best checkpoint so far is intact and readable
    assert meta["history"]  # a kill during a write would leave only a temporary file beside it
