"""The desktop launcher: a viewer titled EQ with every dock, samples, and `eq gui` / `eq-gui`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from eq_gui.docking import DOCKS
from eq_gui.launcher import build_parser, create_viewer

pytestmark = pytest.mark.gui


def test_create_viewer_docks_everything_and_opens_samples(qtbot):
    viewer, docks = create_viewer(sample="all", show=False)
    try:
        assert viewer.title == "EQ"
        assert list(docks) == list(DOCKS)
        inner = list(viewer.window.dock_widgets.values())
        assert all(any(w is d for w in inner) for d in docks.values())
        names = [layer.name for layer in viewer.layers]
        assert {"EM sample", "histology sample", "PAS 10183"} <= set(names)
        assert viewer.layers["PAS 10183"].rgb and viewer.layers["PAS 10183 glomeruli"].data.max() == 2
        assert viewer.layers["histology sample glomeruli"].data.max() >= 1
    finally:
        viewer.close()


def test_parser_defaults():
    args = build_parser().parse_args(["--sample"])
    assert args.sample == "tissue" and not args.no_prewarm and args.exit_after is None


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "eq_gui.launcher", "--sample", "em", "--no-prewarm"],
    [sys.executable, "-m", "eq_engine", "gui", "--sample", "em"],
], ids=["eq-gui", "eq gui"])
def test_launcher_process_opens_and_closes(command):
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "xcb"))
    proc = subprocess.run([*command, "--exit-after", "2"], capture_output=True, text=True,
                          timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
