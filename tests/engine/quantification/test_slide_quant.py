"""Slide quantification: every glomerulus measured at level 0, graded, summarised."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eq_engine.config import QuantConfig
from eq_engine.config.slide import SlideConfig
from eq_engine.io.images import read_image
from eq_engine.quantification.grade_model_io import save_grade_model
from eq_engine.quantification.ordinal import GradeModel
from eq_engine.quantification.slide import quantify_slide


def test_quantify_slide_measures_grades_and_summarises(make_slide, slide_image,
                                                       threshold_model, tmp_path):
    image = slide_image()
    # open "lumens" (glass-bright holes) in the first glomerulus only
    image[236:244, 230:282] = 245
    image[266:274, 230:282] = 245
    grade_model = GradeModel(features=("openness",), mean=(0.05,), scale=(0.05,), coef=(3.0,),
                             cuts=(-1.0, 1.0), classes=(0.0, 1.0, 2.0), level="glomerulus")
    grades = save_grade_model(tmp_path / "grade.json", grade_model)
    result = quantify_slide(threshold_model(), make_slide(image=image), tmp_path / "out",
                            QuantConfig(), SlideConfig(region=128, halo=32), grade_model=grades)
    table = result.glomeruli
    assert len(table) == 3
    openness = table.column("openness")
    assert openness[0] > openness[1] + 0.05 and openness[0] > openness[2] + 0.05
    assert np.all(np.isfinite(table.column("grade_expected")))
    assert table.column("grade_expected")[0] > table.column("grade_expected")[1]
    assert table.column("area_um2")[1] == pytest.approx(np.pi * 60**2 * 0.25, rel=0.05)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["glomeruli"] == 3 and summary["included"] == 3
    assert sum(summary["grade_counts"].values()) == 3
    assert summary == result.summary | {"slide": summary["slide"]}
    header = (tmp_path / "out" / "glomeruli.csv").read_text().splitlines()[0].split(",")
    for column in ("id", "centroid_x_um", "bbox_y0_um", "area_um2", "openness", "grade_class"):
        assert column in header
    assert read_image(result.files["histogram"]).ndim == 3
