"""Plain-JSON copies of results, so every JSON file EQ writes is strict JSON."""

from __future__ import annotations

import math
import os
from typing import Any


def jsonable(value: Any) -> Any:
    """A copy of ``value`` made of JSON types only, for ``json.dumps(..., allow_nan=False)``.

    Objects with ``to_dict()`` become dicts, tuples lists, paths strings, numpy/torch scalars
    Python numbers; NaN/Inf become None so every reader can parse the file. Anything else that
    JSON cannot hold becomes its ``str``.
    """
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
