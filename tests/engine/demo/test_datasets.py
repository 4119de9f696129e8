"""The demo's real-data split: by animal, last animal held out, eq train's recipe (auto scale)."""

from __future__ import annotations

import csv

import pytest

from eq_engine.demo.datasets import real_data
from eq_engine.errors import DataError


def _real_layout(root, animals=("T1", "T2", "T3"), per_animal=2):
    histology = root / "kidney_preeclampsia_mouse_he"
    (histology / "images").mkdir(parents=True)
    (histology / "masks").mkdir()
    (root / "em_cdeep3m_mouse_brain" / "images").mkdir(parents=True)
    rows = []
    for animal in animals:
        for i in range(per_animal):
            stem = f"{animal}_Image{i}"
            (histology / "images" / f"{stem}.jpg").write_bytes(b"x")
            (histology / "masks" / f"{stem}_mask.png").write_bytes(b"x")
            rows.append({"image": f"{stem}.jpg", "animal": animal, "endotheliosis_grade": i / 2})
    with open(histology / "grades.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["image", "animal", "endotheliosis_grade"])
        writer.writeheader()
        writer.writerows(rows)
    return root


def test_last_animal_is_held_out_and_scale_is_auto(tmp_path):
    data = real_data(tmp_path / "work", _real_layout(tmp_path / "shared"))
    assert sorted(p.name for p in (data.histology_test / "images").iterdir()) == [
        "T3_Image0.jpg", "T3_Image1.jpg"]
    assert len(list((data.histology_train / "masks").iterdir())) == 4
    assert data.histology_scale == 0.0  # eq train's default: measured from the masks
    with open(data.test_grades, encoding="utf-8") as fh:
        assert {r["animal"] for r in csv.DictReader(fh)} == {"T3"}


def test_missing_histology_names_the_folder(tmp_path):
    (tmp_path / "em_cdeep3m_mouse_brain" / "images").mkdir(parents=True)
    with pytest.raises(DataError, match="kidney_preeclampsia_mouse_he"):
        real_data(tmp_path / "work", tmp_path)
