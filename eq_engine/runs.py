"""Run records: one JSON file per train/predict/evaluate/quantify/demo run.

A record holds the config, input files with hashes, model file hashes, metrics, history,
timings, library versions and the device, so any number in a report can be traced to its run.
Records live in ``runs_dir()``: ``$EQ_RUNS_DIR`` if set, else a per-user data directory.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DataError
from .io.atomic import atomic_write_text
from .jsonsafe import jsonable
from .versions import library_versions

RUN_KINDS = ("train", "transfer", "predict", "evaluate", "quantify", "demo", "cv")


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
    """One run. Fill it while the run goes, then :meth:`save`."""

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

    def __post_init__(self) -> None:
        if self.kind not in RUN_KINDS:
            raise DataError(f"run kind {self.kind!r} is not one of {RUN_KINDS}")
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

    def save(self, directory: str | os.PathLike | None = None) -> Path:
        self.versions = self.versions or library_versions()
        path = runs_dir(directory) / f"{self.id}.json"
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, allow_nan=False))
        return path


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
    import logging

    out = []
    for path in sorted(runs_dir(directory).glob("*.json")):
        try:
            record = load_run(str(path))
        except DataError as exc:
            logging.getLogger(__name__).warning("skipping %s", exc)
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


def record_run(kind: str, config, *, metrics: dict, seconds: float, inputs=(), models=(),
               device: str = "", history=(), runs_dir: str | os.PathLike | None = None) -> RunRecord:
    """Save and return a run record.

    ``config``: a config dataclass or dict; ``inputs``: paths (files are hashed); ``models``:
    ``(role, path)`` pairs (files are hashed); ``seconds``: stored as ``timings["total_s"]``.
    """
    record = RunRecord(kind, config=config, metrics=jsonable(metrics), history=list(history),
                       timings={"total_s": float(seconds)}, device=str(device or ""))
    for path in inputs:
        if path:
            record.add_input(path)
    for role, path in models:
        if path:
            record.add_model(path, role)
    record.save(runs_dir)
    return record


def record_training(kind: str, config, result, *, inputs=(), models=(),
                    runs_dir: str | os.PathLike | None = None) -> RunRecord:
    """Save and return the record of a ``TrainResult``: its history, numeric best metrics,
    time, device and output model (role ``"output"``), plus ``models`` such as ``("base", p)``."""
    return record_run(kind, config, metrics=numeric_metrics(result.best),
                      seconds=result.seconds, inputs=inputs,
                      models=[("output", result.model_path), *models], device=result.device,
                      history=result.history or (), runs_dir=runs_dir)
