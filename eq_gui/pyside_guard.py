"""Safety net against PySide6 builds that lose references to None and True (6.12.0 does).

With such a build every call of a void Qt method from Python (``label.setText``,
``QApplication.processEvents``, ...) drops one reference to ``None``, and every
``Signal.emit`` drops one reference to ``True``. On Python 3.11 these singletons are ordinary
objects, so a napari session dies with "Fatal Python error: none_dealloc" once as many calls as
``None`` has references (~10^5 in napari) have run: minutes of painting or training.

EQ pins PySide6-Essentials 6.10.3 (constraints.txt), which does not leak; then :func:`guard`
finds nothing and stays silent. In an environment with a leaking build it gives ``None``,
``True`` and ``False`` a huge reference count, which is what Python 3.12 does for them anyway
("immortal objects"), and logs one warning. It never runs on Python >= 3.12 or on interpreters
other than CPython.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

TESTED_PYSIDE = "6.10.3"  # the version constraints.txt pins
_BOOST = 1 << 40  # references added to each singleton: far more calls than a session makes
_PROBES = 64
_state = {"checked": False, "leaking": False}


def _leaks() -> bool:
    """True when void Qt calls or signal emits lose references to None or True."""
    from qtpy.QtCore import QObject, QTimer, Signal

    class _Probe(QObject):
        ping = Signal()

    timer, probe = QTimer(), _Probe()
    before = sys.getrefcount(None)
    for _ in range(_PROBES):
        timer.setInterval(1)
    lost_none = before - sys.getrefcount(None)
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit()
    lost_true = before - sys.getrefcount(True)
    return lost_none >= _PROBES // 2 or lost_true >= _PROBES // 2


def guard() -> bool:
    """Detect the leak (once per process) and neutralise it; returns whether it was found."""
    if _state["checked"]:
        return _state["leaking"]
    _state["checked"] = True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if not _leaks():
        return False
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _BOOST
    _state["leaking"] = True
    import qtpy

    log.warning("this PySide6 (%s) loses references to None/True on every Qt call; EQ made "
                "them permanent so napari does not crash. EQ is tested with "
                "PySide6-Essentials %s (see constraints.txt).",
                getattr(qtpy, "PYSIDE_VERSION", "?"), TESTED_PYSIDE)
    return True
