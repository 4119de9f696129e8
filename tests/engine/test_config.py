import dataclasses

import pytest

from eq_engine.config import EvalConfig, PredictConfig, QuantConfig, TrainConfig, TransferConfig
from eq_engine.errors import ConfigError


def test_configs_are_frozen():
    cfg = TrainConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.epochs = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("cls", "kwargs", "needle"),
    [
        (TrainConfig, {"epochs": 0}, "epochs=0"),
        (TrainConfig, {"size": 100}, "multiple of 32"),
        (TrainConfig, {"loss": "hinge"}, "one of"),
        (TrainConfig, {"group_pattern": "T\\d+"}, "capture group"),
        (TrainConfig, {"group_pattern": "("}, "not a valid regex"),
        (TrainConfig, {"lr": float("nan")}, "lr=nan"),
        (TrainConfig, {"scale_jitter": 0.8}, "scale_jitter=0.8"),
        (TransferConfig, {"base_model": ""}, "base_model"),
        (TransferConfig, {"base_model": "m.eqm", "freeze_epochs": 0, "unfreeze_epochs": 0}, "at least 1"),
        (PredictConfig, {"overlap": 1.0}, "overlap=1.0"),
        (PredictConfig, {"tile": -5}, "tile=-5"),
        (PredictConfig, {"object_diameter": -3}, "object_diameter=-3"),
        (EvalConfig, {"sweep": (0.5, 1.5)}, "sweep"),
        (QuantConfig, {"lumen_method": "magic"}, "lumen_method"),
    ],
)
def test_bad_values_name_the_field(cls, kwargs, needle):
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(").replace("\\d", "\\\\d")):
        cls(**kwargs)


def test_round_trip_nested():
    cfg = TransferConfig(base_model="mito.eqm", train=TrainConfig(task="glomeruli", epochs=3, scale=0.25))
    again = TransferConfig.from_dict(cfg.to_dict())
    assert again == cfg
    assert isinstance(again.train, TrainConfig)


def test_from_dict_rejects_unknown_fields():
    with pytest.raises(ConfigError, match="unknown field"):
        PredictConfig.from_dict({"tile": 256, "tiles": 3})


def test_tuple_fields_survive_json_lists():
    cfg = EvalConfig(sweep=(0.3, 0.5))
    assert EvalConfig.from_dict({"sweep": [0.3, 0.5]}) == cfg


def test_transfer_defaults_train_as_many_epochs_as_scratch():
    """2 + 4 epochs lost 0.16 Dice against 2 + 8 on held-out mice in one split (BENCHMARKS.md)."""
    from eq_engine.config import CVConfig

    t = TransferConfig(base_model="m.eqm")
    assert t.freeze_epochs + t.unfreeze_epochs == TrainConfig().epochs == 10
    cv = CVConfig(group_pattern="^(T.)_")
    assert (cv.freeze_epochs, cv.unfreeze_epochs, cv.lr_divisor) == (2, 8, 10.0)
