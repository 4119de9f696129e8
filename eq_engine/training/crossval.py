"""``cross_validate``: train and score one model per fold, folds grouped by subject.

::

    result = cross_validate("data/kidney", CVConfig(group_pattern=r"^(T\\d+)_"), out="cv/")
    print(result.summary["arms"]["scratch"]["pooled_dice"])

Each fold trains through the same :func:`~eq_engine.training.train` (or
:func:`~eq_engine.training.transfer.transfer_train`) as ``eq train`` on the other subjects'
images, then scores the held-out subjects' images with :func:`~eq_engine.evaluation.evaluate`
(pooled and per-image Dice/IoU, object F1, Otsu and all-background baselines). The output
folder holds ``fold<k>/<arm>.eqm`` and the fold's evaluation, ``folds.csv`` (one row per fold
and arm), ``summary.json`` (see :mod:`eq_engine.training.cv_summary`) and ``folds.png``.
A cancel stops after the fold in progress; what finished is still summarised. Running the same
command again into the same folder scores the folds whose models finished instead of training
them again (:mod:`eq_engine.training.cv_resume`).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.crossval import CVConfig
from ..data.split import group_of
from ..errors import Cancelled, DataError
from ..events import Progress, StageStarted, emit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fold:
    """One fold: its index, the held-out subjects, and the pairs on each side."""

    index: int
    test_groups: tuple[str, ...]
    train: tuple  # of Pair
    test: tuple


@dataclass
class CVResult:
    """What :func:`cross_validate` produced; ``rows`` are ``folds.csv``'s rows."""

    rows: list[dict]
    summary: dict
    folds: list[Fold]
    models: list[Path] = field(default_factory=list)
    out: Path | None = None
    cancelled: bool = False
    seconds: float = 0.0


def _pairs(data: Any) -> list:
    from ..io.datasets import Pair, find_pairs

    if isinstance(data, (str, os.PathLike)):
        data = [data]
    pairs = []
    for entry in data:
        if isinstance(entry, Pair):
            pairs.append(entry)
        elif isinstance(entry, (str, os.PathLike)):
            found = find_pairs(entry)
            if not found:
                raise DataError(f"{entry} holds no image/mask pairs (images/<stem>.* and "
                                "masks/<stem>.png); `eq data check` explains what is missing")
            pairs += found
        else:
            raise DataError(f"cross-validation data item {entry!r} is not a dataset folder or a "
                            "Pair; arrays cannot be cross-validated (folds are scored from files)")
    return pairs


def make_folds(pairs: list, group_pattern: str, *, folds: int = 0, seed: int = 0) -> list[Fold]:
    """Folds over subjects: one per subject (``folds=0``) or subjects dealt into ``folds`` sets.

    Subjects are named by ``group_pattern``'s first group; with ``folds=K`` they are shuffled
    with ``seed`` and dealt round-robin, so fold sizes differ by at most one subject.
    """
    import numpy as np

    groups: dict[str, list] = {}
    for pair in pairs:
        groups.setdefault(group_of(pair.stem, group_pattern), []).append(pair)
    names = sorted(groups)
    if len(names) < 2:
        raise DataError(f"cross-validation needs at least 2 subjects; group_pattern "
                        f"{group_pattern!r} finds {names}. Check the pattern against the file names")
    k = folds or len(names)
    if k > len(names):
        raise DataError(f"folds={k} but only {len(names)} subjects ({names}); use folds <= "
                        f"{len(names)}, or 0 for leave-one-subject-out")
    order = names if not folds else [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    dealt: list[list[str]] = [[] for _ in range(k)]
    for i, name in enumerate(order):
        dealt[i % k].append(name)
    out = []
    for index, held in enumerate(sorted(sorted(d) for d in dealt)):
        test = tuple(p for g in held for p in groups[g])
        train = tuple(p for g in names if g not in held for p in groups[g])
        out.append(Fold(index, tuple(held), train, test))
    return out


def _fold_train_config(config: CVConfig, fold: Fold):
    from ..data.split import split_items

    by_subject = config.inner_valid == "subject"
    tcfg = config.train.replace(group_pattern=config.group_pattern if by_subject else None,
                                valid_pattern=None, checkpoint_path=None)
    split_items([p.stem for p in fold.train], valid_fraction=tcfg.valid_fraction, seed=tcfg.seed,
                group_pattern=tcfg.group_pattern)  # fail early, naming the fold's subjects
    return tcfg


def _train_fold(config: CVConfig, fold: Fold, folder: Path, on_event, cancel) -> dict[str, Any]:
    """``{arm: TrainResult}`` for one fold."""
    tcfg = _fold_train_config(config, fold)
    reused = _reused(config, fold, folder, tcfg, on_event)
    if reused:
        return reused
    if not config.base_model:
        from .trainer import train

        return {"scratch": train(list(fold.train), tcfg, out=folder / "scratch.eqm",
                                 overwrite=True, on_event=on_event, cancel=cancel)}
    from ..config import TransferConfig
    from .transfer import transfer_train

    tc = TransferConfig(base_model=config.base_model, train=tcfg,
                        freeze_epochs=config.freeze_epochs, unfreeze_epochs=config.unfreeze_epochs,
                        lr_divisor=config.lr_divisor, copy_stages=config.copy_stages,
                        compare_scratch=config.compare_scratch)
    result = transfer_train(list(fold.train), tc, out=folder / "transfer.eqm", overwrite=True,
                            on_event=on_event, cancel=cancel)
    return {"transfer": result.transfer, **({"scratch": result.scratch} if result.scratch else {})}


def _reused(config: CVConfig, fold: Fold, folder: Path, tcfg, on_event) -> dict | None:
    """``{arm: TrainResult}`` from the fold's finished model files (a re-run), or None; an
    unfinished file is replaced by training (only finished models of this experiment count)."""
    from .cv_resume import reusable_result

    stems = {p.stem for p in fold.train}
    found = {arm: reusable_result(folder / f"{arm}.eqm", tcfg, stems) for arm in config.arms}
    if not all(found.values()):
        return None
    emit(on_event, StageStarted("cv", f"fold {fold.index + 1}: reusing the finished "
                                f"{', '.join(f'{a}.eqm' for a in found)} (scored, not retrained)"))
    return found


def _score(config: CVConfig, fold: Fold, arm: str, trained, folder: Path, cancel) -> tuple[dict, list]:
    """The fold's row for ``arm`` and the per-image rows of its held-out images."""
    from ..evaluation.scoring import evaluate
    from .cv_summary import fold_row

    report = evaluate(list(fold.test), config.evaluation, model=trained.model_path,
                      predict_config=config.prediction, out=folder / f"eval_{arm}", cancel=cancel)
    per_image = [{"fold": fold.index, "arm": arm, **r} for r in report.per_image]
    return fold_row(fold, arm, trained, report), per_image


def cross_validate(data: Any, config: CVConfig, *, out: str | os.PathLike | None = None,
                   on_event=None, cancel=None) -> CVResult:
    """Grouped cross-validation of the training recipe in ``config``; see module doc.

    ``data``: dataset folder(s) or a list of :class:`~eq_engine.io.datasets.Pair`. ``out`` (a
    folder) receives the models and tables; without it they go to a temporary folder that is
    removed, and only the result remains.
    """
    import tempfile

    started = time.perf_counter()
    pairs = _pairs(data)
    folds = make_folds(pairs, config.group_pattern, folds=config.folds, seed=config.train.seed)
    if config.only_folds:
        unknown = sorted(set(config.only_folds) - {f.index for f in folds})
        if unknown:
            raise DataError(f"only_folds {unknown} do not exist: there are {len(folds)} folds "
                            f"(0..{len(folds) - 1})")
    with tempfile.TemporaryDirectory(prefix="eq_cv_") as tmp:
        root = Path(out) if out is not None else Path(tmp)
        rows, images, models, cancelled = _run_folds(config, folds, root, on_event, cancel)
        result = _finish(config, folds, rows, images, models, root if out is not None else None,
                         cancelled, time.perf_counter() - started)
    emit(on_event, Progress("cv", len(rows), len(folds) * len(config.arms), "done"))
    return result


def _run_folds(config: CVConfig, folds: list[Fold], root: Path, on_event, cancel):
    rows, images, models = [], [], []
    for fold in folds:
        if config.only_folds and fold.index not in config.only_folds:
            continue
        if cancel is not None and cancel.cancelled:
            return rows, images, models, True
        held = ", ".join(fold.test_groups)
        emit(on_event, StageStarted("cv", f"fold {fold.index + 1}/{len(folds)}: holding out "
                                    f"{held} ({len(fold.test)} images; {len(fold.train)} train)"))
        emit(on_event, Progress("cv", fold.index, len(folds), f"fold {fold.index + 1}: {held}"))
        try:
            done = _fold(config, fold, root / f"fold{fold.index}", on_event, cancel)
        except Cancelled:
            done = None
        if done is None:  # a cancelled fold is left out whole: its arms must stay paired
            return rows, images, models, True
        rows += done[0]
        images += done[1]
        models += done[2]
    return rows, images, models, False


def _fold(config: CVConfig, fold: Fold, folder: Path, on_event, cancel):
    """``(rows, per-image rows, model paths)`` of one fold, or None when it was cancelled."""
    trained = _train_fold(config, fold, folder, on_event, cancel)
    if any(t.cancelled or t.model_path is None for t in trained.values()):
        return None
    rows, images, models = [], [], []
    for arm, result in trained.items():
        row, per_image = _score(config, fold, arm, result, folder, cancel)
        rows.append(row)
        images += per_image
        models.append(Path(result.model_path))
        log.info("fold %d (%s) %s: pooled Dice %.4f", fold.index, row["held_out"], arm,
                 row["pooled_dice"])
    return rows, images, models


def _finish(config: CVConfig, folds, rows, images, models, out: Path | None, cancelled: bool,
            seconds: float) -> CVResult:
    from .cv_summary import fold_entries, summarize, write_outputs

    summary = summarize(rows, images, config, folds=fold_entries(folds), cancelled=cancelled,
                        seconds=seconds)
    if out is not None:
        write_outputs(out, rows, images, summary)
        main_arm = [m for m in models if m.stem == config.arms[0]]
        if config.ensemble and not cancelled and not config.only_folds and len(main_arm) > 1:
            from ..models.ensemble import write_ensemble

            write_ensemble(out / "ensemble.json", main_arm)
    return CVResult(rows, summary, folds, models if out is not None else [], out, cancelled,
                    seconds)
