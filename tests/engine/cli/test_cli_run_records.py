"""`eq predict`, `eq evaluate` and `eq quantify` each leave a run record (EQ_RUNS_DIR is tmp)."""

from __future__ import annotations

import numpy as np
import pytest

from eq_engine.cli import main
from eq_engine.data.synthetic import write_histology_dataset
from eq_engine.io.images import write_image
from eq_engine.models.loading import LoadedModel
from eq_engine.runs import file_sha256, list_runs


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_histology_dataset(tmp_path_factory.mktemp("records"), n_images=4, size=192,
                                   seed=5, images_per_animal=2, n_glomeruli=3)


def only_run(kind):
    runs = list_runs(kind=kind)
    assert len(runs) == 1
    return runs[0]


def test_quantify_records_counts_cv_metrics_and_hashed_sheet(dataset, tmp_path, capsys):
    code = main(["quantify", str(dataset / "labels"), str(dataset), "--out", str(tmp_path / "q"),
                 "--grades", str(dataset / "grades.csv"), "--fit", str(tmp_path / "g.json"),
                 "--bootstrap", "10", "--features", "openness,lumen_density"])
    out = capsys.readouterr().out
    assert code == 0
    run = only_run("quantify")
    assert f"{run.id}.json" in out.split("run record: ")[1]
    assert run.metrics["glomeruli"] == 12 and any(k.startswith("cv_") for k in run.metrics)
    sheet = next(i for i in run.inputs if i["path"].endswith("grades.csv"))
    assert sheet["sha256"] == file_sha256(dataset / "grades.csv")
    assert run.config["rim_max"] == 0.35 and run.timings["total_s"] > 0


def test_evaluate_records_pooled_dice(dataset, tmp_path, capsys):
    code = main(["evaluate", "--pred", str(dataset / "masks"), "--truth", str(dataset),
                 "--out", str(tmp_path / "e")])
    assert code == 0
    run = only_run("evaluate")
    assert run.metrics["pooled_dice"] == 1.0 and run.metrics["pooled_iou"] == 1.0
    assert run.metrics["images"] == 4 and run.id in capsys.readouterr().out


def test_predict_records_model_hash_and_counts(tmp_path, monkeypatch, capsys):
    from eq_engine.inference import batch

    image = np.full((40, 48), 10, np.uint8)
    image[10:30, 10:30] = 240
    write_image(tmp_path / "img.png", image)
    model = tmp_path / "m.eqm"
    model.write_bytes(b"weights")
    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 1,
            "mean": [0.5], "std": [0.25]}
    meta = {"in_channels": 1, "normalization": norm, "tile_size": 32, "scale": 1.0,
            "threshold": 0.5}
    real = batch.predict_batch

    def with_numpy_model(model_path, *args, **kwargs):  # the file above holds no real weights
        kwargs["processes"] = False
        return real(LoadedModel(None, meta, lambda b: 1 / (1 + np.exp(-8 * b[:, 0]))),
                    *args, **kwargs)

    monkeypatch.setattr(batch, "predict_batch", with_numpy_model)
    code = main(["predict", str(model), str(tmp_path / "img.png"), "--out", str(tmp_path / "o"),
                 "--threads"])
    assert code == 0
    run = only_run("predict")
    assert run.metrics == {"predicted": 1, "skipped": 0, "failed": 0}
    assert run.models == [{"role": "model", "path": str(model), "sha256": file_sha256(model)}]
    assert run.inputs[0]["sha256"] == file_sha256(tmp_path / "img.png")
    assert "run record: " in capsys.readouterr().out and run.timings["total_s"] > 0


def test_unwritable_runs_folder_only_warns(dataset, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    monkeypatch.setenv("EQ_RUNS_DIR", str(blocker))
    code = main(["evaluate", "--pred", str(dataset / "masks"), "--truth", str(dataset),
                 "--out", str(tmp_path / "e")])
    assert code == 0
    assert "could not save the run record" in capsys.readouterr().err
