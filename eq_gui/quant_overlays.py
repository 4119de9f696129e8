"""Showing quantification on the canvas and in tables: fixed colour scales with a legend, values
as text at each glomerulus, readable headers with units and tooltips.

Ranges, headers, units and rounding come from :mod:`eq_engine.quantification.presentation`.
"""

from __future__ import annotations

import math

import numpy as np

from eq_engine.quantification import (
    colour_range,
    display_value,
    header,
    tooltip,
)

COLORMAP = "viridis"


def finite(value) -> bool:
    return isinstance(value, (int, float, np.number)) and math.isfinite(float(value))


def show_values(viewer, rows: list[dict], key: str, source, *, name: str, fmt: str = "{:.2f}"):
    """A Points layer at the centroid of every row with a finite ``key``: coloured on the fixed
    scale of ``key`` (napari's colorbar overlay is the legend) and labelled with the value.

    Replaces a previous layer of the same ``name``; returns the layer (None when no values).
    """
    for old in [layer for layer in viewer.layers if layer.name == name]:
        viewer.layers.remove(old)
    rows = [r for r in rows if finite(r.get(key)) and not r.get("excluded")]
    if not rows:
        return None
    low, high = colour_range(key)
    values = np.array([float(r[key]) for r in rows])
    layer = viewer.add_points(
        np.array([[r["centroid_y"], r["centroid_x"]] for r in rows]), name=name,
        features={"value": values, "text": [fmt.format(v) for v in values]},
        face_color="value", face_colormap=COLORMAP, face_contrast_limits=(low, high),
        border_color="white", size=max(12.0, _size(rows)),
        text={"string": "{text}", "color": "white", "size": 12, "anchor": "upper_left"},
        scale=source.scale[-2:], translate=source.translate[-2:])
    layer.face_colorbar.visible = True  # the legend: the same fixed range in every image
    return layer


def _size(rows: list[dict]) -> float:
    diameters = [float(r["equivalent_diameter"]) for r in rows if finite(r.get(
        "equivalent_diameter"))]
    return 0.15 * float(np.median(diameters)) if diameters else 12.0


def display_rows(rows: list[dict], columns, pixel_size: float | None) -> list[dict]:
    """Copies of ``rows`` whose shown ``columns`` hold display values (units, rounding); other
    keys (centroid, bbox) stay raw for navigation."""
    return [dict(r, **{c: display_value(c, r[c], pixel_size) for c in columns if c in r})
            for r in rows]


def label_headers(table, columns, pixel_size: float | None) -> None:
    """Readable headers with units and an explaining tooltip on a filled RowTable."""
    present = [c for c in columns if any(c in r for r in table.rows)]
    for j, key in enumerate(present):
        item = table.horizontalHeaderItem(j)
        if item is not None:
            item.setText(header(key, pixel_size))
            item.setToolTip(tooltip(key))
    table.resizeColumnsToContents()


def pixel_size_of(layer) -> float | None:
    """µm per pixel when the layer carries a physical scale (not the default 1), else None."""
    scale = float(layer.scale[-1]) if layer is not None else 1.0
    return scale if scale != 1.0 and scale > 0 else None
