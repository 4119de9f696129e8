"""The PySide6 reference-leak guard keeps a process alive through many Qt calls."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.gui

SCRIPT = """
import sys
from qtpy.QtCore import QTimer
from eq_gui.pyside_guard import guard
calls = sys.getrefcount(None) + 20_000  # more calls than None has references
found = guard()
timer = QTimer()
for _ in range(calls):
    timer.setInterval(5)
print("leak" if found else "clean")
"""


def test_many_void_qt_calls_do_not_kill_the_process():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() in ("leak", "clean")


def test_guard_is_idempotent_and_reports_the_same():
    from eq_gui.pyside_guard import guard

    first = guard()
    assert guard() is first
    if first:
        assert sys.getrefcount(None) > 2**39
