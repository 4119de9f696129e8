"""How a model sees its input: scale, channels and intensity normalisation.

Training and prediction both call :func:`prepare_input` with the model's stored ``scale`` and
``normalization`` dict, so the two can never disagree.

Normalisation (method ``"percentile-standardize"``), chosen to survive new microscopes/stains:

1. per image and per channel, map the ``low`` (1st) and ``high`` (99.8th) percentiles to 0 and 1
   (as CSBDeep/StarDist/Cellpose do; no clipping, so bright structures keep their contrast). Per
   channel also evens out stain strength between labs for RGB;
2. then standardise each channel with the training set's mean and std of step 1's output (so the
   network sees zero-mean, unit-variance inputs). These statistics are stored in the model file.

Percentiles of images larger than ~1 Mpx are estimated on a regular pixel grid (deterministic),
which keeps a 2448x2048 field fast without changing the result noticeably.

Channels: images are (Y,X) grayscale or (Y,X,3) RGB (alpha is dropped). A 1-channel model given
RGB sees its luminance (channel mean); a 3-channel model given grayscale sees it replicated.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..errors import DataError, ModelError

METHOD = "percentile-standardize"
LOW, HIGH = 1.0, 99.8
MAX_SAMPLES = 1 << 20


def image_channels(image: np.ndarray) -> int:
    """1 for (Y,X) grayscale, 3 for (Y,X,3|4) colour; DataError otherwise."""
    image = np.asarray(image)
    if image.ndim == 2 or (image.ndim == 3 and image.shape[-1] == 1):
        return 1
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        return 3
    raise DataError(f"expected a (Y,X) or (Y,X,3) image, got shape {image.shape}; split stacks "
                    "into 2D slices first")


def to_channels_first(image: np.ndarray, channels: int) -> np.ndarray:
    """float32 (C,Y,X) with ``channels`` channels (see module doc for gray<->RGB)."""
    image = np.asarray(image)
    have = image_channels(image)
    x = image.astype(np.float32, copy=False)
    x = x[None] if x.ndim == 2 else np.moveaxis(x[..., : 3 if have == 3 else 1], -1, 0)
    if have == channels:
        return np.ascontiguousarray(x)
    if channels == 1:
        return x.mean(axis=0, keepdims=True)
    if channels == 3:
        return np.repeat(x, 3, axis=0)
    raise DataError(f"channels={channels} must be 1 or 3")


def _sample(channel: np.ndarray) -> np.ndarray:
    step = int(np.ceil(np.sqrt(channel.size / MAX_SAMPLES))) if channel.size > MAX_SAMPLES else 1
    return channel[::step, ::step]


def percentile_normalize(image: np.ndarray, *, channels: int | None = None, low: float = LOW,
                         high: float = HIGH) -> np.ndarray:
    """Step 1 only: per-image, per-channel percentile scaling to float32 (C,Y,X)."""
    x = to_channels_first(image, channels or image_channels(image))
    return _scale_by_percentiles(x, channel_percentiles(x, low=low, high=high))


def channel_percentiles(x: np.ndarray, *, low: float = LOW, high: float = HIGH) -> np.ndarray:
    """``(C, 2)`` float64: the ``low`` and ``high`` percentiles of each channel of a (C,Y,X)
    array (estimated on a regular pixel grid above ~1 Mpx)."""
    return np.stack([np.percentile(_sample(x[c]), (low, high)) for c in range(x.shape[0])])


def _scale_by_percentiles(x: np.ndarray, percentiles: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for c, (lo, hi) in enumerate(percentiles):
        out[c] = (x[c] - lo) / max(float(hi - lo), 1e-6)
    return out


def percentiles_from_sample(samples: Iterable[np.ndarray], norm: dict) -> np.ndarray:
    """Step 1's ``(C, 2)`` percentiles of one image estimated from ``samples`` of its pixels.

    ``samples`` are windows ((Y,X) or (Y,X,C), any sizes) read from the image, e.g. a regular
    grid of small windows when the image is too large to read whole; they are converted to the
    model's channels first, as :func:`normalize` does. Windows that cover every pixel of an image
    of at most ~1 Mpx give exactly the percentiles :func:`normalize` uses for it. Pass the result
    to :func:`normalize_with_percentiles`.
    """
    _check_norm(norm)
    channels = int(norm["channels"])
    flat = [to_channels_first(s, channels).reshape(channels, 1, -1) for s in samples]
    if not flat or not sum(f.size for f in flat):
        raise DataError("no pixels sampled to estimate normalisation percentiles from")
    return channel_percentiles(np.concatenate(flat, axis=2), low=norm["low"], high=norm["high"])


def compute_norm_stats(images: Iterable[np.ndarray], *, channels: int | None = None,
                       low: float = LOW, high: float = HIGH) -> dict:
    """The normalisation dict for a training set (stored in the model file as "normalization").

    ``channels`` defaults to the first image's (1 or 3).
    """
    total = total_sq = None
    count = 0
    for image in images:
        channels = channels or image_channels(image)
        x = percentile_normalize(image, channels=channels, low=low, high=high)
        flat = np.stack([_sample(x[c]) for c in range(channels)]).reshape(channels, -1)
        flat = flat.astype(np.float64)
        s, sq = flat.sum(axis=1), (flat * flat).sum(axis=1)
        total = s if total is None else total + s
        total_sq = sq if total_sq is None else total_sq + sq
        count += flat.shape[1]
    if not count:
        raise DataError("cannot compute normalisation statistics from zero images")
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean * mean, 0.0))
    return {"method": METHOD, "low": float(low), "high": float(high), "channels": int(channels),
            "mean": [float(m) for m in mean], "std": [float(max(s, 1e-6)) for s in std]}


def _check_norm(norm: dict) -> None:
    keys = ("method", "low", "high", "channels", "mean", "std")
    if not isinstance(norm, dict) or any(k not in norm for k in keys):
        raise ModelError(f"normalization {norm!r} lacks one of {keys}")
    if norm["method"] != METHOD:
        raise ModelError(f"normalization method {norm['method']!r} is unknown (expected {METHOD!r})")
    if len(norm["mean"]) != norm["channels"] or len(norm["std"]) != norm["channels"]:
        raise ModelError(f"normalization {norm!r}: mean/std need one value per channel")


def normalize(image: np.ndarray, norm: dict) -> np.ndarray:
    """Apply a model's normalisation dict: float32 (C,Y,X), C = ``norm["channels"]``.

    Does not modify ``image``.
    """
    _check_norm(norm)
    x = percentile_normalize(image, channels=int(norm["channels"]), low=norm["low"],
                             high=norm["high"])
    return _standardize(x, norm)


def normalize_with_percentiles(image: np.ndarray, percentiles: np.ndarray, norm: dict) -> np.ndarray:
    """:func:`normalize` with step 1's percentiles given (``(C, 2)``, e.g. from
    :func:`percentiles_from_sample`) instead of taken from ``image``.

    Streamed prediction normalises every band of a large image with the same percentiles, so
    the bands are normalised as the whole image would be. Returns float32 (C,Y,X).
    """
    _check_norm(norm)
    channels = int(norm["channels"])
    percentiles = np.asarray(percentiles)
    if percentiles.shape != (channels, 2):
        raise DataError(f"percentiles of shape {percentiles.shape}: need ({channels}, 2), one "
                        "(low, high) pair per channel; get them from percentiles_from_sample")
    x = _scale_by_percentiles(to_channels_first(image, channels), percentiles)
    return _standardize(x, norm)


def _standardize(x: np.ndarray, norm: dict) -> np.ndarray:
    mean = np.asarray(norm["mean"], np.float32)[:, None, None]
    std = np.asarray(norm["std"], np.float32)[:, None, None]
    return (x - mean) / std


def scaled_shape(shape: tuple, scale: float) -> tuple[int, int]:
    """(Y,X) after resizing by ``scale`` (at least 1 px)."""
    return max(1, int(round(shape[0] * scale))), max(1, int(round(shape[1] * scale)))


def rescale_image(image: np.ndarray, scale: float) -> np.ndarray:
    """Resize a (Y,X) or (Y,X,C) image by ``scale`` (bilinear, anti-aliased when shrinking).

    Returns float32; ``scale == 1`` returns the input unchanged (no copy). Uses torch's
    anti-aliased interpolation (about 20x faster than scikit-image's on a 2448x2048 field).
    """
    if scale == 1:
        return image
    return resize_image(image, scaled_shape(image.shape, scale), antialias=scale < 1)


def resize_image(image: np.ndarray, shape: tuple[int, int], *, antialias: bool) -> np.ndarray:
    """Bilinear resize of a (Y,X) or (Y,X,C) image to ``shape`` (Y,X); float32.

    Torch's ``interpolate`` (``align_corners=False``); ``antialias`` widens the filter when
    shrinking. :func:`bilinear_weights` is the same resize one band of rows at a time.
    """
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
    x = x[None, None] if x.ndim == 2 else x.permute(2, 0, 1)[None]
    out = F.interpolate(x, size=tuple(shape), mode="bilinear", align_corners=False,
                        antialias=antialias)
    out = out[0, 0] if image.ndim == 2 else out[0].permute(1, 2, 0)
    return np.ascontiguousarray(out.numpy())


def bilinear_weights(in_size: int, out_size: int, *,
                     antialias: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`resize_image` along one axis as taps: ``(first int64 (N,), weights float32 (N, K))``.

    Output pixel ``i`` is ``sum_k weights[i, k] * input[first[i] + k]`` (weights past the input's
    end are 0): torch's triangle filter, widened by the size ratio when shrinking with
    ``antialias``. Output rows ``i0..i1`` need only input rows ``first[i0]`` to
    ``first[i1 - 1] + K``, so a large image can be resized band by band (see
    :func:`resize_axis`), matching :func:`resize_image` to float32 rounding.
    """
    ratio = in_size / out_size
    widen = antialias and ratio > 1
    support, inv = (ratio, 1 / ratio) if widen else (1.0, 1.0)
    centre = ratio * (np.arange(out_size) + 0.5)
    first = np.maximum((centre - support + 0.5).astype(np.int64), 0)
    stop = np.minimum((centre + support + 0.5).astype(np.int64), in_size)
    taps = first[:, None] + np.arange(int((stop - first).max()))
    weights = np.maximum(0.0, 1 - np.abs((taps - centre[:, None] + 0.5) * inv))
    weights[taps >= stop[:, None]] = 0
    return first, (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def tap_stops(first: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """One past the last input row each output row of :func:`bilinear_weights` reads."""
    return first + weights.shape[1] - np.argmax(weights[:, ::-1] > 0, axis=1)


def resize_axis(array: np.ndarray, first: np.ndarray, weights: np.ndarray, *, axis: int,
                offset: int = 0) -> np.ndarray:
    """Apply :func:`bilinear_weights` taps along ``axis`` of ``array`` -> float32.

    ``array`` holds input rows ``offset ..`` along ``axis`` (a band of a larger image); it must
    contain every row the taps of ``first``/``weights`` (a slice of the full ones) read.
    """
    if len(first) and (first.min() < offset
                       or tap_stops(first, weights).max() > offset + array.shape[axis]):
        raise ValueError(f"rows {offset}..{offset + array.shape[axis]} do not hold every input "
                         "row these taps read")
    shape = [1] * array.ndim
    shape[axis] = len(first)
    out = None
    for k in range(weights.shape[1]):
        rows = np.clip(first + k - offset, 0, array.shape[axis] - 1)
        term = np.take(array, rows, axis=axis).astype(np.float32)
        term *= weights[:, k].reshape(shape)
        out = term if out is None else np.add(out, term, out=out)
    return out


def rescale_mask(mask: np.ndarray, scale: float) -> np.ndarray:
    """Resize a binary (Y,X) mask by ``scale``: area-weighted, then thresholded at 0.5."""
    mask = np.asarray(mask) != 0
    if scale == 1:
        return mask
    return rescale_image(mask.astype(np.float32), scale) >= 0.5


def prepare_input(image: np.ndarray, *, norm: dict, scale: float = 1.0) -> np.ndarray:
    """What the network sees for ``image``: rescaled by ``scale``, then normalised (C,Y',X')."""
    return normalize(rescale_image(image, scale), norm)
