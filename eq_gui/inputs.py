"""Input widgets the docks share: a layer chooser that follows the viewer, and a path picker."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)


class LayerChoice(QComboBox):
    """A combo box listing the viewer's layers of some types, kept in sync as layers change."""

    def __init__(self, viewer, layer_types: tuple[str, ...], *, allow_none: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._viewer = viewer
        self._types = tuple(t.lower() for t in layer_types)
        self._allow_none = allow_none
        events = viewer.layers.events
        for event in (events.inserted, events.removed, events.moved, events.reordered):
            event.connect(self._on_layers_changed)
        self.destroyed.connect(lambda *_: self._disconnect(events))
        for layer in viewer.layers:
            layer.events.name.connect(self.refresh)
        self.refresh()

    def _disconnect(self, events) -> None:
        for event in (events.inserted, events.removed, events.moved, events.reordered):
            event.disconnect(self._on_layers_changed)

    def _on_layers_changed(self, event=None) -> None:
        layer = getattr(event, "value", None)
        if event is not None and getattr(event, "type", "") == "inserted" and layer is not None:
            layer.events.name.connect(self.refresh)
        self.refresh()

    def _matches(self, layer) -> bool:
        return type(layer).__name__.lower() in self._types

    def refresh(self, event=None) -> None:
        current = self.currentText()
        names = [layer.name for layer in self._viewer.layers if self._matches(layer)]
        if self._allow_none:
            names.insert(0, "")
        self.blockSignals(True)
        self.clear()
        self.addItems(names)
        if current in names:
            self.setCurrentText(current)
        self.blockSignals(False)
        if self.currentText() != current:
            self.currentTextChanged.emit(self.currentText())

    def layer(self):
        """The chosen layer, or None."""
        name = self.currentText()
        return self._viewer.layers[name] if name and name in self._viewer.layers else None

    def set_layer(self, layer) -> None:
        self.refresh()
        self.setCurrentText(layer.name)


class PathEdit(QWidget):
    """A line edit with a Browse button; ``mode`` is "dir", "open" or "save"."""

    changed = Signal(str)

    def __init__(self, mode: str, *, filter: str = "", placeholder: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mode = mode
        self._filter = filter
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.editingFinished.connect(lambda: self.changed.emit(self.text()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)

    def text(self) -> str:
        return self.edit.text().strip()

    def path(self) -> Path | None:
        text = self.text()
        return Path(text).expanduser() if text else None

    def set_path(self, path) -> None:
        self.edit.setText(str(path))
        self.changed.emit(self.text())

    def browse(self) -> None:
        start = self.text()
        if self._mode == "dir":
            chosen = QFileDialog.getExistingDirectory(self, "Choose a folder", start)
        elif self._mode == "save":
            chosen, _ = QFileDialog.getSaveFileName(self, "Save as", start, self._filter)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, "Open", start, self._filter)
        if chosen:
            self.set_path(chosen)


def radio_pair(parent: QWidget, first: str, second: str, on_toggle) -> tuple:
    """Two exclusive radio buttons in a row, the first checked; ``on_toggle`` gets the first's
    state. Returns (first button, second button, row layout)."""
    a, b = QRadioButton(first), QRadioButton(second)
    a.setChecked(True)
    a.toggled.connect(on_toggle)
    group = QButtonGroup(parent)
    group.addButton(a)
    group.addButton(b)
    row = QHBoxLayout()
    row.addWidget(a)
    row.addWidget(b)
    return a, b, row
