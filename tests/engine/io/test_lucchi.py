"""Organising Lucchi-layout TIFF stacks into per-slice datasets (small generated stacks)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from eq_engine.errors import Cancelled, DataError
from eq_engine.events import CancelToken
from eq_engine.io.datasets import check_dataset
from eq_engine.io.images import read_image, read_mask
from eq_engine.io.lucchi import organise_lucchi


def _stacks(n_slices, *, seed=0, shape=(24, 32)):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (n_slices, *shape), dtype=np.uint8)
    mask = (rng.random((n_slices, *shape)) > 0.8).astype(np.uint8) * 255
    return image, mask


def _write(path, stack, **options):
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, stack, photometric="minisblack", **options)


def _epfl(src, n_train=4, n_test=3, **options):
    train, test = _stacks(n_train, seed=1), _stacks(n_test, seed=2)
    _write(src / "training.tif", train[0], **options)
    _write(src / "training_groundtruth.tif", train[1], **options)
    _write(src / "testing.tif", test[0], **options)
    _write(src / "testing_groundtruth.tif", test[1], **options)
    return train, test


def _assert_dataset(folder, split, image, mask):
    report = check_dataset(folder)
    assert report.ok and len(report.pairs) == len(image)
    for z, pair in enumerate(report.pairs):
        assert pair.stem == f"{split}_{z:03d}"
        np.testing.assert_array_equal(read_image(pair.image), image[z])
        np.testing.assert_array_equal(read_mask(pair.mask), mask[z] > 0)


def test_epfl_stacks_become_one_pair_per_slice(tmp_path):
    (train, test) = _epfl(tmp_path / "src")
    events = []
    result = organise_lucchi(tmp_path / "src", tmp_path / "out", on_event=events.append)
    assert (result.n_train, result.n_test, result.layout) == (4, 3, "epfl")
    assert result.train == tmp_path / "out" / "train" and result.test == tmp_path / "out" / "test"
    _assert_dataset(result.train, "train", *train)
    _assert_dataset(result.test, "test", *test)
    assert [e.step for e in events] == list(range(8)) and events[-1].total == 7


def test_lucchi_plus_plus_layout_one_folder_down_and_compressed(tmp_path):
    src = tmp_path / "download" / "Lucchi++"
    train, test = _stacks(2, seed=3), _stacks(5, seed=4)
    _write(src / "img" / "train_im.tif", train[0], compression="zlib")
    _write(src / "label" / "train_label.tif", train[1], compression="zlib")
    _write(src / "img" / "test_im.tif", test[0], compression="zlib")
    _write(src / "label" / "test_label.tif", test[1], compression="zlib")
    result = organise_lucchi(tmp_path / "download", tmp_path / "out")
    assert (result.n_train, result.n_test, result.layout, result.source) == (2, 5, "lucchi++", src)
    _assert_dataset(result.train, "train", *train)
    _assert_dataset(result.test, "test", *test)


def test_only_a_training_split_is_fine(tmp_path):
    image, mask = _stacks(2)
    _write(tmp_path / "src" / "training.tif", image)
    _write(tmp_path / "src" / "training_groundtruth.tif", mask)
    result = organise_lucchi(tmp_path / "src", tmp_path / "out")
    assert (result.n_train, result.n_test, result.test) == (2, 0, None)


def test_existing_output_needs_overwrite_which_replaces_stale_slices(tmp_path):
    _epfl(tmp_path / "src", n_train=4)
    organise_lucchi(tmp_path / "src", tmp_path / "out")
    with pytest.raises(DataError, match="overwrite=True"):
        organise_lucchi(tmp_path / "src", tmp_path / "out")
    _epfl(tmp_path / "src", n_train=2)
    (tmp_path / "out" / "train" / "images" / "notes.txt").write_text("user file, kept")
    result = organise_lucchi(tmp_path / "src", tmp_path / "out", overwrite=True)
    assert result.n_train == 2
    assert sorted(p.name for p in (result.train / "images").iterdir()) == [
        "notes.txt", "train_000.tif", "train_001.tif"]
    assert len(check_dataset(result.train).pairs) == 2


def test_bad_sources_raise_data_errors(tmp_path):
    with pytest.raises(DataError, match="no Lucchi stacks found"):
        organise_lucchi(tmp_path, tmp_path / "out")
    image, mask = _stacks(3)
    _write(tmp_path / "a" / "training.tif", image)
    with pytest.raises(DataError, match="training_groundtruth.tif is missing"):
        organise_lucchi(tmp_path / "a", tmp_path / "out")
    _write(tmp_path / "a" / "training_groundtruth.tif", mask[:2])
    with pytest.raises(DataError, match=r"training_groundtruth\.tif: shape \(2, 24, 32\)"):
        organise_lucchi(tmp_path / "a", tmp_path / "out")
    grey = mask.copy()
    grey[1, 0, :3] = (0, 128, 255)
    _write(tmp_path / "a" / "training_groundtruth.tif", grey)
    with pytest.raises(DataError, match="slice 1: mask has 3 distinct values"):
        organise_lucchi(tmp_path / "a", tmp_path / "out")
    assert not (tmp_path / "out").exists()  # checked before anything was written


def test_cancel_stops_between_slices(tmp_path):
    _epfl(tmp_path / "src")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        organise_lucchi(tmp_path / "src", tmp_path / "out", cancel=token)
    assert not any((tmp_path / "out").rglob("*.png"))
