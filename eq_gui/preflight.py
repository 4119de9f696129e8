"""Checks the GUI process can make before a job starts, in words for someone using the GUI.

A worker process takes seconds to start; a folder without pairs or a file that is no EQ model
is found here at once instead, and the message says what to do in the studio (not on the
command line). Only cheap checks: file names and model headers, never pixels.
"""

from __future__ import annotations

from pathlib import Path

from eq_engine import EngineError, ModelInfo, find_pairs, model_metadata, read_metadata

from .notify import shorten_path


def dataset_pairs(folder: Path | str | None) -> list:
    """The image/mask pairs of ``folder``; ValueError saying what is missing when there are none."""
    if folder is None or not str(folder).strip():
        raise ValueError("choose a dataset folder (with images/ and masks/) first")
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ValueError(f"the dataset folder {shorten_path(str(folder))} does not exist; "
                         "choose another one")
    pairs = find_pairs(folder)
    if not pairs:
        raise ValueError(f"{shorten_path(str(folder))} has no image with a mask of the same "
                         "name. Put images in images/ and masks in masks/ (T19.png + "
                         "T19.png or T19_mask.png), or open the folder in the Data and "
                         "Annotation dock to see what is missing")
    return pairs


def check_model_file(path: Path | str | None, *, role: str = "model",
                     ensembles: bool = False) -> ModelInfo:
    """The ModelInfo of model file ``path`` (header only); ValueError saying why it is unusable.
    With ``ensembles``, an ensemble manifest (``eq cv --ensemble``) is accepted too."""
    if path is None or not str(path).strip():
        raise ValueError(f"choose a {role} file (an EQ model, .eqm) first")
    path = Path(path).expanduser()
    if not path.is_file():
        raise ValueError(f"the {role} file {shorten_path(str(path))} does not exist; choose "
                         "another one")
    try:
        return ModelInfo.from_metadata((model_metadata if ensembles else read_metadata)(path))
    except (EngineError, OSError) as exc:
        raise ValueError(f"{shorten_path(str(path))} cannot be used as the {role}: {exc}. "
                         "Choose a model file that EQ saved (Train dock or `eq train`)") from exc
