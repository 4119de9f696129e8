"""``eq cv DATASET --task glomeruli --group-pattern REGEX --out DIR``: cross-validation by subject."""

from __future__ import annotations

import argparse
import sys

from .predict import add_tta_option
from .progress import ProgressBar, format_float
from .train import (
    add_stage_options,
    add_train_options,
    quiet_library_warnings,
    stage_epochs,
    train_config,
)

TASKS = ("glomeruli", "mitochondria", "generic")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "cv", help="cross-validate a training recipe by subject (animal, patient, volume)",
        description="Hold out one subject at a time (or --folds K groups of subjects), train on "
        "the others exactly as `eq train` does, and score the held-out images with `eq evaluate`'s "
        "metrics and baselines. Writes one model per fold, folds.csv, per_image.csv, "
        "summary.json (mean +- sd over folds, pooled over held-out images, 95%% CI) and "
        "folds.png. The answer to: how well will this do on my next animal?")
    p.add_argument("datasets", nargs="+", metavar="DATASET", help="dataset folder(s)")
    p.add_argument("--task", choices=TASKS, default="glomeruli", help="what is segmented")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--folds", type=int, default=0,
                   help="number of folds over subjects (default 0: leave one subject out)")
    p.add_argument("--base", default=None, metavar="FILE",
                   help="transfer this mitochondria model's encoder in every fold")
    p.add_argument("--compare-scratch", action="store_true",
                   help="with --base: also train from scratch on the same folds and seeds")
    add_stage_options(p)
    p.add_argument("--inner-valid", choices=("image", "subject"), default="image",
                   help="how the training subjects are split again to pick the best epoch "
                   "(default image)")
    add_tta_option(p)
    p.add_argument("--ensemble", action="store_true",
                   help="also write OUT/ensemble.json: the fold models as one model for new "
                   "subjects (`eq predict OUT/ensemble.json ...`; one prediction per fold)")
    p.add_argument("--only-fold", type=int, action="append", default=[], metavar="K",
                   help="run only fold K (repeatable): run folds in parallel, each with its own "
                   "--out, and combine them with `python -m eq_engine.training.cv_merge`")
    add_train_options(p, task="glomeruli")
    p.set_defaults(handler=_cv)


def cv_config(args: argparse.Namespace):
    """The :class:`~eq_engine.config.CVConfig` of parsed ``eq cv`` arguments."""
    from ..config import CVConfig, PredictConfig, TrainConfig

    if args.group_pattern is None:
        raise SystemExit("eq cv: error: --group-pattern is required (e.g. '^(T\\d+)_')")
    freeze, unfreeze = (stage_epochs(args) if args.base
                        else (CVConfig.freeze_epochs, CVConfig.unfreeze_epochs))
    epochs = args.epochs or TrainConfig.epochs if not args.base else max(1, freeze + unfreeze)
    return CVConfig(group_pattern=args.group_pattern, train=train_config(args, args.task, epochs),
                    folds=args.folds, base_model=args.base or "", freeze_epochs=freeze,
                    unfreeze_epochs=unfreeze, lr_divisor=args.lr_divisor,
                    copy_stages=args.copy_stages,
                    compare_scratch=args.compare_scratch, inner_valid=args.inner_valid,
                    prediction=PredictConfig(tta=args.tta, device=args.device),
                    only_folds=tuple(args.only_fold), ensemble=args.ensemble)


def _stop_on_signals(token):
    """Ctrl-C / SIGTERM cancel the run: the folds that finished are still summarised."""
    import signal

    def handler(signum, frame):
        print(f"eq cv: stopping ({signal.Signals(signum).name}); summarising finished folds",
              file=sys.stderr)
        token.cancel()

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}


def _cv(args: argparse.Namespace) -> int:
    import signal

    from ..events import CancelToken, Progress
    from ..training.crossval import cross_validate
    from .runs import cli_run

    quiet_library_warnings()
    config = cv_config(args)
    token = CancelToken()
    previous = _stop_on_signals(token)

    epochs = config.freeze_epochs + config.unfreeze_epochs if config.base_model else config.train.epochs
    n_runs = len(config.arms) * 64  # a phase per fold and arm; the bar only needs enough entries
    with cli_run("cv", config, inputs=args.datasets) as run, \
            ProgressBar("batch", epochs=[epochs] * n_runs, stages=True) as bar:
        # fold and image progress would fight the batch bar; the stage lines say where it is
        try:
            result = cross_validate(args.datasets, config, out=args.out, cancel=token,
                                    on_event=lambda e: None if isinstance(e, Progress) else bar(e))
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
        print(summary_text(result))
        if config.ensemble and result.out and (result.out / "ensemble.json").is_file():
            print(f"fold models as one ensemble: {result.out / 'ensemble.json'}")
        run.metrics.update(_record_metrics(result.summary))
        for i, path in enumerate(result.models):
            run.add_model(path, f"fold{i}")
        if result.cancelled:
            run.status = "cancelled"
    return 130 if result.cancelled else 0


def _record_metrics(summary: dict) -> dict:
    out = {}
    for arm, data in summary["arms"].items():
        for key in ("pooled_dice", "object_f1"):
            out[f"{arm}_{key}_mean"] = data["folds"][key]["mean"]
        out[f"{arm}_heldout_pooled_dice"] = data["pooled"].get("dice")
    return out


def summary_text(result) -> str:
    """Per-fold rows and the summary lines ``eq cv`` prints."""
    lines = [f"{'fold':>4}  {'held out':<12} {'arm':<9} {'Dice':>6} {'IoU':>6} {'objF1':>6} "
             f"{'Otsu':>6}"]
    for r in result.rows:
        otsu = max(r.get("otsu_dark_dice") or 0, r.get("otsu_bright_dice") or 0)
        lines.append(f"{r['fold']:>4}  {r['held_out']:<12} {r['arm']:<9} "
                     f"{format_float(r['pooled_dice'])} {format_float(r['pooled_iou'])} "
                     f"{format_float(r['object_f1'])} {format_float(otsu)}")
    for arm, data in result.summary["arms"].items():
        f, pooled = data["folds"]["pooled_dice"], data["pooled"]
        sd = format_float(f["sd"]) if f["sd"] is not None else "-"
        lines.append(f"{arm}: Dice over {f['n']} folds {format_float(f['mean'])} +- {sd} "
                     f"(min {format_float(f['min'])}); pooled over {pooled.get('n_images', 0)} "
                     f"held-out images {format_float(pooled.get('dice'))}, object F1 "
                     f"{format_float(pooled.get('object_f1'))}")
    if result.cancelled:
        lines.append("cancelled: the summary covers the folds that finished")
    if result.out is not None:
        lines.append(f"written to {result.out}")
    return "\n".join(lines)
