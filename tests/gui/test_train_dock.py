"""Train dock: a tiny run in a worker process streams into the panel, finishes, and stops."""

from __future__ import annotations

import pytest

from eq_engine.events import BatchEnd, EpochEnd
from eq_gui.docking import find_dock
from eq_gui.predict_dock import PredictDock
from eq_gui.train_dock import TrainDock

pytestmark = pytest.mark.gui
RUN_TIMEOUT_MS = 240_000


def make_dock(viewer, *, epochs=2, crops=2, folder=None, out=None) -> TrainDock:
    dock = TrainDock(viewer)
    viewer.window.add_dock_widget(dock, name="Train")
    dock.set_mode("pretrain")
    form = dock.form
    form.epochs.setValue(epochs)
    form.arch.setCurrentText("resnet18")
    form.size.setValue(64)
    form.batch_size.setValue(4)
    form.crops_per_image.setValue(crops)
    form.augment.setChecked(False)
    form.device.setCurrentText("cpu")
    if folder is not None:
        dock.folder.set_path(folder)
    if out is not None:
        dock.output.set_path(out)
    return dock


def record_events(dock) -> list:
    """(order, event) pairs as the dock receives them; the result is the string "result"."""
    seen = []
    dock.jobs.event.connect(lambda ev: seen.append((len(seen), ev)))
    dock.jobs.result.connect(lambda r: seen.append((len(seen), "result")))
    return seen


def test_training_streams_into_panel_and_finishes(make_napari_viewer, qtbot, em_dataset, tmp_path):
    viewer = make_napari_viewer()
    out = tmp_path / "mito.eqm"
    dock = make_dock(viewer, epochs=2, folder=em_dataset, out=out)
    seen = record_events(dock)
    with qtbot.waitSignal(dock.jobs.idle, timeout=RUN_TIMEOUT_MS):
        dock.jobs.start_button.click()
        assert dock.jobs.running and not dock.jobs.start_button.isEnabled()
    kinds = [type(ev).__name__ if ev != "result" else ev for _, ev in seen]
    assert kinds.index("EpochEnd") < kinds.index("result")  # live, not after the fact
    assert sum(isinstance(ev, EpochEnd) for _, ev in seen) == 2
    panel = dock.panel
    assert len(panel.series("model", "batch_loss")) == sum(isinstance(e, BatchEnd) for _, e in seen)
    assert len(panel.series("model", "train_loss")) == 2
    assert len(panel.series("model", "dice")) == 2
    assert out.is_file() and str(out) in dock.summary.text()
    assert dock.jobs.progress.value() == 1000 and "done" in dock.jobs.progress.format()
    assert dock.to_predict.isEnabled()
    dock.to_predict.click()
    predict = find_dock(viewer, PredictDock)
    assert predict is not None and predict.model.text() == str(out)
    assert predict.info.task == "mitochondria"


def test_stop_ends_training_promptly_and_keeps_the_best_model(make_napari_viewer, qtbot,
                                                               em_dataset, tmp_path):
    viewer = make_napari_viewer()
    out = tmp_path / "stopped.eqm"
    dock = make_dock(viewer, epochs=200, folder=em_dataset, out=out)
    seen = record_events(dock)
    dock.jobs.start_button.click()
    qtbot.waitUntil(lambda: any(isinstance(ev, EpochEnd) for _, ev in seen),
                    timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(dock.jobs.idle, timeout=120_000):  # a generous bound, not a goal
        dock.jobs.stop_button.click()
    assert dock.result is not None and dock.result.cancelled
    assert out.is_file() and "stopped early" in dock.summary.text()
    assert sum(isinstance(ev, EpochEnd) for _, ev in seen) < 200


def test_worker_errors_notify_and_return_to_idle(make_napari_viewer, qtbot, tmp_path,
                                                 monkeypatch):
    import napari.utils.notifications as notifications

    shown = []
    monkeypatch.setattr(notifications, "show_error", shown.append)
    viewer = make_napari_viewer()
    broken = tmp_path / "broken"
    (broken / "images").mkdir(parents=True)
    (broken / "masks").mkdir()
    (broken / "images" / "a.png").write_bytes(b"not a png")  # paired, so it reaches the worker
    (broken / "masks" / "a.png").write_bytes(b"not a png")
    dock = make_dock(viewer, folder=broken, out=tmp_path / "never.eqm")
    with qtbot.waitSignal(dock.jobs.idle, timeout=RUN_TIMEOUT_MS):
        dock.jobs.start_button.click()
    assert shown and "training failed" in shown[-1]
    assert not dock.jobs.running and dock.jobs.start_button.isEnabled()
    assert "failed" in dock.jobs.progress.format()
    dock.set_mode("transfer")  # no base model: refused before any worker starts
    dock.jobs.start_button.click()
    assert "base model" in shown[-1] and not dock.jobs.running


def test_transfer_with_scratch_comparison_overlays_both_runs(make_napari_viewer, qtbot,
                                                              em_dataset, em_model, tmp_path):
    viewer = make_napari_viewer()
    dock = make_dock(viewer, folder=em_dataset, out=tmp_path / "transfer.eqm")
    dock.set_mode("transfer")
    dock.base_model.set_path(em_model)
    dock.form.freeze_epochs.setValue(1)
    dock.form.unfreeze_epochs.setValue(1)
    dock.form.compare_scratch.setChecked(True)
    assert dock.form.total_epochs("transfer") == 4
    with qtbot.waitSignal(dock.jobs.idle, timeout=RUN_TIMEOUT_MS):
        dock.jobs.start_button.click()
    assert dock.result is not None, dock.jobs.status.text()
    assert dock.panel.runs == ["model", "scratch"]
    assert len(dock.panel.series("model", "dice")) == 2  # frozen + fine-tune epochs
    assert len(dock.panel.series("scratch", "dice")) == 2
    names = {item.name() for item in dock.panel.metric_plot.listDataItems()}
    assert {"dice", "scratch dice"} <= names
    assert "scratch:" in dock.summary.text()
    assert (tmp_path / "transfer.eqm").is_file()


def test_an_existing_model_is_replaced_only_after_the_user_agrees(make_napari_viewer, em_dataset,
                                                                  tmp_path, monkeypatch):
    viewer = make_napari_viewer()
    out = tmp_path / "mito.eqm"
    out.write_bytes(b"previous model")
    dock = make_dock(viewer, folder=em_dataset, out=out)
    monkeypatch.setattr(dock, "_confirm_overwrite", lambda path: False)
    with pytest.raises(ValueError, match="mito.eqm already exists"):
        dock._payload()
    monkeypatch.setattr(dock, "_confirm_overwrite", lambda path: True)
    kind, payload = dock._payload()
    assert kind == "train" and payload["overwrite"] is True and payload["out"] == str(out)
    assert out.read_bytes() == b"previous model"  # replaced by the worker only when the run ends
