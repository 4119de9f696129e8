"""Threshold sweep (hand-computed) and saving the chosen threshold into a model file."""

from __future__ import annotations

import numpy as np
import pytest

from eq_engine.errors import ConfigError
from eq_engine.evaluation import save_threshold, threshold_sweep


def test_sweep_pooled_and_mean_by_hand():
    truth = np.array([[1, 1, 0, 0]], bool)
    prob_a = np.array([[0.9, 0.4, 0.3, 0.1]], np.float32)  # t=0.35: tp 2 fp 0; t=0.5: tp 1 fn 1
    prob_b = np.array([[0.6, 0.6, 0.6, 0.2]], np.float32)  # t=0.35, 0.5: tp 2 fp 1
    rows, best = threshold_sweep([prob_a, prob_b], [truth, truth], (0.35, 0.5, 0.95))
    by_t = {r["threshold"]: r for r in rows}
    assert by_t[0.35]["pooled_dice"] == pytest.approx(8 / 9)  # tp 4, fp 1, fn 0
    assert by_t[0.35]["mean_dice"] == pytest.approx((1 + 4 / 5) / 2)
    assert by_t[0.5]["pooled_dice"] == pytest.approx(6 / 8)  # tp 3, fp 1, fn 1
    assert by_t[0.5]["pooled_recall"] == pytest.approx(3 / 4)
    assert by_t[0.95]["pooled_dice"] == 0.0
    assert best == 0.35


def test_sweep_respects_valid_region_and_ties_prefer_half():
    truth = np.array([[1, 0, 0]], bool)
    prob = np.array([[0.9, 0.1, 0.9]], np.float32)
    valid = np.array([[1, 1, 0]], bool)  # the false positive at x=2 is not scored
    rows, best = threshold_sweep([prob], [truth], (0.3, 0.5, 0.8), valids=[valid])
    assert all(r["pooled_dice"] == 1.0 for r in rows) and best == 0.5
    with pytest.raises(ConfigError, match="truth masks"):
        threshold_sweep([prob], [truth, truth])


def test_save_threshold_round_trip(tmp_path):
    import torch

    from eq_engine.io.models import read_metadata, save_model

    meta = {"task": "generic", "arch": "resnet18", "in_channels": 1, "n_classes": 2,
            "normalization": {}, "tile_size": 64, "scale": 1.0, "threshold": 0.5}
    path = save_model(tmp_path / "m.eqm", {"w": torch.arange(4.0)}, meta)
    save_threshold(path, 0.3, source={"dataset": "val"})
    saved = read_metadata(path)
    assert saved["threshold"] == 0.3 and saved["threshold_source"] == {"dataset": "val"}
    from eq_engine.io.models import read_state_dict

    assert torch.equal(read_state_dict(path)["w"], torch.arange(4.0))
    with pytest.raises(ConfigError):
        save_threshold(path, 1.0)
