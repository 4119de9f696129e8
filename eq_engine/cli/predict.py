"""``eq predict MODEL INPUT... --out DIR``: batch prediction on Dask (LocalCluster by default)."""

from __future__ import annotations

import argparse

from .progress import ProgressBar


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="segment images with a model (tiled, on Dask)",
        description="Predict every image named by INPUT (files, folders, glob patterns) with "
        "MODEL and write <stem>_mask.tif, <stem>_labels.tif and <stem>_prob.tif into --out. "
        "Runs one task per image on a Dask LocalCluster, or on an existing cluster with "
        "--scheduler. Images whose outputs exist are skipped unless --overwrite. Exit status "
        "1 when any image failed (the others are still written).")
    p.add_argument("model", help="EQ model file (.eqm), or an ensemble manifest (ensemble.json "
                   "of `eq cv --ensemble`)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or globs")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address (tcp://host:8786); default: a LocalCluster "
                   "(slides: regions run here unless given; 'local' starts a LocalCluster)")
    p.add_argument("--workers", type=int, default=None, help="LocalCluster workers (default 1)")
    p.add_argument("--threads", action="store_true",
                   help="LocalCluster workers as threads in this process instead of processes")
    p.add_argument("--overwrite", action="store_true", help="predict images already done")
    add_predict_options(p)
    p.add_argument("--no-probability", action="store_true",
                   help="do not write the probability maps (<stem>_prob.tif)")
    p.add_argument("--stream", choices=("auto", "always", "never"), default="auto",
                   help="read and write large 2D images band by band instead of whole "
                   "(auto: TIFFs whose prediction would need over half the free RAM)")
    from .slides import add_slide_options

    add_slide_options(p)
    p.set_defaults(handler=_predict)


def add_tta_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tta", action=argparse.BooleanOptionalAction, default="auto",
                   help="average the four flips: 4x the time, held-out Dice -0.002 to +0.018 "
                   "per animal (default: on for a GPU, off on a CPU)")


def add_predict_options(p: argparse.ArgumentParser, *, pixel_size: bool = True) -> None:
    """Options that build a PredictConfig (shared with ``eq evaluate`` and ``eq quantify``,
    which has its own ``--pixel-size``: ``pixel_size=False``)."""
    p.add_argument("--tile", type=int, default=0,
                   help="tile size in px (default: the model's; for slides at most 384)")
    p.add_argument("--overlap", type=float, default=0.25, help="tile overlap fraction [0, 1)")
    p.add_argument("--threshold", type=float, default=None,
                   help="foreground threshold (default: the model's)")
    add_tta_option(p)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--batch-size", type=int, default=8, help="tiles per forward pass")
    p.add_argument("--min-size", type=int, default=-1,
                   help="drop objects under this many px (default -1: the model's learned minimum)")
    p.add_argument("--object-diameter", type=float, default=0.0, metavar="PX",
                   help="typical object diameter in the images, in px: they are resized so "
                   "their objects match the model's training objects (for another "
                   "microscope or magnification; default 0: the model's scale)")
    if pixel_size:
        p.add_argument("--pixel-size", type=float, default=None, metavar="UM",
                       help="µm per pixel of the images (default: from TIFF metadata); a model "
                       "that records its training pixel size rescales to match")


def predict_config(args: argparse.Namespace):
    from ..config import PredictConfig

    return PredictConfig(tile=args.tile, overlap=args.overlap, threshold=args.threshold,
                         tta=args.tta, device=args.device, batch_size=args.batch_size,
                         min_size=args.min_size, stream=getattr(args, "stream", "auto"),
                         pixel_size=getattr(args, "pixel_size", None) or 0.0,
                         object_diameter=args.object_diameter)


def _predict(args: argparse.Namespace) -> int:
    from ..inference.batch import predict_batch
    from .runs import cli_run
    from .slides import predict_slides, split_slides

    config = predict_config(args)
    slides, args.inputs = split_slides(args.inputs)
    if slides:  # whole slides stream region by region into --out/<slide>/
        status = predict_slides(args, slides, config)
        if not args.inputs:
            return status
    with cli_run("predict", config, inputs=args.inputs, models=[("model", args.model)]) as run:
        with ProgressBar("images") as on_event:
            result = predict_batch(args.model, args.inputs, args.out, config,
                                   scheduler=args.scheduler, workers=args.workers,
                                   processes=not args.threads, overwrite=args.overwrite,
                                   save_probability=not args.no_probability, on_event=on_event)
        print(result.summary())
        run.add_batch(result)
    return 0 if result.ok else 1
