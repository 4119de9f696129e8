"""``eq-gui``: a napari window titled EQ with every EQ dock docked.

The GUI process never imports torch: all torch work runs in worker processes
(:mod:`eq_gui.workers`). That is what makes the CUDA wheel's triton/LLVM safe next to Mesa's
llvmpipe GL context, which would otherwise segfault when triton loads after GL is up.
"""

from __future__ import annotations

import argparse
import os
import sys

SAMPLES = {"em": ("em",), "histology": ("histology",), "all": ("em", "histology")}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eq-gui", description="EQ studio: napari with the EQ docks")
    parser.add_argument("--sample", nargs="?", const="all", choices=sorted(SAMPLES),
                        help="open EQ's generated sample data (default: all)")
    parser.add_argument("--no-prewarm", action="store_true",
                        help="do not start a worker process in the background at start-up")
    parser.add_argument("--exit-after", type=float, default=None, metavar="SECONDS",
                        help="close the window after this many seconds (smoke tests)")
    return parser


def create_viewer(*, sample: str | None = None, show: bool = True):
    """A napari viewer titled EQ with the docks; returns ``(viewer, docks)``."""
    os.environ.setdefault("QT_API", "pyside6")
    import napari

    from .docking import add_all_docks
    from .pyside_guard import guard

    guard()  # before napari makes its first thousands of Qt calls

    viewer = napari.Viewer(title="EQ", show=show)
    docks = add_all_docks(viewer)
    for key in SAMPLES.get(sample or "", ()):
        viewer.open_sample("eq", key)
    return viewer, docks


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import napari
    from qtpy.QtCore import QTimer

    from . import workers

    viewer, _ = create_viewer(sample=args.sample)
    if not args.no_prewarm:  # torch imports in the worker while the user looks at the data
        QTimer.singleShot(1500, workers.prewarm)
    if args.exit_after is not None:
        QTimer.singleShot(int(args.exit_after * 1000), viewer.close)
    napari.run()
    workers.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
