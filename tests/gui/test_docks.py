"""Every EQ dock builds inside a napari viewer and follows the viewer's layers."""

from __future__ import annotations

import numpy as np
import pytest

from eq_gui.docking import DOCKS, add_all_docks, find_dock
from eq_gui.train_dock import TrainDock

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("name", DOCKS)
def test_dock_builds_in_viewer(make_napari_viewer, name):
    from eq_gui.docking import dock_class

    viewer = make_napari_viewer()
    widget = dock_class(name)(viewer)
    viewer.window.add_dock_widget(widget, name=name)
    assert find_dock(viewer, type(widget)) is widget


def test_all_docks_tabbed_and_layer_choices_follow_viewer(make_napari_viewer):
    viewer = make_napari_viewer()
    docks = add_all_docks(viewer)
    assert list(docks) == list(DOCKS)
    train = docks["Train"]
    assert isinstance(train, TrainDock)
    assert train.image_layer.count() == 0
    viewer.add_image(np.zeros((32, 32), np.uint8), name="img")
    viewer.add_labels(np.zeros((32, 32), np.int32), name="lab")
    assert train.image_layer.currentText() == "img"
    assert train.labels_layer.currentText() == "lab"
    viewer.layers["img"].name = "renamed"
    assert train.image_layer.currentText() == "renamed"
    viewer.layers.remove("renamed")
    assert train.image_layer.count() == 0
