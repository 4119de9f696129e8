"""Predict with an EQ model: the model's own scale, channels, normalisation, tile and threshold."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..config import PredictConfig
from ..errors import ConfigError, DataError, ModelError
from ..events import CancelToken, EventCallback, check_cancel
from .postprocessing import postprocess
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
UNET_MULTIPLE = 32  # a U-Net halves its input five times


@dataclass(frozen=True)
class Prediction:
    """Result of :func:`predict`, at the input's full resolution.

    ``probability`` float32 and ``mask`` bool have the image's spatial shape ((Y, X) or
    (Z, Y, X)); ``labels`` int32 numbers the objects of ``mask``; ``threshold`` is the one used.
    """

    probability: np.ndarray
    mask: np.ndarray
    labels: np.ndarray
    threshold: float
    metadata: dict = field(repr=False)
    tile: int = 0
    device: str = "cpu"
    seconds: float = 0.0


def load_for_prediction(model, config: PredictConfig):
    """A :class:`~eq_engine.io.models.LoadedModel` from a model file path or a loaded model.

    A loaded model (or any object with ``metadata`` and ``predictor``) is used as it is.
    """
    if isinstance(model, (str, os.PathLike)):
        from ..io.models import load_model

        loaded = load_model(model, device=config.device)
    elif hasattr(model, "metadata") and callable(getattr(model, "predictor", None)):
        loaded = model
    else:
        raise ModelError(f"model={model!r}: pass an EQ model file path or a LoadedModel "
                         "from eq_engine.io.models.load_model")
    device = getattr(loaded, "device", "cpu")
    if not config.mixed_precision and str(device).startswith("cuda") and loaded.module is not None:
        from ..io.models import LoadedModel, make_predictor

        loaded = LoadedModel(loaded.module, loaded.metadata,
                             make_predictor(loaded.module, device=device, mixed_precision=False),
                             device=device)
    return loaded


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


def _model_tile(meta: dict, config: PredictConfig, has_module: bool) -> int:
    tile = config.tile or int(meta.get("tile_size") or 0)
    if tile <= 0:
        raise ModelError(f"the model's tile_size={meta.get('tile_size')!r} is not a positive "
                         "tile size; set PredictConfig(tile=256) (eq --tile 256) or similar")
    if has_module and tile % UNET_MULTIPLE:
        raise ConfigError(f"PredictConfig.tile={tile}: a U-Net needs a multiple of "
                          f"{UNET_MULTIPLE} pixels, e.g. {max(1, round(tile / 32)) * 32}")
    return tile


def model_scale(meta: dict) -> float:
    """The resize factor a model's metadata says its input gets (1 when absent)."""
    scale = float(meta.get("scale", 1.0) or 1.0)
    if not np.isfinite(scale) or scale <= 0:
        raise ModelError(f"the model's scale={meta.get('scale')!r} must be a positive number")
    return scale


def _threshold(meta: dict, config: PredictConfig) -> float:
    threshold = config.threshold if config.threshold is not None else meta.get("threshold", 0.5)
    return float(0.5 if threshold is None else threshold)


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


def _predict_slice(image2d: np.ndarray, predictor: Predictor, meta: dict, *, tile: int,
                   config: PredictConfig, tick) -> np.ndarray:
    from ..data.normalize import prepare_input

    x = prepare_input(image2d, norm=meta["normalization"], scale=model_scale(meta))
    if x.shape[0] != int(meta["in_channels"]):
        raise ModelError(f"normalisation gave {x.shape[0]} channels but the model takes "
                         f"{meta['in_channels']}; the model file's metadata is inconsistent")
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
    model's metadata decides everything the model was trained with: the image is resized by ``scale``, converted to ``in_channels`` (RGB -> luminance,
    gray -> replicated) and normalised with ``normalization``; the probability is resized back to
    the input's resolution. ``config.tile=0`` uses the model's ``tile_size`` and
    ``config.threshold=None`` its ``threshold``. The model runs on ``config.device`` under
    ``torch.inference_mode`` (float16 autocast on CUDA unless ``mixed_precision=False``),
    ``batch_size`` tiles at a time; ``config.tta`` averages the four flips. Emits ``Progress``
    per batch of tiles; honours ``cancel``.
    """
    start = time.perf_counter()
    if isinstance(image, (str, os.PathLike)):
        from ..io.images import read_image
        from .stream_model import check_fits_in_memory

        check_fits_in_memory(image, config)
        image = read_image(image)
    image = np.asarray(image)
    loaded = load_for_prediction(model, config)
    meta = loaded.metadata
    tile = _model_tile(meta, config, loaded.module is not None)
    check_tiling(tile, config.overlap, config.blend, config.batch_size)
    slices, is_stack = _slices(image)
    _check_channels(slices[0])
    predictor = flip_tta(loaded.predictor) if config.tta else loaded.predictor
    scale = model_scale(meta)
    from ..data.normalize import scaled_shape

    total = len(slices) * count_tiles(scaled_shape(slices[0].shape, scale), (tile, tile),
                                      config.overlap)
    tick = progress_ticker(total, on_event, cancel)
    check_cancel(cancel)
    probs = [_predict_slice(s, predictor, meta, tile=tile, config=config, tick=tick)
             for s in slices]
    probability = np.stack(probs) if is_stack else probs[0]
    threshold = _threshold(meta, config)
    mask, labels = postprocess(probability, threshold=threshold, min_size=config.min_size,
                               fill_holes=config.fill_holes)
    seconds = time.perf_counter() - start
    log.info("predicted %s in %.2f s (%d tiles of %d px)", image.shape, seconds, total, tile)
    return Prediction(probability, mask, labels, threshold, meta, tile,
                      str(getattr(loaded, "device", "cpu")), seconds)


def _check_channels(image2d: np.ndarray) -> None:
    from ..data.normalize import image_channels

    try:
        image_channels(image2d)
    except DataError as exc:
        raise DataError(f"{exc}. EQ models take grayscale (Y, X) or RGB (Y, X, 3) images; "
                        "a stack is (Z, Y, X[, 3])") from exc
