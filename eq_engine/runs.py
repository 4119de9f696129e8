"""Run records: one JSON file per train/predict/evaluate/quantify/demo run.

:func:`recorded_run` is the one way to write them: ``with recorded_run("train", config) as run:``
writes the record marked ``running`` at the start and rewrites it at exit as ``finished``,
``cancelled`` or ``failed`` (with the error), so a killed process leaves a record that
``eq runs list`` shows as incomplete. A record holds the config, input files with hashes, model file hashes, metrics, history,
timings, library versions and the device, so any number in a report can be traced to its run.
Records live in ``runs_dir()``: ``$EQ_RUNS_DIR`` if set, else a per-user data directory.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Cancelled, DataError, EngineError
from .io.atomic import atomic_write_text
from .jsonsafe import jsonable
from .versions import library_versions

RUN_KINDS = ("train", "transfer", "predict", "evaluate", "quantify", "demo", "cv")
RUN_STATUSES = ("running", "finished", "cancelled", "failed")
log = logging.getLogger(__name__)


def runs_dir(override: str | os.PathLike | None = None) -> Path:
    if override:
        return Path(override)
    env = os.environ.get("EQ_RUNS_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("eq", appauthor=False)) / "runs"


def file_sha256(path: str | os.PathLike, *, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class RunRecord:
    """One run, filled while it goes (see :func:`recorded_run`).

    ``status`` is one of :data:`RUN_STATUSES` (records written before it existed read as
    "finished"); ``error`` says why a run failed or was cancelled. ``path`` is where the record
    was last saved (None before, or when saving failed: then ``save_error`` says why).
    """

    kind: str
    config: dict = field(default_factory=dict)
    id: str = ""
    created: str = ""
    inputs: list = field(default_factory=list)  # [{"path", "sha256"}]
    models: list = field(default_factory=list)  # [{"role", "path", "sha256"}]
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    device: str = ""
    versions: dict = field(default_factory=dict)
    notes: str = ""
    status: str = "finished"
    error: str = ""

    def __post_init__(self) -> None:
        if self.kind not in RUN_KINDS:
            raise DataError(f"run kind {self.kind!r} is not one of {RUN_KINDS}")
        if self.status not in RUN_STATUSES:
            raise DataError(f"run status {self.status!r} is not one of {RUN_STATUSES}")
        self.path: Path | None = None
        self.save_error: Exception | None = None
        now = _dt.datetime.now(_dt.timezone.utc)
        self.created = self.created or now.isoformat(timespec="seconds")
        self.id = self.id or f"{now:%Y%m%d-%H%M%S}-{self.kind}-{uuid.uuid4().hex[:6]}"
        self.config = jsonable(self.config)

    def add_input(self, path: str | os.PathLike, *, hash_file: bool = True) -> None:
        p = Path(path)
        entry = {"path": str(p)}
        if hash_file and p.is_file():
            entry["sha256"] = file_sha256(p)
        self.inputs.append(entry)

    def add_model(self, path: str | os.PathLike, role: str) -> None:
        p = Path(path)
        entry = {"role": role, "path": str(p)}
        if p.is_file():
            entry["sha256"] = file_sha256(p)
        self.models.append(entry)

    def to_dict(self) -> dict:
        return jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})

    def add_training(self, result, *, role: str = "output") -> None:
        """History, numeric best metrics, time, device and model file of a ``TrainResult``;
        a cancelled training marks the run cancelled."""
        self.metrics.update(numeric_metrics(result.best))
        self.history = list(result.history or ())
        self.timings["total_s"] = float(result.seconds)
        self.device = str(result.device or "")
        if result.model_path:
            self.add_model(result.model_path, role)
        if result.cancelled:
            self.status = "cancelled"

    def add_evaluation(self, report) -> None:
        """Pooled and per-image-mean metrics and the image count of an ``EvalReport``."""
        self.metrics.update({**numeric_metrics(report.aggregates.get("pooled"), "pooled"),
                             **numeric_metrics(report.aggregates.get("mean"), "mean"),
                             "images": len(report.per_image)})
        self.timings["total_s"] = float(report.seconds)

    def add_batch(self, result) -> None:
        """Image counts and time of a batch prediction (``BatchResult``)."""
        self.metrics.update({"predicted": len(result.outputs), "skipped": len(result.skipped),
                             "failed": len(result.failed)})
        self.timings["total_s"] = float(result.seconds)

    def save(self, directory: str | os.PathLike | None = None) -> Path:
        self.versions = self.versions or library_versions()
        self.metrics = jsonable(self.metrics)
        path = runs_dir(directory) / f"{self.id}.json"
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, allow_nan=False))
        self.path = path
        return path

    def try_save(self, directory: str | os.PathLike | None = None) -> Path | None:
        """:meth:`save`, but a record is a by-product: failing to write it is logged and kept in
        ``save_error``, never raised."""
        try:
            self.save(directory)
            self.save_error = None
        except (OSError, EngineError, TypeError, ValueError) as exc:
            self.path, self.save_error = None, exc
            log.warning("could not save the run record %s: %s", self.id, exc)
        return self.path


@contextlib.contextmanager
def recorded_run(kind: str, config=None, *, inputs=(), models=(),
                 runs_dir: str | os.PathLike | None = None) -> Iterator[RunRecord]:
    """Record the run of the ``with`` block; see the module doc.

    ``config``: a config dataclass or dict; ``inputs``: paths (files are hashed); ``models``:
    ``(role, path)`` pairs (files are hashed; None paths are skipped). Fill the yielded record's
    metrics inside the block (:meth:`RunRecord.add_training`, :meth:`RunRecord.add_evaluation`,
    ``run.metrics``). ``timings["total_s"]`` is the block's wall time unless set inside it.
    Exceptions propagate after the record says "failed" (``Cancelled``, Ctrl-C: "cancelled").
    """
    record = RunRecord(kind, config=config if config is not None else {}, status="running")
    for path in inputs:
        if path:
            record.add_input(path)
    for role, path in models:
        if path:
            record.add_model(path, role)
    start = time.perf_counter()
    record.try_save(runs_dir)
    try:
        yield record
    except (Cancelled, KeyboardInterrupt) as exc:
        record.status, record.error = "cancelled", str(exc) or type(exc).__name__
        raise
    except BaseException as exc:
        record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    else:
        if record.status == "running":
            record.status = "finished"
    finally:
        record.timings.setdefault("total_s", time.perf_counter() - start)
        record.try_save(runs_dir)


def load_run(run_id: str, directory: str | os.PathLike | None = None) -> RunRecord:
    """Load a run by id, unique id prefix, or path of its JSON file."""
    candidate = Path(run_id)
    if candidate.suffix == ".json" and candidate.is_file():
        path = candidate
    else:
        base = runs_dir(directory)
        matches = sorted(base.glob(f"{run_id}*.json"))
        if not matches:
            raise DataError(f"no run {run_id!r} in {base}; `eq runs list` shows the ids")
        if len(matches) > 1:
            names = ", ".join(m.stem for m in matches[:5])
            raise DataError(f"run id {run_id!r} is ambiguous in {base}: {names}")
        path = matches[0]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RunRecord(**data)
    except (json.JSONDecodeError, TypeError) as exc:
        raise DataError(f"{path} is not an EQ run record: {exc}") from exc


def list_runs(directory: str | os.PathLike | None = None, *, kind: str | None = None) -> list[RunRecord]:
    """All readable runs, newest first; unreadable files are skipped (and logged)."""
    out = []
    for path in sorted(runs_dir(directory).glob("*.json")):
        try:
            record = load_run(str(path))
        except DataError as exc:
            log.warning("skipping %s", exc)
            continue
        if kind is None or record.kind == kind:
            out.append(record)
    return sorted(out, key=lambda r: r.created, reverse=True)


def numeric_metrics(metrics: dict | None, prefix: str = "") -> dict:
    """The numbers of a metrics dict, flattened: ``{"dice": {"value": 0.8, ...}}`` -> ``dice``.

    ``prefix`` names the source (``pooled`` -> ``pooled_dice``); non-numeric values are dropped.
    """
    out = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, dict):
            value = value.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f"{prefix}_{key}" if prefix else str(key)] = float(value)
    return out
