"""Lazy public names for package ``__init__`` files.

Public functions often live in modules that import torch, fastai or scikit-image, and napari
imports plugins at start-up, so packages resolve them on first attribute access::

    _PUBLIC = {"train": "trainer", "read_image": "eq_engine.io.images"}
    __all__ = sorted(_PUBLIC)
    __getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_exports(package: str, names: Mapping[str, str]) -> tuple[Callable, Callable]:
    """Module-level ``(__getattr__, __dir__)`` for ``package``.

    ``names`` maps each public name to the module that defines it: an absolute module path
    (``"eq_engine.io.images"``, ``".tables"``) or a bare submodule name of ``package``
    (``"features"``). Unknown names raise ``AttributeError`` as a plain module would.
    """

    def __getattr__(name: str):
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = module if "." in module else f"{package}.{module}"
        return getattr(importlib.import_module(target, package), name)

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
