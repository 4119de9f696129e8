"""Quantify dock: per-glomerulus table, colouring, row click, CSV, and a grade model fit."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from qtpy.QtCore import Qt

from eq_engine.io.images import read_image, read_mask
from eq_gui.quantify_dock import QuantifyDock

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def histology(tmp_path_factory):
    from eq_engine.data.synthetic import write_histology_dataset

    return write_histology_dataset(tmp_path_factory.mktemp("hist") / "h", n_images=4, size=256,
                                   n_glomeruli=3, seed=2)


def measure(qtbot, viewer, dock, root, stem):
    image = read_image(root / "images" / f"{stem}.png")
    labels = read_mask(root / "labels" / f"{stem}.tif", binary=False)
    viewer.add_image(image, name=stem, rgb=True)
    viewer.add_labels(labels, name=f"{stem} glomeruli")
    dock.image_layer.setCurrentText(stem)
    dock.labels_layer.setCurrentText(f"{stem} glomeruli")
    with qtbot.waitSignal(dock.jobs.idle, timeout=60_000):
        dock.jobs.start_button.click()
    return labels


def test_measure_colour_jump_export_and_fit(make_napari_viewer, qtbot, histology, tmp_path):
    viewer = make_napari_viewer()
    dock = QuantifyDock(viewer)
    viewer.window.add_dock_widget(dock, name="Quantify")
    stems = sorted(p.stem for p in (histology / "images").iterdir())
    labels = measure(qtbot, viewer, dock, histology, stems[0])
    rows = dock.rows.rows
    assert len(rows) == len(np.unique(labels)) - 1
    assert all(0 <= r["openness"] <= 1 for r in rows if not r["excluded"])
    coloured = dock.coloured_layer
    assert coloured is not None and coloured.name.endswith("by openness")
    colours = {int(r["label"]): coloured.colormap.map(np.array([r["label"]]))[0] for r in rows}
    assert len({tuple(np.round(c, 3)) for c in colours.values()}) > 1  # not one flat colour

    target = rows[-1]
    rect = dock.rows.visualItemRect(dock.rows.item(len(rows) - 1, 0))
    qtbot.mouseClick(dock.rows.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert viewer.camera.center[-2:] == pytest.approx(
        (target["centroid_y"], target["centroid_x"]), abs=0.5)

    out = dock.export(tmp_path / "glomeruli.csv")
    with open(out, newline="") as fh:
        assert len(list(csv.DictReader(fh))) == len(rows)

    for stem in stems[1:]:
        measure(qtbot, viewer, dock, histology, stem)
    assert len(dock.measured) == len(stems)
    dock.sheet.set_path(histology / "grades.csv")
    with qtbot.waitSignal(dock.fit_jobs.idle, timeout=120_000):
        dock.fit_button.click()
    assert dock.fit_result is not None, dock.fit_jobs.status.text()
    assert "grouped CV" in dock.cv_text.text() and "mae" in dock.cv_text.text()
    model_path = dock.save_grade_model(tmp_path / "grade.json")
    assert model_path.is_file() and dock.grade_model.text() == str(model_path)

    measure(qtbot, viewer, dock, histology, stems[0])  # now graded with the saved model
    graded = [r for r in dock.rows.rows if not r["excluded"]]
    assert graded and all(0 <= r["grade_expected"] <= 3 for r in graded)
    assert dock.coloured_layer.name.endswith("by grade expected")
