"""Grade model, score sheets, grouped CV and grading metrics on synthetic tables."""

import json
import math

import numpy as np
import pytest

from eq_engine.config import QuantConfig
from eq_engine.errors import DataError, ModelError
from eq_engine.quantification.grade_model_io import load_grade_model, save_grade_model
from eq_engine.quantification.grading import (
    fit_grade_model,
    grade,
    grouped_folds,
)
from eq_engine.quantification.grading_metrics import (
    auroc,
    bootstrap_ci,
    mae,
    quadratic_weighted_kappa,
    spearman,
)
from eq_engine.quantification.scoresheet import read_score_sheet
from eq_engine.quantification.tables import QuantTable, aggregate

GRADES = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
FAST = QuantConfig(n_bootstrap=50)


def _table(n_subjects=5, images_per_subject=4, glomeruli=3, seed=0, noise=0.03):
    """Glomerulus rows whose openness falls with a per-image grade; subjects S1.., images S1_img0.."""
    rng = np.random.default_rng(seed)
    rows, image_grades = [], {}
    for s in range(1, n_subjects + 1):
        for i in range(images_per_subject):
            image = f"S{s}_img{i}"
            g = float(rng.choice(GRADES))
            image_grades[image] = g
            for label in range(1, glomeruli + 1):
                rows.append({
                    "image": image, "label": label, "centroid_y": 20.0 * label,
                    "centroid_x": 30.0, "equivalent_diameter": 10.0, "excluded": False,
                    "openness": 0.45 - 0.12 * g + rng.normal(0, noise),
                    "lumen_density": 8 - 2 * g + rng.normal(0, 0.5),
                    "nuclear_fraction": 0.2 + rng.normal(0, 0.02),
                })
    return QuantTable(rows), image_grades


def _write_sheet(path, image_grades, *, extra=None, drop=None):
    lines = ["image,animal,endotheliosis_grade,animal_pathologist_score"]
    for image, g in image_grades.items():
        if image != drop:
            lines.append(f"{image}.jpg,mouse{image.split('_')[0]},{g},0.5")
    lines += extra or []
    path.write_text("\n".join(lines) + "\n")
    return path


def test_metrics_on_hand_computed_arrays():
    assert mae([0, 1, 2], [0, 2, 2]) == pytest.approx(1 / 3)
    assert quadratic_weighted_kappa([0, 1, 2], [0, 2, 2]) == pytest.approx(0.8)
    assert quadratic_weighted_kappa([0, 1, 2], [0, 1, 2]) == pytest.approx(1.0)
    assert auroc([True, True, False, False], [0.9, 0.4, 0.5, 0.1]) == pytest.approx(0.75)
    assert auroc([True, False], [0.3, 0.3]) == pytest.approx(0.5)
    assert math.isnan(auroc([True, True], [0.1, 0.2]))
    assert spearman([0, 1, 2, 3], [10, 20, 30, 25]) == pytest.approx(0.8)
    assert math.isnan(spearman([0, 1, 2], [1, 1, 1]))
    ci = bootstrap_ci(mae, [0, 1, 2, 3], [0, 1, 1, 3], n_boot=200)
    assert ci["ci_low"] <= ci["value"] <= ci["ci_high"] and ci["value"] == 0.25


@pytest.mark.parametrize("n_folds", [0, 2, 3])
def test_grouped_folds_never_leak_a_subject(n_folds):
    groups = np.array(["A", "A", "B", "C", "C", "C", "D", "E", "B"], dtype=object)
    folds = grouped_folds(groups, n_folds=n_folds, seed=1)
    assert len(folds) == (5 if n_folds == 0 else n_folds)
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested) == list(range(groups.size))
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
    with pytest.raises(DataError, match="at least 2 subjects"):
        grouped_folds(["A", "A"])


def test_fit_from_image_sheet_cross_validates_by_subject(tmp_path):
    table, image_grades = _table()
    sheet = _write_sheet(tmp_path / "grades.csv", image_grades)
    fit = fit_grade_model(table, sheet, FAST)
    cv = fit.cv
    assert cv.level == "image" and cv.n == 20 and cv.n_subjects == 5 and len(cv.folds) == 5
    for fold in cv.folds:  # each fold holds out exactly one animal's images
        assert len(fold["test_subjects"]) == 1 and fold["n_test"] == 4
    assert cv.metrics["spearman"]["value"] > 0.85
    assert cv.metrics["qwk"]["value"] > 0.7
    assert cv.metrics["mae"]["value"] < cv.baseline["mae"]["value"]
    assert fit.model.coef[fit.model.features.index("openness")] < 0  # more open, lower grade
    assert list(fit.model.cuts) == sorted(fit.model.cuts)
    assert set(fit.training.column("subject")) == {f"mouseS{i}" for i in range(1, 6)}
    assert "spearman" in cv.summary()


def test_grade_predicts_with_uncertainty_and_skips_excluded():
    table, image_grades = _table(seed=1)
    sheet_rows = [{"image": k, "grade": v} for k, v in image_grades.items()]
    from eq_engine.quantification.scoresheet import ScoreSheet

    fit = fit_grade_model(table, ScoreSheet(sheet_rows, "image"), FAST, validate=False)
    rows = [dict(r) for r in table.rows]
    rows[0]["excluded"] = True
    graded = grade(QuantTable(rows), fit.model)
    first, second = graded.rows[0], graded.rows[1]
    assert math.isnan(first["grade_expected"]) and math.isnan(first["grade_class"])
    assert second["grade_class"] in fit.model.classes and second["grade_sd"] >= 0
    p = sum(second[f"p_grade_{g:g}"] for g in fit.model.classes)
    assert p == pytest.approx(1.0)
    assert rows[1].get("grade_expected") is None  # input table untouched
    images = aggregate(graded, by="image")
    assert len(images) == 20 and images.rows[0]["n_included"] == 2
    assert any(k.startswith("frac_grade_") for k in images.rows[0])


def test_glomerulus_sheet_by_label_and_by_centroid(tmp_path):
    table, image_grades = _table(n_subjects=3)
    by_label = ["image,label,grade"] + [f"{r['image']},{r['label']},{image_grades[r['image']]}"
                                         for r in table.rows]
    (tmp_path / "g.csv").write_text("\n".join(by_label) + "\n")
    fit = fit_grade_model(table, tmp_path / "g.csv", FAST)
    assert fit.cv.level == "glomerulus" and fit.cv.n == len(table)
    by_centroid = ["image,centroid_y,centroid_x,grade"] + [
        f"{r['image']},{r['centroid_y'] + 2},{r['centroid_x'] - 1},{image_grades[r['image']]}"
        for r in table.rows]
    (tmp_path / "c.csv").write_text("\n".join(by_centroid) + "\n")
    assert fit_grade_model(table, tmp_path / "c.csv", FAST, validate=False).training.level == \
        "glomerulus"
    bad = by_label + ["S1_img0,99,1"]
    (tmp_path / "bad.csv").write_text("\n".join(bad) + "\n")
    with pytest.raises(DataError, match=r"S1_img0 label 99"):
        fit_grade_model(table, tmp_path / "bad.csv", FAST)


def test_sheet_with_missing_and_unknown_images_lists_them(tmp_path):
    table, image_grades = _table(n_subjects=2)
    sheet = _write_sheet(tmp_path / "s.csv", image_grades, drop="S2_img3",
                         extra=["S9_img0.jpg,S9,1,1", "S9_img1.jpg,S9,0,1"])
    with pytest.raises(DataError) as err:
        fit_grade_model(table, sheet, FAST)
    message = str(err.value)
    assert "S9_img0" in message and "S9_img1" in message and "S2_img3" in message
    assert "not among the measured images" in message and "without a grade" in message


def test_sheet_rows_without_numeric_grade_are_reported(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("image,grade\nA1_x.png,1\nA1_y.png,severe\n")
    with pytest.raises(DataError, match="line 3"):
        read_score_sheet(path)
    path.write_text("image,score_a,score_b\nA1_x.png,1,2\n")
    with pytest.raises(DataError, match="grade"):
        read_score_sheet(path)


def test_whole_stem_matching_in_sheet():
    from eq_engine.quantification.scoresheet import image_stem, subject_of

    assert image_stem("T19_Image9.jpg") == "T19_Image9"
    assert image_stem("T19_Image99") == "T19_Image99"
    assert subject_of("T19_Image9", r"^([A-Za-z]+\d+)_") == "T19"


def test_grade_model_file_round_trip(tmp_path):
    table, image_grades = _table(seed=2)
    sheet_path = _write_sheet(tmp_path / "g.csv", image_grades)
    fit = fit_grade_model(table, sheet_path, FAST)
    path = save_grade_model(tmp_path / "grade.json", fit.model)
    doc = json.loads(path.read_text())
    assert doc["format"] == "eq-grade-model" and doc["features"] == list(fit.model.features)
    assert doc["metadata"]["cv"]["n"] == 20 and "numpy" in doc["versions"]
    loaded = load_grade_model(path)
    x = np.array([[0.3, 5.0, 0.2], [0.1, 2.0, 0.2]])
    np.testing.assert_allclose(loaded.predict_proba(x), fit.model.predict_proba(x))
    (tmp_path / "junk.json").write_bytes(b"\x80\x04pickle")
    with pytest.raises(ModelError, match="not an EQ grade model"):
        load_grade_model(tmp_path / "junk.json")
    (tmp_path / "other.json").write_text('{"format": "eq-model"}')
    with pytest.raises(ModelError, match="eq-model"):
        load_grade_model(tmp_path / "other.json")
