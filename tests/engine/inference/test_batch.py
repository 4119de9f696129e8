"""Dask batch prediction: a folder with one corrupt image; skip-on-rerun; overwrite."""

from __future__ import annotations

import numpy as np
import pytest

from eq_engine.errors import DataError
from eq_engine.events import Progress
from eq_engine.inference import BatchResult, predict_batch
from eq_engine.inference.batch import collect_inputs, output_paths
from eq_engine.io.images import read_image, read_mask, write_image
from eq_engine.models.loading import LoadedModel


def numpy_model():
    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 1,
            "mean": [0.5], "std": [0.25]}
    meta = {"in_channels": 1, "normalization": norm, "tile_size": 32, "scale": 1.0,
            "threshold": 0.5}
    return LoadedModel(None, meta, lambda b: 1 / (1 + np.exp(-8 * b[:, 0])))


@pytest.fixture
def folder(tmp_path):
    images = tmp_path / "data" / "images"
    images.mkdir(parents=True)
    for i in range(3):
        image = np.full((40 + 8 * i, 50), 10, np.uint8)
        image[10:30, 10 + i:30 + i] = 240
        write_image(images / f"img{i}.png", image)
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    (images / "notes.txt").write_text("not an image")
    return tmp_path / "data"


def test_folder_with_corrupt_image_reports_it_and_finishes_the_rest(folder, tmp_path):
    out = tmp_path / "out"
    events = []
    result = predict_batch(numpy_model(), [folder], out, processes=False, workers=1,
                           on_event=events.append)
    assert isinstance(result, BatchResult) and not result.ok
    assert len(result.outputs) == 3 and list(result.failed) == [str(folder / "images/broken.png")]
    assert "DataError" in result.failed[str(folder / "images/broken.png")]
    for i in range(3):
        paths = output_paths(folder / "images" / f"img{i}.png", out)
        image = read_image(folder / "images" / f"img{i}.png")
        np.testing.assert_array_equal(read_mask(paths["mask"]), image > 100)
        assert read_image(paths["probability"]).dtype == np.float32
        assert read_mask(paths["labels"], binary=False).max() == 1
    assert all(isinstance(e, Progress) for e in events) and events[-1].step == events[-1].total == 4
    assert "eta" in events[-1].message and "1 failed" in events[-1].message
    assert "FAILED" in result.summary()

    again = predict_batch(numpy_model(), [folder], out, processes=False)
    assert len(again.skipped) == 3 and not again.outputs and len(again.failed) == 1

    forced = predict_batch(numpy_model(), [folder / "images" / "img*.png"], out,
                           processes=False, overwrite=True)
    assert len(forced.outputs) == 3 and forced.ok and not forced.skipped


def test_collect_inputs_files_folders_globs_and_errors(folder):
    images = folder / "images"
    assert len(collect_inputs([folder])) == 4
    assert collect_inputs([images / "img0.png", str(images / "img[12].png")]) == [
        (images / n).resolve() for n in ("img0.png", "img1.png", "img2.png")]
    with pytest.raises(DataError, match="no image files"):
        collect_inputs([folder / "missing.png"])
    other = folder / "other"
    other.mkdir()
    (other / "img0.png").write_bytes((images / "img0.png").read_bytes())
    with pytest.raises(DataError, match="share a name"):
        collect_inputs([images, other])


@pytest.mark.slow
def test_batch_with_real_model_file_on_process_cluster(folder, tmp_path):
    from eq_engine.data.normalize import compute_norm_stats
    from eq_engine.io.models import save_model
    from eq_engine.models.unet import build_unet

    images = [read_image(folder / "images" / f"img{i}.png") for i in range(3)]
    meta = {"task": "generic", "arch": "resnet18", "in_channels": 1, "n_classes": 2,
            "normalization": compute_norm_stats(images), "tile_size": 32, "scale": 1.0,
            "threshold": 0.5}
    model = save_model(tmp_path / "m.eqm", build_unet("resnet18", in_channels=1), meta)
    result = predict_batch(model, [folder], tmp_path / "out", workers=1)
    assert len(result.outputs) == 3 and len(result.failed) == 1
    probability = read_image(output_paths(folder / "images/img0.png", tmp_path / "out")["probability"])
    assert probability.shape == (40, 50) and 0 <= probability.min() <= probability.max() <= 1

    from eq_engine.cli import main

    args = ["predict", str(model), str(folder / "images"), "--out", str(tmp_path / "cli"),
            "--threads", "--tile", "64", "--device", "cpu"]
    assert main(args) == 1  # the corrupt image fails; the others are written
    assert len(list((tmp_path / "cli").glob("*_mask.tif"))) == 3
    assert main(args) == 1  # re-run: the three are skipped, the corrupt one fails again
    args[2] = str(folder / "images" / "img*.png")
    assert main(args) == 0
