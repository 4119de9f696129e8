"""Results a kidney researcher can read: headers with units, tooltips, rounding, fixed colours.

Columns keep their machine names in ``glomeruli.csv``; :func:`readable_rows` renames them for
people (``Area (µm²)`` when the pixel size is known, ``Area (px²)`` otherwise) and rounds each to
what the measurement supports. Colour scales are fixed per measure (openness 0-1, grade 0-3),
never stretched to one image, so a colour means the same value in every image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """How one measure is shown: ``header`` (``{unit}`` is filled in), the unit kind (``area``,
    ``length``, or a fixed unit text), decimals, and a tooltip that explains the measure."""

    header: str
    unit: str
    decimals: int
    tooltip: str


COLUMNS = {
    "image": Column("Image", "", 0, "Image (field) the glomerulus is in."),
    "label": Column("Glomerulus #", "", 0, "Label number of the glomerulus in its mask."),
    "used": Column("Used", "", 0, "Whether this glomerulus counts towards the image grade."),
    "why": Column("Why not used", "", 0, "Why it is left out: cut by the image border (partial "
                  "tuft), fused with a neighbour (two glomeruli as one object) or a fragment."),
    "grade_expected": Column("Predicted grade", "0-3", 2, "Expected endotheliosis grade from "
                             "the grade model (0 none, 1 mild, 2 moderate, 3 severe)."),
    "grade_sd": Column("Grade uncertainty (SD)", "", 2, "Standard deviation of the model's "
                       "grade distribution: large means the measurements are ambiguous."),
    "grade_class": Column("Most likely grade", "", 1, "Grade class minimising expected error."),
    "p_grade_high": Column("P(grade ≥ 1)", "", 2, "Probability of moderate or worse "
                           "endotheliosis."),
    "openness": Column("Open lumen fraction", "0-1", 3, "Openness: fraction of the tuft "
                       "(glomerulus without Bowman's space) that is open capillary lumen. "
                       "Endotheliosis closes lumens, so lower openness means a worse grade."),
    "lumen_count": Column("Open lumens", "count", 0, "Number of open capillary lumens in the "
                          "tuft."),
    "lumen_density": Column("Open lumens per 10,000 px²", "", 1, "Open lumens per tuft area."),
    "nuclear_fraction": Column("Nuclear fraction", "0-1", 3, "Fraction of the tuft covered by "
                               "nuclei (dark haematoxylin); swollen endothelium adds nuclei."),
    "area": Column("Area", "area", 0, "Area of the glomerulus mask."),
    "tuft_area": Column("Tuft area", "area", 0, "Area of the capillary tuft (mask without "
                        "Bowman's space)."),
    "equivalent_diameter": Column("Diameter", "length", 1, "Diameter of a circle of the same "
                                  "area as the glomerulus."),
    "circularity": Column("Circularity", "0-1", 2, "4π·area/perimeter²: 1 for a circle."),
    "touches_border": Column("Cut by border", "", 0, "The glomerulus touches the image edge."),
}

# Fixed colour ranges: the same colour is the same value in every image.
COLOUR_RANGES = {"openness": (0.0, 1.0), "mask_openness": (0.0, 1.0),
                 "nuclear_fraction": (0.0, 1.0), "grade_expected": (0.0, 3.0),
                 "grade_class": (0.0, 3.0), "grade": (0.0, 3.0), "p_grade_high": (0.0, 1.0)}


def colour_range(key: str) -> tuple[float, float]:
    """The fixed colour range of a measure (grades 0-3, fractions 0-1)."""
    if key in COLOUR_RANGES:
        return COLOUR_RANGES[key]
    return (0.0, 3.0) if key.startswith("grade") else (0.0, 1.0)


def header(key: str, pixel_size: float | None = None) -> str:
    """Column header with its unit: µm or µm² with a pixel size (µm per pixel), px otherwise."""
    col = COLUMNS.get(key)
    if col is None:
        return key.replace("_", " ")
    if col.unit == "area":
        return f"{col.header} ({'µm²' if pixel_size else 'px²'})"
    if col.unit == "length":
        return f"{col.header} ({'µm' if pixel_size else 'px'})"
    return col.header


def tooltip(key: str) -> str:
    col = COLUMNS.get(key)
    return col.tooltip if col else ""


def display_value(key: str, value, pixel_size: float | None = None):
    """``value`` in display units (µm, µm²) and rounded; text and booleans as they are."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else value
    if not math.isfinite(float(value)):
        return ""
    col = COLUMNS.get(key)
    if col is None:
        return round(float(value), 3)
    if pixel_size and col.unit == "area":
        value = value * pixel_size**2
    elif pixel_size and col.unit == "length":
        value = value * pixel_size
    return int(round(value)) if col.decimals == 0 else round(float(value), col.decimals)


def readable_rows(rows: list[dict], keys, pixel_size: float | None = None) -> list[dict]:
    """Rows restricted to ``keys`` under readable headers, in display units, rounded."""
    keys = [k for k in keys if any(k in r for r in rows)]
    return [{header(k, pixel_size): display_value(k, r.get(k), pixel_size) for k in keys}
            for r in rows]
