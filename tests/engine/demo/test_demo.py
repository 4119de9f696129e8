"""`eq demo --quick` end to end: the report exists, shows pictures, and its numbers are the run's."""

import json
import re

import pytest

from eq_engine.cli import main
from eq_engine.runs import list_runs


@pytest.mark.slow
def test_quick_demo_writes_report_from_the_run(tmp_path, capsys):
    out, runs = tmp_path / "demo", tmp_path / "runs"
    assert main(["demo", "--quick", "--out", str(out), "--runs-dir", str(runs)]) == 0
    printed = capsys.readouterr().out
    report = out / "report.html"
    assert f"report: {report.resolve()}" in printed
    html = report.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 5  # curves x2, predictions, overlays, grades
    for heading in ("Pretraining on EM mitochondria", "Transfer to glomeruli", "Evaluation",
                    "Endotheliosis quantification", "Timings, versions, runs"):
        assert heading in html

    summary = json.loads((out / "evaluation" / "summary.json").read_text())
    pooled_dice = summary["aggregates"]["pooled"]["dice"]
    assert f"pooled Dice {pooled_dice:.3f}" in printed
    assert re.search(r"<td>pooled</td><td>" + re.escape(f"{pooled_dice:.4g}") + "</td>", html)

    kinds = sorted(r.kind for r in list_runs(runs))
    assert kinds == ["demo", "evaluate", "predict", "quantify", "train", "train", "transfer"]
    transfer = next(r for r in list_runs(runs, kind="transfer"))
    scratch = next(r for r in list_runs(runs, kind="train") if r.config.get("task") == "glomeruli")
    png = tmp_path / "cmp.png"
    assert main(["runs", "--dir", str(runs), "compare", transfer.id, scratch.id, "--png", str(png)]) == 0
    assert png.stat().st_size > 5000
    assert transfer.history and len(transfer.history) == len(scratch.history)
