"""predict(): the model's scale, channels, normalisation, tile and threshold are applied."""

from __future__ import annotations

import numpy as np
import pytest

from eq_engine.config import PredictConfig
from eq_engine.data.normalize import compute_norm_stats
from eq_engine.errors import ConfigError, DataError, ModelError
from eq_engine.events import Progress
from eq_engine.inference import Prediction, predict
from eq_engine.inference.predictor import flip_tta, model_predictor
from eq_engine.models.loading import LoadedModel


def numpy_model(in_channels=1, *, scale=1.0, tile=32, threshold=0.5, seen=None):
    """A LoadedModel whose predictor is numpy: foreground = normalised channel 0 > 0."""
    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8,
            "channels": in_channels, "mean": [0.5] * in_channels, "std": [0.25] * in_channels}

    def predictor(batch):
        assert batch.dtype == np.float32 and batch.shape[1] == in_channels
        if seen is not None:
            seen.append(batch.shape)
        return 1 / (1 + np.exp(-8 * batch[:, 0]))

    meta = {"in_channels": in_channels, "normalization": norm, "tile_size": tile,
            "scale": scale, "threshold": threshold, "arch": "numpy"}
    return LoadedModel(None, meta, predictor)


def blob_image(shape=(70, 90), rgb=False):
    image = np.full(shape, 20, np.uint8)
    image[20:50, 30:70] = 220
    return np.repeat(image[..., None], 3, axis=2) if rgb else image


def test_gray_model_segments_bright_blob():
    image = blob_image()
    pred = predict(numpy_model(1), image, PredictConfig(overlap=0.25))
    assert isinstance(pred, Prediction)
    assert pred.probability.shape == image.shape and pred.probability.dtype == np.float32
    np.testing.assert_array_equal(pred.mask, image > 100)
    assert pred.labels.max() == 1 and pred.threshold == 0.5 and pred.tile == 32


@pytest.mark.parametrize(("model_channels", "rgb"), [(1, True), (3, False), (3, True)])
def test_channels_converted_to_the_models(model_channels, rgb):
    image = blob_image(rgb=rgb)
    pred = predict(numpy_model(model_channels), image)
    np.testing.assert_array_equal(pred.mask, blob_image() > 100)


def test_scale_applied_before_and_undone_after():
    seen = []
    image = blob_image((128, 96))
    pred = predict(numpy_model(1, scale=0.5, tile=32, seen=seen), image,
                   PredictConfig(overlap=0.0, min_size=0))
    assert pred.probability.shape == (128, 96)
    assert seen == [(4, 1, 32, 32)]  # 64 x 48 px at half scale: 2 x 2 tiles
    inside, outside = pred.probability[25:45, 35:65], pred.probability[:10, :10]
    assert inside.min() > 0.9 and outside.max() < 0.1


def test_stack_predicted_slice_by_slice_with_progress():
    stack = np.stack([blob_image(), blob_image()[::-1]])
    events = []
    pred = predict(numpy_model(1), stack, PredictConfig(batch_size=4), on_event=events.append)
    assert pred.mask.shape == stack.shape
    np.testing.assert_array_equal(pred.mask[1], (blob_image() > 100)[::-1])
    assert all(isinstance(e, Progress) for e in events)
    assert events[-1].step == events[-1].total == 2 * 12  # 3 x 4 tiles of 32 px per slice


def test_threshold_from_metadata_unless_configured():
    image = blob_image()
    assert predict(numpy_model(1, threshold=0.999), image).threshold == 0.999
    assert predict(numpy_model(1, threshold=0.999), image, PredictConfig(threshold=0.3)).threshold == 0.3


def test_flip_tta_averages_the_four_flips():
    def ramp(batch):  # not flip-equivariant: the x coordinate inside the tile
        return np.broadcast_to(np.arange(batch.shape[-1], dtype=np.float32),
                               (batch.shape[0], *batch.shape[2:]))

    out = flip_tta(ramp)(np.zeros((2, 1, 4, 6), np.float32))
    np.testing.assert_allclose(out, np.full((2, 4, 6), 2.5))
    image = blob_image()
    plain = predict(numpy_model(1), image)
    tta = predict(numpy_model(1), image, PredictConfig(tta=True))
    np.testing.assert_allclose(tta.probability, plain.probability, atol=1e-6)


@pytest.mark.parametrize("tta, device, flips", [("auto", "cpu", 1), ("auto", "cuda:0", 4),
                                                ("auto", "mps", 4), (True, "cpu", 4),
                                                (False, "cuda", 1)])
def test_tta_auto_is_on_for_a_gpu_only(tta, device, flips):
    calls = []

    def predictor(batch):
        calls.append(batch.shape)
        return batch[:, 0]

    loaded = LoadedModel(None, {}, predictor, device=device)
    model_predictor(loaded, PredictConfig(tta=tta))(np.zeros((1, 1, 4, 4), np.float32))
    assert len(calls) == flips
    with pytest.raises(ConfigError, match="tta"):
        PredictConfig(tta="yes")


def test_bad_inputs_raise_with_fix():
    with pytest.raises(DataError, match="RGB"):
        predict(numpy_model(1), np.zeros((40, 40, 2), np.uint8))
    with pytest.raises(ModelError, match="tile_size"):
        predict(numpy_model(1, tile=0), blob_image())
    with pytest.raises(ModelError, match="LoadedModel"):
        predict(object(), blob_image())
    with pytest.raises(ConfigError, match="overlap"):
        PredictConfig(overlap=1.0)


def test_real_unet_model_file(tmp_path):
    from eq_engine.io.models import save_model
    from eq_engine.models.unet import build_unet

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (80, 72, 3), dtype=np.uint8) for _ in range(2)]
    meta = {"task": "glomeruli", "arch": "resnet18", "in_channels": 3, "n_classes": 2,
            "normalization": compute_norm_stats(images), "tile_size": 64, "scale": 1.0,
            "threshold": 0.5}
    path = save_model(tmp_path / "tiny.eqm", build_unet("resnet18", in_channels=3), meta)
    pred = predict(path, images[0], PredictConfig(device="cpu", batch_size=4))
    assert pred.probability.shape == (80, 72) and pred.tile == 64 and pred.device == "cpu"
    assert np.isfinite(pred.probability).all()
    assert 0 <= pred.probability.min() and pred.probability.max() <= 1
    with pytest.raises(ConfigError, match="multiple of 32"):
        predict(path, images[0], PredictConfig(tile=48, device="cpu"))
    gray = predict(path, images[0].mean(axis=2).astype(np.uint8), PredictConfig(device="cpu"))
    assert gray.probability.shape == (80, 72)


def test_learned_clean_up_and_prediction_tile_come_from_the_model():
    from eq_engine.io.recipe_meta import recipe_metadata

    image = blob_image()
    image[5:8, 5:8] = 220  # a 9-px speck beside the 1200-px blob
    model = numpy_model(1)
    model.metadata.update(recipe_metadata(postprocess={"fill_holes": True, "min_size": 100},
                                          predict_tile=64))
    pred = predict(model, image)
    assert pred.tile == 64 and pred.labels.max() == 1 and not pred.mask[5:8, 5:8].any()
    kept = predict(model, image, PredictConfig(min_size=0, tile=32))  # explicit values win
    assert kept.tile == 32 and kept.labels.max() == 2


def test_an_image_of_another_pixel_size_is_rescaled_to_the_training_one(tmp_path):
    import tifffile

    from eq_engine.io.recipe_meta import recipe_metadata

    seen = []
    model = numpy_model(1, scale=0.5, tile=32, seen=seen)
    model.metadata.update(recipe_metadata(pixel_size=0.5, postprocess={"min_size": 400}))
    image = blob_image((128, 96))
    # trained at 0.5 µm/px, scale 0.5 (1 µm per network px); this image is 0.25 µm/px
    pred = predict(model, image, PredictConfig(overlap=0.0, pixel_size=0.25))
    assert seen == [(1, 1, 32, 32)]  # 32 x 24 px at scale 0.25: one tile
    # the 1200-px blob is 75 µm² here: below the learned 100 µm² (400 px at 0.5 µm/px)
    assert pred.probability.shape == (128, 96) and pred.labels.max() == 0
    assert predict(model, image, PredictConfig(overlap=0.0, pixel_size=0.5)).labels.max() == 1
    seen.clear()
    predict(model, image, PredictConfig(overlap=0.0))  # unknown pixel size: the model's scale
    assert seen == [(4, 1, 32, 32)]
    seen.clear()
    tifffile.imwrite(tmp_path / "fine.tif", image, resolution=(40000, 40000), resolutionunit=3)
    predict(model, tmp_path / "fine.tif", PredictConfig(overlap=0.0))  # 0.25 µm/px from the file
    assert seen == [(1, 1, 32, 32)]


def test_an_object_diameter_resizes_the_image_to_the_training_objects():
    from eq_engine.io.recipe_meta import recipe_metadata

    seen = []
    model = numpy_model(1, scale=0.5, tile=32, seen=seen)
    # training objects 40 px across at scale 0.5: 20 px at the network
    model.metadata.update(recipe_metadata(
        scale_policy={"object_median_diameter_px": 40.0, "scale": 0.5},
        postprocess={"min_size": 400}, pixel_size=0.5))
    image = blob_image((128, 96))  # a 30 x 40 px blob: 1200 px
    # objects 80 px across here: scale 20 / 80 = 0.25 (32 x 24 px, one tile), beats the pixel size
    pred = predict(model, image, PredictConfig(overlap=0.0, object_diameter=80, pixel_size=1.0))
    assert seen == [(1, 1, 32, 32)]
    # twice the training objects' size: the learned minimum is 4 x 400 px, above the blob
    assert pred.probability.shape == (128, 96) and pred.labels.max() == 0
    seen.clear()
    pred = predict(model, image, PredictConfig(overlap=0.0, object_diameter=40))
    assert seen == [(4, 1, 32, 32)] and pred.labels.max() == 1  # the model's own scale


def test_an_object_diameter_needs_a_model_that_recorded_its_objects():
    from eq_engine.inference.predictor import at_image_scale
    from eq_engine.io.recipe_meta import recipe_metadata

    bare = numpy_model(1, scale=0.5).info
    with pytest.raises(ModelError, match="records no object size"):
        at_image_scale(bare, None, 30.0)
    info = bare.replace(extra=recipe_metadata(
        scale_policy={"object_median_diameter_px": 40.0, "scale": 0.5}))
    assert at_image_scale(info, None, 10.0).scale == pytest.approx(2.0)
    # an ensemble predicts at its members' median scale: the size seen in training still rules
    assert at_image_scale(info.replace(scale=0.55), None, 10.0).scale == pytest.approx(2.0)
    with pytest.raises(ConfigError, match=r"object_diameter=0.5 px .* between 2.5 and 1.28e\+03"):
        at_image_scale(info, None, 0.5)


def test_learned_minimum_object_follows_the_pixel_size():
    from eq_engine.inference.predictor import at_image_scale
    from eq_engine.io.recipe_meta import learned_min_size, recipe_metadata

    info = numpy_model(1, scale=0.5).info
    info = info.replace(extra=recipe_metadata(pixel_size=0.5, postprocess={"min_size": 400}))
    finer = at_image_scale(info, 0.25)
    assert finer.scale == pytest.approx(0.25) and learned_min_size(finer) == 1600
    assert at_image_scale(info, None) is info and at_image_scale(info, 0.5) is info
    bare = numpy_model(1, scale=0.5).info  # a model without a training pixel size
    assert at_image_scale(bare, 0.25) is bare
