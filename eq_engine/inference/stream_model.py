"""Prediction with an EQ model file on images too large for memory, streamed tile row by row.

:func:`predict` reads the whole image; :func:`predict_file_streaming` reads a file lazily and
applies exactly the model's preparation band by band:

- *scale*: bands are resized by the model's ``scale`` with the same bilinear filter
  (:func:`~eq_engine.data.normalize.bilinear_weights`), each from only the input rows it needs;
  prediction runs on a tile grid in scaled coordinates and the probability is resized back to
  full resolution as its rows are finished;
- *normalisation*: the per-image percentiles are estimated once, from a regular grid of small
  windows (about 1 Mpx, never the whole image; every pixel when the scaled image has at most
  1 Mpx, which then gives :func:`predict`'s numbers), and every band is normalised with them;
- *channels*: converted to the model's ``in_channels`` as :func:`predict` does.

:func:`should_stream` decides when the file-writing paths (``eq predict``, the Dask batch) stream.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..config import PredictConfig
from ..errors import DataError, ModelError
from ..events import CancelToken, EventCallback, check_cancel
from .large import BandReader, LargePrediction, predict_large
from .predictor import (
    at_image_scale,
    check_image_channels,
    load_for_prediction,
    model_min_size,
    model_predictor,
    model_threshold,
    model_tile,
)

log = logging.getLogger(__name__)
SAMPLE_WINDOW = 64  # px; windows of the percentile sample
IN_MEMORY_BYTES_PER_PIXEL = 40  # float32 normalised channels, float64 blending, masks, labels
MEMORY_FRACTION = 0.5  # stream when in-memory prediction would need more of the free RAM


class ScaledImage:
    """An image resized by ``scale`` (as :func:`~eq_engine.data.normalize.rescale_image`),
    computed on demand: ``image[y0:y1]`` reads only the input rows those output rows need."""

    def __init__(self, reader: BandReader, scale: float) -> None:
        from ..data.normalize import bilinear_weights, scaled_shape

        self.reader = reader
        height, width = reader.shape[:2]
        self.shape = (*scaled_shape((height, width), scale), *reader.shape[2:])
        self.rows = bilinear_weights(height, self.shape[0], antialias=scale < 1)
        self.cols = bilinear_weights(width, self.shape[1], antialias=scale < 1)

    def __getitem__(self, key) -> np.ndarray:
        from ..data.normalize import resize_axis, tap_stops

        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("ScaledImage supports row slices image[y0:y1] only")
        y0, y1, _ = key.indices(self.shape[0])
        first, weights = self.rows[0][y0:y1], self.rows[1][y0:y1]
        top, bottom = int(first[0]), int(tap_stops(first, weights).max())
        band = resize_axis(self.reader.band(top, bottom), first, weights, axis=0, offset=top)
        return resize_axis(band, *self.cols, axis=1)


def sample_windows(reader, *, window: int = SAMPLE_WINDOW) -> list[np.ndarray]:
    """A deterministic sample of an image's pixels for its normalisation percentiles.

    Every pixel (in bands) when the image has at most ``MAX_SAMPLES`` (~1 Mpx); otherwise a
    regular grid of ``window``-px windows spread over the whole image, ~1 Mpx in all, read one
    grid row at a time. ``reader`` has ``.shape`` and ``.band(y0, y1)``.
    """
    from ..data.normalize import MAX_SAMPLES

    height, width = reader.shape[:2]
    if height * width <= MAX_SAMPLES:
        return [reader.band(y, min(y + 256, height)) for y in range(0, height, 256)]
    win_y, win_x = min(window, height), min(window, width)
    budget = MAX_SAMPLES // (win_y * win_x)
    n_x = int(max(1, min(width // win_x, round(np.sqrt(budget * width / height)))))
    n_y = int(max(1, min(height // win_y, budget // n_x)))
    xs = np.unique(np.linspace(0, width - win_x, n_x).round().astype(int))
    windows = []
    for y in np.unique(np.linspace(0, height - win_y, n_y).round().astype(int)):
        rows = reader.band(int(y), int(y) + win_y)
        windows += [rows[:, x:x + win_x] for x in xs]
    return windows


def _lazy_source(path: Path):
    """``path`` when it reads lazily (band by band); otherwise its decoded array."""
    from ..io.images import open_image_lazy

    array = open_image_lazy(path)
    if isinstance(array, np.ndarray) and not isinstance(array, np.memmap):
        log.info("%s cannot be read partially; streaming it from memory", path)
        return array
    getattr(array, "close", lambda: None)()
    return path


def predict_file_streaming(model, path: str | os.PathLike, out: str | os.PathLike,
                           config: PredictConfig = PredictConfig(), *,
                           output: str = "probability", overwrite: bool = True,
                           on_event: EventCallback | None = None,
                           cancel: CancelToken | None = None) -> LargePrediction:
    """Predict the 2D image file ``path`` with ``model`` into ``out`` without reading it whole.

    ``model`` is an EQ model file path or a LoadedModel; ``config`` as for :func:`predict`
    (tile, overlap, blend, batch size, device, TTA, threshold). The model's scale, channels and
    normalisation are applied as the module docstring describes. ``out`` (``.tif`` or
    ``.zarr``) gets the full-resolution float32 probability (``output="probability"``) or the
    thresholded uint8 0/255 mask (``"mask"``; no hole filling or size filter, see
    :func:`~eq_engine.inference.stream_postprocess.postprocess_file`). The image (at the
    model's scale) must be at least one tile. An existing ``out`` is replaced unless
    ``overwrite=False``. Emits ``Progress`` per batch; honours ``cancel``.
    """
    from ..io.pixel_size import file_pixel_size

    loaded = load_for_prediction(model, config)
    info = at_image_scale(loaded.info, config.pixel_size or file_pixel_size(path),
                          config.object_diameter)
    tile = model_tile(info, config, loaded.module is not None)
    scale, norm = info.scale, dict(info.normalization)
    if int(norm["channels"]) != info.in_channels:
        raise ModelError(f"the model's normalisation has {norm['channels']} channels but the "
                         f"model takes {info.in_channels}; its metadata is inconsistent")
    source = _lazy_source(Path(path))
    reader = BandReader(source)
    check_image_channels(np.zeros((1, 1, *reader.shape[2:]), np.uint8))
    full_shape = reader.shape[:2]
    if scale != 1:
        source = ScaledImage(reader, scale)
        reader = BandReader(source)
    if min(reader.shape[:2]) < tile:
        raise DataError(f"{path}: {reader.shape[:2]} px at the model's scale {scale:g} is smaller "
                        f"than one {tile}-px tile; it fits in memory: use predict()")
    check_cancel(cancel)
    from ..data.normalize import normalize_with_percentiles, percentiles_from_sample

    percentiles = percentiles_from_sample(sample_windows(reader), norm)
    log.info("%s: normalisation percentiles %s from a sample", path, percentiles.tolist())
    predictor = model_predictor(loaded, config)
    return predict_large(
        source, predictor, out, tile=tile, overlap=config.overlap, blend=config.blend,
        batch_size=config.batch_size, output=output, threshold=model_threshold(info, config),
        preprocess=lambda band: normalize_with_percentiles(band, percentiles, norm),
        out_shape=full_shape, overwrite=overwrite, on_event=on_event, cancel=cancel)


def available_memory() -> int:
    """Bytes of RAM free for new work (psutil's ``available``)."""
    import psutil

    return int(psutil.virtual_memory().available)


def in_memory_bytes(path: str | os.PathLike) -> int:
    """Rough peak memory of :func:`predict` on the image file ``path`` (from its header)."""
    from ..io.images import image_info

    info = image_info(path)
    pixels = int(np.prod(info.spatial_shape))
    decoded = int(np.prod(info.shape)) * info.dtype.itemsize
    return decoded + pixels * IN_MEMORY_BYTES_PER_PIXEL


def should_stream(path, config: PredictConfig, *, tile: int, scale: float = 1.0) -> bool:
    """Whether a file-writing prediction of ``path`` streams (:func:`predict_file_streaming`).

    ``config.stream``: ``"never"``; ``"always"`` (2D images of at least one tile at the
    model's ``scale``); ``"auto"`` (default): also only TIFFs (PNG/JPEG cannot be read in parts)
    whose in-memory prediction would need more than half the free RAM.
    """
    if config.stream == "never" or not isinstance(path, (str, os.PathLike)):
        return False
    from ..data.normalize import scaled_shape
    from ..io.images import image_info

    info = image_info(path)
    if len(info.spatial_shape) != 2 or min(scaled_shape(info.spatial_shape, scale)) < tile:
        return False  # stacks go slice by slice in memory; images under a tile are small
    if config.stream == "always":
        return True
    return info.format == "tiff" and in_memory_bytes(path) > MEMORY_FRACTION * available_memory()


def check_fits_in_memory(path: str | os.PathLike, config: PredictConfig) -> None:
    """DataError when ``config.stream="auto"`` and :func:`predict` on ``path`` would need more
    than half the free RAM: such files go through the streaming, file-writing paths."""
    if config.stream != "auto":
        return
    need, free = in_memory_bytes(path), available_memory()
    if need > MEMORY_FRACTION * free:
        raise DataError(
            f"{path}: predicting it in memory needs about {need / 2**30:.1f} GiB, more than half "
            f"of the {free / 2**30:.1f} GiB free; write its outputs to files instead with "
            "`eq predict MODEL IMAGE --out DIR` or eq_engine.inference.stream_model."
            "predict_file_streaming (or force memory with PredictConfig(stream='never'))")


def predict_to_files(model, path: str | os.PathLike, paths: dict[str, Path],
                     config: PredictConfig = PredictConfig(), *,
                     on_event: EventCallback | None = None,
                     cancel: CancelToken | None = None) -> list[str]:
    """Streamed form of the batch worker's outputs (``batch.output_paths``): the probability
    (kept only when ``paths`` has "probability"), then labels and mask, post-processed band by
    band with the same threshold, ``min_size`` and ``fill_holes`` as :func:`predict`."""
    from .stream_postprocess import postprocess_file

    loaded = load_for_prediction(model, config)
    prob = paths.get("probability") or paths["mask"].with_name(
        f".{Path(path).stem}.streamed-prob.tif")
    try:
        predict_file_streaming(loaded, path, prob, config, on_event=on_event, cancel=cancel)
        postprocess_file(prob, mask_out=paths["mask"], labels_out=paths["labels"],
                         threshold=model_threshold(loaded.info, config),
                         min_size=model_min_size(loaded.info, config),
                         fill_holes=config.fill_holes,
                         on_event=on_event, cancel=cancel)
    finally:
        if "probability" not in paths and prob.exists():
            prob.unlink()
    return [str(p) for p in paths.values()]
