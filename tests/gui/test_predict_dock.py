"""Predict dock: a model file over an image layer adds probability and labels layers; the
threshold slider relabels without re-running the model."""

from __future__ import annotations

import numpy as np
import pytest

from eq_engine.io.model_info import ModelInfo
from eq_gui.predict_dock import PredictDock, describe_model

pytestmark = pytest.mark.gui


def test_prediction_adds_layers_and_slider_relabels(make_napari_viewer, qtbot, em_model):
    from eq_engine.data.synthetic import make_em_stack

    viewer = make_napari_viewer()
    image, _ = make_em_stack(n_slices=1, size=96, seed=3)
    viewer.add_image(image[0], name="slice", scale=(2.0, 2.0))
    dock = PredictDock(viewer)
    viewer.window.add_dock_widget(dock, name="Predict")
    dock.set_model(em_model)
    assert "task: mitochondria" in dock.model_info.text() and "arch: resnet18" in dock.model_info.text()
    assert dock.object_diameter.isEnabled() and "objects in its training" in dock.model_info.text()
    dock.object_diameter.setValue(12.5)
    assert dock._config().object_diameter == 12.5
    dock.object_diameter.setValue(0)  # the model's own scale
    dock.device.setCurrentText("cpu")
    dock.fill_holes.setChecked(False)  # an untrained model's speckle would fill up entirely
    dock.min_size.setValue(0)  # keep every object, as the expected postprocess() call below
    with qtbot.waitSignal(dock.jobs.idle, timeout=240_000):
        dock.jobs.start_button.click()
    prob = viewer.layers["slice probability"]
    labels = viewer.layers["slice prediction"]
    assert prob.data.shape == labels.data.shape == (96, 96)
    assert prob.data.dtype == np.float32 and 0 <= prob.data.min() and prob.data.max() <= 1
    assert tuple(labels.scale) == (2.0, 2.0)  # overlaid on the image
    assert dock.threshold.isEnabled()
    # a threshold that certainly changes the foreground of this barely trained model
    from eq_engine.inference import postprocess

    before = labels.data.copy()
    low, high = np.quantile(prob.data, [0.25, 0.75])
    target = round(float(low if (before > 0).mean() < 0.5 else high), 2)
    dock.threshold.setValue(target)
    _, expected = postprocess(prob.data, threshold=target, fill_holes=False)
    qtbot.waitUntil(lambda: not dock.busy and not np.array_equal(labels.data, before),
                    timeout=20_000)
    np.testing.assert_array_equal(labels.data, expected)  # the engine's post-processing
    assert f"{target:.2f}" in dock.jobs.status.text()


def test_an_ensemble_manifest_predicts_like_its_members(make_napari_viewer, qtbot, em_model,
                                                        tmp_path):
    from eq_engine.data.synthetic import make_em_stack
    from eq_engine.models.ensemble import write_ensemble

    manifest = write_ensemble(tmp_path / "twice.json", [em_model, em_model])
    viewer = make_napari_viewer()
    image, _ = make_em_stack(n_slices=1, size=64, seed=4)
    viewer.add_image(image[0], name="slice")
    dock = PredictDock(viewer)
    dock.device.setCurrentText("cpu")
    assert dock._config().tta == "auto"
    dock.tta.setCurrentIndex(dock.tta.findData(False))
    assert dock._config().tta is False

    probabilities = []
    for model in (manifest, em_model):
        dock.set_model(model)
        assert dock.model_error is None, dock.model_error
        with qtbot.waitSignal(dock.jobs.idle, timeout=240_000):
            dock.jobs.start_button.click()
        probabilities.append(viewer.layers["slice probability"].data.copy())
        if model == manifest:
            assert "ensemble of 2 models" in dock.model_info.text()
            assert "task: mitochondria" in dock.model_info.text()
    # two identical members average to the member itself
    np.testing.assert_allclose(probabilities[0], probabilities[1], atol=1e-6)


def test_a_json_that_is_no_ensemble_is_refused_in_words(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    dock = PredictDock(viewer)
    bad = tmp_path / "grades.json"
    bad.write_text('{"not": "a model"}', encoding="utf-8")
    dock.set_model(bad)
    assert dock.info is None and "cannot be used as the model" in dock.model_info.text()


def test_describe_model_lists_metadata_and_metrics():
    info = ModelInfo.from_metadata({
        "task": "glomeruli", "arch": "resnet34", "tile_size": 256, "in_channels": 3,
        "normalization": {}, "metrics": {"dice": 0.81234, "iou": float("nan"), "epoch": 3}})
    text = describe_model(info)
    assert "task: glomeruli" in text and "tile_size: 256" in text
    assert "dice 0.812" in text and "iou" not in text and "objects in its training" not in text
    sized = info.replace(scale=0.25, extra={"scale_policy": {"object_median_diameter_px": 402.0,
                                                              "scale": 0.25}})
    assert "objects in its training images: about 402 px across" in describe_model(sized)


def test_batch_prediction_of_a_folder_writes_masks(make_napari_viewer, qtbot, em_model,
                                                   em_dataset, tmp_path):
    viewer = make_napari_viewer()
    dock = PredictDock(viewer)
    dock.set_model(em_model)
    dock.on_folder.setChecked(True)
    dock.folder.set_path(em_dataset / "images")
    dock.out_folder.set_path(tmp_path / "masks")
    dock.device.setCurrentText("cpu")
    with qtbot.waitSignal(dock.jobs.idle, timeout=240_000):
        dock.jobs.start_button.click()
    written = sorted(p.name for p in (tmp_path / "masks").rglob("*") if p.is_file())
    assert len(written) >= 4, (dock.jobs.status.text(), written)
    assert "4 predicted" in dock.jobs.status.text()


def test_object_size_is_measured_from_painted_labels(make_napari_viewer):
    from skimage.draw import disk

    viewer = make_napari_viewer()
    dock = PredictDock(viewer)
    viewer.add_image(np.zeros((120, 120), np.uint8), name="field")
    dock.measure.click()  # an image layer is selected: nothing to measure
    assert dock.object_diameter.value() == 0
    painted = np.zeros((120, 120), np.int32)
    for label, centre in ((1, (30, 30)), (2, (80, 70))):
        painted[disk(centre, 15)] = label  # 30 px across
    viewer.add_labels(painted, name="a few glomeruli")  # added last: the selected layer
    dock.measure.click()
    assert dock.object_diameter.value() == pytest.approx(30, abs=0.5)
    small = np.zeros((120, 120), np.int32)
    small[disk((60, 60), 5)] = 1  # 10 px across: measuring it would change the value
    pyramid = viewer.add_labels([small, small[::2, ::2]], name="slide labels")
    assert pyramid.multiscale
    dock.measure.click()  # never reads a slide's full-resolution level on the GUI thread
    assert dock.object_diameter.value() == pytest.approx(30, abs=0.5)
