"""Dataset pairing by whole stem, validation and the report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eq_engine.errors import Cancelled, DataError
from eq_engine.events import CancelToken, Progress
from eq_engine.io.datasets import Pair, check_dataset, find_pairs
from eq_engine.io.images import write_image

SIZE = (16, 20)


def _image(path, shape=SIZE):
    return write_image(path, np.full((*shape, 3), 120, np.uint8))


def _mask(path, shape=SIZE, values=(0, 255)):
    mask = np.zeros(shape, np.uint8)
    for i, v in enumerate(values):
        mask[i::len(values)] = v
    return write_image(path, mask)


def test_whole_stem_matching_never_pairs_t19_image9_with_image99(tmp_path):
    for stem in ("T19_Image9", "T19_Image99", "T19_Image999"):
        _image(tmp_path / "images" / f"{stem}.jpg")
        _mask(tmp_path / "masks" / f"{stem}_mask.png")
    pairs = find_pairs(tmp_path)
    assert [(p.stem, p.image.name, p.mask.name) for p in pairs] == [
        ("T19_Image9", "T19_Image9.jpg", "T19_Image9_mask.png"),
        ("T19_Image99", "T19_Image99.jpg", "T19_Image99_mask.png"),
        ("T19_Image999", "T19_Image999.jpg", "T19_Image999_mask.png"),
    ]
    # Without T19_Image9's own mask it stays unpaired: it never borrows T19_Image99's.
    (tmp_path / "masks" / "T19_Image9_mask.png").unlink()
    report = check_dataset(tmp_path)
    assert [p.stem for p in report.pairs] == ["T19_Image99", "T19_Image999"]
    assert [p.paths[0].name for p in report.unpaired_images] == ["T19_Image9.jpg"]
    assert report.ok


@pytest.mark.parametrize("mask_name", ["X.png", "X_mask.png", "X_label.tif", "X_labels.png",
                                       "X_gt.png", "X_groundtruth.png", "X_Mask.png"])
def test_every_mask_naming_in_masks_folder(tmp_path, mask_name):
    _image(tmp_path / "images" / "X.tif")
    _mask(tmp_path / "masks" / mask_name)
    assert find_pairs(tmp_path) == [Pair("X", tmp_path / "images" / "X.tif",
                                         tmp_path / "masks" / mask_name)]


def test_masks_beside_images_and_flat_folders(tmp_path):
    _image(tmp_path / "images" / "a.png")
    _mask(tmp_path / "images" / "a_gt.png")
    _image(tmp_path / "images" / "b_mask.png")  # tagged, but no image 'b': an image itself
    assert [(p.stem, p.mask.name) for p in find_pairs(tmp_path)] == [("a", "a_gt.png")]
    flat = tmp_path / "flat"
    _image(flat / "s1.png")
    _mask(flat / "s1_mask.png")
    (flat / "README.md").write_text("not an image")
    assert [(p.stem, p.mask.name) for p in find_pairs(flat)] == [("s1", "s1_mask.png")]
    assert check_dataset(flat).ok


def test_other_folders_such_as_valid_regions_are_not_masks(tmp_path):
    _image(tmp_path / "images" / "Healthy.png")
    _mask(tmp_path / "masks" / "Healthy.png")
    _mask(tmp_path / "valid_regions" / "Healthy.png")
    _mask(tmp_path / "valid_regions" / "Other.png")
    report = check_dataset(tmp_path)
    assert report.n_masks == 1 and report.ok and not report.problems


def test_report_names_every_kind_of_problem(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    for stem in ("good", "wide", "tri", "dupmask", "lonely"):
        _image(images / f"{stem}.png")
    _mask(masks / "good.png")
    _mask(masks / "wide.png", shape=(16, 21))
    _mask(masks / "tri.png", values=(0, 1, 2))
    _mask(masks / "dupmask.png")
    _mask(masks / "dupmask_mask.png")
    _mask(masks / "orphan_mask.png")
    _image(images / "twin.png")
    _image(images / "twin.tif")
    _mask(masks / "twin.png")
    data = _image(images / "broken.png").read_bytes()
    (images / "broken.png").write_bytes(data[: len(data) // 2])
    _mask(masks / "broken.png")

    report = check_dataset(tmp_path)
    assert [p.stem for p in report.pairs] == ["good"]
    assert report.usable and not report.ok
    kinds = {(p.kind, p.paths[-1].name) for p in report.problems}
    assert kinds == {("shape_mismatch", "wide.png"), ("non_binary_mask", "tri.png"),
                     ("duplicate", "dupmask_mask.png"), ("duplicate", "twin.png"),
                     ("orphan_mask", "orphan_mask.png"), ("unpaired_image", "lonely.png"),
                     ("unreadable", "broken.png")}
    assert "3 distinct values" in report.non_binary_masks[0].message
    assert "(16, 21)" in report.shape_mismatches[0].message
    assert len(report.errors) == 5 and len(report.duplicates) == 2
    table = report.table()
    for text in ("masks/wide.png", "masks/tri.png", "masks/orphan_mask.png", "images/broken.png",
                 "images/lonely.png", "PROBLEMS", "usable pairs               1"):
        assert text in table
    as_dict = json.loads(json.dumps(report.to_dict()))
    assert as_dict["ok"] is False and len(as_dict["problems"]) == 7


def test_labels_option_accepts_label_masks(tmp_path):
    _image(tmp_path / "images" / "a.png")
    _mask(tmp_path / "masks" / "a.png", values=(0, 1, 2, 3))
    assert check_dataset(tmp_path).non_binary_masks
    assert check_dataset(tmp_path, labels=True).ok


def test_empty_masks_are_counted_not_rejected(tmp_path):
    _image(tmp_path / "images" / "a.png")
    _mask(tmp_path / "masks" / "a.png", values=(0,))
    _image(tmp_path / "images" / "b.png")
    _mask(tmp_path / "masks" / "b.png")
    report = check_dataset(tmp_path)
    assert report.ok and report.n_empty_masks == 1


def test_all_masks_empty_is_flagged_never_ok(tmp_path):
    for stem in ("a", "b"):
        _image(tmp_path / "images" / f"{stem}.png")
        _mask(tmp_path / "masks" / f"{stem}.png", values=(0,))
    report = check_dataset(tmp_path)
    assert report.usable and not report.ok and report.n_empty_masks == 2
    assert [p.kind for p in report.errors] == ["no_foreground"]
    assert "every mask is empty (2 of 2" in report.table()
    assert "Result: OK" not in report.table()


def test_training_pairs_refuse_duplicate_stems(tmp_path):
    from eq_engine.io.datasets import training_pairs

    _image(tmp_path / "images" / "a.png")
    _image(tmp_path / "images" / "a.tif")
    _mask(tmp_path / "masks" / "a.png")
    _image(tmp_path / "images" / "b.png")
    _mask(tmp_path / "masks" / "b.png")
    with pytest.raises(DataError, match=r"images/a\.png, images/a\.tif.*share stem 'a'.*leave"):
        training_pairs(tmp_path)
    (tmp_path / "images" / "a.tif").unlink()
    assert [p.stem for p in training_pairs(tmp_path)] == ["a", "b"]


def test_nothing_usable_and_missing_folder(tmp_path):
    report = check_dataset(tmp_path)
    assert not report.usable and report.problems[0].kind == "no_images"
    with pytest.raises(DataError, match="nope: dataset folder not found"):
        check_dataset(tmp_path / "nope")


def test_progress_events_and_cancel(tmp_path):
    for stem in ("a", "b", "c"):
        _image(tmp_path / "images" / f"{stem}.png")
        _mask(tmp_path / "masks" / f"{stem}.png")
    events = []
    check_dataset(tmp_path, on_event=events.append)
    assert [(e.step, e.total) for e in events] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert all(isinstance(e, Progress) and e.stage == "check_dataset" for e in events)
    token = CancelToken()

    def cancel_after_first(event):
        token.cancel()

    with pytest.raises(Cancelled):
        check_dataset(tmp_path, on_event=cancel_after_first, cancel=token)


def test_decode_images_finds_damage_a_header_check_misses(tmp_path):
    _image(tmp_path / "images" / "a.tif")
    _mask(tmp_path / "masks" / "a.png")
    write_image(tmp_path / "images" / "a.tif",
                np.random.default_rng(0).integers(0, 255, (*SIZE, 3), np.uint8))
    import tifffile

    with tifffile.TiffFile(tmp_path / "images" / "a.tif") as tif:
        offset = tif.pages[0].dataoffsets[0]
    raw = bytearray((tmp_path / "images" / "a.tif").read_bytes())
    raw[offset:offset + 8] = b"\x00" * 8  # wreck the zlib stream, keep the size
    (tmp_path / "images" / "a.tif").write_bytes(bytes(raw))
    assert check_dataset(tmp_path).ok
    assert check_dataset(tmp_path, decode_images=True).unreadable


@pytest.mark.parametrize(("name", "count"), [
    ("kidney_preeclampsia_mouse_he", 48), ("kidney_aidpath_human_pas", 24),
    ("kidney_bouteldja_mouse_pas", 6), ("em_cdeep3m_mouse_brain", 20), ("em_drosophila_vnc", 10),
])
def test_shared_datasets_pair_fully_without_problems(shared_data, name, count):
    report = check_dataset(shared_data(name))
    assert len(report.pairs) == count == report.n_images == report.n_masks
    assert report.problems == () and report.ok
    if name == "kidney_preeclampsia_mouse_he":
        assert all(p.mask.name == f"{p.stem}_mask.png" for p in report.pairs)
