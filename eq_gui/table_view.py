"""Tables of result rows (list of dicts) in Qt, and moving the camera onto an object."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from qtpy.QtWidgets import QAbstractItemView, QTableWidget, QTableWidgetItem


def format_value(value) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("yes" if value else "no")
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            return "n/a"
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


class RowTable(QTableWidget):
    """A read-only table showing ``rows`` (dicts); ``row_data(i)`` returns the i-th dict."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, 0, parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSortingEnabled(False)
        self._rows: list[dict] = []

    def set_rows(self, rows: Sequence[dict], columns: Sequence[str] | None = None) -> None:
        self._rows = list(rows)
        if columns is None:
            seen: dict[str, None] = {}
            for row in self._rows:
                seen.update(dict.fromkeys(row))
            columns = list(seen)
        else:
            present = set().union(*(row.keys() for row in self._rows)) if self._rows else set()
            columns = [c for c in columns if c in present]
        self.clear()
        self.setColumnCount(len(columns))
        self.setHorizontalHeaderLabels(list(columns))
        self.setRowCount(len(self._rows))
        for i, row in enumerate(self._rows):
            for j, column in enumerate(columns):
                self.setItem(i, j, QTableWidgetItem(format_value(row.get(column))))
        self.resizeColumnsToContents()

    def row_data(self, index: int) -> dict:
        return self._rows[index]

    @property
    def rows(self) -> list[dict]:
        return list(self._rows)


def focus_on(viewer, layer, centroid: Sequence[float], bbox: Sequence[float] | None = None,
             *, context: float = 3.0) -> None:
    """Centre the camera on ``centroid`` (data coordinates of ``layer``) and zoom onto ``bbox``.

    ``bbox`` is (min..., max...) in data coordinates; the view shows about ``context`` times the
    object's size. For a stack, a 3-value centroid (z, y, x) also moves the slider to slice z.
    """
    scale = np.asarray(layer.scale, float)
    translate = np.asarray(layer.translate, float)
    point = np.asarray(centroid, float)
    ndim = len(scale)
    world = point * scale[-len(point):] + translate[-len(point):]
    if len(point) > 2 and ndim >= 3:
        viewer.dims.set_point(ndim - len(point), world[0])
    if bbox is not None:
        half = len(bbox) // 2
        size = (np.asarray(bbox[half:], float) - np.asarray(bbox[:half], float))[-2:]
        object_world = float(max(size * scale[-2:]).max()) * context
        extent = layer.extent.world
        layer_world = float(np.max((extent[1] - extent[0])[-2:]))
        viewer.reset_view()
        if object_world > 0 and layer_world > 0:
            viewer.camera.zoom = viewer.camera.zoom * max(1.0, layer_world / object_world)
    viewer.camera.center = tuple(world[-2:])
