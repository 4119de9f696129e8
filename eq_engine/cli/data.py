"""``eq data check DIR`` and ``eq data lucchi SRC DEST``."""

from __future__ import annotations

import argparse
import json

from . import usage
from .progress import ProgressBar


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="check datasets; organise public datasets",
                                 description="Check image/mask datasets and organise public ones.")
    actions = data.add_subparsers(dest="data_command", metavar="ACTION")
    data.set_defaults(handler=lambda args: usage(data))

    check = actions.add_parser(
        "check", help="pair images with masks, validate them and print a report",
        description="Pair images with masks by whole stem, validate every pair and print a "
        "report. Exit status 1 when nothing is usable or any pair has an error.")
    check.add_argument("dir", help="dataset folder (images/ + masks/, or files side by side)")
    check.add_argument("--labels", action="store_true",
                       help="masks are label images: allow more than two values")
    check.add_argument("--decode", action="store_true",
                       help="decode every image fully (slower; finds damage inside files)")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(handler=_check)

    lucchi = actions.add_parser(
        "lucchi", help="organise Lucchi EPFL TIFF stacks into train/ and test/ datasets",
        description="Split the Lucchi stacks (training.tif, training_groundtruth.tif, "
        "testing.tif, testing_groundtruth.tif, or img/ + label/) into one image/mask pair per "
        "slice under DEST/train and DEST/test.")
    lucchi.add_argument("src", help="folder holding the Lucchi stacks")
    lucchi.add_argument("dest", help="output folder")
    lucchi.add_argument("--overwrite", action="store_true", help="replace earlier output")
    lucchi.set_defaults(handler=_lucchi)


def _check(args: argparse.Namespace) -> int:
    from ..io.datasets import check_dataset

    with ProgressBar("checking") as on_event:
        report = check_dataset(args.dir, labels=args.labels, decode_images=args.decode,
                               on_event=on_event)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.table())
    return 0 if report.ok else 1


def _lucchi(args: argparse.Namespace) -> int:
    from ..io.lucchi import organise_lucchi

    with ProgressBar("slices") as on_event:
        result = organise_lucchi(args.src, args.dest, overwrite=args.overwrite, on_event=on_event)
    print(f"Lucchi ({result.layout}) from {result.source}:")
    for split, path, count in (("train", result.train, result.n_train),
                               ("test", result.test, result.n_test)):
        print(f"  {split:<6}{count:>5} pairs -> {path}" if path else f"  {split:<6}  not found")
    return 0
