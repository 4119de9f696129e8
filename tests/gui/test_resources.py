"""resources/: icons, the default training profiles, and the real sample tissue with its credit."""

from __future__ import annotations

import numpy as np
import pytest

from eq_gui.resources import ICONS, icon_path, resources_dir, tissue_pairs, training_profiles

MAX_BYTES = 8 * 2**20


def test_resources_are_small_and_every_icon_exists():
    total = sum(p.stat().st_size for p in resources_dir().rglob("*") if p.is_file())
    assert total <= MAX_BYTES
    for name in ICONS:
        assert icon_path(name).read_text().lstrip().startswith("<svg")


def test_profiles_are_valid_configs():
    from eq_engine.config import TrainConfig, TransferConfig

    profiles = training_profiles()
    assert len(profiles) >= 3
    for profile in profiles.values():
        train = TrainConfig(**profile["train"])  # raises ConfigError on a bad value
        TransferConfig(base_model="base.eqm", train=train, **profile["transfer"])
        assert profile["about"]


def test_sample_tissue_pairs_and_attribution():
    from eq_engine import read_image, read_mask

    pairs = tissue_pairs()
    assert len(pairs) >= 3
    for image_path, mask_path in pairs:
        image, mask = read_image(image_path), read_mask(mask_path)
        assert image.shape == (*mask.shape, 3) and mask.any()
    credit = (pairs[0][0].parents[1] / "README.md").read_text()
    assert "Bueno" in credit and "10.17632/k7nvtgn2x6.3" in credit and "CC BY 4.0" in credit


@pytest.mark.gui
def test_tissue_sample_is_layer_data():
    from eq_gui.samples import tissue_sample

    (image, meta, kind), (labels, labels_meta, labels_kind) = tissue_sample()
    assert (kind, labels_kind) == ("image", "labels") and meta["rgb"]
    assert labels.shape == image.shape[:2] and set(np.unique(labels)) == {0, 1, 2}
    assert "Bueno" in meta["metadata"]["attribution"]
