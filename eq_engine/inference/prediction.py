"""Predict with an EQ model: the model's own scale, channels, normalisation, tile and threshold."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..config import PredictConfig
from ..errors import ModelError
from ..events import CancelToken, EventCallback, check_cancel
from ..io.model_info import ModelInfo
from ..io.recipe_meta import learned_min_size
from .postprocessing import postprocess
from .predictor import (
    at_image_scale,
    check_image_channels,
    load_for_prediction,
    model_min_size,
    model_predictor,
    model_threshold,
    model_tile,
)
from .tiling import (
    Predictor,
    blend_weights,
    check_tiling,
    count_tiles,
    infer_axes,
    predict_plane,
    progress_ticker,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prediction:
    """Result of :func:`predict`, at the input's full resolution.

    ``probability`` float32 and ``mask`` bool have the image's spatial shape ((Y, X) or
    (Z, Y, X)); ``labels`` int32 numbers the objects of ``mask``; ``threshold`` is the one used.
    ``learned_min_size`` is the model's learned minimum object area at this image's scale, px
    (what ``PredictConfig.min_size=-1`` meant here).
    """

    probability: np.ndarray
    mask: np.ndarray
    labels: np.ndarray
    threshold: float
    metadata: dict = field(repr=False)
    tile: int = 0
    device: str = "cpu"
    seconds: float = 0.0
    learned_min_size: int = 0


def _slices(image: np.ndarray) -> tuple[list[np.ndarray], bool]:
    """2D slices of ``image`` (gray or RGB) and whether it was a stack."""
    axes = infer_axes(image)
    if axes[0] == "Z":
        return list(image), True
    return [image], False


def _to_full_resolution(probability: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if probability.shape == shape:
        return probability
    from ..data.normalize import resize_image

    # bilinear without anti-aliasing, as streamed prediction resizes its rows (large.py)
    return np.clip(resize_image(probability, shape, antialias=False), 0, 1)


def _predict_slice(image2d: np.ndarray, predictor: Predictor, info: ModelInfo, *, tile: int,
                   config: PredictConfig, tick) -> np.ndarray:
    from ..data.normalize import prepare_input

    x = prepare_input(image2d, norm=dict(info.normalization), scale=info.scale)
    if x.shape[0] != info.in_channels:
        raise ModelError(f"normalisation gave {x.shape[0]} channels but the model takes "
                         f"{info.in_channels}; the model file's metadata is inconsistent")
    prob = predict_plane(x, predictor, tile_hw=(tile, tile), overlap=config.overlap,
                         weights=blend_weights(tile, blend=config.blend),
                         batch_size=config.batch_size, tick=tick)
    return _to_full_resolution(prob, image2d.shape[:2])


def predict(model, image, config: PredictConfig = PredictConfig(), *,
            on_event: EventCallback | None = None,
            cancel: CancelToken | None = None) -> Prediction:
    """Segment ``image`` with ``model`` (an EQ model file path or a LoadedModel).

    ``image`` is an array ((Y, X) gray, (Y, X, 3) RGB, (Z, Y, X[, 3]) stacks predicted slice by
    slice) or an image file path (DataError when it is too large for memory and
    ``config.stream="auto"``: stream it to files with
    :func:`~eq_engine.inference.stream_model.predict_file_streaming` or ``eq predict``). The
    model's metadata decides everything the model was trained with: the image is resized by
    ``scale`` (times the ratio of the image's pixel size, ``config.pixel_size`` or the file's,
    to the training images' when both are known), converted to ``in_channels`` (RGB -> luminance,
    gray -> replicated) and normalised with ``normalization``; the probability is resized back to
    the input's resolution. ``config.tile=0`` uses the model's ``tile_size`` and
    ``config.threshold=None`` its ``threshold``. The model runs on ``config.device`` under
    ``torch.inference_mode`` (float16 autocast on CUDA unless ``mixed_precision=False``),
    ``batch_size`` tiles at a time; ``config.tta`` averages the four flips. Emits ``Progress``
    per batch of tiles; honours ``cancel``.
    """
    start = time.perf_counter()
    pixel_size = config.pixel_size
    if isinstance(image, (str, os.PathLike)):
        from ..io.images import read_image
        from ..io.pixel_size import file_pixel_size
        from .stream_model import check_fits_in_memory

        check_fits_in_memory(image, config)
        pixel_size = pixel_size or file_pixel_size(image)
        image = read_image(image)
    image = np.asarray(image)
    loaded = load_for_prediction(model, config)
    info = at_image_scale(loaded.info, pixel_size, config.object_diameter)
    tile = model_tile(info, config, loaded.module is not None)
    check_tiling(tile, config.overlap, config.blend, config.batch_size)
    slices, is_stack = _slices(image)
    check_image_channels(slices[0])
    predictor = model_predictor(loaded, config)
    scale = info.scale
    from ..data.normalize import scaled_shape

    total = len(slices) * count_tiles(scaled_shape(slices[0].shape, scale), (tile, tile),
                                      config.overlap)
    tick = progress_ticker(total, on_event, cancel)
    check_cancel(cancel)
    probs = [_predict_slice(s, predictor, info, tile=tile, config=config, tick=tick)
             for s in slices]
    probability = np.stack(probs) if is_stack else probs[0]
    threshold = model_threshold(info, config)
    mask, labels = postprocess(probability, threshold=threshold,
                               min_size=model_min_size(info, config),
                               fill_holes=config.fill_holes)
    seconds = time.perf_counter() - start
    log.info("predicted %s in %.2f s (%d tiles of %d px)", image.shape, seconds, total, tile)
    return Prediction(probability, mask, labels, threshold, loaded.metadata, tile,
                      str(loaded.device), seconds, learned_min_size(info))
