"""ModelInfo: the typed model description; keys, defaults, validation and round trips."""

import pytest

from eq_engine.errors import ModelError
from eq_engine.io.model_info import ModelInfo

NORM = {"method": "percentile-standardize", "channels": 1, "mean": [0.4], "std": [0.2]}


def _meta(**changes):
    meta = {"format": "eq-model", "format_version": 1, "task": "glomeruli", "arch": "resnet18",
            "in_channels": 1, "n_classes": 2, "normalization": NORM, "tile_size": 64,
            "scale": 0.5, "threshold": 0.4, "parent": None, "history": [{"epoch": 1}],
            "metrics": {"dice": 0.7}, "created": "2026-01-01T00:00:00+00:00",
            "train_config": {"size": 64}, "future_key": [1, 2]}
    meta.update(changes)
    return meta


def test_attributes_have_one_name_each_and_round_trip_keeps_unknown_keys():
    meta = _meta()
    info = ModelInfo.from_metadata(meta)
    assert (info.tile, info.scale, info.threshold, info.in_channels) == (64, 0.5, 0.4, 1)
    assert info.history == ({"epoch": 1},) and info.metrics == {"dice": 0.7}
    assert info.extra["future_key"] == [1, 2] and "tile_size" not in info.extra
    assert info.to_metadata() == meta
    with pytest.raises(AttributeError):
        info.tile = 32  # frozen


def test_absent_or_null_values_take_the_defaults():
    info = ModelInfo.from_metadata({"in_channels": 3, "normalization": {}, "threshold": None})
    assert (info.tile, info.scale, info.threshold, info.n_classes, info.task) == (0, 1.0, 0.5, 2, "")
    assert info.to_metadata()["tile_size"] == 0


@pytest.mark.parametrize(("key", "value"), [
    ("tile_size", -1), ("tile_size", 3.5), ("scale", 0), ("scale", "big"),
    ("threshold", 1.5), ("in_channels", 0), ("n_classes", True), ("normalization", [1]),
    ("arch", 18), ("history", "x"),
])
def test_invalid_values_raise_model_error_naming_the_key(key, value):
    with pytest.raises(ModelError, match=key):
        ModelInfo.from_metadata(_meta(**{key: value}))


@pytest.mark.parametrize("key", ["in_channels", "normalization"])
def test_required_keys(key):
    meta = _meta()
    del meta[key]
    with pytest.raises(ModelError, match=key):
        ModelInfo.from_metadata(meta)


def test_replace_validates_and_summary_shows_recorded_values():
    info = ModelInfo.from_metadata(_meta())
    assert info.replace(threshold=0.3).threshold == 0.3
    with pytest.raises(ModelError, match="threshold"):
        info.replace(threshold=2.0)
    assert dict(info.summary_items())["tile_size"] == 64 and "parent" not in dict(info.summary_items())
