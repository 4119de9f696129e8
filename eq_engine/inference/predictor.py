"""A loaded model as a predictor, and the settings it predicts with (tile, threshold, channels).

Shared by in-memory (:mod:`.prediction`), streamed (:mod:`.stream_model`) and batch prediction.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from ..config import PredictConfig
from ..errors import ConfigError, DataError, ModelError
from ..io.model_info import ModelInfo
from .tiling import DEFAULT_TILE, Predictor

log = logging.getLogger(__name__)
UNET_MULTIPLE = 32  # a U-Net halves its input five times
# an object diameter may resize an image this much at most (memory, and sense)
MIN_SCALE, MAX_SCALE = 1 / 64, 8.0


def load_for_prediction(model, config: PredictConfig):
    """A :class:`~eq_engine.models.loading.LoadedModel` from a model file path, an ensemble
    manifest (:mod:`eq_engine.models.ensemble`) or a loaded model.

    A LoadedModel is used as it is; any other object with ``metadata`` and ``predictor`` is
    wrapped in one (so ``.info`` is always there). Its metadata is validated here.
    """
    from ..models.ensemble import load_model_or_ensemble
    from ..models.loading import LoadedModel, make_predictor

    if isinstance(model, (str, os.PathLike)):
        loaded = load_model_or_ensemble(model, device=config.device,
                                        mixed_precision=config.mixed_precision)
    elif isinstance(model, LoadedModel):
        loaded = model
    elif hasattr(model, "metadata") and callable(getattr(model, "predictor", None)):
        loaded = LoadedModel(getattr(model, "module", None), model.metadata, model.predictor,
                             device=str(getattr(model, "device", "cpu")))
    else:
        raise ModelError(f"model={model!r}: pass an EQ model file path or a LoadedModel "
                         "from eq_engine.models.loading.load_model")
    loaded.info  # noqa: B018 - validate the metadata before any work
    device = loaded.device
    # a model loaded by the caller may run under autocast; files were loaded as asked above
    if not config.mixed_precision and str(device).startswith("cuda") and loaded.module is not None:
        loaded = LoadedModel(loaded.module, loaded.metadata,
                             make_predictor(loaded.module, device=device, mixed_precision=False),
                             device=device)
    return loaded


def model_predictor(loaded, config: PredictConfig) -> Predictor:
    """The loaded model's predictor, averaged over flips when ``config.tta`` is True, or is
    "auto" and the model runs on a GPU."""
    tta = config.tta
    if tta == "auto":
        tta = not str(loaded.device).startswith("cpu")
    return flip_tta(loaded.predictor) if tta else loaded.predictor


def flip_tta(predictor: Predictor) -> Predictor:
    """Test-time augmentation: the mean over the four horizontal/vertical flips of each batch."""

    def averaged(batch: np.ndarray) -> np.ndarray:
        total = np.zeros((batch.shape[0], *batch.shape[2:]), dtype=np.float64)
        for axes in ((), (-1,), (-2,), (-2, -1)):
            flipped = np.ascontiguousarray(np.flip(batch, axes)) if axes else batch
            out = np.asarray(predictor(flipped))
            out = out[:, 0] if out.ndim == 4 else out
            total += np.flip(out, axes) if axes else out
        return (total / 4).astype(np.float32)

    return averaged


def model_tile(info: ModelInfo, config: PredictConfig, has_module: bool) -> int:
    """The tile to predict with: ``config.tile``, else the model's prediction tile, else its
    training tile (checked for a U-Net)."""
    from ..io.recipe_meta import predict_tile

    tile = config.tile or predict_tile(info) or info.tile
    if tile <= 0:
        raise ModelError("the model records no tile size (tile_size 0 or absent); give one: "
                         f"PredictConfig(tile={DEFAULT_TILE}), or --tile {DEFAULT_TILE} on the "
                         "command line")
    if has_module and tile % UNET_MULTIPLE:
        raise ConfigError(f"PredictConfig.tile={tile}: a U-Net needs a multiple of "
                          f"{UNET_MULTIPLE} pixels, e.g. {max(1, round(tile / 32)) * 32}")
    return tile


def at_image_scale(info: ModelInfo, pixel_size: float | None,
                   object_diameter: float = 0.0) -> ModelInfo:
    """``info`` for an image of ``pixel_size`` µm per pixel whose objects are typically
    ``object_diameter`` px across (0: unknown).

    The scale changes so that the network sees objects at the size it learned, and the learned
    minimum object area follows. An object diameter sets it from the model's training objects
    (ModelError for a model that recorded none); else a pixel size sets it when the model
    records the pixel size of its training images. Otherwise ``info`` is returned unchanged.
    """
    from ..io.recipe_meta import network_object_diameter, trained_pixel_size, with_min_size_factor

    if object_diameter:
        seen = network_object_diameter(info)
        if not seen:
            raise ModelError("the model records no object size from its training masks "
                             "(scale_policy); retrain it with this EQ to use an object "
                             "diameter, or give a pixel size or leave the diameter at 0")
        ratio = seen / object_diameter / info.scale
        if not MIN_SCALE <= info.scale * ratio <= MAX_SCALE:
            raise ConfigError(f"object_diameter={object_diameter:g} px would resize the image by "
                              f"{info.scale * ratio:.3g} (the model saw objects {seen:.3g} px "
                              f"across); give a diameter in image pixels between "
                              f"{seen / MAX_SCALE:.3g} and {seen / MIN_SCALE:.3g}")
        why = f"objects {object_diameter:.4g} px across, {seen:.4g} px at the network in training"
    else:
        trained = trained_pixel_size(info)
        if not pixel_size or not trained:
            return info
        ratio = pixel_size / trained
        why = f"image at {pixel_size:.4g} µm/px, model trained at {trained:.4g} µm/px"
    if abs(ratio - 1) < 1e-3:
        return info
    log.info("%s: scale %.4g -> %.4g", why, info.scale, info.scale * ratio)
    return info.replace(scale=info.scale * ratio, extra=with_min_size_factor(info, ratio**-2))


def model_min_size(info, config: PredictConfig) -> int:
    """``config.min_size``, or with -1 the model's learned minimum object size (0 if none);
    ``info`` is a ModelInfo or a metadata dict."""
    from ..io.recipe_meta import learned_min_size

    return config.min_size if config.min_size >= 0 else learned_min_size(info)


def model_threshold(info: ModelInfo, config: PredictConfig) -> float:
    """``config.threshold``, else the model's."""
    return float(config.threshold if config.threshold is not None else info.threshold)


def check_image_channels(image2d: np.ndarray) -> None:
    """DataError unless ``image2d`` is grayscale (Y, X) or RGB (Y, X, 3)."""
    from ..data.normalize import image_channels

    try:
        image_channels(image2d)
    except DataError as exc:
        raise DataError(f"{exc}. EQ models take grayscale (Y, X) or RGB (Y, X, 3) images; "
                        "a stack is (Z, Y, X[, 3])") from exc
