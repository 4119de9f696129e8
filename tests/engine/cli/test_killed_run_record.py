"""A killed `eq train` leaves a run record that `eq runs list` shows as unfinished, and no model.

A real process and a real SIGKILL: nothing in Python runs at the kill, so the record written at
the start (status "running") is what stays.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from eq_engine.cli import main


@pytest.mark.slow
def test_killed_train_leaves_an_unfinished_record(tmp_path, capsys):
    from eq_engine.data.synthetic import write_em_dataset

    data = write_em_dataset(tmp_path / "em", n_slices=4, size=64)
    runs, out = tmp_path / "runs", tmp_path / "models" / "m.eqm"
    env = {**os.environ, "EQ_RUNS_DIR": str(runs), "OMP_NUM_THREADS": "1"}
    argv = ["train", "mito", str(data), "--out", str(out), "--epochs", "50", "--size", "32",
            "--batch-size", "2", "--crops-per-image", "1", "--device", "cpu"]
    code = f"import sys; from eq_engine.cli import main; sys.exit(main({argv!r}))"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600  # a generous bound for a loaded machine
        while not list(runs.glob("*.json")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # polling another process; there is no event to wait on
        assert proc.poll() is None, "eq train ended before it could be killed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert main(["runs", "--dir", str(runs), "list"]) == 0
    listed = capsys.readouterr().out
    assert "[running]" in listed and "train" in listed, listed
    assert not out.exists()
