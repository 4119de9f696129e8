"""Worker-process jobs leave run records (called in-process here; EQ_RUNS_DIR is tmp)."""

from __future__ import annotations

import pytest

from eq_engine.runs import list_runs
from eq_gui import engine_jobs

pytestmark = pytest.mark.gui


def test_train_job_saves_a_run_record(em_dataset, train_config, tmp_path):
    out = tmp_path / "m.eqm"
    result = engine_jobs.run_job("train", {"data": str(em_dataset), "config": train_config(),
                                           "out": str(out)})
    (record,) = list_runs(kind="train")
    assert record.inputs == [{"path": str(em_dataset)}]
    assert record.models[0]["role"] == "output" and record.models[0]["path"] == str(out)
    assert len(record.history) == len(result.history) == 1
    assert record.timings["total_s"] == pytest.approx(result.seconds)


def test_warm_worker_reuses_the_loaded_model_until_the_file_changes(em_model, tmp_path):
    import os
    import shutil

    import numpy as np

    from eq_engine import PredictConfig

    model = tmp_path / "copy.eqm"
    shutil.copy(em_model, model)
    first = engine_jobs.cached_model(model, "cpu")
    assert engine_jobs.cached_model(str(model), "cpu") is first  # second click: no re-read
    image = np.random.default_rng(0).random((64, 64)).astype(np.float32)
    payload = {"model": str(model), "image": image, "config": PredictConfig(device="cpu")}
    engine_jobs.run_job("predict", payload)
    assert engine_jobs.cached_model(model, "cpu") is first
    stat = model.stat()
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # retrained into the file
    assert engine_jobs.cached_model(model, "cpu") is not first


def test_a_failing_job_leaves_a_failed_record(tmp_path):
    from eq_engine.config import EvalConfig
    from eq_engine.errors import EngineError

    with pytest.raises(EngineError):
        engine_jobs.run_job("evaluate", {"data": str(tmp_path / "missing"), "config": EvalConfig(),
                                         "model": str(tmp_path / "none.eqm")})
    (record,) = list_runs(kind="evaluate")
    assert record.status == "failed" and record.error
