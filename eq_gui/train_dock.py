"""Train dock: pretrain on EM mitochondria, transfer to glomeruli, or train from scratch.

Training runs in a worker process (see :mod:`eq_gui.workers`); its events feed the live
:class:`~eq_gui.metric_panel.MetricPanel` and the progress bar. Stop keeps the best model so far.
The dataset folder follows the app state (the Data dock's folder); a finished run's model goes
to the app state, which the Predict dock observes.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from eq_engine import EngineError

from . import notify
from .app_state import state_for
from .inputs import LayerChoice, PathEdit, radio_pair
from .job_bar import JobBar
from .layer_data import MODEL_FILTER, layer_array
from .metric_panel import MetricPanel
from .numbers import format_metrics
from .preflight import check_model_file, dataset_pairs
from .pyside_guard import guard
from .resources import training_profiles
from .train_form import MODES, TrainForm


def default_model_path(task: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path.home() / "eq_models" / f"{task}-{stamp}.eqm"


def layer_pairs(image: np.ndarray, labels: np.ndarray, *, rgb: bool) -> list[tuple]:
    """(image, mask) training pairs from an image layer and its labels; stacks give one per slice.

    In a stack only the slices that hold annotation are used: an unpainted slice of an
    annotation in progress is unknown, not background.
    """
    spatial = image.shape[:-1] if rgb else image.shape
    if tuple(spatial) != tuple(labels.shape):
        raise ValueError(f"image {image.shape} and labels {labels.shape} do not cover the same "
                         "pixels; pick the labels drawn on this image")
    mask = labels > 0
    if mask.ndim == 2:
        return [(image, mask)]
    return [(image[z], mask[z]) for z in range(mask.shape[0]) if mask[z].any()]


class TrainDock(QWidget):
    """napari dock widget: Train."""

    def __init__(self, napari_viewer) -> None:
        guard()  # a safety net against PySide6 reference leaks: see eq_gui.pyside_guard
        super().__init__()
        self.viewer = napari_viewer
        self.state = state_for(napari_viewer)
        self.result = None
        self._loaded_curves: dict[str, list[dict]] = {}  # kept when a new run clears the panel
        outer = QVBoxLayout(self)
        self._scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        layout = QVBoxLayout(body)
        scroll.setWidget(body)
        outer.addWidget(scroll)

        self._top = top = QFormLayout()
        self.profile = QComboBox()
        self.profiles = training_profiles()
        self.profile.addItems(["(keep the form)", *self.profiles])
        self.profile.setToolTip("fill the form from a default profile (resources/profiles)")
        self.profile.currentTextChanged.connect(self._on_profile)
        top.addRow("profile", self.profile)
        self.mode = QComboBox()
        self.mode.addItems(list(MODES))
        self.mode.currentTextChanged.connect(self._on_mode)
        top.addRow("mode", self.mode)
        self.base_model = PathEdit("open", filter=MODEL_FILTER, placeholder="pretrained EQ model")
        top.addRow("base model", self.base_model)
        self.from_folder, self.from_layers, row = radio_pair(self, "dataset folder", "open layers",
                                                             self._on_source)
        top.addRow("data", row)
        self.folder = PathEdit("dir", placeholder="folder with images/ and masks/")
        top.addRow("folder", self.folder)
        self.image_layer = LayerChoice(napari_viewer, ("image",))
        self.labels_layer = LayerChoice(napari_viewer, ("labels",))
        top.addRow("image layer", self.image_layer)
        top.addRow("labels layer", self.labels_layer)
        self.output = PathEdit("save", filter=MODEL_FILTER, placeholder="default: ~/eq_models/")
        top.addRow("save model as", self.output)
        layout.addLayout(top)

        self.form = TrainForm()
        layout.addWidget(self.form)
        self.jobs = JobBar("Start training", state=self.state)
        self.jobs.start_button.clicked.connect(self.start)
        self.jobs.event.connect(self._on_event)
        self.jobs.result.connect(self._on_result)
        layout.addWidget(self.jobs)
        # the outcome sits right under the buttons, above the curves: no scrolling to find it
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary)
        self.to_predict = QPushButton("Load model in Predict")
        self.to_predict.setEnabled(False)
        self.to_predict.clicked.connect(self.load_in_predict)
        layout.addWidget(self.to_predict)
        self.panel = MetricPanel()
        layout.addWidget(self.panel)
        self.load_curves = QPushButton("Load run curves…")
        self.load_curves.setToolTip("show a previous run's curves (a run record .json from "
                                    "the runs folder, or an EQ model file) beside these")
        self.load_curves.clicked.connect(self.choose_run_curves)
        layout.addWidget(self.load_curves)
        layout.addStretch(1)
        self._on_mode(self.mode.currentText())
        self._on_source()
        self.state.events.dataset.connect(self._on_dataset)
        self.destroyed.connect(lambda *_: self.state.events.dataset.disconnect(self._on_dataset))
        if self.state.dataset is not None:
            self._on_dataset(self.state.dataset)

    def _on_dataset(self, folder) -> None:
        """The Data dock opened a folder: train on it unless the user chose another one."""
        if folder is not None and not self.folder.text():
            self.folder.set_path(folder)

    # -- form ---------------------------------------------------------------------------------
    @property
    def mode_key(self) -> str:
        return MODES[self.mode.currentText()][0]

    def set_mode(self, key: str) -> None:
        for label, (mode, _) in MODES.items():
            if mode == key:
                self.mode.setCurrentText(label)
                return
        raise ValueError(f"unknown mode {key!r}; use one of {[m for m, _ in MODES.values()]}")

    def _on_profile(self, name: str) -> None:
        profile = self.profiles.get(name)
        if profile is not None:
            self.form.apply_profile(profile)
            self.profile.setToolTip(profile.get("about", ""))

    def _on_mode(self, _text: str) -> None:
        self._top.setRowVisible(self.base_model, self.mode_key == "transfer")
        self.form.set_mode(self.mode_key)

    def _on_source(self, *_args) -> None:
        folder = self.from_folder.isChecked()
        self._top.setRowVisible(self.folder, folder)
        self._top.setRowVisible(self.image_layer, not folder)
        self._top.setRowVisible(self.labels_layer, not folder)

    def _data(self):
        if self.from_folder.isChecked():
            folder = self.folder.path()
            dataset_pairs(folder)  # no pairs: said here, not after the worker has started
            return str(folder)
        image, labels = self.image_layer.layer(), self.labels_layer.layer()
        if image is None or labels is None:
            raise ValueError("open an image layer and its labels layer, or train from a folder")
        pairs = layer_pairs(layer_array(image), layer_array(labels), rgb=bool(image.rgb))
        if not pairs:
            raise ValueError(f"labels layer {labels.name!r} is empty: paint some objects first")
        return pairs

    def _payload(self) -> tuple[str, dict]:
        task = MODES[self.mode.currentText()][1]
        out = self.output.path() or default_model_path(task)
        self.output.set_path(out)
        overwrite = Path(out).exists()
        if overwrite and not self._confirm_overwrite(Path(out)):
            raise ValueError(f"{Path(out).name} already exists: choose another model file")
        if self.mode_key == "transfer":
            base = self.base_model.text()
            if not base:
                raise ValueError("choose the base model file (a pretrained EQ model) for transfer")
            check_model_file(base, role="base model")
            config = self.form.transfer_config(base)  # checkpoints: a temp file beside out
            return "transfer", {"data": self._data(), "config": config, "out": str(out),
                                "overwrite": overwrite}
        config = self.form.train_config(task)
        return "train", {"data": self._data(), "config": config, "out": str(out),
                         "overwrite": overwrite}

    def _confirm_overwrite(self, path: Path) -> bool:
        # The old model stays on disk until the new run ends (finished or stopped).
        answer = QMessageBox.question(
            self, "Replace model?",
            f"{path} already exists. Replace it when this training ends? It is kept until then.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    # -- running ------------------------------------------------------------------------------
    def start(self) -> None:
        if self.jobs.running:
            return
        try:
            kind, payload = self._payload()
        except (ValueError, EngineError) as exc:  # ConfigError is a ValueError too
            notify.show_error("training", exc)
            return
        self.result = None
        self.summary.setText("")
        self.to_predict.setEnabled(False)
        self.panel.clear()
        for label, history in self._loaded_curves.items():
            self.panel.add_history(history, run=label)
        self.jobs.start_engine(kind, payload, description="training",
                               epochs=self.form.total_epochs(self.mode_key))
        self._scroll_to(self.panel)  # the curves are what to watch now

    def stop(self) -> None:
        self.jobs.stop()

    def _scroll_to(self, widget) -> None:
        """Scroll down to ``widget``, never sideways: the form's labels stay in view."""
        self._scroll.ensureWidgetVisible(widget, 0, 0)
        self._scroll.horizontalScrollBar().setValue(0)

    def _on_event(self, event) -> None:
        self.panel.add_event(event)

    def _on_result(self, result) -> None:
        self.result = result
        main = getattr(result, "transfer", result)  # TransferResult wraps two TrainResults
        lines = [f"model: {main.model_path}"]
        if main.cancelled:
            lines.insert(0, "stopped early; the best model so far was kept")
        lines.append("best: " + format_metrics(main.best))
        scratch = getattr(result, "scratch", None)
        if scratch is not None:
            lines.append("scratch: " + format_metrics(scratch.best))
        table = getattr(result, "table_text", "")
        if table:
            lines.append(table)
        lines.append(f"{main.seconds:.0f} s on {main.device}")
        self.summary.setText("\n".join(lines))
        self.to_predict.setEnabled(bool(main.model_path))
        self.state.set_result("train", result)
        self._scroll_to(self.to_predict)

    def choose_run_curves(self) -> None:
        """Ask for a run record or model file and add its curves to the panel."""
        from eq_engine.runs import runs_dir

        path, _ = QFileDialog.getOpenFileName(
            self, "Load run curves", str(runs_dir()),
            f"Run records (*.json);;{MODEL_FILTER};;All files (*)")
        if not path:
            return
        try:
            self.load_run_curves(path)
        except (EngineError, OSError) as exc:
            notify.show_error("training", exc)

    def load_run_curves(self, path: str | Path) -> str:
        """Add the per-epoch history of a run record (.json) or model file to the panel.

        Returns the label its curves carry in the panel.
        """
        label, history = run_history(Path(path))
        if not history:
            raise EngineError(f"{path} holds no training history (no epochs)")
        self._loaded_curves[label] = history
        self.panel.add_history(history, run=label)
        return label

    def model_path(self) -> Path | None:
        main = getattr(self.result, "transfer", self.result)
        return Path(main.model_path) if main is not None and main.model_path else None

    def load_in_predict(self):
        """Make the trained model the app's model and show the Predict dock (which follows it)."""
        from .docking import show_dock

        path = self.model_path()
        if path is None:
            return None
        self.state.model = path
        return show_dock(self.viewer, "Predict")


def run_history(path: Path) -> tuple[str, list[dict]]:
    """(label, per-epoch history) of a run record JSON or an EQ model file."""
    if path.suffix.lower() == ".json":
        from eq_engine.runs import load_run

        record = load_run(str(path))
        return f"{record.kind} {record.id[:15]}", record.history
    from eq_engine import ModelInfo, read_metadata

    return path.stem, [dict(row) for row in ModelInfo.from_metadata(read_metadata(path)).history]
