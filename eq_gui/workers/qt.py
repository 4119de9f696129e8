"""Qt side: thread workers that bring worker-process events and numpy results to the GUI thread.

superqt's ``create_worker`` is used rather than napari's: napari 0.9.2's wrapper raises a
TypeError in its status callback whenever a worker errors. Its signals are emitted from the worker
thread and delivered to the GUI thread through queued connections.
"""

from __future__ import annotations

from collections.abc import Callable

from .pool import EngineJob


def engine_worker(kind: str, payload: dict, *, on_event: Callable, on_result: Callable,
                  on_error: Callable, on_finished: Callable | None = None):
    """Run engine job ``kind`` in a worker process; its events reach ``on_event`` in the GUI
    thread, then its result ``on_result`` (or its error ``on_error``).

    Returns the started superqt GeneratorWorker; ``worker.job`` is the :class:`EngineJob`, whose
    ``cancel()`` is what a Stop button calls. Starting (or reusing) the process happens in the
    worker thread, so the GUI never waits for it.
    """
    from superqt.utils import create_worker

    job = EngineJob(kind, payload)

    def pump():
        job.start()
        yield from job.events()
        return job.outcome()

    connect = {"yielded": on_event, "returned": on_result, "errored": on_error}
    if on_finished is not None:
        connect["finished"] = on_finished
    worker = create_worker(pump, _connect=connect, _start_thread=False, _ignore_errors=True)
    worker.job = job
    worker.start()
    return worker


def _alive(owner) -> bool:
    try:
        from shiboken6 import isValid
    except ImportError:  # PyQt builds: no shiboken, and sip keeps the wrapper usable
        return True
    return isValid(owner)


def thread_worker_call(fn: Callable, *args, on_result: Callable, on_error: Callable,
                       on_finished: Callable | None = None, owner=None, **kwargs):
    """Run numpy-only ``fn(*args, **kwargs)`` in a thread; the result reaches the GUI thread.

    With ``owner`` (a widget), the callbacks are skipped once it has been deleted: a dock closed
    while its thread runs must not receive the result.
    """
    from superqt.utils import create_worker

    connect = {"returned": on_result, "errored": on_error}
    if on_finished is not None:
        connect["finished"] = on_finished
    if owner is not None:
        connect = {k: (lambda *a, _cb=cb: _cb(*a) if _alive(owner) else None)
                   for k, cb in connect.items()}
    worker = create_worker(fn, *args, _connect=connect, _start_thread=False,
                           _ignore_errors=True, **kwargs)
    worker.start()
    return worker


class LatestOnly:
    """Run ``fn(*args)`` in a thread; while it runs, a newer request replaces the pending one.

    A slider drives it: every move calls :meth:`request`, at most one computation runs at a time,
    and the last value asked for is always the last one computed.
    """

    def __init__(self, fn: Callable, *, on_result: Callable, on_error: Callable) -> None:
        self._fn = fn
        self._on_result = on_result
        self._on_error = on_error
        self._pending: tuple | None = None
        self._worker = None

    @property
    def running(self) -> bool:
        return self._worker is not None

    def request(self, *args) -> None:
        self._pending = args
        if self._worker is None:
            self._start_next()

    def _start_next(self) -> None:
        if self._pending is None:
            self._worker = None
            return
        args, self._pending = self._pending, None
        self._worker = thread_worker_call(self._fn, *args, on_result=self._on_result,
                                          on_error=self._on_error, on_finished=self._start_next)
