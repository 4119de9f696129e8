"""The prediction options shared by eq predict, eq evaluate and eq quantify."""

from __future__ import annotations

import pytest

from eq_engine.cli import build_parser
from eq_engine.cli.predict import predict_config


@pytest.mark.parametrize("command", [["predict", "m.eqm", "img.tif"],
                                     ["evaluate", "m.eqm", "data"],
                                     ["quantify", "m.eqm", "images"]])
def test_object_diameter_reaches_the_predict_config(command):
    args = build_parser().parse_args([*command, "--out", "o", "--object-diameter", "53",
                                      "--tile", "512"])
    config = predict_config(args)
    assert config.object_diameter == 53.0 and config.tile == 512
    plain = predict_config(build_parser().parse_args([*command, "--out", "o"]))
    assert plain.object_diameter == 0.0 and plain.tile == 0  # the model's scale and tile
