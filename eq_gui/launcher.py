"""``eq-gui``: a napari window titled EQ with every EQ dock docked.

The GUI process never imports torch: all torch work runs in worker processes
(:mod:`eq_gui.workers`). That is what makes the CUDA wheel's triton/LLVM safe next to Mesa's
llvmpipe GL context, which would otherwise segfault when triton loads after GL is up.
"""

from __future__ import annotations

import argparse
import os
import sys

SAMPLES = {"tissue": ("tissue",), "em": ("em",), "histology": ("histology",),
           "all": ("em", "histology", "tissue")}
SCREEN_SHARE = 0.9  # of the screen's free area the window takes at first
MAX_SIZE = (1920, 1200)  # beyond this a first window is more empty than useful


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eq-gui", description="EQ studio: napari with the EQ docks")
    parser.add_argument("--sample", nargs="?", const="tissue", choices=sorted(SAMPLES),
                        help="open sample data: real human kidney tissue (PAS, the default), "
                             "generated EM or histology, or all of them")
    parser.add_argument("--no-prewarm", action="store_true",
                        help="do not start a worker process in the background at start-up")
    parser.add_argument("--exit-after", type=float, default=None, metavar="SECONDS",
                        help="close the window after this many seconds (smoke tests)")
    return parser


def first_geometry(available: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """(left, top, width, height) of the first window: most of the screen's free area
    ``available`` (left, top, width, height), centred, at most MAX_SIZE."""
    left, top, width, height = available
    w = int(min(width * SCREEN_SHARE, MAX_SIZE[0]))
    h = int(min(height * SCREEN_SHARE, MAX_SIZE[1]))
    return left + (width - w) // 2, top + (height - h) // 2, w, h


def create_viewer(*, sample: str | None = None, show: bool = True):
    """A napari viewer titled EQ with the docks; returns ``(viewer, docks)``."""
    os.environ.setdefault("QT_API", "pyside6")
    import napari
    from qtpy.QtWidgets import QApplication

    from .app_state import state_for
    from .docking import add_all_docks
    from .pyside_guard import guard
    from .resources import icon

    guard()  # before napari makes its first thousands of Qt calls

    viewer = napari.Viewer(title="EQ", show=show)
    QApplication.instance().setWindowIcon(icon("EQ"))
    screen = QApplication.primaryScreen()
    if screen is not None:
        rect = screen.availableGeometry()
        viewer.window.set_geometry(*first_geometry((rect.x(), rect.y(), rect.width(),
                                                     rect.height())))
    docks = add_all_docks(viewer)
    state_for(viewer).events.jobs.connect(lambda jobs: setattr(viewer, "title", window_title(jobs)))
    for key in SAMPLES.get(sample or "", ()):
        viewer.open_sample("eq", key)
    return viewer, docks


def window_title(jobs: tuple[str, ...]) -> str:
    """"EQ" while idle, "EQ: training, prediction…" while jobs run."""
    return f"EQ: {', '.join(jobs)}…" if jobs else "EQ"


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
