"""EQ's ``resources/`` folder: icons, default training profiles, real sample tissue.

In a source checkout or an editable install the folder sits beside the packages; a wheel installs
it under ``<prefix>/share/eq/resources`` (``[tool.setuptools.data-files]`` in pyproject.toml).
:func:`resources_dir` finds either, or says where it looked.
"""

from __future__ import annotations

import json
import sys
import sysconfig
from functools import cache
from pathlib import Path

ICONS = {"EQ": "eq.svg", "Data and Annotation": "data.svg", "Train": "train.svg",
         "Predict": "predict.svg", "Evaluate": "evaluate.svg", "Quantify": "quantify.svg"}
TISSUE = "samples/aidpath_pas"  # Bueno et al. 2020, CC BY 4.0: see its README.md


def _candidates() -> list[Path]:
    here = Path(__file__).resolve().parent
    prefixes = {Path(sys.prefix), Path(sysconfig.get_paths()["data"])}
    return [here.parent / "resources", *(p / "share" / "eq" / "resources" for p in prefixes)]


@cache
def resources_dir() -> Path:
    """The ``resources`` folder; FileNotFoundError naming the places looked at."""
    for candidate in _candidates():
        if (candidate / "icons").is_dir():
            return candidate
    raise FileNotFoundError("EQ's resources folder is missing; looked in "
                            + ", ".join(map(str, _candidates()))
                            + ". Reinstall EQ (pip install eq[gui]) or run from a clone.")


def resource(relative: str) -> Path:
    return resources_dir() / relative


def icon_path(name: str) -> Path:
    """The SVG icon of a dock (by display name) or of the window ("EQ")."""
    return resource(f"icons/{ICONS[name]}")


def icon(name: str):
    """A QIcon for :func:`icon_path` (an empty icon if the file is missing)."""
    from qtpy.QtGui import QIcon

    path = icon_path(name)
    return QIcon(str(path)) if path.is_file() else QIcon()


def training_profiles() -> dict[str, dict]:
    """Default training profiles from ``resources/profiles/*.json``: display name -> profile.

    A profile has ``name``, ``about``, ``train`` (TrainConfig fields) and ``transfer``
    (TransferConfig fields other than ``train``); the files are the only place they are defined.
    """
    profiles = {}
    for path in sorted(resource("profiles").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        profiles[data["name"]] = data
    return profiles


def tissue_pairs() -> list[tuple[Path, Path]]:
    """(image, mask) files of the shipped sample tissue, sorted by tile."""
    folder = resource(TISSUE)
    return [(image, folder / "masks" / f"{image.stem}.png")
            for image in sorted((folder / "images").glob("*.jpg"))]
