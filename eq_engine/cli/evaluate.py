"""``eq evaluate MODEL DATASET --out DIR`` and ``eq evaluate --pred DIR --truth DIR --out DIR``."""

from __future__ import annotations

import argparse

from .predict import add_predict_options, predict_config
from .progress import ProgressBar
from .runs import cli_run


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="score a model or predictions against truth masks",
        description="Score MODEL on DATASET (images/ + masks/), or prediction files (--pred) "
        "against truth masks (--truth). Writes per_image.csv, per_object.csv, sweep.csv, "
        "summary.json and overlay PNGs of the best and worst images into --out. Pixels outside "
        "a dataset's valid_regions/<stem>.png are not scored.")
    p.add_argument("positional", nargs="*", metavar="MODEL DATASET",
                   help="model file and dataset folder (omit with --pred/--truth)")
    p.add_argument("--pred", default=None, help="folder of predictions (<stem>_mask.*, "
                   "<stem>_prob.tif or <stem>.*)")
    p.add_argument("--truth", default=None, help="dataset folder or folder of truth masks")
    p.add_argument("--out", required=True, help="report folder")
    p.add_argument("--match-iou", type=float, default=0.5, help="IoU at which objects match")
    p.add_argument("--overlays", type=int, default=3, help="best and worst images drawn")
    p.add_argument("--save-threshold", action="store_true",
                   help="store the sweep's recommended threshold in MODEL (use a validation set)")
    add_predict_options(p)
    p.set_defaults(handler=_evaluate)


def _sources(args: argparse.Namespace, parser_error) -> tuple:
    if args.pred is not None or args.truth is not None:
        if args.positional or args.pred is None or args.truth is None:
            parser_error("give --pred DIR and --truth DIR together, without MODEL DATASET")
        return None, args.truth, args.pred
    if len(args.positional) != 2:
        parser_error("give MODEL DATASET, or --pred DIR --truth DIR")
    return args.positional[0], args.positional[1], None


def _evaluate(args: argparse.Namespace) -> int:
    from ..config import EvalConfig
    from ..errors import ConfigError
    from ..evaluation.scoring import evaluate

    def parser_error(message: str):
        raise ConfigError(f"eq evaluate: {message}")

    model, truth, pred = _sources(args, parser_error)
    if args.save_threshold and model is None:
        parser_error("--save-threshold needs MODEL")
    # --threshold: the model's threshold override, or the one for --pred probability files
    threshold = args.threshold if (pred is not None and args.threshold is not None) else 0.5
    config = EvalConfig(threshold=threshold, match_iou=args.match_iou,
                        n_overlays=args.overlays)
    run_config = {"evaluate": config, "predict": predict_config(args) if model else None}
    with cli_run("evaluate", run_config, inputs=[p for p in (truth, pred) if p],
                 models=[("model", model)]) as run:
        with ProgressBar("images") as on_event:
            report = evaluate(truth, config, model=model, predictions=pred,
                              predict_config=predict_config(args) if model else None,
                              out=args.out, on_event=on_event)
        print(report.table())
        print(f"report written to {args.out}")
        run.add_evaluation(report)
    if args.save_threshold:
        _save_threshold(model, report, truth)
    return 0


def _save_threshold(model: str, report, truth: str) -> None:
    from ..errors import ConfigError
    from ..evaluation.sweep import save_threshold

    if report.recommended_threshold is None:
        raise ConfigError("no threshold sweep was possible (no probability maps)")
    save_threshold(model, report.recommended_threshold,
                   source={"dataset": str(truth), "sweep": report.sweep})
    print(f"saved threshold {report.recommended_threshold:g} into {model}")
