"""Score sheets from the real world: encodings, delimiters, xlsx, scale, unmatched names."""

import logging

import pytest

from eq_engine.errors import DataError
from eq_engine.quantification.scoresheet import (
    check_images,
    read_score_sheet,
    sheet_subject_scores,
)

ROWS = [("T19_Image0.jpg", "T19", "0.5", "0.5-1"), ("T19_Image1.jpg", "T19", "1.5", "0.5-1"),
        ("Tµé_Image2.jpg", "Tµé", "0", "0")]


def _text(delimiter=",", decimal="."):
    lines = [delimiter.join(("image", "animal", "endotheliosis_grade",
                             "animal_pathologist_score"))]
    lines += [delimiter.join((i, a, g.replace(".", decimal), s)) for i, a, g, s in ROWS]
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "cp1252"])
def test_every_common_encoding_reads_the_same(tmp_path, encoding):
    path = tmp_path / "grades.csv"
    path.write_bytes(_text().encode(encoding))
    sheet = read_score_sheet(path)
    assert [r["image"] for r in sheet.rows] == ["T19_Image0", "T19_Image1", "Tµé_Image2"]
    assert [r["grade"] for r in sheet.rows] == [0.5, 1.5, 0.0]
    assert sheet.rows[2]["subject"] == "Tµé" and sheet.grade_column == "endotheliosis_grade"
    assert sheet_subject_scores(sheet) == {"T19": "0.5-1", "Tµé": "0"}


def test_cp1252_only_characters(tmp_path):
    path = tmp_path / "g.csv"
    path.write_bytes("image,grade,note\nA1_x.png,1,“swollen” – €\n".encode("cp1252"))
    assert read_score_sheet(path).rows[0]["grade"] == 1.0


@pytest.mark.parametrize("delimiter,decimal", [(";", ","), (";", "."), ("\t", ".")])
def test_semicolon_and_tab_sheets_with_decimal_commas(tmp_path, delimiter, decimal):
    path = tmp_path / "grades.csv"
    path.write_text(_text(delimiter, decimal), encoding="utf-8")
    assert [r["grade"] for r in read_score_sheet(path).rows] == [0.5, 1.5, 0.0]


def test_xlsx_sheet(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["image", "label", "centroid_y", "centroid_x", "grade"])
    sheet.append(["T19_Image0.jpg", 1, 10.5, 20.0, 2.5])
    sheet.append([None, None, None, None, None])
    sheet.append(["T19_Image0.jpg", 2, 40.0, 20.0, 0])
    book.save(tmp_path / "g.xlsx")
    read = read_score_sheet(tmp_path / "g.xlsx")
    assert read.level == "glomerulus" and [r["grade"] for r in read.rows] == [2.5, 0.0]
    assert read.rows[0]["label"] == 1 and read.rows[0]["centroid_y"] == 10.5
    assert read.rows[1]["line"] == 4  # the spreadsheet's own row number


def test_grades_outside_the_scale_are_rejected_naming_the_row(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("image,grade\nA1_x.png,1\nA1_y.png,4\nA1_z.png,-1\n")
    with pytest.raises(DataError, match=r"line 3 \(A1_y.png\): 4; line 4 \(A1_z.png\): -1"):
        read_score_sheet(path)
    assert len(read_score_sheet(path, scale=(-1, 4)).rows) == 3


def test_unmatched_names_error_when_none_match_and_warn_naming_rows(tmp_path, caplog):
    path = tmp_path / "g.csv"
    path.write_text("image,grade\nA1_x.png,1\nA1_y.png,0\nB2_q.png,2\n")
    sheet = read_score_sheet(path)
    with pytest.raises(DataError, match="none of its 3 rows"):
        check_images(sheet, ["Z9_a", "Z9_b"], allow_missing=True)
    with caplog.at_level(logging.WARNING):
        unmatched = check_images(sheet, ["A1_x", "A1_y"], allow_missing=True)
    assert unmatched == ["line 4: B2_q"] and "line 4: B2_q" in caplog.text
    with pytest.raises(DataError, match=r"A1_w.*line 4: B2_q"):
        check_images(sheet, ["A1_x", "A1_y", "A1_w"])


def test_graded_images_without_glomeruli_are_not_called_misnamed(tmp_path, caplog):
    path = tmp_path / "g.csv"
    path.write_text("image,grade\nA1_x.png,1\nA1_y.png,0\n")
    sheet = read_score_sheet(path)
    with pytest.raises(DataError, match="no glomeruli were found in any of the 2 graded images") \
            as info:
        check_images(sheet, [], allow_missing=True, empty=["A1_x", "A1_y"])
    assert "Fix the names" not in str(info.value)
    with caplog.at_level(logging.WARNING):
        unmatched = check_images(sheet, ["A1_x"], allow_missing=True, empty=["A1_y"])
    assert unmatched == ["line 3: A1_y"]
    assert "1 graded image(s) hold no glomeruli" in caplog.text
    assert "not measured" not in caplog.text
