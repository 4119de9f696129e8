import json
import math

import pytest

from eq_engine.cli import main
from eq_engine.errors import DataError
from eq_engine.run_compare import compare_runs
from eq_engine.runs import RunRecord, file_sha256, list_runs, load_run


def _record(tmp_path, kind, dice_curve):
    rec = RunRecord(kind, config={"epochs": len(dice_curve), "lr": 1e-3})
    data = tmp_path / "img.png"
    data.write_bytes(b"abc")
    rec.add_input(data)
    rec.history = [{"epoch": i + 1, "train_loss": 1.0 / (i + 1), "valid_loss": float("nan"), "dice": d}
                   for i, d in enumerate(dice_curve)]
    rec.metrics = {"dice": dice_curve[-1], "iou": dice_curve[-1] / (2 - dice_curve[-1])}
    rec.timings = {"total_s": 1.5}
    rec.save(tmp_path / "runs")
    return rec


def test_record_round_trips_with_hashes_and_nan(tmp_path):
    rec = _record(tmp_path, "train", [0.2, 0.5])
    again = load_run(rec.id[:18], tmp_path / "runs")
    assert again.id == rec.id
    # sha256 of b"abc"
    assert again.inputs[0]["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert again.history[0]["valid_loss"] is None  # NaN stored as JSON null, never invalid JSON
    assert "numpy" in again.versions


def test_file_sha256_matches_hashlib(tmp_path):
    import hashlib

    p = tmp_path / "x.bin"
    p.write_bytes(bytes(range(256)) * 10000)
    assert file_sha256(p, chunk=4096) == hashlib.sha256(p.read_bytes()).hexdigest()


def test_unknown_and_ambiguous_ids(tmp_path):
    _record(tmp_path, "train", [0.1])
    _record(tmp_path, "transfer", [0.3])
    with pytest.raises(DataError, match="no run"):
        load_run("nope", tmp_path / "runs")
    with pytest.raises(DataError, match="ambiguous"):
        load_run("2", tmp_path / "runs")
    assert {r.kind for r in list_runs(tmp_path / "runs")} == {"train", "transfer"}
    assert [r.kind for r in list_runs(tmp_path / "runs", kind="transfer")] == ["transfer"]


def test_compare_writes_png_and_table(tmp_path):
    a = _record(tmp_path, "transfer", [0.3, 0.6, 0.7])
    b = _record(tmp_path, "train", [0.1, 0.2, 0.4])
    result = compare_runs(a, b, plot=tmp_path / "cmp.png")
    assert result.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dice_row = next(r for r in result.rows if r["metric"] == "dice")
    assert dice_row[a.id] == 0.7 and dice_row[b.id] == 0.4
    assert "0.7000" in result.table()


def test_cli_list_show_compare(tmp_path, capsys):
    a = _record(tmp_path, "transfer", [0.3, 0.6])
    b = _record(tmp_path, "train", [0.1, 0.2])
    runs = str(tmp_path / "runs")
    assert main(["runs", "--dir", runs, "list"]) == 0
    assert a.id in capsys.readouterr().out
    assert main(["runs", "--dir", runs, "show", b.id]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert math.isclose(shown["metrics"]["dice"], 0.2)
    png = tmp_path / "c.png"
    assert main(["runs", "--dir", runs, "compare", a.id, b.id, "--png", str(png)]) == 0
    assert png.stat().st_size > 1000
    assert main(["runs", "--dir", runs, "show", "zzz"]) == 1


def test_recorded_run_records_training_results_in_one_format(tmp_path):
    from eq_engine.config import TrainConfig
    from eq_engine.runs import recorded_run
    from eq_engine.training.results import TrainResult

    model = tmp_path / "m.eqm"
    model.write_bytes(b"abc")
    history = [{"epoch": e, "train_loss": 1.0 / e, "valid_loss": 0.5, "dice": 0.1 * e}
               for e in (1, 2, 3)]
    result = TrainResult(model, {}, history, {"epoch": 3, "dice": 0.3, "stage": "fit"},
                         False, 12.5, "cpu")
    with recorded_run("transfer", TrainConfig(epochs=3), inputs=[tmp_path],
                      models=[("base", model), ("unused", None)],
                      runs_dir=tmp_path / "runs") as run:
        assert load_run(run.id, tmp_path / "runs").status == "running"  # written at the start
        run.add_training(result)
    again = load_run(run.id, tmp_path / "runs")
    assert again.status == "finished" and again.error == ""
    assert again.timings == {"total_s": 12.5} and again.device == "cpu"
    assert again.metrics == {"epoch": 3.0, "dice": 0.3}  # numbers only
    assert [r["dice"] for r in again.history] == [0.1, 0.2, 0.1 * 3]
    assert [m["role"] for m in again.models] == ["base", "output"]
    assert again.models[1]["sha256"] == file_sha256(model) and again.config["epochs"] == 3


def test_recorded_run_records_failures_and_cancels(tmp_path, capsys):
    from eq_engine.errors import Cancelled
    from eq_engine.runs import recorded_run

    runs = tmp_path / "runs"
    with pytest.raises(ValueError, match="boom"):
        with recorded_run("evaluate", {"threshold": 0.5}, runs_dir=runs) as failed:
            raise ValueError("boom")
    with pytest.raises(Cancelled):
        with recorded_run("predict", runs_dir=runs) as cancelled:
            raise Cancelled("stopped by the user")
    assert load_run(failed.id, runs).status == "failed"
    assert load_run(failed.id, runs).error == "ValueError: boom"
    assert load_run(cancelled.id, runs).status == "cancelled"
    assert failed.timings["total_s"] >= 0
    with recorded_run("train", runs_dir=runs) as killed:  # a killed process stops here
        assert main(["runs", "--dir", str(runs), "list"]) == 0
    out = capsys.readouterr().out
    assert f"{killed.id}" in out and "[running]" in out and "[failed]" in out


def test_recorded_run_never_fails_on_an_unwritable_folder(tmp_path):
    from eq_engine.runs import recorded_run

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with recorded_run("evaluate", runs_dir=blocker) as run:
        run.metrics["n"] = 1
    assert run.path is None and run.save_error is not None and run.status == "finished"
