"""The worker process side: connect back to the GUI, run engine jobs one at a time."""

from __future__ import annotations

import importlib
import os
import queue
import sys
import threading
import traceback

from eq_engine.errors import Cancelled


def child_main() -> None:
    """Entry point of a worker process.

    Started as ``python -c "from eq_gui.workers.child import child_main; child_main()" ADDRESS``
    with the connection's auth key on stdin.
    """
    from multiprocessing.connection import Client

    authkey = bytes.fromhex(sys.stdin.readline().strip())
    conn = Client(decode_address(sys.argv[1]), authkey=authkey)
    try:  # the GUI thread must win the CPU when the machine is busy
        os.nice(5)
    except (AttributeError, OSError):
        pass
    ChildLoop(conn).run()


def encode_address(address) -> str:
    return f"tcp:{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)


def decode_address(text: str):
    if text.startswith("tcp:"):
        host, port = text[4:].rsplit(":", 1)
        return host, int(port)
    return text


def describe(exc: BaseException) -> tuple[str, str, str]:
    """An exception as (class name, message, traceback text): always picklable."""
    return type(exc).__name__, str(exc), "".join(traceback.format_exception(exc))


class ChildLoop:
    """The main thread runs jobs; a reader thread takes jobs, cancels and quit messages.

    Every message back names its job: ``("event", id, event)``, then one of
    ``("result", id, result, used_gpu)``, ``("cancelled", id, message, used_gpu)`` or
    ``("error", id, (class name, message, traceback), used_gpu)``.
    """

    def __init__(self, conn) -> None:
        from eq_engine.events import CancelToken

        self._conn = conn
        self._send_lock = threading.Lock()
        self._jobs: queue.Queue = queue.Queue()
        self._token_cls = CancelToken
        self._token = None
        self._job_id = None
        self._cancelled: set[int] = set()  # a cancel may arrive before its job starts
        threading.Thread(target=self._read, daemon=True, name="eq-child-reader").start()

    def send(self, message: tuple) -> None:
        with self._send_lock:
            self._conn.send(message)

    def _read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):  # the GUI process is gone: nothing left to work for
                os._exit(3)
            if message[0] == "cancel":
                self._cancelled.add(message[1])
                if message[1] == self._job_id:
                    self._cancel_current()
            else:
                if message[0] == "quit":  # the GUI is closing: stop the job, keep its best model
                    self._cancel_current()
                self._jobs.put(message)

    def _cancel_current(self) -> None:
        token = self._token
        if token is not None:
            token.cancel()

    def run(self) -> None:
        runner = importlib.import_module("eq_gui.engine_jobs")
        while True:
            message = self._jobs.get()
            if message[0] == "quit":
                return
            _, job_id, kind, payload = message
            self._job_id = job_id
            self._token = token = self._token_cls()
            if job_id in self._cancelled:
                token.cancel()
            try:
                result = runner.run_job(kind, payload, cancel=token,
                                        on_event=lambda ev, i=job_id: self.send(("event", i, ev)))
                self.send(("result", job_id, result, runner.used_gpu()))
            except Cancelled as exc:
                self.send(("cancelled", job_id, str(exc), runner.used_gpu()))
            except BaseException as exc:  # reported to the GUI, which shows it and stays alive
                self.send(("error", job_id, describe(exc), runner.used_gpu()))
            finally:
                self._token = None
                self._cancelled.discard(job_id)
