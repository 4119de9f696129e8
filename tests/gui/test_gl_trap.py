"""The triton/GL trap: napari (GL up) first, then EQ trains and predicts, in a fresh process.

Importing torch's triton after Mesa's llvmpipe created a GL context segfaults the process with
the CUDA torch wheel. EQ runs all torch work in worker processes, so the GUI process never
imports torch; this test proves it in a real napari session under Xvfb (a segfault would show
as exit code -11).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui
APP = Path(__file__).with_name("gl_trap_app.py")


def test_training_and_prediction_after_gl_is_up(em_dataset, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "xcb"))
    proc = subprocess.run([sys.executable, str(APP), str(em_dataset), str(tmp_path / "m.eqm")],
                          capture_output=True, text=True, timeout=400, env=env)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report == {"torch_before": False, "torch_after": False, "trained": True,
                      "predicted": True}
    assert (tmp_path / "m.eqm").is_file()
