"""Whole slides in ``eq predict`` and ``eq quantify``: inputs that are slides (SVS, NDPI,
pyramidal or OME-TIFF) are streamed region by region into ``--out/<slide stem>/``."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_slide_options(p: argparse.ArgumentParser, *, run_options: bool = False) -> None:
    """Slide options; ``run_options`` adds ``--scheduler`` and ``--overwrite`` (for commands
    that lack them)."""
    g = p.add_argument_group("whole slides (SVS, NDPI, pyramidal/OME-TIFF)")
    if run_options:
        g.add_argument("--scheduler", default=None,
                       help="run slide regions on Dask: a scheduler address or 'local'")
        g.add_argument("--overwrite", action="store_true",
                       help="start a slide afresh instead of resuming its finished regions")
    g.add_argument("--region", type=int, default=2048,
                   help="slide region size in px at the model's scale (multiple of 64)")
    g.add_argument("--halo", type=int, default=128, help="context around each region, px")
    g.add_argument("--level", type=int, default=None,
                   help="pyramid level to read (default: the one matching the model's scale)")
    g.add_argument("--no-tissue", action="store_true",
                   help="predict glass too (default: skip regions without tissue)")


def slide_config(args: argparse.Namespace, predict_config):
    from ..config.slide import SlideConfig

    return SlideConfig(predict=predict_config, region=args.region, halo=args.halo,
                       level=args.level, tissue=not args.no_tissue)


def split_slides(inputs: list[str]) -> tuple[list[str], list[str]]:
    """``(slides, other inputs)``."""
    from ..io.slides import is_slide

    slides = [i for i in inputs if is_slide(i)]
    return slides, [i for i in inputs if i not in slides]


def predict_slides(args: argparse.Namespace, slides: list[str], predict_config) -> int:
    from ..inference.slide import predict_slide
    from .progress import ProgressBar
    from .runs import cli_run

    config = slide_config(args, predict_config)
    for slide in slides:
        out = Path(args.out) / Path(slide).name.split(".")[0]
        with cli_run("predict", config, models=[("model", args.model)]) as run:
            run.add_input(slide, hash_file=False)  # slides are gigabytes: path only
            with ProgressBar("regions") as on_event:
                result = predict_slide(args.model, slide, out, config, scheduler=args.scheduler,
                                       overwrite=args.overwrite, on_event=on_event)
            print(f"{slide}: {result.n_objects} objects; level {result.plan.level} "
                  f"(x{result.plan.residual:.3g}), {result.regions_predicted} regions predicted, "
                  f"{result.regions_resumed} resumed, {result.regions_skipped} without tissue, "
                  f"{result.seconds:.1f} s")
            for name, path in result.files.items():
                print(f"  {name:<10} {path}")
            run.metrics.update({"objects": result.n_objects,
                                "regions": result.regions_predicted})
            run.timings["total_s"] = float(result.seconds)
    return 0


def quantify_slide_command(args: argparse.Namespace, quant_config, predict_config) -> int:
    from ..errors import DataError
    from ..quantification.slide import quantify_slide
    from .progress import ProgressBar
    from .runs import cli_run

    if not Path(args.source).is_file():
        raise DataError(f"{args.images} is a slide: give a segmentation model (.eqm) as "
                        f"MODEL_OR_MASKS, not the mask folder {args.source}")
    config = slide_config(args, predict_config)
    models = [("segmentation", args.source), ("grade_model", args.grade_model)]
    with cli_run("quantify", quant_config, models=models) as run:
        run.add_input(args.images, hash_file=False)
        with ProgressBar("steps") as on_event:
            result = quantify_slide(args.source, args.images, args.out, quant_config, config,
                                    grade_model=args.grade_model, scheduler=args.scheduler,
                                    overwrite=args.overwrite, on_event=on_event)
        s = result.summary
        print(f"{args.images}: {s['glomeruli']} glomeruli ({s['excluded_border']} at the slide "
              f"border), mean area {s['area_um2_mean'] or 0:.0f} µm²"
              + (f", grades {s['grade_counts']}" if "grade_counts" in s else "")
              + f", {result.seconds:.1f} s")
        for name, path in result.files.items():
            print(f"  {name:<10} {path}")
        run.metrics.update({"glomeruli": s["glomeruli"], "included": s["included"]})
        run.timings["total_s"] = float(result.seconds)
    return 0
