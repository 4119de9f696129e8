"""Evaluate dock: layers are scored per image and per object; clicking an object row moves the
camera onto that object; the tables export as CSV."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

from eq_gui.evaluate_dock import EvaluateDock

pytestmark = pytest.mark.gui


def discs(shape, centres, radius):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    labels = np.zeros(shape, np.int32)
    for i, (cy, cx) in enumerate(centres, start=1):
        labels[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] = i
    return labels


def click_row(qtbot, table, row):
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_tables_and_row_click_moves_camera(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer(show=True)
    truth = discs((200, 300), [(40, 50), (150, 240)], 15)
    pred = discs((200, 300), [(42, 50), (100, 120)], 15)  # one match, one miss, one false hit
    viewer.add_labels(truth, name="truth")
    viewer.add_labels(pred, name="pred")
    dock = EvaluateDock(viewer)
    viewer.window.add_dock_widget(dock, name="Evaluate")
    dock.pred_layer.setCurrentText("pred")
    dock.truth_layer.setCurrentText("truth")
    with qtbot.waitSignal(dock.jobs.idle, timeout=30_000):
        dock.jobs.start_button.click()
    assert dock.image_table.rowCount() == 1
    row = dock.image_table.row_data(0)
    assert row["n_truth_objects"] == 2 and row["n_pred_objects"] == 2
    assert row["object_f1"] == pytest.approx(0.5)
    kinds = sorted(r["kind"] for r in dock.object_table.rows)
    assert kinds == ["false_positive", "matched", "missed"]
    assert "pooled" in dock.aggregate.text() and "dice" in dock.aggregate.text()

    missed = next(i for i, r in enumerate(dock.object_table.rows) if r["kind"] == "missed")
    viewer.reset_view()
    zoom_before = viewer.camera.zoom
    click_row(qtbot, dock.object_table, missed)
    assert viewer.camera.center[-2:] == pytest.approx((150, 240), abs=0.5)
    assert viewer.camera.zoom > 2 * zoom_before

    written = dock.export(tmp_path)
    assert (written / "per_image.csv").is_file() and (written / "per_object.csv").is_file()


def test_probability_layers_are_thresholded(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    truth = discs((64, 64), [(32, 32)], 10)
    viewer.add_labels(truth, name="truth")
    viewer.add_image((truth > 0) * 0.7 + 0.1, name="probability")
    dock = EvaluateDock(viewer)
    dock.pred_layer.setCurrentText("probability")
    dock.truth_layer.setCurrentText("truth")
    dock.threshold.setValue(0.5)
    with qtbot.waitSignal(dock.jobs.idle, timeout=30_000):
        dock.jobs.start_button.click()
    assert dock.image_table.row_data(0)["dice"] == pytest.approx(1.0)
    dock.threshold.setValue(0.9)  # now nothing is foreground
    with qtbot.waitSignal(dock.jobs.idle, timeout=30_000):
        dock.jobs.start_button.click()
    assert dock.image_table.row_data(0)["dice"] == pytest.approx(0.0)


def test_model_on_a_dataset_runs_in_the_worker(make_napari_viewer, qtbot, em_model, em_dataset,
                                               tmp_path):
    viewer = make_napari_viewer()
    dock = EvaluateDock(viewer)
    dock.on_model.setChecked(True)
    dock.model.set_path(em_model)
    dock.dataset.set_path(em_dataset)
    with qtbot.waitSignal(dock.jobs.idle, timeout=240_000):
        dock.jobs.start_button.click()
    assert dock.report is not None, dock.jobs.status.text()
    assert [r["image"] for r in dock.image_table.rows] == [f"em_z{z:02d}" for z in range(4)]
    assert all(0 <= r["dice"] <= 1 for r in dock.image_table.rows)
    assert "image" in [dock.object_table.horizontalHeaderItem(c).text()
                       for c in range(dock.object_table.columnCount())]
