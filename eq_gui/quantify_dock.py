"""Quantify dock: measure every glomerulus, grade endotheliosis, colour glomeruli by grade.

Measuring and fitting are numpy work from :mod:`eq_engine.quantification`, run in a thread. Each
measured image is kept for the session, so after measuring several images a grade model can be
fitted from a score sheet and its subject-grouped cross-validation shown.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from qtpy.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from eq_engine import EngineError, QuantConfig

from . import notify
from .app_state import state_for
from .grading_panel import GradingPanel
from .inputs import LayerChoice, PathEdit
from .job_bar import JobBar
from .layer_data import layer_array
from .pyside_guard import guard
from .quant_overlays import display_rows, label_headers, pixel_size_of, show_values
from .table_view import RowTable, focus_on

# interactive fits: 500 bootstrap resamples keep the CV intervals to seconds, not minutes
INTERACTIVE = QuantConfig(n_bootstrap=500)
COLUMNS = ("label", "used", "why", "grade_expected", "grade_sd", "openness", "lumen_count",
           "area", "equivalent_diameter", "circularity")


def measure(image, labels, config: QuantConfig, name: str, grade_model_path: str | None):
    """Measure one image (and grade it when a grade model file is given); runs in a thread."""
    from eq_engine.quantification import (
        flag_glomeruli,
        grade,
        load_grade_model,
        measure_glomeruli,
    )

    table = flag_glomeruli(measure_glomeruli(image, labels, config, name=name),
                           exclude_border=config.exclude_border)
    if grade_model_path:
        table = grade(table, load_grade_model(grade_model_path))
    return table


def fit(tables: list, sheet: str, config: QuantConfig):
    """Fit a grade model on the measured tables against a score sheet; runs in a thread."""
    from eq_engine.quantification import QuantTable, fit_grade_model

    return fit_grade_model(QuantTable.concat(tables), sheet, config, allow_missing=True)


def grade_colours(rows: list[dict], key: str, value_range: tuple[float, float]) -> dict:
    """label -> RGBA colour of ``row[key]`` on the viridis map; grey for missing/excluded."""
    from napari.utils.colormaps import ensure_colormap

    cmap = ensure_colormap("viridis")
    low, high = value_range
    colours = {None: np.array([0, 0, 0, 0], float), 0: np.array([0, 0, 0, 0], float)}
    for row in rows:
        value = row.get(key)
        if value is None or not math.isfinite(float(value)) or row.get("excluded"):
            colours[int(row["label"])] = np.array([0.6, 0.6, 0.6, 1.0])
        else:
            t = (float(value) - low) / (high - low) if high > low else 0.5
            colours[int(row["label"])] = cmap.map(np.array([min(max(t, 0), 1)]))[0]
    return colours


class QuantifyDock(QWidget):
    """napari dock widget: Quantify."""

    def __init__(self, napari_viewer) -> None:
        guard()  # a safety net against PySide6 reference leaks: see eq_gui.pyside_guard
        super().__init__()
        self.viewer = napari_viewer
        self.state = state_for(napari_viewer)
        self.table = None
        self.measured: dict[str, object] = {}  # image name -> QuantTable, for fitting
        self.fit_result = None
        self.coloured_layer = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.image_layer = LayerChoice(napari_viewer, ("image",))
        self.labels_layer = LayerChoice(napari_viewer, ("labels",))
        self.grade_model = PathEdit("open", filter="EQ grade models (*.json)",
                                    placeholder="optional: grade model file")
        form.addRow("image layer", self.image_layer)
        form.addRow("glomeruli (labels)", self.labels_layer)
        form.addRow("grade model", self.grade_model)
        layout.addLayout(form)
        self.jobs = JobBar("Measure", state=self.state)
        self.jobs.start_button.clicked.connect(self.start)
        self.jobs.result.connect(self._on_result)
        layout.addWidget(self.jobs)
        self.rows = RowTable()
        self.rows.cellClicked.connect(lambda r, _c: self.go_to(r))
        layout.addWidget(self.rows, 2)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(lambda: self.export())
        layout.addWidget(self.export_button)

        fit_form = QFormLayout()
        self.sheet = PathEdit("open", filter="Score sheets (*.csv)", placeholder="grades.csv")
        fit_form.addRow("score sheet", self.sheet)
        layout.addLayout(fit_form)
        buttons = QHBoxLayout()
        self.fit_button = QPushButton("Fit grade model on measured images")
        self.fit_button.clicked.connect(self.start_fit)
        self.save_fit_button = QPushButton("Save grade model…")
        self.save_fit_button.setEnabled(False)
        self.save_fit_button.clicked.connect(lambda: self.save_grade_model())
        buttons.addWidget(self.fit_button)
        buttons.addWidget(self.save_fit_button)
        layout.addLayout(buttons)
        self.fit_jobs = JobBar("")
        self.fit_jobs.start_button.hide()
        self.fit_jobs.stop_button.hide()
        self.fit_jobs.result.connect(self._on_fit)
        layout.addWidget(self.fit_jobs)
        self.cv_text = QLabel("")
        self.cv_text.setWordWrap(True)
        self.cv_text.setStyleSheet("font-family: monospace")
        layout.addWidget(self.cv_text)
        layout.addWidget(QLabel("<b>Grade glomeruli by hand</b>"))
        self.grading = GradingPanel(napari_viewer, self.image_layer, self.labels_layer,
                                    self.measured)
        self.grading.fitted.connect(self._on_fit)
        layout.addWidget(self.grading)

    # -- measuring ----------------------------------------------------------------------------
    def start(self) -> None:
        image, labels = self.image_layer.layer(), self.labels_layer.layer()
        if self.jobs.running:
            return
        if image is None or labels is None:
            notify.show_error("quantify", "choose an image layer and the glomerulus labels")
            return
        try:
            arrays = layer_array(image), layer_array(labels)
        except ValueError as exc:
            notify.show_error("quantify", exc)
            return
        self._labels_source = labels
        self.jobs.start_thread(measure, *arrays, QuantConfig(),
                               image.name, self.grade_model.text() or None,
                               description="measuring")

    def _on_result(self, table) -> None:
        self.table = table
        if table.rows:
            self.measured[str(table.rows[0].get("image", ""))] = table
        pixel_size = pixel_size_of(self.image_layer.layer())
        self.rows.set_rows(display_rows(table.rows, COLUMNS, pixel_size), COLUMNS)
        label_headers(self.rows, COLUMNS, pixel_size)
        self.export_button.setEnabled(bool(table.rows))
        self.state.set_result("quantify", table)
        graded = any("grade_expected" in r for r in table.rows)
        low, high = self._colour(table.rows, "grade_expected" if graded else "openness")
        n_out = sum(bool(r.get("excluded")) for r in table.rows)
        what = "predicted grade" if graded else "open lumen fraction"
        self.jobs.status.setText(
            f"{len(table.rows)} glomeruli ({n_out} not used, grey: see 'Why not used'); "
            f"coloured by {what} on a fixed scale: purple {low:g} → yellow {high:g} (legend on "
            f"the canvas); {len(self.measured)} image(s) measured this session")

    def _colour(self, rows: list[dict], key: str) -> tuple[float, float]:
        """A Labels layer over the glomeruli, each coloured by ``key`` (viridis); returns the
        value range the colours span."""
        from napari.utils.colormaps import DirectLabelColormap

        from eq_engine.quantification import colour_range

        source = self._labels_source
        value_range = colour_range(key)  # fixed: a colour means one value in every image
        colormap = DirectLabelColormap(color_dict=grade_colours(rows, key, value_range))
        name = f"{source.name} by {key.replace('_', ' ')}"
        for old in [layer for layer in self.viewer.layers if layer.name.startswith(
                f"{source.name} by ")]:
            self.viewer.layers.remove(old)
        from eq_engine.quantification import instance_labels

        labels = instance_labels(layer_array(source))
        self.coloured_layer = self.viewer.add_labels(labels, name=name, colormap=colormap,
                                                     opacity=0.6, scale=source.scale,
                                                     translate=source.translate)
        show_values(self.viewer, rows, key, source, name=f"{source.name} values")
        return value_range

    def go_to(self, row: int) -> None:
        data = self.rows.row_data(row)
        layer = self.coloured_layer or self._labels_source
        bbox = [data[k] for k in ("bbox_y0", "bbox_x0", "bbox_y1", "bbox_x1")]
        focus_on(self.viewer, layer, (data["centroid_y"], data["centroid_x"]), bbox)

    def export(self, path=None) -> Path | None:
        if self.table is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export glomeruli", "glomeruli.csv",
                                                  "CSV (*.csv)")
            if not path:
                return None
        return self.table.to_csv(path)

    # -- grade model --------------------------------------------------------------------------
    def start_fit(self) -> None:
        sheet = self.sheet.text()
        if not self.measured or not sheet:
            notify.show_error("quantify", "measure some images, then choose their score sheet")
            return
        if self.fit_jobs.running:
            return
        self.fit_jobs.start_thread(fit, list(self.measured.values()), sheet, INTERACTIVE,
                                   description="fitting grade model")

    def _on_fit(self, result) -> None:
        self.fit_result = result
        self.save_fit_button.setEnabled(True)
        self.cv_text.setText(result.cv.summary() if result.cv is not None else "fitted (no CV)")

    def save_grade_model(self, path=None) -> Path | None:
        from eq_engine.quantification import save_grade_model

        if self.fit_result is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save grade model", "grade_model.json",
                                                  "EQ grade models (*.json)")
            if not path:
                return None
        try:
            written = save_grade_model(path, self.fit_result.model)
        except (OSError, EngineError) as exc:
            self.fit_jobs.status.setText(str(exc))
            return None
        self.grade_model.set_path(written)
        return written
