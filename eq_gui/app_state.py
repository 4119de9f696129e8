"""One evented state per napari viewer, shared by the EQ docks.

Docks write what they know (the dataset folder the Data dock opened, the model a run saved or the
user chose, the running job, the last result of each kind) and observe what others wrote,
instead of calling each other: the Train dock sets ``model`` and the Predict dock, which
listens to ``events.model``, picks it up. Neither imports the other.

``state_for(viewer)`` returns the viewer's state (created on first use, dropped with the viewer).
Fields are psygnal-evented: ``state.events.model.connect(fn)`` calls ``fn(new_value)`` after
each change, and setting an equal value emits nothing.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from psygnal import evented

RESULT_KINDS = ("train", "predict", "evaluate", "quantify")


@evented
@dataclass
class AppState:
    """What the docks of one viewer share. Set fields with plain assignment."""

    dataset: Path | None = None  # the dataset folder open in the Data dock
    model: Path | None = None  # the model file chosen last (trained or opened)
    jobs: tuple[str, ...] = ()  # descriptions of the jobs running now, in start order
    results: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def set_result(self, kind: str, result: Any) -> None:
        """Record the last result of ``kind`` (one of RESULT_KINDS); emits ``events.results``."""
        if kind not in RESULT_KINDS:
            raise ValueError(f"unknown result kind {kind!r}; use one of {RESULT_KINDS}")
        self.results = MappingProxyType({**self.results, kind: result})

    def job_started(self, description: str) -> None:
        self.jobs = (*self.jobs, description)

    def job_finished(self, description: str) -> None:
        jobs = list(self.jobs)
        if description in jobs:
            jobs.remove(description)
        self.jobs = tuple(jobs)

    @property
    def busy(self) -> bool:
        return bool(self.jobs)


_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _unwrap(viewer):
    """The viewer behind napari's PublicOnlyProxy (docks opened from the Plugins menu get one)."""
    return getattr(viewer, "__wrapped__", viewer)


def state_for(viewer) -> AppState:
    """The :class:`AppState` of ``viewer`` (the same object for every dock of that viewer)."""
    key = _unwrap(viewer)
    state = _states.get(key)
    if state is None:
        state = _states[key] = AppState()
    return state
