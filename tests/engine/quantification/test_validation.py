"""Within-animal and animal-level validation on hand-computed arrays."""

import math

import numpy as np
import pytest

from eq_engine.quantification.grading_metrics import (
    cluster_bootstrap_ci,
    combined_within_spearman,
    parse_score,
    within_subject_spearman,
)
from eq_engine.quantification.validation import validate_predictions


def test_within_subject_spearman_ignores_per_animal_offsets():
    truth = [0, 1, 2, 0, 1, 2]
    # perfect ranking inside each animal, but animal B is shifted far below A: pooled rho < 1
    score = [10, 11, 12, 0, 1, 2]
    subjects = ["A", "A", "A", "B", "B", "B"]
    out = within_subject_spearman(truth, score, subjects)
    assert out == pytest.approx({"A": 1.0, "B": 1.0, "combined": 1.0})
    reversed_b = [10, 11, 12, 2, 1, 0]
    assert within_subject_spearman(truth, reversed_b, subjects)["combined"] == pytest.approx(0)
    constant = within_subject_spearman([0, 1, 1, 1], [1, 2, 3, 4], ["A", "A", "B", "B"])
    assert constant["A"] == pytest.approx(1) and math.isnan(constant["B"])
    assert constant["combined"] == pytest.approx(1)


def test_cluster_bootstrap_resamples_animals():
    truth = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
    score = np.array([0, 1, 2, 0, 1, 2, 2, 1, 0])
    subjects = np.array(["A"] * 3 + ["B"] * 3 + ["C"] * 3, dtype=object)
    ci = cluster_bootstrap_ci(combined_within_spearman, subjects, truth, score, n_boot=300)
    assert ci["value"] == pytest.approx(1 / 3)
    assert ci["ci_low"] < 0 < ci["ci_high"] <= 1  # one animal in three is reversed


def test_parse_animal_scores():
    assert parse_score("0.5") == 0.5 and parse_score("0.5-1") == 0.75
    assert parse_score("1,5") == 1.5 and math.isnan(parse_score("severe"))


def test_validate_predictions_reports_every_number():
    truth = np.array([0, 0.5, 1, 1.5, 0, 0.5, 1, 1.5])
    expected = truth * 0.8 + 0.1
    subjects = np.array(["A"] * 4 + ["B"] * 4, dtype=object)
    v = validate_predictions(truth, expected, truth, (truth > 0.5).astype(float),
                             np.full(8, 0.5), subjects, subject_scores={"A": "0", "B": "0.5-1"},
                             n_boot=100)
    assert v.metrics["within_spearman"]["value"] == pytest.approx(1.0)
    assert v.metrics["auroc_grade_ge_1"]["value"] == 1.0 and v.metrics["mae"]["value"] == 0
    assert v.metrics["baseline_mae"]["value"] == pytest.approx(0.5)
    assert [a["pathologist_value"] for a in v.animals] == [0.0, 0.75]
    assert "read first" in v.summary() and "within-animal rho: A +1.00, B +1.00" in v.summary()
