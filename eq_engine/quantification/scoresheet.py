"""Score sheets: CSV grades per glomerulus (image, label id or centroid, grade) or per image.

Image names match measured images by whole stem (``T19_Image9.jpg`` is ``T19_Image9``, never
``T19_Image99``). Subjects (animals) come from a subject column or from a regex over the stem.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .tables import QuantTable

log = logging.getLogger(__name__)

IMAGE_COLUMNS = ("image", "image_name", "filename", "file", "stem")
SUBJECT_COLUMNS = ("subject", "animal", "patient", "mouse", "donor", "case")
LABEL_COLUMNS = ("label", "label_id", "glomerulus", "glomerulus_id")
CENTROID_COLUMNS = (("centroid_y", "centroid_x"), ("y", "x"))
SUBJECT_SCORE_COLUMNS = ("animal_pathologist_score", "pathologist_score", "animal_score",
                         "subject_score")
GRADE_SCALE = (0.0, 3.0)  # endotheliosis 0 (none) .. 3 (severe)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".svs", ".ome.tif"}


@dataclass(frozen=True)
class ScoreSheet:
    """Grades read from a CSV. ``rows`` hold ``image`` (stem), ``grade``, optional ``subject``,
    and for glomerulus sheets ``label`` or ``centroid_y``/``centroid_x``."""

    rows: list[dict]
    level: str  # "glomerulus" or "image"
    path: str = ""
    grade_column: str = "grade"
    subject_column: str | None = None


def image_stem(name: str) -> str:
    """``T19_Image0.jpg`` -> ``T19_Image0``; names without an image suffix are kept whole."""
    path = Path(str(name).strip())
    return path.stem if path.suffix.lower() in IMAGE_SUFFIXES else path.name


def subject_of(stem: str, pattern: str | None) -> str | None:
    """First capture group of ``pattern`` in ``stem`` (e.g. ``T19`` of ``T19_Image0``)."""
    if not pattern:
        return None
    match = re.search(pattern, stem)
    return (match.group(1) if match.groups() else match.group(0)) if match else None


def read_score_sheet(
    path: str | os.PathLike, *, grade_column: str | None = None,
    subject_column: str | None = None, scale: tuple[float, float] = GRADE_SCALE,
) -> ScoreSheet:
    """Read a grade sheet (CSV in any common encoding and delimiter, or .xlsx); the level is
    ``glomerulus`` when it has a label or centroid column. Grades outside ``scale`` are
    rejected, naming their lines."""
    from .sheet_files import parse_number, read_rows

    path = Path(path)
    columns, raw, info = read_rows(path)
    lower = {c.lower(): c for c in columns if c}
    image_col = _pick(lower, IMAGE_COLUMNS, path, "an image column (e.g. 'image')")
    grade_col = grade_column or _grade_column(lower, path)
    if grade_col not in columns:
        raise DataError(f"score sheet {path} has no column {grade_col!r}; columns: {columns}")
    subject_col = subject_column or next((lower[c] for c in SUBJECT_COLUMNS if c in lower), None)
    if subject_col and subject_col not in columns:
        raise DataError(f"score sheet {path} has no subject column {subject_col!r}")
    score_col = next((c for k, c in lower.items() if k in SUBJECT_SCORE_COLUMNS), None)
    label_col = next((lower[c] for c in LABEL_COLUMNS if c in lower), None)
    centroid_cols = next(((lower[y], lower[x]) for y, x in CENTROID_COLUMNS
                          if y in lower and x in lower), None)

    def number(text: str) -> float:
        return parse_number(text, decimal_comma=info["decimal_comma"])

    rows, bad, outside = [], [], []
    for line, rec in raw:
        image, grade_text = rec.get(image_col, ""), rec.get(grade_col, "")
        row = {"image": image_stem(image), "grade": number(grade_text), "line": line}
        if not image or not math.isfinite(row["grade"]):
            bad.append(f"line {line}: image={image!r} {grade_col}={grade_text!r}")
            continue
        if not scale[0] <= row["grade"] <= scale[1]:
            outside.append(f"line {line} ({image}): {grade_text}")
            continue
        if subject_col:
            row["subject"] = rec.get(subject_col, "")
        if score_col and rec.get(score_col):
            row["subject_score"] = rec[score_col]
        if label_col and math.isfinite(number(rec.get(label_col, ""))):
            row["label"] = int(number(rec[label_col]))
        if centroid_cols:  # kept beside the label: it finds the glomerulus after relabelling
            row["centroid_y"], row["centroid_x"] = (number(rec.get(c, "")) for c in centroid_cols)
        rows.append(row)
    if outside:
        raise DataError(f"score sheet {path}: {len(outside)} grade(s) outside the scale "
                        f"{scale[0]:g}-{scale[1]:g}; fix them: " + "; ".join(outside[:10]))
    if bad:
        raise DataError(f"score sheet {path}: {len(bad)} row(s) without an image or a numeric "
                        f"grade; fix or delete them: " + "; ".join(bad[:10]))
    if not rows:
        raise DataError(f"score sheet {path} has no graded rows")
    level = "glomerulus" if (label_col or centroid_cols) else "image"
    _check_duplicates(rows, level, path)
    return ScoreSheet(rows, level, str(path), grade_col, subject_col)


def _pick(lower: dict, names: tuple, path: Path, what: str) -> str:
    for name in names:
        if name in lower:
            return lower[name]
    raise DataError(f"score sheet {path} needs {what}; its columns are {list(lower.values())}")


def _grade_column(lower: dict, path: Path) -> str:
    if "grade" in lower:
        return lower["grade"]
    candidates = [c for key, c in lower.items() if key.endswith("grade")]
    if len(candidates) == 1:
        return candidates[0]
    raise DataError(f"score sheet {path}: cannot tell which column is the grade "
                    f"({candidates or list(lower.values())}); name it 'grade' or pass grade_column")


def _check_duplicates(rows: list[dict], level: str, path: Path) -> None:
    keys = [(r["image"], r.get("label"), r.get("centroid_y"), r.get("centroid_x")) for r in rows]
    seen, dupes = set(), []
    for key in keys:
        if key in seen:
            dupes.append(key[0] if level == "image" else f"{key[0]}#{key[1] or key[2:]}")
        seen.add(key)
    if dupes:
        raise DataError(f"score sheet {path} grades these {level}s twice: {sorted(set(dupes))}")


def check_images(
    sheet: ScoreSheet, measured: list[str], *, allow_missing: bool = False,
    empty: Iterable[str] = (),
) -> list[str]:
    """Match the sheet's image names to the ``measured`` images (whole stems).

    No sheet row matching any image is a DataError; rows naming images that were not measured
    are logged as a warning naming their lines and returned (``"line 7: T19_Image5"``); measured
    images the sheet does not grade are a DataError unless ``allow_missing``. ``empty`` names
    images that were read (any measured ones among them are ignored): rows naming the others
    held no glomeruli, are not name mistakes, and the messages say so.
    """
    measured_set = set(measured)
    empty_set = set(empty) - measured_set
    unmatched = [f"line {r.get('line', '?')}: {r['image']}" for r in sheet.rows
                 if r["image"] not in measured_set]
    no_objects = [f"line {r.get('line', '?')}: {r['image']}" for r in sheet.rows
                  if r["image"] in empty_set]
    hint = ("Fix the names (whole stems, e.g. 'T19_Image0' or 'T19_Image0.jpg') or measure "
            "those images.")
    if no_objects and len(no_objects) == len(sheet.rows):
        raise DataError(f"score sheet {sheet.path or ''}: no glomeruli were found in any of the "
                        f"{len(sheet.rows)} graded images ({no_objects[:5]}), so there is "
                        "nothing to grade. Check the segmentation (model, threshold, minimum "
                        "size) or the masks.")
    if len(unmatched) == len(sheet.rows):
        raise DataError(f"score sheet {sheet.path or ''}: none of its {len(sheet.rows)} rows "
                        f"names a measured image ({unmatched[:5]}; measured e.g. "
                        f"{sorted(measured_set)[:5]}). {hint}")
    if no_objects:
        log.warning("score sheet %s: %d graded image(s) hold no glomeruli and are ignored: %s",
                    sheet.path, len(no_objects), "; ".join(no_objects[:20]))
    misnamed = [u for u in unmatched if u not in no_objects]
    if misnamed:
        log.warning("score sheet %s: %d row(s) name images that were not measured and are "
                    "ignored: %s", sheet.path, len(misnamed), "; ".join(misnamed[:20]))
    missing = [] if allow_missing else sorted(measured_set - {r["image"] for r in sheet.rows})
    if missing:
        extra = f"; rows naming images not among the measured images: {unmatched[:20]}" if unmatched else ""
        raise DataError(f"score sheet {sheet.path or ''} does not grade {len(missing)} measured "
                        f"image(s) without a grade: {missing}{extra}. {hint} Or allow ungraded "
                        "images.")
    return unmatched


def sheet_subject_scores(sheet: ScoreSheet | None) -> dict[str, str]:
    """subject -> the animal-level score in the sheet (e.g. ``animal_pathologist_score``)."""
    if sheet is None:
        return {}
    out: dict[str, str] = {}
    for row in sheet.rows:
        subject = row.get("subject") or subject_of(row["image"], None)
        if subject and row.get("subject_score"):
            out.setdefault(subject, row["subject_score"])
    return out


def glomerulus_grades(table: QuantTable, sheet: ScoreSheet) -> list[float]:
    """Grade of every row of a glomerulus ``table`` from a glomerulus sheet (NaN if ungraded).

    A sheet row with a centroid matches the measured glomerulus nearest to it (within its
    radius), so grades survive relabelled or re-segmented masks; without one, ``label`` is used.
    Rows of unmeasured images are skipped (see :func:`check_images`); a row of a measured image
    that matches no glomerulus raises DataError naming it.
    """
    index = {(r["image"], r["label"]): i for i, r in enumerate(table.rows)}
    measured = {r["image"] for r in table.rows}
    grades = [math.nan] * len(table.rows)
    unknown = []
    for entry in sheet.rows:
        if entry["image"] not in measured:
            continue
        has_centroid = all(math.isfinite(entry.get(k, math.nan))
                           for k in ("centroid_y", "centroid_x"))
        i = _nearest(table, entry) if has_centroid else index.get((entry["image"],
                                                                   entry.get("label")))
        if i is None:
            where = (f"centroid ({entry['centroid_y']:.0f}, {entry['centroid_x']:.0f})"
                     if has_centroid else f"label {entry.get('label')}")
            unknown.append(f"line {entry.get('line', '?')}: {entry['image']} {where}")
        else:
            grades[i] = entry["grade"]
    if unknown:
        raise DataError(f"score sheet {sheet.path}: {len(unknown)} graded glomerul(i) match no "
                        f"measured glomerulus: {unknown[:20]}")
    return grades


def _nearest(table: QuantTable, entry: dict) -> int | None:
    """Row whose centroid is nearest the sheet centroid, within its equivalent radius."""
    best, best_d = None, math.inf
    for i, row in enumerate(table.rows):
        if row["image"] != entry["image"]:
            continue
        d = math.hypot(row["centroid_y"] - entry["centroid_y"],
                       row["centroid_x"] - entry["centroid_x"])
        if d <= row["equivalent_diameter"] / 2 and d < best_d:
            best, best_d = i, d
    return best


def sheet_subjects(sheet: ScoreSheet) -> dict[str, str]:
    """image stem -> subject from the sheet's subject column (empty when it has none)."""
    return {r["image"]: r["subject"] for r in sheet.rows if r.get("subject")}


def subjects_for(images: list[str], sheet: ScoreSheet | None, pattern: str | None) -> np.ndarray:
    """Subject of each image: the sheet's subject column, else ``pattern``; DataError when any
    image has neither, because grouped cross-validation needs every subject."""
    known = sheet_subjects(sheet) if sheet else {}
    out, unmatched = [], []
    for stem in images:
        subject = known.get(stem) or subject_of(stem, pattern)
        if subject is None:
            unmatched.append(stem)
        out.append(subject)
    if unmatched:
        raise DataError(f"no subject for {len(unmatched)} image(s) {unmatched[:10]}: add a "
                        f"'subject' or 'animal' column to the score sheet, or set group_pattern "
                        f"(now {pattern!r}) to a regex whose first group is the subject")
    return np.array(out, dtype=object)
