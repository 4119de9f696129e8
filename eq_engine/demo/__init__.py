"""`eq demo`: the whole chain on generated (or real) data, ending in report.html."""

from __future__ import annotations

import importlib

_PUBLIC = {"run_demo": "chain", "DemoResult": "chain", "DemoConfig": "profiles",
           "demo_config": "profiles"}


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'eq_engine.demo' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
