"""QuantTable: rows of measurements (one dict per glomerulus, image or subject) and aggregation."""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io.atomic import atomic_write_text

# Columns that identify a row or describe it, never averaged when aggregating.
ID_COLUMNS = ("image", "subject", "label", "centroid_y", "centroid_x", "bbox_y0", "bbox_x0",
              "bbox_y1", "bbox_x1", "touches_border", "excluded", "exclude_reason",
              "grade_class", "fold")


@dataclass(frozen=True)
class QuantTable:
    """A table as a list of row dicts (``rows``), at one ``level``: glomerulus, image or subject.

    Tables are values: methods return new tables and never change ``rows`` in place.
    """

    rows: list[dict] = field(default_factory=list)
    level: str = "glomerulus"

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def columns(self) -> list[str]:
        """Column names in first-seen order over all rows."""
        seen: dict[str, None] = {}
        for row in self.rows:
            seen.update(dict.fromkeys(row))
        return list(seen)

    def column(self, name: str) -> np.ndarray:
        """One column as an array (float where numeric; missing values are NaN / None)."""
        values = [row.get(name) for row in self.rows]
        if all(v is None or isinstance(v, (int, float, np.number)) for v in values):
            return np.array([np.nan if v is None else float(v) for v in values], dtype=float)
        return np.array(values, dtype=object)

    def included(self) -> QuantTable:
        """Rows not flagged ``excluded`` (e.g. glomeruli cut off by the image border)."""
        return QuantTable([r for r in self.rows if not r.get("excluded", False)], self.level)

    def with_columns(self, values: dict[str, Sequence]) -> QuantTable:
        """A new table with the given columns added or replaced (one value per row)."""
        for name, column in values.items():
            if len(column) != len(self.rows):
                raise DataError(f"column {name!r} has {len(column)} values for {len(self.rows)} rows")
        rows = [dict(row) for row in self.rows]
        for name, column in values.items():
            for row, value in zip(rows, column, strict=True):
                row[name] = _plain(value)
        return QuantTable(rows, self.level)

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write the table as CSV, atomically (the file appears complete or not at all)."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
        return atomic_write_text(path, buf.getvalue())

    @classmethod
    def concat(cls, tables: Iterable[QuantTable], *, level: str | None = None) -> QuantTable:
        tables = list(tables)
        rows = [dict(r) for t in tables for r in t.rows]
        return cls(rows, level or (tables[0].level if tables else "glomerulus"))

    @classmethod
    def read_csv(cls, path: str | os.PathLike, *, level: str = "glomerulus") -> QuantTable:
        """Read a table written by :meth:`to_csv`; numbers and booleans come back typed."""
        path = Path(path)
        try:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                rows = [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(fh)]
        except OSError as exc:
            raise DataError(f"cannot read table {path}: {exc}") from exc
        return cls(rows, level)


def aggregate(table: QuantTable, *, by: str = "image") -> QuantTable:
    """One row per value of column ``by`` (``image`` or ``subject``).

    Numeric features are averaged over the *included* rows (border glomeruli are left out), with
    ``n_glomeruli``/``n_included`` counts; ``grade_class`` becomes a distribution
    (``frac_grade_<g>``) and ``n_images`` counts images per subject.
    """
    groups: dict[object, list[dict]] = {}
    for row in table.rows:
        if by not in row:
            raise DataError(f"cannot aggregate by {by!r}: the table has no such column")
        groups.setdefault(row[by], []).append(row)
    numeric = [c for c in table.columns if c not in ID_COLUMNS and _is_numeric(table, c)]
    classes = sorted({r["grade_class"] for r in table.rows if _finite(r.get("grade_class"))})
    out = []
    for key, rows in groups.items():
        used = [r for r in rows if not r.get("excluded", False)]
        agg: dict = {by: key}
        if by == "image" and "subject" in rows[0]:
            agg["subject"] = rows[0]["subject"]
        if by != "image" and "image" in rows[0]:
            agg["n_images"] = len({r["image"] for r in rows})
        agg["n_glomeruli"] = sum(int(r.get("n_glomeruli", 1)) for r in rows)
        agg["n_included"] = sum(int(r.get("n_included", 1)) for r in used)
        for name in numeric:
            if name in ("n_glomeruli", "n_included", "n_images"):
                continue
            values = [float(r[name]) for r in used if _finite(r.get(name))]
            agg[name] = float(np.mean(values)) if values else math.nan
        for g in classes:
            graded = [r for r in used if _finite(r.get("grade_class"))]
            hits = sum(1 for r in graded if r["grade_class"] == g)
            agg[f"frac_grade_{_fmt_grade(g)}"] = hits / len(graded) if graded else math.nan
        out.append(agg)
    return QuantTable(out, by)


def _fmt_grade(grade: float) -> str:
    return f"{grade:g}"


def _is_numeric(table: QuantTable, name: str) -> bool:
    values = [r.get(name) for r in table.rows if r.get(name) is not None]
    return bool(values) and all(
        isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
        for v in values
    )


def _finite(value) -> bool:
    return isinstance(value, (int, float, np.number)) and math.isfinite(float(value))


def _plain(value):
    """numpy scalars -> Python scalars, so rows stay JSON/CSV friendly."""
    return value.item() if isinstance(value, np.generic) else value


def _csv_value(value):
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return _plain(value)


def _parse(text: str | None):
    if text is None or text == "":
        return math.nan if text == "" else None
    if text in ("True", "False"):
        return text == "True"
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text else number
