"""Per-glomerulus grades given by hand: keep each grade tied to its glomerulus.

A grade is stored with its image, label *and* centroid. Masks change (re-segmented, edited,
relabelled), so when grades are loaded onto a label image they are matched by position first:
the object under the stored centroid, else the object whose centroid is nearest within its
radius; the stored label is used only when no centroid was stored.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io.atomic import atomic_write_text
from .scoresheet import GRADE_SCALE, ScoreSheet, read_score_sheet

SHEET_COLUMNS = ("image", "label", "centroid_y", "centroid_x", "grade")
HALF_STEPS = tuple(x / 2 for x in range(7))  # 0, 0.5, ... 3


def object_centroids(labels: np.ndarray) -> dict[int, tuple[float, float, float]]:
    """label -> (centroid_y, centroid_x, equivalent radius) of every object."""
    from .features import instance_labels, morphology

    shape = morphology(instance_labels(labels))
    return {int(k): (float(y), float(x), float(d) / 2) for k, y, x, d in zip(
        shape["label"], shape["centroid_y"], shape["centroid_x"], shape["equivalent_diameter"],
        strict=True)}


def check_grade(grade: float) -> float:
    """A hand grade must be on the 0-3 scale in half steps."""
    grade = float(grade)
    if not any(math.isclose(grade, g) for g in HALF_STEPS):
        raise DataError(f"grade {grade:g} is not on the scale 0, 0.5, ... 3")
    return grade


def grade_entry(image: str, label: int, labels: np.ndarray, grade: float,
                centroids: dict | None = None) -> dict:
    """One sheet row for glomerulus ``label`` of ``labels`` in ``image``."""
    centroids = centroids if centroids is not None else object_centroids(labels)
    if int(label) not in centroids:
        raise DataError(f"{image}: there is no glomerulus with label {label}")
    cy, cx, _ = centroids[int(label)]
    return {"image": image, "label": int(label), "centroid_y": round(cy, 1),
            "centroid_x": round(cx, 1), "grade": check_grade(grade)}


def write_grades(path: str | os.PathLike, entries: list[dict]) -> Path:
    """Write per-glomerulus grades as a UTF-8 CSV score sheet (image,label,centroid,grade)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SHEET_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for entry in sorted(entries, key=lambda e: (e["image"], e["label"])):
        writer.writerow({k: (f"{entry[k]:g}" if isinstance(entry[k], float) else entry[k])
                         for k in SHEET_COLUMNS})
    return atomic_write_text(path, buf.getvalue())


def read_grades(path: str | os.PathLike) -> ScoreSheet:
    """A per-glomerulus score sheet (any format :func:`read_score_sheet` reads)."""
    sheet = read_score_sheet(path, scale=GRADE_SCALE)
    if sheet.level != "glomerulus":
        raise DataError(f"{path} grades whole images; per-glomerulus grades need a 'label' or "
                        "'centroid_y','centroid_x' column")
    return sheet


def match_grades(
    entries: list[dict], labels: np.ndarray, image: str,
) -> tuple[dict[int, float], list[dict]]:
    """``({label: grade}, unmatched entries)`` for the rows of ``image`` on ``labels``."""
    labels = np.asarray(labels)
    centroids = object_centroids(labels)
    matched, unmatched = {}, []
    for entry in (e for e in entries if e["image"] == image):
        label = _locate(entry, labels, centroids)
        if label is None:
            unmatched.append(entry)
        else:
            matched[label] = entry["grade"]
    return matched, unmatched


def _locate(entry: dict, labels: np.ndarray, centroids: dict) -> int | None:
    cy, cx = entry.get("centroid_y", math.nan), entry.get("centroid_x", math.nan)
    if not (math.isfinite(cy) and math.isfinite(cx)):
        return int(entry["label"]) if entry.get("label") in centroids else None
    y, x = int(round(cy)), int(round(cx))
    if 0 <= y < labels.shape[0] and 0 <= x < labels.shape[1] and labels[y, x] != 0 \
            and int(labels[y, x]) in centroids:
        return int(labels[y, x])
    best, best_d = None, math.inf
    for label, (oy, ox, radius) in centroids.items():
        d = math.hypot(oy - cy, ox - cx)
        if d <= radius and d < best_d:
            best, best_d = label, d
    return best


def sheet_from_entries(entries: list[dict], *, path: str = "") -> ScoreSheet:
    """A glomerulus-level :class:`ScoreSheet` from in-memory grade entries (for fitting)."""
    if not entries:
        raise DataError("no glomeruli graded yet")
    rows = [dict(e, line=i + 2) for i, e in enumerate(entries)]
    return ScoreSheet(rows, "glomerulus", path or "(graded in the studio)", "grade", None)
