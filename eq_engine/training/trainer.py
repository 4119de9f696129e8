"""``train()``: fit a segmentation U-Net with fastai's one-cycle policy, with live events.

One function serves the CLI, scripts and the GUI::

    result = train("data/em", TrainConfig(task="mitochondria", epochs=20), out="mito.eqm",
                   on_event=print, cancel=token)

Behaviour worth knowing:

- Defaults per device (``arch="auto"``, ``size=0``, ``batch_size=0``): CPU gets resnet18,
  128-px crops, batch 4 (a usable model in minutes); CUDA/MPS get resnet34, 256 px, batch 16
  (the upstream recipe). Mixed precision (fastai ``to_fp16``) runs on CUDA only.
- The saved model holds the weights of the best epoch by validation Dice. It is written
  atomically to ``config.checkpoint_path`` (default: a temporary file beside ``out``, see
  :mod:`eq_engine.training.output`) each time the Dice improves, and to ``out`` with the full
  history once, at the end, also after a cancel. Its metadata says ``complete: true`` only for a
  run that finished. An existing ``out`` is refused unless ``overwrite=True``.
- ``cancel.cancel()`` stops at the next batch boundary; the result has ``cancelled=True`` and
  the best model so far. Cancelling before the first batch raises :class:`Cancelled`.
- ``resume_from`` continues a run from a model file: same architecture, scale and
  normalisation; epoch numbers and history continue. The optimiser state is not stored in model
  files, so the new epochs start a fresh one-cycle schedule.
- Seeded runs are reproducible on CPU (same seed, data and config -> same history).
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import TrainConfig
from ..device import DeviceInfo, pick_device
from ..errors import ConfigError
from ..events import Finished, StageStarted, check_cancel, emit
from ..io.model_info import ModelInfo
from ..models.unet import ENCODER_STAGES
from .results import TrainResult

log = logging.getLogger(__name__)

CPU_DEFAULTS = {"arch": "resnet18", "size": 128, "batch_size": 4}
GPU_DEFAULTS = {"arch": "resnet34", "size": 256, "batch_size": 16}


@dataclass(frozen=True)
class Resolved:
    """Config values with "auto" resolved for the device (and a resumed/base model)."""

    arch: str
    tile: int  # crop size in training; the model file's tile
    batch_size: int
    scale: float
    device: DeviceInfo
    mixed_precision: bool


@dataclass(frozen=True)
class Stage:
    name: str
    epochs: int
    lr: Any  # float, or slice(low, high) for discriminative learning rates
    frozen: bool = False


@dataclass
class Session:
    """Everything one model's fit needs; shared by its stages."""

    config: TrainConfig
    resolved: Resolved
    prepared: Any
    model: Any
    run: Any
    out: Path | None
    checkpoint: Path | None
    on_event: Any = None
    cancel: Any = None
    parent: dict | None = None
    extra_meta: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    name: str = "train"  # "train", "transfer" or "scratch": the Finished event's stage
    pretrained_stages: int = ENCODER_STAGES  # encoder stages that freeze holds (transfer)


def resolve_settings(config: TrainConfig, info: DeviceInfo,
                     base: ModelInfo | None = None) -> Resolved:
    """Fill "auto" values from the device defaults, or from ``base`` (a resumed model)."""
    defaults = GPU_DEFAULTS if info.is_gpu else CPU_DEFAULTS
    arch = config.arch if config.arch != "auto" else defaults["arch"]
    scale = config.scale
    tile = config.size or defaults["size"]
    if base is not None:
        if config.arch not in ("auto", base.arch):
            raise ConfigError(f"arch={config.arch!r} but the model to continue is "
                              f"{base.arch!r}; use arch='auto' or the same architecture")
        if config.scale not in (0.0, 1.0, base.scale):
            raise ConfigError(f"scale={config.scale} but the model to continue was trained at "
                              f"scale {base.scale}; leave scale at auto (0) or use the same value")
        arch, scale = base.arch, base.scale
        tile = config.size or base.tile
    return Resolved(arch, tile, config.batch_size or defaults["batch_size"], scale, info,
                    bool(config.mixed_precision and info.mixed_precision))


def prepare_session_data(data: Any, config: TrainConfig, resolved: Resolved, *,
                         norm: dict | None = None, in_channels: int = 0):
    """Read, split and normalise ``data`` for ``config`` (see :mod:`eq_engine.data.loaders`)."""
    from ..data.loaders import prepare_data

    return prepare_data(data, scale=resolved.scale, size=resolved.tile,
                        valid_fraction=config.valid_fraction, seed=config.seed,
                        group_pattern=config.group_pattern, valid_pattern=config.valid_pattern,
                        in_channels=in_channels or config.in_channels, norm=norm)


def seed_everything(seed: int) -> None:
    from fastai.torch_core import set_seed

    set_seed(seed, reproducible=False)


def train(data: Any, config: TrainConfig, *, out: str | os.PathLike | None = None,
          resume_from: str | os.PathLike | None = None, overwrite: bool = False, on_event=None,
          cancel=None) -> TrainResult:
    """Train a U-Net on ``data`` (folder(s), Pairs or (image, mask) arrays); see module doc."""
    from .output import training_outputs

    with training_outputs([_path(out)], overwrite=overwrite) as (temp,):
        return _train(data, config, out=_path(out), checkpoint=_path(config.checkpoint_path) or temp,
                      resume_from=resume_from, on_event=on_event, cancel=cancel)


def _train(data: Any, config: TrainConfig, *, out: Path | None, checkpoint: Path | None,
           resume_from, on_event, cancel) -> TrainResult:
    from ..io.models import load_weights
    from ..models.unet import build_unet
    from .callbacks import RunLog

    started = time.perf_counter()
    base_state, base = None, None
    if resume_from:
        base_state, meta = load_weights(resume_from)
        base = ModelInfo.from_metadata(meta)
    device = pick_device(config.device)
    config, recipe = recipe_for(data, config, device, base)
    resolved = resolve_settings(config, device, base)
    emit(on_event, StageStarted("prepare", "reading and normalising training data"))
    prepared = prepare_session_data(data, config, resolved,
                                    norm=dict(base.normalization) if base else None,
                                    in_channels=base.in_channels if base else 0)
    check_cancel(cancel)
    seed_everything(config.seed)
    weights = None if base else config.pretrained_weights
    model = build_unet(resolved.arch, in_channels=prepared.in_channels, weights_path=weights)
    run = RunLog()
    if base is not None:
        model.load_state_dict(base_state)
        _continue_run(run, base, base_state)
    session = Session(config, resolved, prepared, model, run, out, checkpoint, on_event, cancel,
                      parent=dict(base.parent) if base and base.parent else None, extra_meta=recipe,
                      started=started)
    return fit_stages(session, [Stage("train", config.epochs, config.lr)])


def recipe_for(data: Any, config: TrainConfig, info: DeviceInfo,
               base=None) -> tuple[TrainConfig, dict]:
    """``config`` with ``scale=0`` and ``crops_per_image=0`` (auto) resolved, and the recipe
    metadata for the model file; a resumed model (``base``, a ModelInfo) keeps its own (see
    :mod:`.recipe`)."""
    from ..data.objects import MIN_CROPS
    from ..io.recipe_meta import recipe_entries
    from .recipe import apply_recipe

    if base is not None:
        if config.crops_per_image == 0:
            crops = (base.extra.get("train_config") or {}).get("crops_per_image") or MIN_CROPS
            config = config.replace(crops_per_image=int(crops))
        return config, recipe_entries(base)
    size = config.size or (GPU_DEFAULTS if info.is_gpu else CPU_DEFAULTS)["size"]
    return apply_recipe(data, config, size=size)


def _path(value) -> Path | None:
    return Path(value) if value else None


def _continue_run(run, base: ModelInfo, base_state: dict) -> None:
    """Seed a RunLog with a resumed model's history and best score (its weights are the best)."""
    run.history = [dict(r) for r in base.history]
    dice = base.metrics.get("dice")
    run.best_value = float(dice) if isinstance(dice, (int, float)) else -math.inf
    run.best_row = dict(base.metrics)
    run.best_state = base_state


def fit_stages(session: Session, stages: list[Stage]) -> TrainResult:
    """Run ``stages`` one after another on one model; stop early on cancel; write the result."""
    from ..data.loaders import build_dataloaders
    from ..device import memory_format
    from .callbacks import BestCheckpoint, CancelCheck, EpochMetrics
    from .learner import build_learner

    cfg, res, run = session.config, session.resolved, session.run
    # a resumed run draws new crops rather than replaying the first run's (the split is fixed)
    dls = build_dataloaders(session.prepared, size=res.tile, batch_size=res.batch_size,
                            crops_per_image=cfg.crops_per_image,
                            positive_fraction=cfg.positive_fraction, seed=cfg.seed + len(run.history),
                            device=res.device.name, augment=cfg.augment,
                            scale_jitter=cfg.scale_jitter)
    layout = memory_format(res.device.name)
    session.model.to(res.device.name, memory_format=layout)
    total = len(run.history) + sum(s.epochs for s in stages)
    for stage in stages:
        if stage.epochs == 0 or _cancelled(session.cancel):
            continue
        emit(session.on_event, StageStarted(stage.name, _stage_message(stage, res)))
        callbacks = [CancelCheck(session.cancel),
                     EpochMetrics(run, stage=stage.name, epoch_offset=len(run.history),
                                  n_epochs=total, threshold=cfg.threshold,
                                  on_event=session.on_event),
                     BestCheckpoint(run, stage=stage.name, save=_checkpoint_writer(session),
                                    on_event=session.on_event)]
        learn = build_learner(dls, session.model, loss=cfg.loss, lr=cfg.lr,
                              weight_decay=cfg.weight_decay, callbacks=callbacks,
                              mixed_precision=res.mixed_precision, on_event=session.on_event,
                              stage=stage.name, memory_format=layout,
                              pretrained_stages=session.pretrained_stages)
        if stage.frozen:
            learn.freeze()  # encoder group frozen (its BatchNorm still trains); head learns
        else:
            learn.unfreeze()
        learn.fit_one_cycle(stage.epochs, stage.lr)
    return finish(session)


def _stage_message(stage: Stage, res: Resolved) -> str:
    lr = (f"{stage.lr.start:.1e}-{stage.lr.stop:.1e}" if isinstance(stage.lr, slice)
          else f"{stage.lr:.1e}")
    frozen = ", encoder frozen" if stage.frozen else ""
    return (f"{stage.epochs} epoch{'s' if stage.epochs != 1 else ''} on {res.device.name}: "
            f"{res.arch}, {res.tile} px crops, batch {res.batch_size}, lr {lr}{frozen}")


def _cancelled(cancel) -> bool:
    return cancel is not None and cancel.cancelled


def _checkpoint_writer(session: Session):
    if session.checkpoint is None:
        return None

    def save(state: dict, row: dict) -> Path:
        from ..io.models import save_model

        meta = build_metadata(session, best=row, cancelled=False, complete=False)
        return save_model(session.checkpoint, state, meta)

    return save


def finish(session: Session) -> TrainResult:
    """Load the best weights into the model, write ``out``, emit Finished, build the result."""
    from ..io.models import save_model

    run, cancelled = session.run, _cancelled(session.cancel)
    seconds = time.perf_counter() - session.started
    meta = build_metadata(session, best=run.best_row, cancelled=cancelled, seconds=seconds,
                          complete=not cancelled)
    path = None
    if run.best_state is not None:
        session.model.load_state_dict(run.best_state)
        target = session.out or session.checkpoint
        if target is not None:
            path = save_model(target, run.best_state, meta)
    session.model.eval()
    best = run.best_row
    dice = best.get("dice") if best else None
    shown = f"{dice:.3f}" if isinstance(dice, float) else dice
    message = f"best valid Dice {shown} at epoch {best.get('epoch')}" if best else "no epoch finished"
    emit(session.on_event, Finished(session.name, cancelled, message))
    return TrainResult(path, meta, list(run.history), dict(best), cancelled, seconds,
                       session.resolved.device.name,
                       module=session.model if run.best_state is not None else None)


def build_metadata(session: Session, *, best: dict, cancelled: bool, complete: bool,
                   seconds: float | None = None) -> dict:
    """The model file metadata (see :class:`~eq_engine.io.model_info.ModelInfo`); ``complete``
    is true only for the file written when the run finished (not a checkpoint, not a cancel)."""
    from ..versions import library_versions

    cfg, res, prep = session.config, session.resolved, session.prepared
    seconds = time.perf_counter() - session.started if seconds is None else seconds
    info = ModelInfo(
        task=cfg.task, arch=res.arch, in_channels=prep.in_channels, n_classes=2,
        normalization=prep.norm, tile=res.tile, scale=res.scale,
        threshold=cfg.threshold, parent=session.parent,
        history=[dict(r) for r in session.run.history],
        metrics={k: best.get(k) for k in ("epoch", "dice", "iou", "valid_loss", "train_loss")},
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        extra={**_training_record(session, seconds, cancelled, library_versions()),
               "complete": complete})
    return info.to_metadata()


def _training_record(session: Session, seconds: float, cancelled: bool, versions: dict) -> dict:
    """What a model file records about its training beyond :class:`ModelInfo`'s fields."""
    cfg, res, prep = session.config, session.resolved, session.prepared
    return {
        "classes": ["background", "foreground"],
        "train_config": {**cfg.to_dict(), "arch": res.arch, "size": res.tile,
                         "batch_size": res.batch_size, "scale": res.scale},
        "split": {"train": [i.stem for i in prep.train], "valid": [i.stem for i in prep.valid],
                  "valid_groups": prep.split.valid_groups, "group_pattern": cfg.group_pattern,
                  "valid_pattern": cfg.valid_pattern},
        "data": prep.sources, "device": res.device.name, "seconds": seconds,
        "cancelled": cancelled, "versions": versions,
        **session.extra_meta,
    }
