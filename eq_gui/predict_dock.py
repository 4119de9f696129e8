"""Predict dock: run a model file over an image layer (or a folder) and overlay the result.

Prediction runs in a worker process; the probability map comes back once, and the threshold
slider re-runs only the numpy post-processing (in a thread) to update the Labels layer live.
The model follows the app state (a model trained in the Train dock, or chosen in Evaluate), and
each prediction is recorded there for the Evaluate and Quantify docks.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider

from eq_engine import EngineError, ModelInfo, PredictConfig
from eq_engine.io import training_object_diameter

from . import notify
from .app_state import state_for
from .inputs import LayerChoice, PathEdit, radio_pair
from .job_bar import JobBar
from .layer_data import IMAGE_KEY, PREDICTOR_FILTER, image_name, layer_array
from .preflight import check_model_file
from .pyside_guard import guard
from .workers import LatestOnly

TTA_CHOICES = {"auto (on a GPU)": "auto", "on (4x the time)": True, "off": False}


def ensemble_size(path: str) -> int:
    """How many models the ensemble manifest ``path`` averages; 0 for a model file."""
    from eq_engine.models import ensemble_members, is_ensemble

    return len(ensemble_members(path)) if is_ensemble(path) else 0


def describe_model(info: ModelInfo, *, members: int = 0) -> str:
    """A few lines about a model file (or an ensemble of ``members`` models): what it segments,
    how, and how well."""
    lines = [f"ensemble of {members} models (probabilities averaged; the first one's "
             "details below)"] if members else []
    lines += [f"{k}: {v}" for k, v in info.summary_items()]
    metrics = info.metrics
    shown = [f"{k} {v:.3f}" for k, v in metrics.items()
             if k != "epoch" and isinstance(v, float) and math.isfinite(v)]
    if isinstance(metrics.get("epoch"), (int, float)):
        shown.append(f"(best epoch {int(metrics['epoch'])})")
    if shown:
        lines.append("metrics: " + ", ".join(shown[:6]))
    diameter = training_object_diameter(info)
    if diameter:
        lines.append(f"objects in its training images: about {diameter:.0f} px across")
    return "\n".join(lines)


def threshold_labels(probability: np.ndarray, threshold: float, min_size: int,
                     fill_holes: bool) -> tuple[float, np.ndarray]:
    """Numpy post-processing for the slider (runs in a thread)."""
    from eq_engine.inference import postprocess

    _, labels = postprocess(probability, threshold=threshold, min_size=min_size,
                            fill_holes=fill_holes)
    return threshold, labels


def slide_payload(model: str, slide: str, config: PredictConfig) -> dict:
    """Engine job payload for a slide layer: outputs go to ``<slide stem>_eq/`` beside it."""
    from pathlib import Path

    from eq_engine.config import SlideConfig

    path = Path(slide)
    return {"model": model, "slide": str(path), "config": SlideConfig(predict=config),
            "out": str(path.with_name(path.name.split(".")[0] + "_eq"))}


def show_slide_labels(viewer, result) -> None:
    """Add a slide prediction's labels as a multiscale labels layer."""
    from .slide_reader import labels_layer_data

    data, kwargs, _ = labels_layer_data(result.files["labels"])
    viewer.add_labels(data, **kwargs)


class PredictDock(QWidget):
    """napari dock widget: Predict."""

    def __init__(self, napari_viewer) -> None:
        guard()  # a safety net against PySide6 reference leaks: see eq_gui.pyside_guard
        super().__init__()
        self.viewer = napari_viewer
        self.state = state_for(napari_viewer)
        self.info: ModelInfo | None = None
        self.model_error: str | None = None  # why the chosen file cannot be used
        self.prediction = None
        self.probability_layer = None
        self.labels_layer = None
        layout = QVBoxLayout(self)
        self._form = form = QFormLayout()
        self.model = PathEdit("open", filter=PREDICTOR_FILTER, placeholder="EQ model or ensemble")
        self.model.changed.connect(self._on_model)
        form.addRow("model", self.model)
        self.model_info = QLabel("no model chosen")
        self.model_info.setWordWrap(True)
        form.addRow(self.model_info)
        self.on_layer, self.on_folder, row = radio_pair(self, "image layer", "folder (batch)",
                                                        self._on_source)
        form.addRow("predict on", row)
        self.image_layer = LayerChoice(napari_viewer, ("image",))
        form.addRow("image layer", self.image_layer)
        self.folder = PathEdit("dir", placeholder="folder of images")
        form.addRow("image folder", self.folder)
        self.out_folder = PathEdit("dir", placeholder="where masks are written")
        form.addRow("output folder", self.out_folder)
        d = PredictConfig()
        self.tile = QSpinBox()
        self.tile.setRange(0, 8192)
        self.tile.setSingleStep(32)
        self.tile.setSpecialValueText("model's")
        self.overlap = QDoubleSpinBox()
        self.overlap.setRange(0, 0.9)
        self.overlap.setSingleStep(0.05)
        self.overlap.setValue(d.overlap)
        self.min_size = QSpinBox()
        self.min_size.setRange(-1, 10**7)
        self.min_size.setSpecialValueText("model's")  # -1: the minimum learned in training
        self.min_size.setValue(d.min_size)
        self.fill_holes = QCheckBox()
        self.fill_holes.setChecked(d.fill_holes)
        self.object_diameter = QDoubleSpinBox()
        self.object_diameter.setRange(0, 10**4)
        self.object_diameter.setDecimals(1)
        self.object_diameter.setSpecialValueText("model's scale")
        self.object_diameter.setValue(d.object_diameter)
        self.object_diameter.setToolTip(
            "typical object diameter in this image, px: the image is resized so its objects "
            "match the model's training objects. For another microscope or magnification: "
            "measure a few objects with a shapes line, "
            "or paint a few in a Labels layer and press 'from labels'. 0: the model's own scale")
        self.measure = QPushButton("from labels")
        self.measure.setToolTip("the median diameter of the objects in the selected Labels layer "
                                "(paint a few whole objects of this image)")
        self.measure.clicked.connect(self._measure_objects)
        size_row = QHBoxLayout()
        size_row.addWidget(self.object_diameter, 1)
        size_row.addWidget(self.measure)
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda", "mps"])
        self.tta = QComboBox()
        for label, value in TTA_CHOICES.items():
            self.tta.addItem(label, value)
        self.tta.setToolTip("test-time augmentation: average the four flips. 4x the time; "
                            "held-out Dice -0.002 to +0.018 per animal (BENCHMARKS.md)")
        form.addRow("tile (px)", self.tile)
        form.addRow("overlap", self.overlap)
        form.addRow("min object size (px)", self.min_size)
        form.addRow("fill holes", self.fill_holes)
        form.addRow("object size (px)", size_row)
        form.addRow("device", self.device)
        form.addRow("flip averaging", self.tta)
        layout.addLayout(form)
        self.jobs = JobBar("Predict", state=self.state)
        self.jobs.start_button.clicked.connect(self.start)
        self.jobs.result.connect(self._on_result)
        layout.addWidget(self.jobs)
        self.threshold = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.threshold.setRange(0.01, 0.99)
        self.threshold.setValue(0.5)
        self.threshold.setEnabled(False)
        self.threshold.valueChanged.connect(self._on_threshold)
        thresh_row = QFormLayout()
        thresh_row.addRow("threshold", self.threshold)
        layout.addLayout(thresh_row)
        self._post = LatestOnly(threshold_labels, on_result=self._on_labels,
                                on_error=self._on_post_error)
        layout.addStretch(1)
        self._on_source()
        self.state.events.model.connect(self._on_state_model)
        self.destroyed.connect(lambda *_: self.state.events.model.disconnect(
            self._on_state_model))
        if self.state.model is not None:
            self.set_model(self.state.model)

    def _on_state_model(self, path) -> None:
        if path is not None and str(path) != self.model.text():
            self.set_model(path)

    def _on_source(self, *_args) -> None:
        on_layer = self.on_layer.isChecked()
        self._form.setRowVisible(self.image_layer, on_layer)
        self._form.setRowVisible(self.folder, not on_layer)
        self._form.setRowVisible(self.out_folder, not on_layer)

    # -- model --------------------------------------------------------------------------------
    def set_model(self, path) -> None:
        self.model.set_path(path)

    def _on_model(self, text: str) -> None:
        self.info, self.model_error = None, None
        if not text:
            self.model_info.setText("no model chosen")
            return
        try:
            self.info = check_model_file(text, ensembles=True)  # headers only: no torch
        except ValueError as exc:
            self.model_error = notify.shorten_paths(str(exc))
            self.model_info.setText(self.model_error)
            return
        self.model_info.setText(describe_model(self.info, members=ensemble_size(text)))
        sized = training_object_diameter(self.info) is not None  # older models recorded none
        self.object_diameter.setEnabled(sized)
        self.measure.setEnabled(sized)
        if not sized:
            self.object_diameter.setValue(0)
        self.state.model = Path(text).expanduser()
        if 0 < self.info.threshold < 1:
            self.threshold.setValue(self.info.threshold)

    def _config(self) -> PredictConfig:
        return PredictConfig(tile=self.tile.value(), overlap=round(self.overlap.value(), 3),
                             min_size=self.min_size.value(), fill_holes=self.fill_holes.isChecked(),
                             device=self.device.currentText(), tta=self.tta.currentData(),
                             threshold=round(self.threshold.value(), 4),
                             object_diameter=round(self.object_diameter.value(), 1))

    def _measure_objects(self) -> None:
        """Object size from the painted objects of the selected Labels layer."""
        from eq_engine.data import object_stats

        layer = self.viewer.layers.selection.active
        # a slide's multiscale labels would be read whole, level 0, on the GUI thread
        if type(layer).__name__ != "Labels" or layer.multiscale:
            notify.show_info("select a (single-scale) Labels layer with a few objects of this "
                             "image painted")
            return
        data = np.asarray(layer.data)
        planes = [data] if data.ndim == 2 else list(data.reshape(-1, *data.shape[-2:]))
        try:
            stats = object_stats(planes)
        except EngineError as exc:
            notify.show_error("object size", exc)
            return
        self.object_diameter.setValue(round(stats.median_diameter, 1))

    # -- running ------------------------------------------------------------------------------
    def start(self) -> None:
        if self.jobs.running:
            return
        try:
            if self.model_error is not None:
                raise ValueError(self.model_error)
            if self.info is None:
                raise ValueError("choose a model file (an EQ model, .eqm) first")
            config = self._config()
            if self.on_folder.isChecked():
                kind, payload = "predict_folder", self._folder_payload(config)
            else:
                payload = self._layer_payload(config)
                kind = "predict_slide" if "slide" in payload else "predict"
        except (ValueError, EngineError) as exc:
            notify.show_error("prediction", exc)
            return
        self.jobs.start_engine(kind, payload, description="prediction")

    def _layer_payload(self, config: PredictConfig) -> dict:
        layer = self.image_layer.layer()
        if layer is None:
            raise ValueError("open an image layer to predict on")
        self._source = layer
        slide = (getattr(layer, "metadata", None) or {}).get("eq_slide")
        if slide:  # a whole slide (eq_gui.slide_reader): stream the file, never the pixels
            return slide_payload(self.model.text(), slide, config)
        return {"model": self.model.text(), "image": layer_array(layer), "config": config}

    def _folder_payload(self, config: PredictConfig) -> dict:
        folder, out = self.folder.path(), self.out_folder.path()
        if folder is None or not folder.is_dir():
            raise ValueError(f"image folder {folder} does not exist")
        if out is None:
            out = folder.parent / f"{folder.name}_eq_masks"
            self.out_folder.set_path(out)
        self._source = None
        return {"model": self.model.text(), "folder": str(folder), "out": str(out),
                "config": config}

    def _on_result(self, result) -> None:
        if self._source is None:  # batch: files were written
            self.jobs.status.setText(f"{result.summary()}\ninto {self.out_folder.text()}")
            self.state.set_result("predict", {"folder": self.out_folder.text()})
            return
        if hasattr(result, "plan"):  # a slide: its labels are a multiscale OME-Zarr
            show_slide_labels(self.viewer, result)
            self.jobs.status.setText(f"{result.n_objects} objects; outputs in {result.out}")
            return
        self.prediction = result
        self._show_prediction(self._source, result)

    def _show_prediction(self, source, prediction) -> None:
        """Add (or refresh) the probability Image layer and the instance Labels layer."""
        where = {"scale": source.scale, "translate": source.translate}
        name = source.name
        meta = {IMAGE_KEY: image_name(source)}
        prob_name, labels_name = f"{name} probability", f"{name} prediction"
        if prob_name in self.viewer.layers:
            self.viewer.layers[prob_name].data = prediction.probability
        else:
            self.viewer.add_image(prediction.probability, name=prob_name, colormap="magma",
                                  opacity=0.5, blending="additive", contrast_limits=(0, 1),
                                  visible=False, metadata=dict(meta), **where)
        if labels_name in self.viewer.layers:
            self.viewer.layers[labels_name].data = prediction.labels
        else:
            self.viewer.add_labels(prediction.labels, name=labels_name, opacity=0.5,
                                   metadata=dict(meta), **where)
        self.probability_layer = self.viewer.layers[prob_name]
        self.labels_layer = self.viewer.layers[labels_name]
        self.threshold.blockSignals(True)
        self.threshold.setValue(float(prediction.threshold))
        self.threshold.blockSignals(False)
        self.threshold.setEnabled(True)
        n = int(prediction.labels.max()) if prediction.labels.size else 0
        self.jobs.status.setText(f"{n} objects at threshold {prediction.threshold:.2f}")
        self.state.set_result("predict", {"image": source.name, "labels": labels_name,
                                          "probability": prob_name, "objects": n})

    # -- threshold slider ---------------------------------------------------------------------
    def _on_threshold(self, value: float) -> None:
        if self.prediction is None or self.labels_layer is None:
            return
        min_size = self.min_size.value()  # -1: the model's, at the scale it predicted at
        min_size = self.prediction.learned_min_size if min_size < 0 else min_size
        self._post.request(self.prediction.probability, float(value), min_size,
                           self.fill_holes.isChecked())

    def _on_labels(self, result) -> None:
        threshold, labels = result
        if self.labels_layer is not None and self.labels_layer in self.viewer.layers:
            self.labels_layer.data = labels
            n = int(labels.max()) if labels.size else 0
            self.jobs.status.setText(f"{n} objects at threshold {threshold:.2f}")

    def _on_post_error(self, exc) -> None:
        notify.show_error("threshold", exc)

    @property
    def busy(self) -> bool:
        """True while a prediction or a threshold update is running."""
        return self.jobs.running or self._post.running
