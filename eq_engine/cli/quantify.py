"""``eq quantify MODEL_OR_MASKS IMAGES --out DIR``: measure glomeruli, fit or apply a grade model."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "quantify", help="measure endotheliosis per glomerulus; fit or apply a grade model",
        description="Segment glomeruli with a model (or read masks), measure each one (shape, "
        "open capillary lumen fraction of the tuft, stain, nuclei) and write glomeruli.csv, "
        "images.csv and subjects.csv into --out. With --grades (a score sheet: image,grade or "
        "image,label,grade) it also plots openness against grade; --fit trains an ordinal grade "
        "model with subject-grouped cross-validation, --grade-model applies one.")
    p.add_argument("source", metavar="MODEL_OR_MASKS",
                   help="segmentation model file (.eqm) or a folder of masks/labels "
                   "(<stem>.png or <stem>_mask.png)")
    p.add_argument("images", metavar="IMAGES", help="image folder (or its images/ subfolder) "
                   "or one image file")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--grades", default=None, metavar="CSV",
                   help="score sheet: image,grade per image or image,label|centroid_y,centroid_x,"
                   "grade per glomerulus; an 'animal' or 'subject' column groups the CV")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--fit", default=None, metavar="GRADE_MODEL_OUT",
                       help="fit a grade model from --grades and write it here (.json)")
    group.add_argument("--grade-model", default=None, metavar="FILE",
                       help="apply a grade model written by --fit")
    p.add_argument("--grade-column", default=None, help="grade column of the sheet "
                   "(default: 'grade' or the one column ending in 'grade')")
    p.add_argument("--subject-column", default=None,
                   help="subject column of the sheet (default: subject/animal/patient if present)")
    p.add_argument("--group-pattern", default=None,
                   help=r"regex whose first group is the subject in an image name "
                   r"(default '^([A-Za-z]+\d+)_', e.g. T19 of T19_Image0)")
    p.add_argument("--allow-ungraded", action="store_true",
                   help="fit even when some measured images are not in the score sheet")
    p.add_argument("--features", default=None,
                   help="comma-separated grade model features "
                   "(default openness,lumen_density,nuclear_fraction)")
    p.add_argument("--cv-folds", type=int, default=0,
                   help="subject-grouped CV folds (0: leave one subject out)")
    p.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples for CIs")
    p.add_argument("--tuft-erosion", type=float, default=0.12,
                   help="erode the mask by this fraction of its radius to find the tuft")
    p.add_argument("--rim-max", type=float, default=0.35,
                   help="trim a bright edge band (Bowman's space) up to this fraction of the "
                   "radius (0: off)")
    p.add_argument("--lumen-method", choices=("otsu", "hed"), default="otsu",
                   help="per-image lumen rule: lightness Otsu or H&E colour deconvolution")
    p.add_argument("--pixel-size", type=float, default=None, metavar="UM",
                   help="micrometres per pixel: areas in µm² and diameters in µm in "
                   "glomeruli_readable.csv (default: px), and the model rescales images of "
                   "another pixel size than its training images")
    p.add_argument("--include-border", action="store_true",
                   help="keep glomeruli cut by the image border in aggregates and grading")
    from .predict import add_predict_options

    add_predict_options(p, pixel_size=False)
    from .slides import add_slide_options

    add_slide_options(p, run_options=True)
    p.set_defaults(handler=_quantify)


def quant_config(args: argparse.Namespace):
    from ..config import QuantConfig

    kwargs = dict(tuft_erosion=args.tuft_erosion, rim_max=args.rim_max,
                  lumen_method=args.lumen_method, exclude_border=not args.include_border,
                  cv_folds=args.cv_folds, n_bootstrap=args.bootstrap)
    if args.group_pattern is not None:
        kwargs["group_pattern"] = args.group_pattern
    if args.features:
        kwargs["grade_features"] = tuple(f.strip() for f in args.features.split(",") if f.strip())
    return QuantConfig(**kwargs)


def _quantify(args: argparse.Namespace) -> int:
    from ..quantification.pipeline import quantify
    from .predict import predict_config
    from .progress import ProgressBar
    from .runs import cli_run

    config = quant_config(args)
    from ..io.slides import is_slide

    if is_slide(args.images):  # a whole slide: every glomerulus on it, with a summary
        from .slides import quantify_slide_command

        return quantify_slide_command(args, config, predict_config(args))
    source_is_model = Path(args.source).is_file()
    models = [("grade_model", args.grade_model)]
    if source_is_model:
        models.insert(0, ("segmentation", args.source))
    inputs = [args.images, args.grades, None if source_is_model else args.source]
    with cli_run("quantify", config, inputs=inputs, models=models) as run:
        with ProgressBar("steps") as on_event:
            result = quantify(args.source, args.images, config, out=args.out,
                              grades=args.grades, fit=args.fit, grade_model=args.grade_model,
                              predict_config=predict_config(args),
                              allow_ungraded=args.allow_ungraded,
                              grade_column=args.grade_column,
                              subject_column=args.subject_column,
                              pixel_size=args.pixel_size, on_event=on_event)
        _print_summary(result)
        _record(run, result, fit=args.fit)
    return 0


def _print_summary(result) -> None:
    from ..quantification.filtering import usage_summary

    usage = usage_summary(result.glomeruli)
    left_out = ", ".join(f"{n} {why}" for why, n in usage.items() if why not in ("glomeruli",
                                                                               "used"))
    print(f"{len(result.glomeruli)} glomeruli ({usage['used']} used; left out: "
          f"{left_out or 'none'}) "
          f"in {len(result.images)} images from {len(result.subjects)} subjects, "
          f"{result.seconds:.1f} s")
    if result.fit is not None and result.fit.cv is not None:
        print(result.fit.cv.summary())
    for name, path in result.files.items():
        print(f"  {name:<15} {path}")


def _record(run, result, *, fit) -> None:
    from ..runs import numeric_metrics

    run.metrics.update({"glomeruli": len(result.glomeruli),
                        "included": len(result.glomeruli.included()),
                        "images": len(result.images), "subjects": len(result.subjects)})
    if result.fit is not None and result.fit.cv is not None:
        run.metrics.update(numeric_metrics(result.fit.cv.metrics, "cv"))
    run.timings["total_s"] = float(result.seconds)
    if fit:
        run.add_model(fit, "grade_model_out")
