"""Score-sheet files as they come from the real world: CSV in UTF-8 (with or without BOM),
Latin-1 or cp1252 (Excel on Windows), comma, semicolon or tab delimited, and Excel ``.xlsx``.

:func:`read_rows` returns the header and ``(line, record)`` pairs of strings; line numbers are
what a spreadsheet shows (the header is line 1), so errors can name the row to fix.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

from ..errors import DataError

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
DELIMITERS = ",;\t"


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (a BOM is dropped), else cp1252, else Latin-1 (never fails)."""
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text: the sniffer's guess among comma, semicolon and tab, else
    the one that occurs most in the header line."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = text.splitlines()[0] if text else ""
        return max(DELIMITERS, key=header.count)


def read_rows(path: str | os.PathLike) -> tuple[list[str], list[tuple[int, dict]], dict]:
    """Header, ``(line, {column: text})`` rows and ``info`` (encoding, delimiter) of a sheet."""
    path = Path(path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _read_excel(path)
    if path.suffix.lower() == ".xls":
        raise DataError(f"{path}: old Excel .xls files are not supported; save it as .xlsx or CSV")
    try:
        text, encoding = decode(path.read_bytes())
    except OSError as exc:
        raise DataError(f"cannot read score sheet {path}: {exc}") from exc
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table = [row for row in reader]
    info = {"encoding": encoding, "delimiter": delimiter,
            "decimal_comma": delimiter == ";"}
    return _records(path, table, info)


def _read_excel(path: Path):
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"cannot read Excel score sheet {path}: {exc}") from exc
    try:
        sheet = book.worksheets[0]
        table = [["" if v is None else _cell_text(v) for v in row]
                 for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    return _records(path, table, {"encoding": "xlsx", "delimiter": "",
                                  "decimal_comma": False, "sheet": sheet.title})


def _cell_text(value) -> str:
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else ""
    return str(value)


def _records(path: Path, table: list[list[str]], info: dict):
    first = next((i for i, row in enumerate(table) if any(str(c).strip() for c in row)), None)
    if first is None:
        raise DataError(f"score sheet {path} is empty")
    header = [str(c).strip() for c in table[first]]
    rows = []
    for i, row in enumerate(table[first + 1:], start=first + 2):
        if not any(str(c).strip() for c in row):
            continue  # blank line: spreadsheets often end with some
        cells = list(row) + [""] * (len(header) - len(row))
        rows.append((i, {h: str(c).strip() for h, c in zip(header, cells, strict=False) if h}))
    return header, rows, info


def parse_number(text: str, *, decimal_comma: bool = False) -> float:
    """A number from a sheet cell; ``0,5`` reads as 0.5 in semicolon sheets (European Excel)."""
    text = str(text).strip()
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return math.nan
