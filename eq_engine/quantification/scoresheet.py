"""Score sheets: CSV grades per glomerulus (image, label id or centroid, grade) or per image.

Image names match measured images by whole stem (``T19_Image9.jpg`` is ``T19_Image9``, never
``T19_Image99``). Subjects (animals) come from a subject column or from a regex over the stem.
"""

from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .tables import QuantTable

IMAGE_COLUMNS = ("image", "image_name", "filename", "file", "stem")
SUBJECT_COLUMNS = ("subject", "animal", "patient", "mouse", "donor", "case")
LABEL_COLUMNS = ("label", "label_id", "glomerulus", "glomerulus_id")
CENTROID_COLUMNS = (("centroid_y", "centroid_x"), ("y", "x"))
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
    subject_column: str | None = None,
) -> ScoreSheet:
    """Read a grade CSV; the level is ``glomerulus`` when it has a label or centroid column."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            raw = list(reader)
            columns = [c.strip() for c in reader.fieldnames or []]
    except OSError as exc:
        raise DataError(f"cannot read score sheet {path}: {exc}") from exc
    lower = {c.lower(): c for c in columns}
    image_col = _pick(lower, IMAGE_COLUMNS, path, "an image column (e.g. 'image')")
    grade_col = grade_column or _grade_column(lower, path)
    if grade_col not in columns:
        raise DataError(f"score sheet {path} has no column {grade_col!r}; columns: {columns}")
    subject_col = subject_column or next((lower[c] for c in SUBJECT_COLUMNS if c in lower), None)
    if subject_col and subject_col not in columns:
        raise DataError(f"score sheet {path} has no subject column {subject_col!r}")
    label_col = next((lower[c] for c in LABEL_COLUMNS if c in lower), None)
    centroid_cols = next(((lower[y], lower[x]) for y, x in CENTROID_COLUMNS
                          if y in lower and x in lower), None)
    rows, bad = [], []
    for i, rec in enumerate(raw, start=2):  # line 1 is the header
        rec = {(k or "").strip(): (v or "").strip() for k, v in rec.items()}
        row = {"image": image_stem(rec[image_col]), "grade": _number(rec[grade_col])}
        if not rec[image_col] or not math.isfinite(row["grade"]):
            bad.append(f"line {i}: image={rec[image_col]!r} {grade_col}={rec[grade_col]!r}")
            continue
        if subject_col:
            row["subject"] = rec[subject_col]
        if label_col:
            row["label"] = int(_number(rec[label_col]))
        elif centroid_cols:
            row["centroid_y"], row["centroid_x"] = (_number(rec[c]) for c in centroid_cols)
        rows.append(row)
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


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _check_duplicates(rows: list[dict], level: str, path: Path) -> None:
    keys = [(r["image"], r.get("label"), r.get("centroid_y"), r.get("centroid_x")) for r in rows]
    seen, dupes = set(), []
    for key in keys:
        if key in seen:
            dupes.append(key[0] if level == "image" else f"{key[0]}#{key[1] or key[2:]}")
        seen.add(key)
    if dupes:
        raise DataError(f"score sheet {path} grades these {level}s twice: {sorted(set(dupes))}")


def check_images(sheet: ScoreSheet, measured: list[str], *, allow_missing: bool = False) -> None:
    """Raise DataError listing sheet images that were not measured (unknown) and, unless
    ``allow_missing``, measured images the sheet does not grade (missing)."""
    graded = {r["image"] for r in sheet.rows}
    unknown = sorted(graded - set(measured))
    missing = [] if allow_missing else sorted(set(measured) - graded)
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"{len(unknown)} graded image(s) not among the measured images: "
                         f"{unknown}")
        if missing:
            parts.append(f"{len(missing)} measured image(s) without a grade: {missing}")
        raise DataError(f"score sheet {sheet.path or ''} does not match the images: "
                        + "; ".join(parts) + ". Fix the names (whole stems, e.g. 'T19_Image0' or "
                        "'T19_Image0.jpg'), or allow ungraded images.")


def glomerulus_grades(table: QuantTable, sheet: ScoreSheet) -> list[float]:
    """Grade of every row of a glomerulus ``table`` from a glomerulus sheet (NaN if ungraded);
    a sheet glomerulus that matches no measured one raises DataError listing them."""
    index = {(r["image"], r["label"]): i for i, r in enumerate(table.rows)}
    grades = [math.nan] * len(table.rows)
    unknown = []
    for entry in sheet.rows:
        i = index.get((entry["image"], entry["label"])) if "label" in entry else \
            _nearest(table, entry)
        if i is None:
            unknown.append(f"{entry['image']}#{entry.get('label', (entry.get('centroid_y'), entry.get('centroid_x')))}")
        else:
            grades[i] = entry["grade"]
    if unknown:
        raise DataError(f"score sheet {sheet.path}: {len(unknown)} graded glomerul(i) match no "
                        f"measured glomerulus (image#label or centroid): {unknown[:20]}")
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
