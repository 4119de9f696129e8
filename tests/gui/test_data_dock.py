"""Data and Annotation dock: list a dataset, load a pair, annotate, save masks safely."""

from __future__ import annotations

import numpy as np
import pytest

from eq_engine.io.images import read_mask, write_image
from eq_gui.data_dock import DataDock

pytestmark = pytest.mark.gui


@pytest.fixture
def dataset(tmp_path):
    from eq_engine.data.synthetic import write_em_dataset

    root = write_em_dataset(tmp_path / "ds", n_slices=2, size=64, seed=0)
    write_image(root / "images" / "new_slice.tif", np.full((64, 64), 90, np.uint8))
    return root


def open_dataset(qtbot, viewer, root) -> DataDock:
    dock = DataDock(viewer)
    viewer.window.add_dock_widget(dock, name="Data")
    dock.folder.set_path(root)
    qtbot.waitUntil(lambda: dock.report is not None, timeout=20_000)
    return dock


def row_of(dock, stem) -> int:
    return next(i for i, (s, _, _) in enumerate(dock.rows) if s == stem)


def test_lists_pairs_and_problems_and_loads_a_pair(make_napari_viewer, qtbot, dataset):
    viewer = make_napari_viewer()
    dock = open_dataset(qtbot, viewer, dataset)
    assert [s for s, _, _ in dock.rows] == ["em_z00", "em_z01", "new_slice"]
    assert dock.table.item(row_of(dock, "new_slice"), 2).text() == "no mask yet"
    assert dock.problems.count() >= 1 and "new_slice" in dock.problems.item(0).text()
    with qtbot.waitSignal(viewer.layers.events.inserted, timeout=20_000):
        dock.load_row(row_of(dock, "em_z01"))
    qtbot.waitUntil(lambda: "em_z01 mask" in viewer.layers, timeout=20_000)
    mask = viewer.layers["em_z01 mask"]
    expected = read_mask(dataset / "masks" / "em_z01.png")
    np.testing.assert_array_equal(mask.data > 0, expected)
    assert viewer.layers["em_z01"].data.shape == (64, 64)
    mask.data[0, :] = 1  # an unsaved edit survives a second click on the row
    dock.load_row(row_of(dock, "em_z01"))
    assert mask.data[0, :].all() and "already open" in dock.status.text()
    assert [layer.name for layer in viewer.layers].count("em_z01") == 1


def test_new_annotation_saves_atomically_and_never_overwrites_silently(
        make_napari_viewer, qtbot, dataset, monkeypatch):
    viewer = make_napari_viewer()
    dock = open_dataset(qtbot, viewer, dataset)
    dock.load_row(row_of(dock, "new_slice"))
    qtbot.waitUntil(lambda: "new_slice" in viewer.layers, timeout=20_000)
    labels = dock.new_annotation()
    assert labels.data.shape == (64, 64) and labels.data.max() == 0
    assert labels.mode == "paint" and viewer.layers.selection.active is labels
    labels.data[10:20, 10:30] = 1
    target = dataset / "masks" / "new_slice.png"
    assert dock.save_mask() == target
    saved = read_mask(target)
    assert saved.sum() == 200 and saved[10:20, 10:30].all()
    assert not list(target.parent.glob(".*part*"))  # no temporary left behind

    answers = []
    monkeypatch.setattr(dock, "_confirm_overwrite", lambda path: answers.append(path) or False)
    labels.data[:] = 0
    labels.data[0:5, 0:5] = 1
    assert dock.save_mask() is None  # refused: the file is kept as it was
    assert answers == [target] and read_mask(target).sum() == 200
    assert "kept" in dock.status.text()
    monkeypatch.setattr(dock, "_confirm_overwrite", lambda path: True)
    assert dock.save_mask() == target and read_mask(target).sum() == 25


def test_accept_prediction_copies_into_an_editable_layer(make_napari_viewer, qtbot, dataset):
    viewer = make_napari_viewer()
    dock = open_dataset(qtbot, viewer, dataset)
    dock.load_row(row_of(dock, "new_slice"))
    qtbot.waitUntil(lambda: "new_slice" in viewer.layers, timeout=20_000)
    prediction = np.zeros((64, 64), np.int32)
    prediction[5:15, 5:15] = 3
    viewer.add_labels(prediction, name="new_slice prediction")
    dock.labels_layer.setCurrentText("new_slice prediction")
    copy = dock.accept_prediction()
    assert copy.name == "new_slice annotation"
    np.testing.assert_array_equal(copy.data, prediction)
    copy.data[0, 0] = 1
    assert viewer.layers["new_slice prediction"].data[0, 0] == 0  # a copy, not a view


def test_dataset_list_refreshes_when_files_change(make_napari_viewer, qtbot, dataset):
    viewer = make_napari_viewer()
    dock = open_dataset(qtbot, viewer, dataset)
    assert len(dock.rows) == 3
    write_image(dataset / "images" / "later.tif", np.zeros((64, 64), np.uint8))
    qtbot.waitUntil(lambda: any(s == "later" for s, _, _ in dock.rows), timeout=20_000)
