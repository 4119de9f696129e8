"""Data and Annotation dock: browse a dataset folder, load pairs, annotate, save masks.

The folder is checked with :func:`eq_engine.check_dataset` in a thread and re-checked when files
change: first from the file headers (fast), then with every image decoded, so a damaged file is
marked before anyone clicks it. The open folder becomes the app state's dataset (Train and
Evaluate follow it). Masks are saved with :func:`eq_engine.write_mask` (atomic); an existing mask
is only replaced after the user confirms.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qtpy.QtCore import QFileSystemWatcher, QTimer
from qtpy.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from eq_engine import EngineError
from eq_engine.io import file_stem, is_slide

from . import notify
from .app_state import state_for
from .inputs import LayerChoice, PathEdit
from .layer_data import IMAGE_KEY, MASK_KEY, layer_array
from .opened_masks import name_opened_masks
from .pyside_guard import guard
from .slide_reader import slide_layer_data
from .workers import thread_worker_call

REFRESH_MS = 300
BAD_PAIR_KINDS = ("unreadable", "shape_mismatch", "non_binary_mask")  # listed with their status
BAD_STATES = ("unreadable", "shapes differ", "mask not binary")


def default_mask_path(root: Path, image: Path) -> Path:
    """Where a new mask for ``image`` goes: ``root/masks/<stem>.png``, or beside a flat layout."""
    if (root / "images").is_dir() or (root / "masks").is_dir():
        return root / "masks" / f"{file_stem(image)}.png"
    return image.with_name(f"{file_stem(image)}_mask.png")


def load_pair(image_path: Path, mask_path: Path | None):
    """Read an image and (optionally) its mask; runs in a thread."""
    from eq_engine import read_image, read_mask

    image = read_image(image_path)
    mask = read_mask(mask_path, binary=False) if mask_path is not None else None
    return image_path, image, mask_path, mask


class DataDock(QWidget):
    """napari dock widget: Data and Annotation."""

    def __init__(self, napari_viewer) -> None:
        guard()  # a safety net against PySide6 reference leaks: see eq_gui.pyside_guard
        super().__init__()
        self.viewer = napari_viewer
        self.state = state_for(napari_viewer)
        name_opened_masks(napari_viewer)
        self.report = None
        self.rows: list[tuple[str, Path | None, Path | None]] = []
        self.states: list[str] = []  # the status column of each row
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.folder = PathEdit("dir", placeholder="dataset folder (images/ + masks/)")
        self.folder.changed.connect(self.open_folder)
        form.addRow("dataset", self.folder)
        layout.addLayout(form)
        self.summary = QLabel("no dataset open")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["image", "mask", "status"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellClicked.connect(lambda row, _col: self.load_row(row))
        layout.addWidget(self.table, 2)
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        layout.addWidget(QLabel("problems"))
        layout.addWidget(self.problems, 1)

        annotate = QFormLayout()
        self.image_layer = LayerChoice(napari_viewer, ("image",))
        annotate.addRow("image layer", self.image_layer)
        self.labels_layer = LayerChoice(napari_viewer, ("labels",))
        annotate.addRow("labels layer", self.labels_layer)
        layout.addLayout(annotate)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("New annotation")
        self.new_button.clicked.connect(self.new_annotation)
        self.accept_button = QPushButton("Accept prediction")
        self.accept_button.setToolTip("copy the chosen labels layer into an editable annotation")
        self.accept_button.clicked.connect(self.accept_prediction)
        self.save_button = QPushButton("Save mask")
        self.save_button.clicked.connect(self.save_mask)
        for button in (self.new_button, self.accept_button, self.save_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(lambda _p: self._refresh_timer.start())
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._checking = False
        self.decoded = False  # the report shown comes from decoding every image

    # -- dataset ------------------------------------------------------------------------------
    @property
    def root(self) -> Path | None:
        return self.folder.path()

    def open_folder(self, path=None) -> None:
        if path is not None and str(path) != self.folder.text():
            self.folder.set_path(path)  # emits changed -> back here with the same text
            return
        root = self.root
        if root is None:
            return
        if self._watcher.directories():
            self._watcher.removePaths(self._watcher.directories())
        watch = [str(p) for p in (root, root / "images", root / "masks") if p.is_dir()]
        if watch:
            self._watcher.addPaths(watch)
        self.state.dataset = root
        self.refresh()

    def refresh(self, *, decode: bool = False) -> None:
        """Re-check the dataset folder in a thread (also runs when its files change).

        The header check comes first; a second pass then decodes every image.
        """
        from eq_engine import check_dataset

        root = self.root
        if root is None or self._checking:
            if self._checking:
                self._refresh_timer.start()  # check again once the running check is done
            return
        self._checking = True
        self.summary.setText(f"{'decoding the images of' if decode else 'checking'} "
                             f"{notify.shorten_path(str(root))} …")
        thread_worker_call(check_dataset, root, decode_images=decode,
                           on_result=lambda report: self._on_report(report, decoded=decode),
                           on_error=self._on_check_error,
                           on_finished=lambda: self._check_done(decode), owner=self)

    def _check_done(self, decoded: bool) -> None:
        self._checking = False
        if not decoded and self.report is not None and self.report.root == self.root:
            self.refresh(decode=True)

    def _on_check_error(self, exc) -> None:
        self.report = None
        self.rows = []
        self.table.setRowCount(0)
        self.problems.clear()
        self.summary.setText(f"cannot open this dataset: {exc}")

    def _on_report(self, report, *, decoded: bool = False) -> None:
        self.report, self.decoded = report, decoded
        ok = "ok" if decoded else "ok (header)"
        rows = [(p.stem, p.image, p.mask, ok) for p in report.pairs]
        for problem in report.problems:
            if problem.kind == "unpaired_image" and problem.paths:
                image = Path(problem.paths[0])
                rows.append((file_stem(image), image, None, "no mask yet"))
            elif problem.kind in BAD_PAIR_KINDS and problem.paths:
                rows.append(_bad_row(problem))
        rows.sort(key=lambda r: r[0])
        self.rows = [(stem, image, mask) for stem, image, mask, _ in rows]
        self.states = [state for *_, state in rows]
        self.table.setRowCount(len(rows))
        for i, (stem, _image, mask, state) in enumerate(rows):
            for j, text in enumerate((stem, mask.name if mask else "—", state)):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.problems.clear()
        for problem in report.problems:
            self.problems.addItem(f"{problem.severity}: {problem.message}")
        self.summary.setText(f"{len(report.pairs)} usable pairs, {report.n_images} images, "
                             f"{len(report.problems)} problems"
                             + ("" if decoded else "; decoding every image to be sure …"))

    # -- loading ------------------------------------------------------------------------------
    def load_row(self, row: int) -> None:
        """Load the image of table row ``row`` and its mask (as a Labels layer), in a thread.

        An image that is already open is only selected: its labels may hold unsaved edits.
        """
        stem, image, mask = self.rows[row]
        if image is None or self.states[row] in BAD_STATES:
            self.status.setText(f"{stem}: {self.states[row]}; see the problems below")
            return
        if stem in self.viewer.layers:
            self.viewer.layers.selection.active = self.viewer.layers[stem]
            self.image_layer.set_layer(self.viewer.layers[stem])
            self.status.setText(f"{stem} is already open")
            return
        if is_slide(image):  # lazy multiscale layer: never decode a whole slide
            data, kwargs, _kind = slide_layer_data(image)
            kwargs["metadata"]["eq_image_path"] = str(image)
            self.image_layer.set_layer(self.viewer.add_image(data, **{**kwargs, "name": stem}))
            self.status.setText(f"opened slide {image.name} (pyramid levels load as you zoom); "
                                "predict it in the Predict dock")
            return
        thread_worker_call(load_pair, image, mask, on_result=self._on_loaded,
                           on_error=self._show_error, owner=self)

    def _on_loaded(self, loaded) -> None:
        image_path, image, mask_path, mask = loaded
        root = self.root or image_path.parent
        rgb = image.ndim >= 3 and image.shape[-1] == 3
        name = file_stem(image_path)
        layer = self.viewer.add_image(image, name=name, rgb=rgb,
                                      metadata={"eq_image_path": str(image_path)})
        target = mask_path or default_mask_path(root, image_path)
        if mask is not None:
            labels = self.viewer.add_labels(mask.astype(np.int32), name=f"{name} mask", opacity=0.5,
                                            metadata={MASK_KEY: str(target), IMAGE_KEY: name})
            self.labels_layer.set_layer(labels)
        self.image_layer.set_layer(layer)
        self.status.setText(f"loaded {image_path.name}" + (f" + {mask_path.name}" if mask_path else ""))

    # -- annotation ---------------------------------------------------------------------------
    def new_annotation(self):
        """An empty Labels layer over the chosen image, with the paint brush selected."""
        image = self.image_layer.layer()
        if image is None:
            self._show_error(ValueError("open an image layer to annotate"))
            return None
        try:
            data = layer_array(image)
        except ValueError as exc:  # a whole slide: no full-size annotation layer
            self._show_error(exc)
            return None
        shape = data.shape[:-1] if image.rgb else data.shape
        labels = self.viewer.add_labels(np.zeros(shape, np.int32), name=f"{image.name} annotation",
                                        scale=image.scale, translate=image.translate,
                                        metadata={MASK_KEY: str(self._mask_target(image)),
                                                  IMAGE_KEY: image.name})
        self._start_painting(labels)
        return labels

    def accept_prediction(self):
        """Copy the chosen labels layer (e.g. a prediction) into a new editable annotation."""
        source = self.labels_layer.layer()
        image = self.image_layer.layer()
        if source is None:
            self._show_error(ValueError("choose the prediction's labels layer first"))
            return None
        name = f"{image.name if image else source.name} annotation"
        target = self._mask_target(image) if image is not None else None
        try:
            data = np.array(layer_array(source), dtype=np.int32, copy=True)
        except ValueError as exc:
            self._show_error(exc)
            return None
        labels = self.viewer.add_labels(data,
                                        name=name, scale=source.scale, translate=source.translate,
                                        metadata={MASK_KEY: str(target)} if target else {})
        self._start_painting(labels)
        return labels

    def _mask_target(self, image_layer) -> Path | None:
        path = image_layer.metadata.get("eq_image_path")
        if not path:
            return None
        for _stem, image, mask in self.rows:
            if image == Path(path) and mask is not None:
                return mask
        return default_mask_path(self.root or Path(path).parent, Path(path))

    def _start_painting(self, labels) -> None:
        self.labels_layer.set_layer(labels)
        self.viewer.layers.selection.active = labels
        labels.selected_label = 1
        labels.brush_size = 10
        labels.mode = "paint"

    # -- saving -------------------------------------------------------------------------------
    def save_mask(self) -> Path | None:
        """Save the chosen labels layer as a binary mask (0/255), atomically.

        An existing file is replaced only when the user confirms; returns the written path.
        """
        from eq_engine import write_mask

        labels = self.labels_layer.layer()
        if labels is None:
            self._show_error(ValueError("choose the labels layer to save"))
            return None
        target = labels.metadata.get(MASK_KEY) or self._ask_save_path()
        if not target:
            return None
        target = Path(target)
        exists = target.exists()
        if exists and not self._confirm_overwrite(target):
            self.status.setText(f"not saved: {target.name} exists and was kept")
            return None
        try:
            written = write_mask(target, layer_array(labels) > 0, overwrite=exists)
        except (OSError, EngineError) as exc:
            self._show_error(exc)
            return None
        labels.metadata[MASK_KEY] = str(written)
        self.status.setText(f"saved {written}")
        return written

    def _ask_save_path(self) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "Save mask as", str(self.root or Path.home()),
                                              "Masks (*.png *.tif *.tiff)")
        return path

    def _confirm_overwrite(self, path: Path) -> bool:
        answer = QMessageBox.question(self, "Replace mask?",
                                      f"{path} already exists. Replace it with this annotation?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _show_error(self, exc) -> None:
        self.status.setText(notify.show_error("data", exc))


def _bad_row(problem) -> tuple:
    """A table row for a pair that failed a check: (stem, image, mask, status)."""
    image = mask = None
    for path in (Path(p) for p in problem.paths):
        if path.parent.name == "masks" or path.stem.endswith("_mask"):
            mask = path
        else:
            image = path
    stem = file_stem(image) if image is not None else mask.stem.removesuffix("_mask")
    return stem, image, mask, BAD_STATES[BAD_PAIR_KINDS.index(problem.kind)]

