"""EQ model files: one safetensors file holding the weights plus JSON metadata. Never pickle.

Format (suffix ``.eqm`` or ``.safetensors``): a standard safetensors file whose string metadata
holds one key, ``"eq"``, with the model's JSON metadata (see :data:`REQUIRED_KEYS`). Any
safetensors reader can open the weights; :func:`read_metadata` reads only the header, so listing
models needs neither torch nor the weights.

This module is the file format only: it never builds a torch module (that is
:mod:`eq_engine.models.loading`, one layer up). Loading never unpickles. A file that is not safetensors (a ``torch.save`` ``.pth`` zip, a raw
pickle, anything else) is refused with :class:`~eq_engine.errors.ModelError` before a single
byte of it is interpreted as Python objects. :func:`read_state_dict` is the one exception the
format needs: a *local* torchvision weights file (``.pth``) for a pretrained encoder, read with
``torch.load(weights_only=True)``, which only accepts tensors and plain containers.
"""

from __future__ import annotations

import json
import logging
import os
import struct
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..jsonsafe import jsonable
from .atomic import atomic_path
from .model_info import MODEL_KEYS, ModelInfo

log = logging.getLogger(__name__)

FORMAT = "eq-model"
FORMAT_VERSION = 1
SUFFIXES = (".eqm", ".safetensors")
REQUIRED_KEYS = ("format", "format_version", *MODEL_KEYS)
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header


# -- header ------------------------------------------------------------------------------------
def _is_safetensors(path: Path) -> bool:
    """True when ``path`` is framed like safetensors: u64 header length, then a JSON object."""
    with open(path, "rb") as fh:
        head = fh.read(9)
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 1 < n <= min(_MAX_HEADER, path.stat().st_size - 8) and head[8:9] == b"{"


def _looks_pickled(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4)
    return head[:1] == b"\x80" or head == b"PK\x03\x04"  # pickle protocol >= 2, torch.save zip


def _read_header(path: Path) -> dict:
    """The safetensors JSON header of ``path``; ModelError for anything that is not safetensors."""
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    if not _is_safetensors(path):
        if _looks_pickled(path):
            raise ModelError(
                f"{path} is a pickle or torch.save checkpoint; EQ never unpickles model files "
                "because unpickling can run arbitrary code. Use an EQ model file (.eqm); for a "
                "torchvision encoder state dict pass it as pretrained weights instead")
        raise ModelError(f"{path} is not a safetensors/EQ model file (bad header)")
    with open(path, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        raw = fh.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is not a safetensors/EQ model file ({exc})") from exc
    if not isinstance(header, dict):
        raise ModelError(f"{path} is not a safetensors/EQ model file (header is not an object)")
    return header


def read_metadata(path: str | os.PathLike) -> dict:
    """The metadata dict of an EQ model file. Fast: reads the header only, no torch.

    Raises ModelError when the file is missing, not safetensors, or not an EQ model (no EQ
    metadata, wrong ``format``, or a newer ``format_version`` than this EQ understands).
    """
    path = Path(path)
    header = _read_header(path)
    text = (header.get("__metadata__") or {}).get("eq")
    if text is None:
        raise ModelError(f"{path} is a safetensors file without EQ metadata; it is not an EQ "
                         "segmentation model (train one with `eq train`)")
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: EQ metadata is not valid JSON ({exc})") from exc
    _check_metadata(meta, path)
    return meta


def read_model_info(path: str | os.PathLike) -> ModelInfo:
    """The :class:`~eq_engine.io.model_info.ModelInfo` of an EQ model file (header only)."""
    return ModelInfo.from_metadata(read_metadata(path))


def _check_metadata(meta: Any, path: Path | str) -> None:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{path} is not an EQ model file (metadata format is not {FORMAT!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelError(f"{path} has model format version {version!r}; this EQ reads up to "
                         f"{FORMAT_VERSION}. Upgrade EQ to load it")
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise ModelError(f"{path}: EQ metadata lacks {missing}; the file is incomplete")
    try:
        ModelInfo.from_metadata(meta)
    except ModelError as exc:
        raise ModelError(f"{path}: {exc}") from exc


# -- save --------------------------------------------------------------------------------------
def save_model(path: str | os.PathLike, model_or_state: Any, metadata: dict) -> Path:
    """Write ``model_or_state`` (an nn.Module or a state dict) and ``metadata`` to ``path``.

    ``format`` and ``format_version`` are filled in; the other :data:`REQUIRED_KEYS` must be
    present. The write is atomic: readers see the old file or the complete new one.
    """
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ModelError(f"model file {path} must end with one of {SUFFIXES}")
    meta = jsonable({**metadata, "format": FORMAT, "format_version": FORMAT_VERSION})
    _check_metadata(meta, path)
    state = model_or_state.state_dict() if hasattr(model_or_state, "state_dict") else model_or_state
    # clone: safetensors refuses tensors that share storage; contiguous CPU copies never do
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    from safetensors.torch import save_file

    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"eq": json.dumps(meta, allow_nan=False)})
    return path


# -- load --------------------------------------------------------------------------------------
def read_state_dict(path: str | os.PathLike) -> dict:
    """Tensors of ``path``: an EQ/safetensors file, or a local ``.pth`` state dict.

    ``.pth`` files are read with ``torch.load(weights_only=True)``: plain tensors and containers
    only; anything else (classes, functions, ``__reduce__`` payloads) raises ModelError without
    running. Used for local torchvision encoder weights, never for EQ models.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"weights file {path} does not exist")
    if not _is_safetensors(path) and _looks_pickled(path) and path.suffix.lower() not in SUFFIXES:
        return _torch_load_weights_only(path)
    _read_header(path)  # refuses pickles posing as safetensors; validates the safetensors framing before the loader sees it
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own SafetensorError types
        raise ModelError(f"{path}: cannot read weights ({exc})") from exc


def _torch_load_weights_only(path: Path) -> dict:
    import pickle

    import torch

    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelError(f"{path} holds objects other than tensors and was refused (EQ loads "
                         f"weights only, never arbitrary pickles): {exc}") from exc
    except Exception as exc:  # torch raises many types for corrupt files; name the file
        raise ModelError(f"{path} is not a readable weights file: {exc}") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{path} is not a state dict of tensors")
    return state


def load_weights(path: str | os.PathLike) -> tuple[dict, dict]:
    """``(state_dict, metadata)`` of an EQ model file, on the CPU."""
    meta = read_metadata(path)
    return read_state_dict(path), meta
