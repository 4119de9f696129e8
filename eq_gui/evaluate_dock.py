"""Evaluate dock: score a prediction against truth, per image and per object.

Layers are scored in a thread (numpy only, :func:`eq_engine.evaluation.evaluate_arrays`); a
model over a dataset folder runs in a worker process. Every number comes from
:mod:`eq_engine.evaluation`. Clicking an object row centres and zooms the viewer on that object
and outlines it. The model, the dataset and the prediction layer follow the app state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qtpy.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from eq_engine import EngineError, EvalConfig

from . import notify
from .app_state import state_for
from .inputs import LayerChoice, PathEdit, radio_pair
from .job_bar import JobBar
from .layer_data import PREDICTOR_FILTER, image_name, layer_array
from .preflight import check_model_file, dataset_pairs
from .pyside_guard import guard
from .table_view import RowTable, focus_on

# the columns that matter first; every value is in a row's tooltip and in the CSV export
IMAGE_COLUMNS = ("image", "dice", "iou", "object_f1", "n_truth_objects", "n_pred_objects")
OBJECT_COLUMNS = ("image", "kind", "iou", "area", "truth_label", "pred_label")


def evaluate_layers(prediction, truth, config: EvalConfig, name: str, *, probability: bool):
    """Score a prediction layer's data against a truth layer's data (runs in a thread).

    A probability map (an Image layer) is thresholded at ``config.threshold``; a labels layer
    counts as its non-zero pixels. ``name`` is the image's name, shown in the tables.
    """
    from eq_engine.evaluation import evaluate_arrays

    prediction = np.asarray(prediction)
    if probability:
        prediction = prediction.astype(np.float32, copy=False)
    elif prediction.dtype.kind == "f":
        prediction = prediction != 0
    return evaluate_arrays(prediction, np.asarray(truth), config, name=name)


class EvaluateDock(QWidget):
    """napari dock widget: Evaluate."""

    def __init__(self, napari_viewer) -> None:
        guard()  # a safety net against PySide6 reference leaks: see eq_gui.pyside_guard
        super().__init__()
        self.viewer = napari_viewer
        self.state = state_for(napari_viewer)
        self.report = None
        self._focus_layer = None
        layout = QVBoxLayout(self)
        self.on_layers, self.on_model, row = radio_pair(self, "layers", "model + dataset",
                                                        self._on_source)
        self._form = form = QFormLayout()
        form.addRow("score", row)
        self.pred_layer = LayerChoice(napari_viewer, ("labels", "image"))
        self.truth_layer = LayerChoice(napari_viewer, ("labels",))
        form.addRow("prediction layer", self.pred_layer)
        form.addRow("truth layer", self.truth_layer)
        self.model = PathEdit("open", filter=PREDICTOR_FILTER, placeholder="EQ model or ensemble")
        self.dataset = PathEdit("dir", placeholder="dataset folder (images/ + masks/)")
        form.addRow("model", self.model)
        form.addRow("dataset", self.dataset)
        d = EvalConfig()
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.01, 0.99)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(d.threshold)
        self.match_iou = QDoubleSpinBox()
        self.match_iou.setRange(0.05, 1.0)
        self.match_iou.setSingleStep(0.05)
        self.match_iou.setValue(d.match_iou)
        form.addRow("threshold (probabilities)", self.threshold)
        form.addRow("object match IoU", self.match_iou)
        layout.addLayout(form)
        self.jobs = JobBar("Evaluate", state=self.state)
        self.jobs.start_button.clicked.connect(self.start)
        self.jobs.result.connect(self._on_report)
        layout.addWidget(self.jobs)
        self.aggregate = QLabel("")
        self.aggregate.setWordWrap(True)
        layout.addWidget(self.aggregate)
        layout.addWidget(QLabel("per image"))
        self.image_table = RowTable()
        layout.addWidget(self.image_table, 1)
        layout.addWidget(QLabel("per object (click to go there)"))
        self.object_table = RowTable()
        self.object_table.cellClicked.connect(lambda r, _c: self.go_to_object(r))
        layout.addWidget(self.object_table, 2)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(lambda: self.export())
        layout.addWidget(self.export_button)
        self._on_source()
        self._follow_state()

    # -- app state ----------------------------------------------------------------------------
    def _follow_state(self) -> None:
        events = self.state.events
        handlers = ((events.model, self._on_state_model), (events.dataset, self._on_state_dataset),
                    (events.results, self._on_state_results))
        for signal, handler in handlers:
            signal.connect(handler)
        self.destroyed.connect(lambda *_: [s.disconnect(h) for s, h in handlers])
        self._on_state_model(self.state.model)
        self._on_state_dataset(self.state.dataset)

    def _on_state_model(self, path) -> None:
        if path is not None and str(path) != self.model.text():
            self.model.set_path(path)

    def _on_state_dataset(self, folder) -> None:
        if folder is not None and not self.dataset.text():
            self.dataset.set_path(folder)

    def _on_state_results(self, results) -> None:
        """A new prediction on a layer: score that prediction next."""
        predicted = results.get("predict") or {}
        labels = predicted.get("labels")
        if labels and labels in self.viewer.layers:
            self.pred_layer.setCurrentText(labels)

    def _on_source(self, *_args) -> None:
        layers = self.on_layers.isChecked()
        for widget in (self.pred_layer, self.truth_layer):
            self._form.setRowVisible(widget, layers)
        for widget in (self.model, self.dataset):
            self._form.setRowVisible(widget, not layers)

    def _config(self) -> EvalConfig:
        return EvalConfig(threshold=round(self.threshold.value(), 4),
                          match_iou=round(self.match_iou.value(), 4))

    def start(self) -> None:
        if self.jobs.running:
            return
        try:
            config = self._config()
            if self.on_layers.isChecked():
                pred, truth = self.pred_layer.layer(), self.truth_layer.layer()
                if pred is None or truth is None:
                    raise ValueError("choose a prediction layer and a truth layer")
                self._focus_layer = truth
                name = image_name(pred) if pred.metadata.get("eq_image") else image_name(truth)
                self.jobs.start_thread(evaluate_layers, layer_array(pred), layer_array(truth),
                                       config, name, description="evaluation",
                                       probability=type(pred).__name__ == "Image")
            else:
                model, data = self.model.text(), self.dataset.path()
                # headers and pairs checked before the worker starts
                check_model_file(model, ensembles=True)
                dataset_pairs(data)
                self._focus_layer = None
                self.jobs.start_engine("evaluate", {"model": model, "data": str(data),
                                                    "config": config}, description="evaluation")
        except (ValueError, EngineError) as exc:
            notify.show_error("evaluation", exc)

    def _on_report(self, report) -> None:
        self.report = report
        several = len(report.per_image) > 1  # one image: its name in every row is noise
        self.image_table.set_rows(report.per_image, IMAGE_COLUMNS)
        self.object_table.set_rows(report.per_object,
                                   OBJECT_COLUMNS if several else OBJECT_COLUMNS[1:])
        self.aggregate.setText(_aggregate_text(report))
        self.export_button.setEnabled(True)
        self.state.set_result("evaluate", report)

    def go_to_object(self, row: int) -> None:
        """Centre and zoom the viewer on the object of table row ``row``."""
        data = self.object_table.row_data(row)
        layer = self._focus_layer
        if layer is None or layer not in self.viewer.layers:
            layer = self._layer_for_image(str(data.get("image", "")))
        if layer is None:
            return
        centroid = [data[k] for k in ("centroid_z", "centroid_y", "centroid_x") if k in data]
        keys = ("bbox_z0", "bbox_y0", "bbox_x0", "bbox_z1", "bbox_y1", "bbox_x1")
        bbox = [data[k] for k in keys if k in data] or None
        focus_on(self.viewer, layer, centroid, bbox)

    def _layer_for_image(self, name: str):
        stem = Path(name).stem
        for layer in self.viewer.layers:
            if layer.name in (name, stem):
                return layer
        return None

    def export(self, folder=None) -> Path | None:
        """Write the per-image and per-object tables as CSV into ``folder`` (asked if None)."""
        if self.report is None:
            return None
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Export evaluation to folder")
            if not folder:
                return None
        self.report.to_csv(folder)
        self.jobs.status.setText(f"tables written to {folder}")
        return Path(folder)


def _aggregate_text(report) -> str:
    """Pooled (all pixels together) and mean-over-images Dice and IoU, plus object F1."""
    parts = []
    for scope in ("pooled", "mean"):
        values = report.aggregates.get(scope) or {}
        shown = ", ".join(f"{k} {values[k]:.3f}" for k in ("dice", "iou", "object_f1")
                          if isinstance(values.get(k), float))
        if shown:
            parts.append(f"{scope}: {shown}")
    return "\n".join(parts)
