"""Real-data benchmarks of issue 10 (``make test-bench``; numbers in BENCHMARKS.md).

Each test runs the exact command of its BENCHMARKS.md row through ``eq_engine.cli.main`` and
checks what must hold whatever the scores: folds by animal, every number in range, models
better than the all-background baseline. CPU minutes each; they skip without ../shared/data.
"""

import json
import re

import pytest

from eq_engine.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.bench]


def test_glomeruli_leave_one_animal_out(shared_data, tmp_path):
    data = shared_data("kidney_preeclampsia_mouse_he")
    out = tmp_path / "cv"
    assert main(["cv", str(data), "--task", "glomeruli", "--group-pattern", r"^(T\d+)_",
                 "--epochs", "6", "--crops-per-image", "4", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    held = [f["held_out"] for f in summary["folds"]]
    assert sorted(g for h in held for g in h) == ["T19", "T20", "T21", "T26"]
    for fold in summary["folds"]:
        assert {re.match(r"^(T\d+)_", s).group(1) for s in fold["test"]} == set(fold["held_out"])
    scratch = summary["arms"]["scratch"]
    assert scratch["pooled"]["n_images"] == 48
    assert 0 < scratch["pooled"]["dice"] <= 1


@pytest.mark.parametrize(("train", "test"), [("em_cdeep3m_mouse_brain", "em_drosophila_vnc"),
                                             ("em_drosophila_vnc", "em_cdeep3m_mouse_brain")])
def test_mitochondria_across_microscopes(shared_data, tmp_path, train, test):
    crops = "4" if train.startswith("em_cdeep3m") else "8"
    model = tmp_path / "mito.eqm"
    assert main(["train", "mito", str(shared_data(train)), "--epochs", "5", "--crops-per-image",
                 crops, "--out", str(model)]) == 0
    assert main(["evaluate", str(model), str(shared_data(test)), "--out",
                 str(tmp_path / "eval"), "--overlays", "2"]) == 0
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text())
    pooled = summary["aggregates"]["pooled"]
    assert pooled["iou"] > summary["baselines"]["all_background"]["pooled"]["iou"]


def test_real_data_demo_chain(shared_data, tmp_path):
    """`EQ_DEMO_DATA=../shared/data make demo`: the whole chain on real EM and H&E."""
    data = shared_data("kidney_preeclampsia_mouse_he").parent
    shared_data("em_cdeep3m_mouse_brain")
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--data", str(data),
                 "--runs-dir", str(tmp_path / "runs")]) == 0
    assert (out / "report.html").stat().st_size > 0
