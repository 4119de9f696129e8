"""Library versions, recorded in model files, grade model files, run records and reports."""

from __future__ import annotations

import platform

LIBRARIES = ("numpy", "scipy", "torch", "torchvision", "fastai", "scikit-image", "tifffile",
             "dask")


def library_versions() -> dict[str, str]:
    """Python, EQ and the installed versions of :data:`LIBRARIES` (missing ones left out).

    Reads package metadata only, so it imports none of the libraries.
    """
    from importlib import metadata

    from . import __version__

    out = {"python": platform.python_version(), "eq": __version__}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out
