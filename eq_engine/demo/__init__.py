"""`eq demo`: the whole chain on generated (or real) data, ending in report.html."""

from __future__ import annotations

from ..lazy import lazy_exports

_PUBLIC = {"run_demo": "chain", "DemoResult": "chain", "DemoConfig": "profiles",
           "demo_config": "profiles"}

__getattr__ = lazy_exports(__name__, _PUBLIC)[0]
