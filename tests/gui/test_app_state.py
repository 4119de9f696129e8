"""The app state: one per viewer, evented, and it drives docks that never import each other."""

from __future__ import annotations

from pathlib import Path

import pytest

from eq_gui.app_state import AppState, state_for

pytestmark = pytest.mark.gui


def test_one_state_per_viewer_also_through_napari_proxy(make_napari_viewer):
    from napari.utils._proxies import PublicOnlyProxy

    first, second = make_napari_viewer(), make_napari_viewer()
    assert state_for(first) is state_for(PublicOnlyProxy(first))  # docks from the Plugins menu
    assert state_for(first) is not state_for(second)


def test_fields_emit_once_per_change_and_results_are_kept_per_kind():
    state = AppState()
    seen = []
    state.events.model.connect(seen.append)
    state.model = Path("a.eqm")
    state.model = Path("a.eqm")  # equal: nothing new to tell
    assert seen == [Path("a.eqm")]
    results = []
    state.events.results.connect(lambda r: results.append(dict(r)))
    state.set_result("predict", 1)
    state.set_result("evaluate", 2)
    assert results[-1] == {"predict": 1, "evaluate": 2}
    with pytest.raises(ValueError, match="unknown result kind"):
        state.set_result("nope", 3)
    state.job_started("training")
    state.job_started("prediction")
    state.job_finished("training")
    assert state.jobs == ("prediction",) and state.busy


def test_state_drives_predict_and_evaluate_docks(make_napari_viewer, em_model):
    from eq_gui.evaluate_dock import EvaluateDock
    from eq_gui.predict_dock import PredictDock

    viewer = make_napari_viewer()
    predict, evaluate = PredictDock(viewer), EvaluateDock(viewer)
    state_for(viewer).model = em_model  # e.g. the Train dock's "Load model in Predict"
    assert predict.model.text() == str(em_model) and predict.info is not None
    assert evaluate.model.text() == str(em_model)


def test_state_dataset_fills_train_and_evaluate_and_data_dock_sets_it(make_napari_viewer, qtbot,
                                                                     em_dataset):
    from eq_gui.data_dock import DataDock
    from eq_gui.evaluate_dock import EvaluateDock
    from eq_gui.train_dock import TrainDock

    viewer = make_napari_viewer()
    train, evaluate = TrainDock(viewer), EvaluateDock(viewer)
    data = DataDock(viewer)
    data.folder.set_path(em_dataset)
    qtbot.waitUntil(lambda: data.report is not None, timeout=20_000)
    assert state_for(viewer).dataset == Path(em_dataset)
    assert train.folder.text() == str(em_dataset)
    assert evaluate.dataset.text() == str(em_dataset)


def test_prediction_result_selects_the_layer_to_evaluate(make_napari_viewer):
    import numpy as np

    from eq_gui.evaluate_dock import EvaluateDock

    viewer = make_napari_viewer()
    evaluate = EvaluateDock(viewer)
    viewer.add_labels(np.zeros((8, 8), np.int32), name="a")
    viewer.add_labels(np.zeros((8, 8), np.int32), name="img prediction")
    evaluate.pred_layer.setCurrentText("a")
    state_for(viewer).set_result("predict", {"image": "img", "labels": "img prediction"})
    assert evaluate.pred_layer.currentText() == "img prediction"
