"""Resuming ``eq cv``: a fold whose model file is already complete is scored, not retrained.

A cross-validation on a CPU runs for hours; when it stops (a crash, a reboot, a cancel), running
the same command again into the same ``--out`` keeps every finished fold. A model file is reused
when it says it finished (``complete``, not cancelled); an unfinished one is trained again. A
finished model of another experiment (other training images, or a recorded training config that
differs from the requested one; settings left to "auto" match whatever they resolved to) is
never overwritten: the run stops and names it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..config import TrainConfig
from ..errors import DataError, ModelError
from .results import TrainResult

log = logging.getLogger(__name__)

# requested values that the trainer resolves (by device or data): any recorded value matches
_AUTO = {"arch": "auto", "size": 0, "batch_size": 0, "scale": 0.0, "crops_per_image": 0}
_IGNORED = ("checkpoint_path", "device")


def reusable_result(path: Path, config: TrainConfig, train_stems: set[str]) -> TrainResult | None:
    """The TrainResult of the finished model at ``path`` for this fold; None when there is none
    or it did not finish (train it); DataError when it belongs to another experiment."""
    from ..io.models import read_metadata

    if not path.is_file():
        return None
    try:
        meta = read_metadata(path)
    except ModelError as exc:
        raise DataError(f"{path} is in the way of this fold's model and is not one ({exc}); "
                        "move it, or choose another output folder") from exc
    if meta.get("complete") is not True or meta.get("cancelled"):
        log.info("%s did not finish training; training the fold again", path)
        return None
    why = _mismatch(meta, config, train_stems)
    if why:
        raise DataError(f"{path} is a finished model of another experiment ({why}); choose "
                        "another output folder, or delete it to train this fold again")
    return TrainResult(path, meta, list(meta.get("history") or []), dict(meta.get("metrics") or {}),
                       False, float(meta.get("seconds") or 0.0), str(meta.get("device", "")))


def _mismatch(meta: dict, config: TrainConfig, train_stems: set[str]) -> str | None:
    split = meta.get("split") or {}
    used = set(split.get("train") or []) | set(split.get("valid") or [])
    if used != train_stems:
        return "trained on other images than this fold's"
    recorded = meta.get("train_config") or {}
    for key, wanted in config.to_dict().items():
        if key in _IGNORED or (key in _AUTO and wanted == _AUTO[key]):
            continue
        if recorded.get(key) != wanted:
            return f"its training config has {key}={recorded.get(key)!r}, not {wanted!r}"
    return None
