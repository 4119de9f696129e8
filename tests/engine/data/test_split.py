"""Seeded train/validation splits by image and by subject group."""

import pytest

from eq_engine.data.split import group_of, split_items
from eq_engine.errors import DataError

STEMS = [f"T{a}_Image{i}" for a in (19, 20, 21, 22, 23) for i in range(4)]


def test_split_by_image_is_seeded_and_complete():
    stems = [f"img{i}" for i in range(10)]
    a = split_items(stems, valid_fraction=0.2, seed=3)
    b = split_items(stems, valid_fraction=0.2, seed=3)
    assert a == b
    assert len(a.valid) == 2 and sorted(a.train + a.valid) == list(range(10))
    others = {tuple(split_items(stems, valid_fraction=0.2, seed=s).valid) for s in range(10)}
    assert len(others) > 1  # the seed matters


def test_groups_never_straddle_the_split():
    split = split_items(STEMS, valid_fraction=0.4, seed=0, group_pattern=r"^(T\d+)_")
    assert len(split.valid_groups) == 2
    train_groups = {group_of(STEMS[i], r"^(T\d+)_") for i in split.train}
    valid_groups = {group_of(STEMS[i], r"^(T\d+)_") for i in split.valid}
    assert not train_groups & valid_groups
    assert valid_groups == set(split.valid_groups) and len(split.valid) == 8


def test_at_least_one_on_each_side():
    split = split_items(["a", "b"], valid_fraction=0.9, seed=0)
    assert len(split.train) == 1 and len(split.valid) == 1


def test_unmatched_stem_and_single_group_raise():
    with pytest.raises(DataError, match="Image0"):
        split_items(["Image0", "T1_x"], group_pattern=r"^(T\d+)_")
    with pytest.raises(DataError, match="at least 2"):
        split_items(["T1_a", "T1_b"], group_pattern=r"^(T\d+)_")


def test_explicit_validation_pattern():
    stems = ["training_010", "training_012", "validation_050", "validation_051"]
    split = split_items(stems, valid_pattern=r"^validation_")
    assert split.valid == [2, 3] and split.train == [0, 1]
    with pytest.raises(DataError, match="matches no image"):
        split_items(stems, valid_pattern=r"^test_")
    with pytest.raises(DataError, match="splits subject"):
        split_items(["T1_a", "T1_b", "T2_a"], valid_pattern=r"T1_a", group_pattern=r"^(T\d)_")
