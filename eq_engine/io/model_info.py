"""``ModelInfo``: the typed description of a model, read from an EQ model file's metadata.

This module is the only place that knows metadata keys and their defaults. Every other module
reads a model's tile, scale, normalisation, channels or threshold from a :class:`ModelInfo`;
:func:`ModelInfo.from_metadata` validates each value (ModelError naming the key) and keeps keys
it does not know in ``extra``, so a file written by a newer EQ survives a read/write round trip.

One name per concept: the crop size a model was trained on and the tile it predicts with is
``tile`` here (the file key stays ``"tile_size"`` so existing model files keep loading).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from ..errors import ModelError

# file key of each attribute whose name differs from it
_KEYS = {"tile": "tile_size"}
_DEFAULTS = {"task": "", "arch": "", "n_classes": 2, "tile": 0, "scale": 1.0, "threshold": 0.5}
_SHOWN = ("task", "arch", "in_channels", "tile", "scale", "threshold", "parent")
_WRITTEN = ("task", "arch", "in_channels", "n_classes", "normalization", "tile", "scale",
            "threshold")


def _key(attribute: str) -> str:
    return _KEYS.get(attribute, attribute)


MODEL_KEYS = tuple(_key(a) for a in _WRITTEN)  # every EQ model file records these


@dataclass(frozen=True)
class ModelInfo:
    """What a model needs to be rebuilt and to predict as it was trained.

    ``tile`` 0 means the file records no tile (prediction then needs ``PredictConfig.tile``).
    ``parent`` is the record of the model whose encoder started this one (transfer), ``history``
    the per-epoch rows, ``metrics`` the best epoch's, ``created`` an ISO timestamp; ``extra``
    holds every other metadata key (training config, split, versions, ...), unchanged.
    """

    in_channels: int
    normalization: Mapping
    task: str = ""
    arch: str = ""
    n_classes: int = 2
    tile: int = 0
    scale: float = 1.0
    threshold: float = 0.5
    parent: Mapping | None = None
    history: tuple = ()
    metrics: Mapping = field(default_factory=dict)
    created: str = ""
    extra: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_int(self.in_channels, "in_channels", low=1)
        _check_int(self.n_classes, "n_classes", low=1)
        _check_int(self.tile, "tile", low=0)
        if not isinstance(self.normalization, Mapping):
            raise ModelError(f"model metadata 'normalization'={self.normalization!r} must be an "
                             "object; the model file is damaged or not from EQ")
        if not _is_number(self.scale) or not math.isfinite(self.scale) or self.scale <= 0:
            raise ModelError(f"model metadata 'scale'={self.scale!r} must be a positive number")
        if not _is_number(self.threshold) or not 0 <= self.threshold <= 1:
            raise ModelError(f"model metadata 'threshold'={self.threshold!r} must be a number "
                             "in [0, 1]")
        for name in ("task", "arch", "created"):
            if not isinstance(getattr(self, name), str):
                raise ModelError(f"model metadata {_key(name)!r}={getattr(self, name)!r} must be "
                                 "a string")
        object.__setattr__(self, "scale", float(self.scale))
        object.__setattr__(self, "threshold", float(self.threshold))
        object.__setattr__(self, "history", tuple(self.history or ()))
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    @classmethod
    def from_metadata(cls, meta: Mapping) -> ModelInfo:
        """Parse a metadata dict; absent keys take their defaults, unknown keys go to ``extra``.

        ``in_channels`` and ``normalization`` are required. ``None`` counts as absent.
        """
        if not isinstance(meta, Mapping):
            raise ModelError(f"model metadata must be an object, not {type(meta).__name__}")
        known = {f.name for f in fields(cls)} - {"extra"}
        values: dict[str, Any] = {}
        for name in known:
            key = _key(name)
            if meta.get(key) is not None:
                values[name] = meta[key]
            elif name in ("in_channels", "normalization"):
                raise ModelError(f"model metadata lacks {key!r}; the model file is incomplete")
        for name in ("metrics", "history"):
            if name in values and not isinstance(values[name], (Mapping, list, tuple)):
                raise ModelError(f"model metadata {name!r}={values[name]!r} has the wrong type")
        values["metrics"] = dict(values.get("metrics") or {})
        taken = {_key(n) for n in known}
        values["extra"] = {k: v for k, v in meta.items() if k not in taken}
        return cls(**values)

    def to_metadata(self) -> dict:
        """The metadata dict (file keys), ``extra`` included; inverse of :meth:`from_metadata`."""
        out = dict(self.extra)
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if f.name == "history":
                value = [dict(row) for row in value]
            elif isinstance(value, Mapping):
                value = dict(value)
            out[_key(f.name)] = value
        return out

    def replace(self, **changes) -> ModelInfo:
        return replace(self, **changes)

    def summary_items(self) -> list[tuple[str, Any]]:
        """``(file key, value)`` pairs for a short description, recorded values only."""
        items = [(_key(n), getattr(self, n)) for n in _SHOWN]
        return [(k, v) for k, v in items if v not in (None, "")]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_int(value: Any, name: str, *, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ModelError(f"model metadata {_key(name)!r}={value!r} must be an integer >= {low}")
