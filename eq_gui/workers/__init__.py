"""The only place in EQ that starts threads and processes.

Engine work that needs torch (train, transfer, predict, evaluate a model) runs in a *worker
process*, so the GUI process never imports torch:

- with the CUDA torch wheel, loading triton (LLVM) after Mesa's llvmpipe made a GL context
  segfaults the process, and a napari that is already running always has GL up;
- a process that used the GPU is retired after its job, so the driver frees all its memory;
- a CPU-only process is kept warm for the next job (torch and fastai stay imported).

The worker is a fresh interpreter (``sys.executable -c ...``) connected back through a
``multiprocessing.connection`` socket with a random auth key. Unlike multiprocessing's ``spawn``
it never re-runs the parent's ``__main__`` (a user's napari script, pytest). A superqt thread
worker in the GUI process pumps the child's events from the connection and yields them; Qt
delivers the ``yielded`` signal to the GUI thread through a queued connection. Stop sends a
cancel message that the child's reader thread turns into the engine's
:class:`~eq_engine.events.CancelToken`; a child that ignores it for ``HARD_CANCEL_S`` is
terminated. A child whose GUI process died exits on its own (its connection closes).
Numpy-only work (thresholding, metrics on layers, quantification) runs in plain thread workers
(:func:`thread_worker_call`).

This package must stay cheap to import without Qt: the child process imports it to find its
entry point, so Qt and napari are imported inside the functions that need them. Modules:
:mod:`.child` (the worker process), :mod:`.pool` (processes and jobs, GUI side), :mod:`.qt`
(thread workers and signals).
"""

from .child import child_main
from .pool import (
    HARD_CANCEL_S,
    EngineJob,
    EngineProcess,
    EngineProcessDied,
    JobFailed,
    live_processes,
    prewarm,
    shutdown,
    submit,
)
from .qt import LatestOnly, engine_worker, thread_worker_call

__all__ = [
    "HARD_CANCEL_S", "EngineJob", "EngineProcess", "EngineProcessDied", "JobFailed", "LatestOnly",
    "child_main", "engine_worker", "live_processes", "prewarm", "shutdown", "submit",
    "thread_worker_call",
]
