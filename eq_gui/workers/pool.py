"""GUI side of the worker processes: start them, reuse warm ones, run jobs, read their events."""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from eq_engine.errors import Cancelled, EngineError

from .child import encode_address

log = logging.getLogger(__name__)

POLL_S = 0.05  # how often a pump looks at the connection and the child's health
HARD_CANCEL_S = 10.0  # after Stop, a child that has not stopped by then is terminated
CONNECT_S = 120.0  # a child that has not connected by then is given up
MAX_IDLE = 1  # warm CPU processes kept for the next job
CHILD_CODE = "from eq_gui.workers.child import child_main; child_main()"


class EngineProcessDied(EngineError):
    """The worker process ended without answering (killed, out of memory, crashed)."""


class JobFailed(EngineError):
    """An unexpected error in the worker process; the message carries its traceback."""


def rebuild_error(described: tuple[str, str, str]) -> EngineError:
    """The GUI-side exception for a child's (class name, message, traceback)."""
    import eq_engine.errors as errors

    name, message, tb = described
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, EngineError):
        return cls(message)
    return JobFailed(f"{name}: {message}\n\nin the worker process:\n{tb}")


class EngineProcess:
    """One worker process (a fresh interpreter) and the authenticated connection to it."""

    def __init__(self) -> None:
        from multiprocessing.connection import Listener

        authkey = os.urandom(32)
        with Listener(authkey=authkey) as listener:
            self.process = subprocess.Popen(
                [sys.executable, "-c", CHILD_CODE, encode_address(listener.address)],
                stdin=subprocess.PIPE)
            self.process.stdin.write(authkey.hex().encode() + b"\n")
            self.process.stdin.close()
            self.conn = self._accept(listener)
        self._send_lock = threading.Lock()
        self._next_id = 0

    def _accept(self, listener):
        """``listener.accept()``, given up when the child dies before connecting."""
        box: dict = {}

        def accept() -> None:
            try:
                box["conn"] = listener.accept()
            except OSError as exc:  # the listener was closed: the child never came
                box["error"] = exc

        thread = threading.Thread(target=accept, daemon=True, name="eq-accept")
        thread.start()
        deadline = time.monotonic() + CONNECT_S
        while thread.is_alive():
            thread.join(POLL_S)
            if thread.is_alive() and (self.process.poll() is not None
                                      or time.monotonic() > deadline):
                self.process.kill()
                raise EngineProcessDied(
                    f"the EQ worker process did not start (exit code {self.process.poll()}); "
                    f"run `{sys.executable} -c 'import eq_gui.engine_jobs'` to see why")
        if "conn" not in box:
            raise EngineProcessDied(f"the EQ worker process could not connect: {box['error']}")
        return box["conn"]

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, message: tuple) -> None:
        with self._send_lock:
            self.conn.send(message)

    def start_job(self, kind: str, payload: dict) -> int:
        self._next_id += 1
        self.send(("job", self._next_id, kind, payload))
        return self._next_id

    def kill(self) -> None:
        """End the child now (SIGKILL), without waiting for its current batch.

        Safe for a training job: its best checkpoint is already on disk, and model files are
        written atomically (a write cut short leaves only a temporary file, never half a model).
        """
        if self.alive:
            self.process.kill()
            self.process.wait()
        self.conn.close()

    def close(self, timeout: float = 5.0) -> None:
        """Ask the child to exit; terminate it if it does not within ``timeout`` seconds."""
        if self.alive:
            try:
                self.send(("quit",))
            except OSError:
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                self.process.wait(timeout)
        self.conn.close()


_pool_lock = threading.Lock()
_idle: list[EngineProcess] = []
_all: list[EngineProcess] = []


def _take_process() -> EngineProcess:
    with _pool_lock:
        while _idle:
            proc = _idle.pop()
            if proc.alive:
                return proc
    proc = EngineProcess()  # outside the lock: starting takes a moment
    with _pool_lock:
        _all.append(proc)
    return proc


def _give_back(proc: EngineProcess, *, retire: bool) -> None:
    with _pool_lock:
        keep = not retire and proc.alive and len(_idle) < MAX_IDLE and proc in _all
        if keep:
            _idle.append(proc)
        elif proc in _all:
            _all.remove(proc)
    if not keep:
        proc.close()


def shutdown() -> None:
    """Stop every worker process (called when the window closes, at exit and by tests).

    Idle processes are asked to quit; busy ones are killed at once: closing the window must not
    wait for a training batch, and the best checkpoint is already on disk.
    """
    with _pool_lock:
        procs = list(_all)
        idle = set(map(id, _idle))
        _all.clear()
        _idle.clear()
    for proc in procs:
        if id(proc) in idle:
            proc.close(timeout=1.0)  # a prewarming process may still be importing torch
        else:
            proc.kill()


atexit.register(shutdown)


def live_processes() -> list[int]:
    """PIDs of the worker processes that are alive (for tests and diagnostics)."""
    with _pool_lock:
        return [p.pid for p in _all if p.alive]


class EngineJob:
    """One engine job for a worker process: :meth:`start`, iterate :meth:`events`, read the
    outcome. Without Qt: ``EngineJob("train", {...}).start().wait()`` (see :func:`submit`).

    :meth:`cancel` may be called from any thread, also before the job has started.
    """

    def __init__(self, kind: str, payload: dict) -> None:
        self.kind = kind
        self._payload = payload
        self._proc: EngineProcess | None = None
        self._id = 0
        self._cancel_at: float | None = None
        self._done = False
        self.result: Any = None
        self.error: EngineError | None = None
        self.cancelled = False
        self.used_gpu = False
        self.pid: int | None = None

    def start(self) -> EngineJob:
        """Take a warm worker process (or start one) and send it the job; blocks briefly."""
        proc = _take_process()
        try:
            self._id = proc.start_job(self.kind, self._payload)
        except OSError as exc:
            _give_back(proc, retire=True)
            raise EngineProcessDied(f"could not send '{self.kind}' to the EQ worker process: "
                                    f"{exc}") from exc
        self._payload = None  # the child has it; don't keep big arrays alive here
        self._proc, self.pid = proc, proc.pid
        if self._cancel_at is not None:
            self._send_cancel()
        return self

    def cancel(self) -> None:
        """Ask the job to stop at its next check; it is terminated if it ignores that."""
        if not self._done and self._cancel_at is None:
            self._cancel_at = time.monotonic()
            if self._proc is not None:
                self._send_cancel()

    def _send_cancel(self) -> None:
        try:
            self._proc.send(("cancel", self._id))
        except OSError:
            pass  # the process is gone; events() reports that

    @property
    def done(self) -> bool:
        return self._done

    def events(self) -> Iterator[Any]:
        """Yield the engine events of the started job until it ends (result, error, cancel)."""
        conn = self._proc.conn
        while not self._done:
            try:
                message = conn.recv() if conn.poll(POLL_S) else None
            except (EOFError, OSError):  # the child died mid-message
                message = None
                self._proc.process.wait(5)
            if message is None:
                self._check_health()
            elif message[1] != self._id:
                continue  # the tail of an earlier job on this process (e.g. a warm-up)
            elif message[0] == "event":
                yield message[2]
            else:
                self._finish(message)

    def wait(self, timeout: float | None = None) -> Any:
        """Drain the events and return the result, or raise the job's error.

        With ``timeout``, the job is cancelled once it has run that long.
        """
        timer = threading.Timer(timeout, self.cancel) if timeout is not None else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            for _ in self.events():
                pass
        finally:
            if timer is not None:
                timer.cancel()
        return self.outcome()

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result

    def _check_health(self) -> None:
        if not self._proc.alive:
            code = self._proc.process.returncode
            self._end(error=EngineProcessDied(
                f"the EQ worker process (pid {self.pid}) ended with exit code {code} during "
                f"'{self.kind}'; it may have run out of memory. Try a smaller batch size or tile."))
        elif self._cancel_at is not None and time.monotonic() - self._cancel_at > HARD_CANCEL_S:
            log.warning("job %s ignored Stop for %.0f s; terminating pid %s", self.kind,
                        HARD_CANCEL_S, self.pid)
            self._proc.process.terminate()
            self._proc.process.wait(5)
            self.cancelled = True
            self._end(error=Cancelled(f"'{self.kind}' was stopped (worker process terminated)"))

    def _finish(self, message: tuple) -> None:
        status, _, payload, self.used_gpu = message
        if status == "result":
            self.result = payload
            self.cancelled = bool(getattr(payload, "cancelled", False))
            self._end()
        elif status == "cancelled":
            self.cancelled = True
            self._end(error=Cancelled(payload or f"'{self.kind}' was stopped"))
        else:
            self._end(error=rebuild_error(payload))

    def _end(self, error: EngineError | None = None) -> None:
        self.error = error
        self._done = True
        _give_back(self._proc, retire=self.used_gpu or not self._proc.alive)


def submit(kind: str, payload: dict) -> EngineJob:
    """Start engine job ``kind`` (see :mod:`eq_gui.engine_jobs`) in a worker process."""
    return EngineJob(kind, payload).start()


def prewarm() -> None:
    """Start a worker process in the background and queue a warm-up (torch imports) in it.

    The process waits in the pool at once: a job that comes before the warm-up has finished
    simply runs after it in the same process, so nothing is imported twice.
    """
    def start() -> None:
        with _pool_lock:
            if _idle:
                return  # a warm process is already waiting
        try:
            proc = _take_process()
            proc.start_job("warmup", {})
        except (EngineError, OSError) as exc:
            log.warning("could not prewarm an EQ worker process: %s", exc)
            return
        _give_back(proc, retire=False)

    threading.Thread(target=start, daemon=True, name="eq-prewarm").start()
