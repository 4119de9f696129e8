"""Train dock: a previous run's curves (run record or model file) load into the metric panel."""

from __future__ import annotations

import pytest

from eq_engine.runs import RunRecord, runs_dir
from eq_gui.train_dock import TrainDock

pytestmark = pytest.mark.gui


def test_run_record_curves_load_beside_live_ones(make_napari_viewer, qtbot):
    record = RunRecord("transfer", config={"epochs": 3})
    record.history = [{"epoch": e, "train_loss": 1.0 / e, "valid_loss": 0.5 / e, "dice": 0.2 * e,
                       "iou": 0.1 * e} for e in (1, 2, 3)]
    path = record.save()
    assert path.parent == runs_dir()  # EQ_RUNS_DIR points at a tmp folder (tests/conftest.py)

    dock = TrainDock(make_napari_viewer())
    qtbot.addWidget(dock)
    label = dock.load_run_curves(path)
    assert label in dock.panel.runs and record.id[:15] in label
    assert dock.panel.series(label, "train_loss") == [1.0, 0.5, 1.0 / 3]
    assert dock.panel.series(label, "dice") == pytest.approx([0.2, 0.4, 0.6])
    assert dock.panel.series(label, "iou") == pytest.approx([0.1, 0.2, 0.3])


def test_history_less_file_is_refused(make_napari_viewer, qtbot):
    from eq_engine.errors import EngineError

    path = RunRecord("predict").save()
    dock = TrainDock(make_napari_viewer())
    qtbot.addWidget(dock)
    with pytest.raises(EngineError, match="no training history"):
        dock.load_run_curves(path)
    assert dock.panel.runs == []
