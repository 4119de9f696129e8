"""The live metric panel records batch and epoch events per run and draws them."""

from __future__ import annotations

import math

import pytest

from eq_engine.events import BatchEnd, EpochEnd, Progress
from eq_gui.metric_panel import MetricPanel, run_of

pytestmark = pytest.mark.gui


def test_panel_records_runs_and_tolerates_nan(qtbot):
    panel = MetricPanel()
    qtbot.addWidget(panel)
    for step in (1, 2, 3):
        panel.add_event(BatchEnd("transfer-frozen", 1, step, 3, 1.0 / step))
    panel.add_event(EpochEnd("transfer-frozen", 1, 4, 0.9, 0.8, {"dice": 0.5, "IoU": 0.33}))
    panel.add_event(EpochEnd("transfer-unfrozen", 1, 4, 0.7, float("nan"), {"dice": 0.6}))
    panel.add_event(EpochEnd("scratch", 1, 2, 1.1, 1.2, {"dice": 0.2, "iou": 0.1}))
    panel.add_event(Progress("predict", 1, 2))  # ignored
    assert panel.runs == ["model", "scratch"]
    assert panel.series("model", "batch_loss") == [1.0, 0.5, pytest.approx(1 / 3)]
    assert panel.series("model", "dice") == [0.5, 0.6]  # epochs counted across stages
    assert panel.series("model", "iou")[0] == 0.33 and math.isnan(panel.series("model", "iou")[1])
    assert math.isnan(panel.series("model", "valid_loss")[1])
    assert panel.series("scratch", "train_loss") == [1.1]
    panel.redraw()
    names = {item.name() for item in panel.loss_plot.listDataItems()}
    assert {"train", "valid", "scratch train", "scratch valid"} <= names
    x, y = panel.metric_plot.listDataItems()[0].getData()
    assert list(x) == [1, 2] and list(y) == [0.5, 0.6]
    panel.clear()
    assert panel.runs == [] and not panel.loss_plot.listDataItems()


def test_run_of_separates_the_scratch_baseline():
    assert run_of("scratch") == "scratch"
    assert run_of("Scratch-train") == "scratch"
    assert run_of("transfer-frozen") == run_of("train") == "model"
