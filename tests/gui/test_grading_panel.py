"""Hand grading in the Quantify dock: click two glomeruli, grade them, save, reload, fit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from qtpy.QtCore import Qt

from eq_engine.io.images import read_image, read_mask
from eq_gui.quantify_dock import QuantifyDock, grade_colours

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def histology(tmp_path_factory):
    from eq_engine.data.synthetic import write_histology_dataset

    return write_histology_dataset(tmp_path_factory.mktemp("hist") / "h", n_images=1, size=256,
                                   n_glomeruli=3, seed=4)


def click(layer, yx):
    """A left click at data position ``yx`` as the canvas delivers it to the layer."""
    event = SimpleNamespace(position=tuple(float(v) for v in yx), type="mouse_press",
                            button=1, modifiers=(), is_dragging=False)
    for callback in list(layer.mouse_drag_callbacks):
        callback(layer, event)


def test_grade_two_glomeruli_by_clicks_save_reload_and_fit(make_napari_viewer, qtbot,
                                                           histology, tmp_path):
    viewer = make_napari_viewer()
    dock = QuantifyDock(viewer)
    stem = sorted(p.stem for p in (histology / "images").iterdir())[0]
    labels = read_mask(histology / "labels" / f"{stem}.tif", binary=False)
    viewer.add_image(read_image(histology / "images" / f"{stem}.png"), name=stem, rgb=True)
    layer = viewer.add_labels(labels, name="glomeruli")
    dock.image_layer.setCurrentText(stem)
    dock.labels_layer.setCurrentText("glomeruli")
    panel = dock.grading
    ids = [int(i) for i in np.unique(labels) if i][:2]
    for label, grade in zip(ids, (0.0, 2.5), strict=True):
        ys, xs = np.nonzero(labels == label)
        click(layer, (ys[len(ys) // 2], xs[len(xs) // 2]))
        assert panel.current == label
        qtbot.mouseClick(panel.grade_buttons[grade], Qt.MouseButton.LeftButton)
    assert {k[1]: e["grade"] for k, e in panel.entries.items()} == {ids[0]: 0.0, ids[1]: 2.5}
    points = viewer.layers["glomeruli grades"]
    assert list(points.text.values) == ["0", "2.5"]
    assert points.face_colorbar.visible and tuple(points.face_contrast_limits) == (0, 3)

    sheet = panel.save(tmp_path / "grades.csv")
    relabelled = np.where(labels > 0, labels.max() + 1 - labels, 0)  # labels reversed
    layer.data = relabelled
    panel.entries.clear()
    panel._layer = None
    panel.attach()
    assert panel.load(sheet) == 2
    assert {k[1]: e["grade"] for k, e in panel.entries.items()} == {
        labels.max() + 1 - ids[0]: 0.0, labels.max() + 1 - ids[1]: 2.5}

    with qtbot.waitSignal(panel.fitted, timeout=120_000) as fitted:
        panel.fit_button.click()
    fit = fitted.args[0]
    assert fit.model.level == "glomerulus" and fit.model.classes == (0.0, 2.5)
    assert dock.fit_result is fit and dock.save_fit_button.isEnabled()


def test_colour_scale_is_fixed_not_stretched_to_the_image():
    rows = [{"label": 1, "openness": 0.200}, {"label": 2, "openness": 0.213}]
    colours = grade_colours(rows, "openness", (0.0, 1.0))
    assert np.abs(colours[1] - colours[2]).max() < 0.05  # nearly the same colour
    alone = grade_colours(rows[:1], "openness", (0.0, 1.0))
    assert np.allclose(alone[1], colours[1])  # the same value, the same colour in any image


def test_a_stack_offered_as_glomeruli_layer_is_explained_not_raised(make_napari_viewer):
    viewer = make_napari_viewer()
    dock = QuantifyDock(viewer)
    viewer.add_labels(np.ones((3, 32, 32), np.int32), name="em stack")  # the EM sample's shape
    panel = dock.grading
    panel.labels_choice.setCurrentText("em stack")
    panel.attach()
    assert panel._layer is None and "2-D glomeruli layer" in panel.status.text()
