"""Tables of result rows (list of dicts) in Qt, moving the camera onto an object, outlining it.

Tables show the few columns that matter, first, and fit the dock: headers wrap onto two lines and
columns share the width. Every value of a row (also the columns not shown) is in its tooltip and
in the exported CSV.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from .numbers import format_number

SELECTION_LAYER = "EQ selection"  # the outline around the object clicked in a table
HEADERS = {"n_truth_objects": "truth\nobjects", "n_pred_objects": "predicted\nobjects",
           "object_f1": "object\nF1", "object_precision": "object\nprecision",
           "object_recall": "object\nrecall", "grade_expected": "grade", "grade_sd": "± sd",
           "truth_label": "truth\nlabel", "pred_label": "predicted\nlabel", "iou": "IoU",
           "dice": "Dice", "lumen_count": "lumens", "touches_border": "at\nborder"}


def header_text(column: str) -> str:
    return HEADERS.get(column, column.replace("_", "\n", 1).replace("_", " "))


class RowTable(QTableWidget):
    """A read-only table showing ``rows`` (dicts); ``row_data(i)`` returns the i-th dict."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, 0, parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSortingEnabled(False)
        self.setWordWrap(True)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)  # fit the dock's width
        header.setMinimumSectionSize(36)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._rows: list[dict] = []
        self.columns: list[str] = []

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
        self.columns = list(columns)
        self.setColumnCount(len(columns))
        self.setHorizontalHeaderLabels([header_text(c) for c in columns])
        self.setRowCount(len(self._rows))
        for i, row in enumerate(self._rows):
            tip = "\n".join(f"{k}: {format_number(v, k)}" for k, v in row.items())
            for j, column in enumerate(columns):
                item = QTableWidgetItem(format_number(row.get(column), column))
                item.setToolTip(tip)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.setItem(i, j, item)

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
        outline(viewer, layer, bbox)
        half = len(bbox) // 2
        size = (np.asarray(bbox[half:], float) - np.asarray(bbox[:half], float))[-2:]
        object_world = float(max(size * scale[-2:]).max()) * context
        extent = layer.extent.world
        layer_world = float(np.max((extent[1] - extent[0])[-2:]))
        viewer.reset_view()
        if object_world > 0 and layer_world > 0:
            viewer.camera.zoom = viewer.camera.zoom * max(1.0, layer_world / object_world)
    viewer.camera.center = tuple(world[-2:])


def outline(viewer, layer, bbox: Sequence[float]) -> None:
    """Draw a yellow rectangle around ``bbox`` (data coordinates of ``layer``) on the canvas.

    One Shapes layer, ``EQ selection``, holds the outline; it is moved on each call.
    """
    half = len(bbox) // 2
    y0, x0 = (float(v) - 0.5 for v in bbox[:half][-2:])
    y1, x1 = (float(v) - 0.5 for v in bbox[half:][-2:])
    rect = np.array([[y0, x0], [y0, x1], [y1, x1], [y1, x0]])
    where = {"scale": tuple(layer.scale)[-2:], "translate": tuple(layer.translate)[-2:]}
    if SELECTION_LAYER in viewer.layers:
        shapes = viewer.layers[SELECTION_LAYER]
        shapes.data = [rect]
        shapes.scale, shapes.translate = where["scale"], where["translate"]
    else:
        shapes = viewer.add_shapes([rect], shape_type="rectangle", name=SELECTION_LAYER,
                                   edge_color="yellow", face_color="transparent", edge_width=3,
                                   **where)
    shapes.edge_width = [max(2.0, 0.02 * max(y1 - y0, x1 - x0))]
    viewer.layers.selection.active = layer  # keep the user's layer active, not the outline
