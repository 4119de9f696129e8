"""Grading glomeruli by hand: click one (or step with n / p), give it 0-3 in half steps.

Keys on the glomeruli layer: ``n``/``p`` next/previous glomerulus, ``0``-``3`` a whole grade,
``.`` adds a half step. Grades show on the canvas as coloured points with the grade as text
(fixed 0-3 scale, legend). They save as a score sheet (image, label, centroid, grade) that is
matched back by centroid when loaded, so grades stay on their glomerulus after relabelling, and
they fit the grade model directly.
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from eq_engine.config import QuantConfig
from eq_engine.errors import EngineError
from eq_engine.quantification import (
    HALF_STEPS,
    grade_entry,
    match_grades,
    object_centroids,
    read_grades,
    write_grades,
)

from .job_bar import JobBar
from .layer_data import layer_array
from .quant_overlays import show_values


def fit_from_grades(image, labels, name: str, entries: list[dict], measured: list,
                    config: QuantConfig):
    """Measure the graded image and fit the grade model on every graded glomerulus (thread);
    cross-validated by subject when the grades span two subjects or more."""
    from eq_engine.quantification import (
        QuantTable,
        fit_grade_model,
        flag_glomeruli,
        measure_glomeruli,
        sheet_from_entries,
        subject_of,
    )

    tables = [t for t in measured if t.rows and t.rows[0].get("image") != name]
    tables.append(measure_glomeruli(image, labels, config, name=name))
    table = flag_glomeruli(QuantTable.concat(tables), exclude_border=config.exclude_border)
    graded = [e for e in entries if e["image"] in {r["image"] for r in table.rows}]
    subjects = {subject_of(e["image"], config.group_pattern) or e["image"] for e in graded}
    return fit_grade_model(table, sheet_from_entries(graded), config, allow_missing=True,
                           validate=len(subjects) >= 2)


class GradingPanel(QWidget):
    """Per-glomerulus grading on the chosen image / glomeruli layers."""

    graded = Signal(int, float)
    fitted = Signal(object)

    def __init__(self, viewer, image_choice, labels_choice, measured=None) -> None:
        super().__init__()
        self.viewer = viewer
        self.image_choice, self.labels_choice = image_choice, labels_choice
        self.measured = measured if measured is not None else {}
        self.entries: dict[tuple[str, int], dict] = {}
        self.current: int | None = None
        self._layer = None
        self._centroids: dict = {}
        layout = QVBoxLayout(self)
        self.status = QLabel("Click a glomerulus (or press n / p), then give it a grade.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        grid = QGridLayout()
        self.grade_buttons = {}
        for i, grade in enumerate(HALF_STEPS):
            button = QPushButton(f"{grade:g}")
            button.setToolTip(f"grade the selected glomerulus {grade:g} (0 none ... 3 severe)")
            button.clicked.connect(lambda _=False, g=grade: self.set_grade(g))
            grid.addWidget(button, 0, i)
            self.grade_buttons[grade] = button
        layout.addLayout(grid)
        row = QHBoxLayout()
        for text, slot in (("◀ previous", lambda: self.step(-1)), ("next ▶", lambda: self.step(1)),
                           ("Save grades…", lambda: self.save()),
                           ("Load grades…", lambda: self.load())):
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        layout.addLayout(row)
        self.fit_button = QPushButton("Fit grade model from these grades")
        self.fit_button.clicked.connect(self.start_fit)
        layout.addWidget(self.fit_button)
        self.jobs = JobBar("")
        self.jobs.start_button.hide()
        self.jobs.stop_button.hide()
        self.jobs.result.connect(self.fitted.emit)
        layout.addWidget(self.jobs)
        labels_choice.currentTextChanged.connect(lambda _=None: self.attach())
        image_choice.currentTextChanged.connect(lambda _=None: self.redraw())
        self.attach()

    # -- canvas -----------------------------------------------------------------------------
    def attach(self) -> None:
        """Listen to clicks and keys on the chosen glomeruli layer."""
        layer = self.labels_choice.layer()
        if layer is self._layer:
            return
        if self._layer is not None and self._on_click in self._layer.mouse_drag_callbacks:
            self._layer.mouse_drag_callbacks.remove(self._on_click)
        self._layer, self.current, self._centroids = None, None, {}
        if layer is None:
            return
        try:
            data = layer_array(layer)
        except ValueError as exc:  # a whole slide's labels
            self.status.setText(str(exc))
            return
        try:
            self._centroids = object_centroids(data)
        except EngineError as exc:  # e.g. a 3-D EM stack offered as the glomeruli layer
            self.status.setText(f"{layer.name}: {exc}. Choose a 2-D glomeruli layer to grade.")
            return
        self._layer = layer
        layer.mouse_drag_callbacks.append(self._on_click)
        for key, action in (("n", lambda: self.step(1)), ("p", lambda: self.step(-1)),
                            ("0", lambda: self.set_grade(0)), ("1", lambda: self.set_grade(1)),
                            ("2", lambda: self.set_grade(2)), ("3", lambda: self.set_grade(3)),
                            (".", self.add_half)):
            layer.bind_key(key, lambda _layer, a=action: a(), overwrite=True)
        self.redraw()

    def _on_click(self, layer, event) -> None:
        y, x = (int(round(v)) for v in layer.world_to_data(event.position)[-2:])
        data = layer_array(layer)
        if 0 <= y < data.shape[-2] and 0 <= x < data.shape[-1] and data[..., y, x] != 0:
            self.select(int(data[..., y, x]))

    def image_name(self) -> str:
        image = self.image_choice.layer()
        return image.name if image is not None else ""

    def select(self, label: int) -> None:
        self.current = int(label)
        entry = self.entries.get((self.image_name(), self.current))
        given = f"graded {entry['grade']:g}" if entry else "not graded yet"
        self.status.setText(f"glomerulus {label} of {self.image_name()}: {given}")

    def step(self, direction: int) -> None:
        labels = sorted(self._centroids)
        if not labels:
            return
        i = labels.index(self.current) + direction if self.current in labels else 0
        self.select(labels[i % len(labels)])
        cy, cx, _ = self._centroids[self.current]
        self.viewer.camera.center = (cy * self._layer.scale[-2], cx * self._layer.scale[-1])

    def set_grade(self, grade: float) -> None:
        if self.current is None or self._layer is None:
            self.status.setText("Select a glomerulus first: click it, or press n")
            return
        name = self.image_name()
        entry = grade_entry(name, self.current, layer_array(self._layer), grade, self._centroids)
        self.entries[(name, self.current)] = entry
        self.graded.emit(self.current, float(grade))
        self.select(self.current)
        self.redraw()

    def add_half(self) -> None:
        entry = self.entries.get((self.image_name(), self.current))
        if entry is not None and entry["grade"] < 3:
            self.set_grade(entry["grade"] + 0.5)

    def redraw(self) -> None:
        """Graded glomeruli of this image as points coloured by grade, with the grade as text."""
        if self._layer is None:
            return
        name = self.image_name()
        rows = [e for (image, _), e in self.entries.items() if image == name]
        show_values(self.viewer, rows, "grade", self._layer, name=f"{self._layer.name} grades",
                    fmt="{:g}")

    # -- score sheet --------------------------------------------------------------------------
    def save(self, path=None) -> Path | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save grades", "glomerulus_grades.csv",
                                                  "Score sheets (*.csv)")
            if not path:
                return None
        return write_grades(path, list(self.entries.values()))

    def load(self, path=None) -> int:
        """Load a per-glomerulus sheet; this image's rows are matched to the current labels by
        centroid. Returns the number of grades placed on this image."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Load grades", "",
                                                  "Score sheets (*.csv *.xlsx)")
            if not path:
                return 0
        try:
            sheet = read_grades(path)
        except EngineError as exc:
            self.status.setText(str(exc))
            return 0
        name = self.image_name()
        others = {(e["image"], e.get("label")): e for e in sheet.rows if e["image"] != name}
        self.entries.update(others)
        placed, lost = ({}, []) if self._layer is None else match_grades(
            sheet.rows, layer_array(self._layer), name)
        for label, grade in placed.items():
            self.entries[(name, label)] = grade_entry(name, label, layer_array(self._layer),
                                                      grade, self._centroids)
        lost_text = f"; {len(lost)} match no glomerulus now" if lost else ""
        self.status.setText(f"loaded {len(sheet.rows)} grades, {len(placed)} on this image"
                            + lost_text)
        self.redraw()
        return len(placed)

    def start_fit(self) -> None:
        image, labels = self.image_choice.layer(), self._layer
        if image is None or labels is None or not self.entries or self.jobs.running:
            self.status.setText("Grade some glomeruli of the chosen image first")
            return
        self.jobs.start_thread(fit_from_grades, layer_array(image), layer_array(labels),
                               image.name, list(self.entries.values()),
                               list(self.measured.values()), QuantConfig(n_bootstrap=500),
                               description="fitting grade model from hand grades")
