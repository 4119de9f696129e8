"""`eq gui [--sample]`: start the EQ desktop window (napari with the EQ docks).

The window runs in its own interpreter (``python -m eq_gui.launcher``): the engine never imports
the GUI package, and the GUI process stays free of torch.
"""

from __future__ import annotations

import subprocess
import sys


def register(sub) -> None:
    p = sub.add_parser("gui", help="open the EQ desktop window (napari with the EQ docks)")
    p.add_argument("--sample", nargs="?", const="tissue",
                   choices=("all", "tissue", "em", "histology"),
                   help="open sample data: real human kidney tissue (PAS, the default), "
                        "generated EM or histology, or all of them")
    p.add_argument("--exit-after", type=float, default=None, metavar="SECONDS",
                   help="close the window after this many seconds (smoke tests)")
    p.set_defaults(handler=_gui)


def _gui(args) -> int:
    command = [sys.executable, "-m", "eq_gui.launcher"]
    if args.sample:
        command += ["--sample", args.sample]
    if args.exit_after is not None:
        command += ["--exit-after", str(args.exit_after)]
    return subprocess.call(command)
