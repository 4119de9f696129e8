"""jsonable: the one JSON sanitiser behind run records, model files and reports."""

import json
import math
from pathlib import Path

import numpy as np

from eq_engine.config import QuantConfig
from eq_engine.jsonsafe import jsonable


def test_nested_values_become_strict_json():
    value = {1: (np.float32(0.5), np.int64(3), np.bool_(True)), "nan": math.nan,
             "inf": [np.float64(-math.inf)], "path": Path("a") / "b.tif", "none": None,
             "config": QuantConfig(), "other": {1, 2} - {1, 2}}
    out = jsonable(value)
    json.dumps(out, allow_nan=False)  # raises on anything left over
    assert out["1"] == [0.5, 3, True] and type(out["1"][1]) is int
    assert out["nan"] is None and out["inf"] == [None] and out["none"] is None
    assert out["path"] == str(Path("a") / "b.tif")
    assert out["config"] == jsonable(QuantConfig().to_dict())
    assert out["other"] == "set()"


def test_input_is_not_mutated():
    value = {"a": [1.0, math.nan]}
    jsonable(value)
    assert math.isnan(value["a"][1])
