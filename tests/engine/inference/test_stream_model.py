"""Streamed prediction with a model: the same numbers as predict(), without reading the image whole."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from eq_engine.config import PredictConfig
from eq_engine.data.normalize import MAX_SAMPLES, compute_norm_stats, percentiles_from_sample
from eq_engine.errors import Cancelled, ConfigError, DataError, ModelError
from eq_engine.events import CancelToken, Progress
from eq_engine.inference import batch, predict
from eq_engine.inference import stream_model as sm
from eq_engine.inference.large import BandReader
from eq_engine.models.loading import LoadedModel


def numpy_model(in_channels=3, *, scale=1.0, tile=32, threshold=0.5, images=()):
    """A LoadedModel with a numpy predictor that depends on each pixel and on its tile."""
    images = list(images) or [np.random.default_rng(9).integers(0, 256, (40, 40, in_channels))]
    norm = compute_norm_stats(images, channels=in_channels)

    def predictor(batch):
        assert batch.dtype == np.float32 and batch.shape[1] == in_channels
        local = batch.mean(axis=1)
        context = batch.mean(axis=(1, 2, 3))[:, None, None]
        return 1 / (1 + np.exp(-(2 * local + context)))

    meta = {"in_channels": in_channels, "normalization": norm, "tile_size": tile,
            "scale": scale, "threshold": threshold, "arch": "numpy"}
    return LoadedModel(None, meta, predictor)


def blobs(shape=(150, 100), rgb=True, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    image = 40 + 30 * rng.random(shape)
    for cy, cx, r in rng.integers(0, 100, (5, 3)):
        image[(yy - cy * shape[0] / 100) ** 2 + (xx - cx * shape[1] / 100) ** 2 < (r / 5 + 6) ** 2] += 150
    image = np.clip(image, 0, 255).astype(np.uint8)
    if rgb:
        image = np.stack([image, 255 - image, image // 2], axis=-1)
    return image


def write_tiff(path, image):
    tifffile.imwrite(path, image, photometric="rgb" if image.ndim == 3 else "minisblack")
    return path


CONFIG = PredictConfig(device="cpu", batch_size=3, overlap=0.25)


@pytest.mark.parametrize("scale", [1.0, 0.5, 0.37, 1.6])
def test_stream_matches_predict(tmp_path, scale):
    image = blobs()
    model = numpy_model(scale=scale)
    path = write_tiff(tmp_path / "img.tif", image)
    result = sm.predict_file_streaming(model, path, tmp_path / "prob.tif", CONFIG)
    expected = predict(model, image, CONFIG).probability
    streamed = tifffile.imread(result.path)
    assert result.shape == image.shape[:2] and streamed.dtype == np.float32
    # the sample covers every pixel here, so the percentiles are predict()'s exactly
    tolerance = 0 if scale == 1 else 1e-5  # band-wise resize vs torch's: float32 rounding
    np.testing.assert_allclose(streamed, expected, rtol=0, atol=tolerance)


@pytest.mark.parametrize(("model_channels", "rgb"), [(1, True), (3, False), (1, False)])
def test_channels_converted_like_predict(tmp_path, model_channels, rgb):
    image = blobs(rgb=rgb)
    model = numpy_model(model_channels)
    path = write_tiff(tmp_path / "img.tif", image)
    res = sm.predict_file_streaming(model, path, tmp_path / "mask.tif", CONFIG, output="mask")
    expected = predict(model, image, CONFIG).probability
    mask = tifffile.imread(res.path)
    assert mask.dtype == np.uint8 and 0 < (mask == 255).mean() < 1
    np.testing.assert_array_equal(mask == 255, expected >= 0.5)


def test_real_unet_model_file(tmp_path):
    from eq_engine.io.models import save_model
    from eq_engine.models.loading import load_model
    from eq_engine.models.unet import build_unet

    image = blobs((96, 72))
    meta = {"task": "glomeruli", "arch": "resnet18", "in_channels": 3, "n_classes": 2,
            "normalization": compute_norm_stats([image]), "tile_size": 32, "scale": 0.5,
            "threshold": 0.5}
    model_path = save_model(tmp_path / "tiny.eqm", build_unet("resnet18", in_channels=3), meta)
    loaded = load_model(model_path, device="cpu")
    path = write_tiff(tmp_path / "img.tif", image)
    streamed = sm.predict_file_streaming(loaded, path, tmp_path / "p.tif", CONFIG)
    expected = predict(loaded, image, CONFIG).probability
    np.testing.assert_allclose(tifffile.imread(streamed.path), expected, atol=1e-5)
    assert expected.std() > 1e-4  # a real, non-constant output was compared


def test_cancel_stops_and_leaves_no_output(tmp_path):
    path = write_tiff(tmp_path / "img.tif", blobs())
    token, events = CancelToken(), []

    def on_event(event):
        events.append(event)
        if isinstance(event, Progress) and event.step >= 3:
            token.cancel()

    with pytest.raises(Cancelled):
        sm.predict_file_streaming(numpy_model(), path, tmp_path / "p.tif",
                                  PredictConfig(batch_size=1), on_event=on_event, cancel=token)
    assert events[-1].step == 3 and events[-1].total > 3
    assert list(tmp_path.iterdir()) == [path]


def test_bad_scale_and_sizes_raise_with_fix(tmp_path):
    path = write_tiff(tmp_path / "img.tif", blobs((60, 50)))
    with pytest.raises(ModelError, match="scale"):
        sm.predict_file_streaming(numpy_model(scale=-1.0), path, tmp_path / "p.tif", CONFIG)
    with pytest.raises(DataError, match="smaller than one 32-px tile.*predict"):
        sm.predict_file_streaming(numpy_model(scale=0.5), path, tmp_path / "p.tif", CONFIG)
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, np.zeros((3, 40, 40), np.uint8), photometric="minisblack")
    with pytest.raises(DataError, match="2D image"):
        sm.predict_file_streaming(numpy_model(), stack, tmp_path / "p.tif", CONFIG)
    with pytest.raises(ConfigError, match="stream"):
        PredictConfig(stream="sometimes")


def test_large_image_percentiles_from_a_window_grid(tmp_path):
    rng = np.random.default_rng(1)
    image = (np.linspace(0, 200, 1300)[:, None] + rng.integers(0, 50, (1300, 900))).astype(np.uint8)
    reader = BandReader(write_tiff(tmp_path / "big.tif", image))
    windows = sm.sample_windows(reader)
    assert sum(w.size for w in windows) <= MAX_SAMPLES < image.size
    assert all(w.shape == (64, 64) for w in windows) and len(windows) > 100
    norm = numpy_model(1).metadata["normalization"]
    estimate = percentiles_from_sample(windows, norm)
    exact = np.percentile(image, (norm["low"], norm["high"]))
    np.testing.assert_allclose(estimate[0], exact, atol=4)  # of a 0..250 range


def test_should_stream_decides_by_memory_mode_and_shape(tmp_path, monkeypatch):
    tif = write_tiff(tmp_path / "img.tif", blobs())
    png = tmp_path / "img.png"
    from eq_engine.io.images import write_image

    write_image(png, blobs())
    auto = PredictConfig()
    monkeypatch.setattr(sm, "available_memory", lambda: 10**12)
    assert not sm.should_stream(tif, auto, tile=32)
    assert sm.should_stream(tif, PredictConfig(stream="always"), tile=32)
    assert not sm.should_stream(tif, PredictConfig(stream="always"), tile=256)  # under a tile
    monkeypatch.setattr(sm, "available_memory", lambda: 10**5)
    assert sm.should_stream(tif, auto, tile=32)
    assert not sm.should_stream(png, auto, tile=32)  # PNG cannot be read in parts
    assert not sm.should_stream(tif, PredictConfig(stream="never"), tile=32)
    with pytest.raises(DataError, match="eq predict"):
        predict(numpy_model(), tif, auto)
    assert predict(numpy_model(), tif, PredictConfig(stream="never")).mask.shape == (150, 100)


def test_batch_worker_streams_to_the_same_files(tmp_path, monkeypatch):
    image = blobs((150, 100), seed=3)
    path = write_tiff(tmp_path / "img.tif", image)
    model = numpy_model(scale=0.5, threshold=0.6)
    config = PredictConfig(device="cpu", batch_size=4, min_size=30)
    batch.predict_file(model, str(path), str(tmp_path / "mem"), config.to_dict(), True)
    monkeypatch.setattr(sm, "available_memory", lambda: 10**5)  # auto now streams
    written = batch.predict_file(model, str(path), str(tmp_path / "st"), config.to_dict(), True)
    assert sorted(p.split("/")[-1] for p in written) == ["img_labels.tif", "img_mask.tif",
                                                         "img_prob.tif"]
    for name in ("img_mask.tif", "img_labels.tif"):
        np.testing.assert_array_equal(tifffile.imread(tmp_path / "st" / name),
                                      tifffile.imread(tmp_path / "mem" / name))
    np.testing.assert_allclose(tifffile.imread(tmp_path / "st" / "img_prob.tif"),
                               tifffile.imread(tmp_path / "mem" / "img_prob.tif"), atol=1e-5)
    assert tifffile.imread(tmp_path / "st" / "img_labels.tif").max() >= 2
    batch.predict_file(model, str(path), str(tmp_path / "np"), config.to_dict(), False)
    assert sorted(p.name for p in (tmp_path / "np").iterdir()) == ["img_labels.tif",
                                                                  "img_mask.tif"]
