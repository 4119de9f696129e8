"""The Train dock fills its form from a default profile."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_choosing_a_profile_fills_the_form(make_napari_viewer):
    from eq_gui.train_dock import TrainDock

    dock = TrainDock(make_napari_viewer())
    name = next(n for n, p in dock.profiles.items() if p["train"].get("arch") == "resnet34")
    dock.profile.setCurrentText(name)
    profile = dock.profiles[name]
    config = dock.form.train_config("glomeruli")
    assert config.arch == "resnet34" and config.epochs == profile["train"]["epochs"]
    assert dock.form.freeze_epochs.value() == profile["transfer"]["freeze_epochs"]
    with pytest.raises(ValueError, match="unknown fields"):
        dock.form.apply_profile({"name": "bad", "train": {"colour": "red"}})


def test_copied_encoder_stages_reach_the_transfer_config(make_napari_viewer):
    from eq_gui.train_dock import TrainDock

    dock = TrainDock(make_napari_viewer())
    dock.form.apply_profile({"name": "early", "transfer": {"copy_stages": 2}})
    assert dock.form.copy_stages.value() == 2
    assert dock.form.transfer_config("base.eqm").copy_stages == 2
