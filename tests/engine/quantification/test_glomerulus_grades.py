"""Per-glomerulus hand grades: sheet round trip, relabelling, filtering, presentation."""

import numpy as np
import pytest

from eq_engine.errors import DataError
from eq_engine.quantification.filtering import flag_glomeruli, usage_summary
from eq_engine.quantification.glomerulus_grades import (
    grade_entry,
    match_grades,
    read_grades,
    write_grades,
)
from eq_engine.quantification.presentation import colour_range, display_value, header
from eq_engine.quantification.tables import QuantTable


def _labels():
    labels = np.zeros((60, 80), np.int32)
    labels[5:20, 5:20] = 1
    labels[30:50, 10:30] = 2
    labels[10:30, 50:70] = 3
    return labels


def test_grades_round_trip_through_a_sheet_and_survive_relabelling(tmp_path):
    labels = _labels()
    entries = [grade_entry("A1_img", 2, labels, 2.5), grade_entry("A1_img", 3, labels, 0)]
    path = write_grades(tmp_path / "g.csv", entries)
    sheet = read_grades(path)
    assert sheet.level == "glomerulus"
    assert [(r["label"], r["grade"]) for r in sheet.rows] == [(2, 2.5), (3, 0.0)]
    relabelled = np.select([labels == 1, labels == 2, labels == 3], [7, 1, 4], 0)
    matched, lost = match_grades(sheet.rows, relabelled, "A1_img")
    assert matched == {1: 2.5, 4: 0.0} and lost == []
    shrunk = relabelled.copy()
    shrunk[shrunk == 4] = 0  # glomerulus 3 deleted from the mask: its grade is reported lost
    matched, lost = match_grades(sheet.rows, shrunk, "A1_img")
    assert matched == {1: 2.5} and [e["grade"] for e in lost] == [0.0]


def test_hand_grades_are_checked():
    with pytest.raises(DataError, match="0, 0.5, ... 3"):
        grade_entry("A1_img", 1, _labels(), 1.25)
    with pytest.raises(DataError, match="no glomerulus with label 9"):
        grade_entry("A1_img", 9, _labels(), 1)


def test_border_fused_and_fragment_glomeruli_are_not_used():
    rows = [{"image": "a", "label": i, "area": a, "solidity": s, "touches_border": b}
            for i, (a, s, b) in enumerate([(100, 0.97, False), (110, 0.98, False),
                                           (90, 0.96, True), (10, 0.95, False),
                                           (400, 0.97, False), (120, 0.7, False),
                                           (95, 0.97, False)], start=1)]
    table = flag_glomeruli(QuantTable(rows))
    assert [r["used"] for r in table.rows] == [True, True, False, False, False, False, True]
    why = [r["why"] for r in table.rows]
    assert why[2] == "cut by the image border" and why[3].startswith("fragment")
    assert why[4].startswith("fused (area 3.8x") and why[5].startswith("fused or ragged")
    assert usage_summary(table) == {"glomeruli": 7, "used": 3, "cut by the image border": 1,
                                    "fragment": 1, "fused": 1, "fused or ragged": 1}
    assert len(table.included()) == 3


def test_fixed_colour_ranges_units_and_rounding():
    assert colour_range("openness") == (0.0, 1.0) and colour_range("grade_expected") == (0, 3)
    assert header("area") == "Area (px²)" and header("area", 0.5) == "Area (µm²)"
    assert header("equivalent_diameter", 0.5) == "Diameter (µm)"
    assert display_value("area", 1000, 0.5) == 250 and display_value("openness", 0.21349) == 0.213
    assert display_value("equivalent_diameter", 101.234, 0.5) == 50.6
