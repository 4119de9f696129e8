"""Tile grid, blend weights and tiled prediction over any predictor callable (pure numpy).

A *predictor* maps a float32 batch of tiles ``(B, C, h, w)`` (already normalised) to foreground
probabilities ``(B, h, w)``. :func:`predict_tiled` cuts an image into overlapping tiles, runs the
predictor on batches of them and blends the outputs with per-tile weights. Blending divides a
weighted sum by the summed weights in float64, so an identity predictor reconstructs its input
exactly (to the float32 bit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from ..errors import ConfigError, DataError, ModelError
from ..events import CancelToken, EventCallback, Progress, check_cancel, emit

Predictor = Callable[[np.ndarray], np.ndarray]
BLENDS = ("gaussian", "constant")
AXES = ("YX", "YXC", "ZYX", "ZYXC")
GAUSSIAN_SIGMA = 1 / 8  # of the tile size, as nnU-Net
MIN_WEIGHT = 1e-3  # Gaussian tails never reach 0, so every pixel has positive weight
DEFAULT_TILE = 256  # px; the default wherever neither the caller nor the model gives a tile


def tile_size_2d(tile: int | Sequence[int]) -> tuple[int, int]:
    """``tile`` as ``(h, w)``; raises ConfigError unless it is one or two positive integers."""
    sizes = (tile, tile) if np.isscalar(tile) else tuple(tile)
    if len(sizes) != 2 or not all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in sizes
    ):
        raise ConfigError(f"tile={tile!r}: must be a positive integer (pixels), e.g. tile={DEFAULT_TILE}")
    return int(sizes[0]), int(sizes[1])


def check_tiling(tile, overlap: float, blend: str, batch_size: int) -> tuple[int, int]:
    """Validate tiling parameters; return the tile as ``(h, w)``."""
    tile_hw = tile_size_2d(tile)
    if not isinstance(overlap, (int, float)) or isinstance(overlap, bool) or not 0 <= overlap < 1:
        raise ConfigError(
            f"overlap={overlap!r}: must be a fraction of the tile in [0, 1), e.g. overlap=0.25"
        )
    if blend not in BLENDS:
        raise ConfigError(f"blend={blend!r}: must be one of {BLENDS}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ConfigError(f"batch_size={batch_size!r}: must be an integer >= 1")
    return tile_hw


def tile_stride(tile: int, overlap: float) -> int:
    """Step between tile starts: the tile minus its overlap, at least one pixel."""
    return max(1, tile - int(round(tile * overlap)))


def tile_starts(length: int, tile: int, stride: int) -> list[int]:
    """Start offsets covering ``[0, length)``; the last tile ends exactly at ``length``.

    ``length`` must be at least ``tile`` (pad smaller images first, see :func:`pad_plane`).
    """
    if length < tile:
        raise ValueError(f"length {length} is smaller than the tile {tile}; pad first")
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    return starts


def tile_grid(shape_yx: Sequence[int], *, tile, overlap: float = 0.25) -> list[tuple[int, int]]:
    """Top-left corners ``(y, x)`` of the tiles covering an image of at least one tile."""
    th, tw = tile_size_2d(tile)
    ys = tile_starts(int(shape_yx[0]), th, tile_stride(th, overlap))
    xs = tile_starts(int(shape_yx[1]), tw, tile_stride(tw, overlap))
    return [(y, x) for y in ys for x in xs]


def blend_weights(tile, *, blend: str = "gaussian") -> np.ndarray:
    """Per-pixel weight of a tile's prediction, float64 ``(h, w)``, maximum 1.

    ``"gaussian"`` favours tile centres (where a U-Net sees most context); ``"constant"`` is flat.
    """
    th, tw = tile_size_2d(tile)
    if blend == "constant":
        return np.ones((th, tw), dtype=np.float64)
    if blend != "gaussian":
        raise ConfigError(f"blend={blend!r}: must be one of {BLENDS}")

    def profile(n: int) -> np.ndarray:
        centre, sigma = (n - 1) / 2, max(n * GAUSSIAN_SIGMA, 1e-6)
        return np.exp(-((np.arange(n) - centre) ** 2) / (2 * sigma**2))

    weights = np.outer(profile(th), profile(tw))
    return np.maximum(weights / weights.max(), MIN_WEIGHT)


def pad_plane(plane: np.ndarray, tile_hw: tuple[int, int]) -> np.ndarray:
    """Reflect-pad a ``(C, Y, X)`` plane at the bottom/right up to at least one tile."""
    pad_y = max(0, tile_hw[0] - plane.shape[-2])
    pad_x = max(0, tile_hw[1] - plane.shape[-1])
    if not (pad_y or pad_x):
        return plane
    return np.pad(plane, ((0, 0), (0, pad_y), (0, pad_x)), mode="reflect")


def infer_axes(image: np.ndarray) -> str:
    """Axes of an image as :func:`eq_engine.io.images.read_image` returns them.

    A trailing axis of at most 4 is channels: ``(Y, X)``, ``(Y, X, C)``, ``(Z, Y, X)``,
    ``(Z, Y, X, C)``. Pass ``axes=`` explicitly when that guess is wrong.
    """
    if image.ndim == 2:
        return "YX"
    if image.ndim == 3:
        return "YXC" if image.shape[-1] <= 4 else "ZYX"
    if image.ndim == 4:
        return "ZYXC"
    raise DataError(
        f"image of shape {image.shape} is not 2D (Y,X[,C]) or a 3D stack (Z,Y,X[,C]); "
        "squeeze extra axes or read it with eq_engine.io.images.read_image"
    )


def as_plane_stack(image: np.ndarray, *, axes: str | None = None,
                   in_channels: int | None = None) -> np.ndarray:
    """View ``image`` as ``(Z, C, Y, X)`` (no copy); check the channel count if one is expected."""
    image = np.asarray(image)
    axes = axes or infer_axes(image)
    if axes not in AXES or len(axes) != image.ndim:
        raise DataError(f"axes={axes!r} does not fit an image of shape {image.shape}; use one of {AXES}")
    stack = image[None] if axes[0] != "Z" else image
    stack = stack[..., None] if axes[-1] != "C" else stack
    stack = np.moveaxis(stack, -1, 1)
    if in_channels is not None and stack.shape[1] != in_channels:
        raise DataError(
            f"image of shape {image.shape} (axes {axes}) has {stack.shape[1]} channel(s) but the "
            f"predictor expects {in_channels}; convert it (gray <-> RGB) first, or use "
            "eq_engine.inference.predict, which converts to the model's channels"
        )
    return stack


def run_predictor(predictor: Predictor, batch: np.ndarray) -> np.ndarray:
    """Call ``predictor`` on ``batch`` and check it returned ``(B, h, w)`` (or ``(B, 1, h, w)``)."""
    out = np.asarray(predictor(batch))
    if out.ndim == 4 and out.shape[1] == 1:
        out = out[:, 0]
    expected = (batch.shape[0], *batch.shape[2:])
    if out.shape != expected:
        raise ModelError(
            f"the predictor returned shape {out.shape} for a batch of shape {batch.shape}; "
            f"it must return foreground probabilities of shape {expected}"
        )
    return out


def _batches(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def accumulate_tiles(plane: np.ndarray, corners: Sequence[tuple[int, int]], predictor: Predictor,
                     *, weights: np.ndarray, batch_size: int, acc: np.ndarray, wsum: np.ndarray,
                     tick: Callable[[int], None] | None = None) -> None:
    """Predict the tiles of a ``(C, Y, X)`` plane at ``corners`` and add them into ``acc``/``wsum``.

    ``acc`` and ``wsum`` are float64 ``(Y, X)`` arrays in the plane's coordinates, updated in
    place (they are this module's own buffers). ``tick(n)`` runs after each batch of ``n`` tiles.
    """
    th, tw = weights.shape
    for chunk in _batches(corners, batch_size):
        batch = np.stack([plane[:, y:y + th, x:x + tw] for y, x in chunk]).astype(np.float32)
        probs = run_predictor(predictor, batch)
        for (y, x), prob in zip(chunk, probs, strict=True):
            acc[y:y + th, x:x + tw] += weights * prob
            wsum[y:y + th, x:x + tw] += weights
        if tick is not None:
            tick(len(chunk))


def predict_plane(plane: np.ndarray, predictor: Predictor, *, tile_hw: tuple[int, int],
                  overlap: float, weights: np.ndarray, batch_size: int,
                  tick: Callable[[int], None] | None = None) -> np.ndarray:
    """Tiled prediction of one ``(C, Y, X)`` plane -> float32 ``(Y, X)`` probability."""
    height, width = plane.shape[-2:]
    padded = pad_plane(plane, tile_hw)
    corners = tile_grid(padded.shape[-2:], tile=tile_hw, overlap=overlap)
    acc = np.zeros(padded.shape[-2:], dtype=np.float64)
    wsum = np.zeros_like(acc)
    accumulate_tiles(padded, corners, predictor, weights=weights, batch_size=batch_size,
                     acc=acc, wsum=wsum, tick=tick)
    return (acc[:height, :width] / wsum[:height, :width]).astype(np.float32)


def progress_ticker(total: int, on_event: EventCallback | None, cancel: CancelToken | None, *,
                    stage: str = "predict", unit: str = "tiles") -> Callable[[int], None]:
    """``tick(n)`` for :func:`accumulate_tiles`: counts ``n`` more of ``total``, emits
    ``Progress(stage, done, total)`` and raises ``Cancelled`` when ``cancel`` is set."""
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        emit(on_event, Progress(stage, done, total, f"{done}/{total} {unit}"))
        check_cancel(cancel)

    return tick


def count_tiles(shape_yx: Sequence[int], tile_hw: tuple[int, int], overlap: float) -> int:
    padded = (max(shape_yx[0], tile_hw[0]), max(shape_yx[1], tile_hw[1]))
    return len(tile_grid(padded, tile=tile_hw, overlap=overlap))


def predict_tiled(image: np.ndarray, predictor: Predictor, *, tile=DEFAULT_TILE, overlap: float = 0.25,
                  blend: str = "gaussian", batch_size: int = 8, axes: str | None = None,
                  in_channels: int | None = None, on_event: EventCallback | None = None,
                  cancel: CancelToken | None = None) -> np.ndarray:
    """Foreground probability of ``image`` from ``predictor`` applied to overlapping tiles.

    ``image`` is 2D gray ``(Y, X)``, 2D colour ``(Y, X, C)`` or a stack ``(Z, Y, X[, C])``
    predicted slice by slice (``axes`` overrides the guess of :func:`infer_axes`); it must already
    be normalised the way the predictor expects. Images smaller than a tile are reflect-padded.
    ``overlap`` is the fraction of a tile shared with its neighbour; ``blend`` is ``"gaussian"``
    or ``"constant"``. ``in_channels`` (if given) is checked against the image. Emits
    ``Progress(stage="predict", step=tiles_done, total=n_tiles)`` after each batch and honours
    ``cancel`` between batches. Returns float32 ``(Y, X)`` or ``(Z, Y, X)``; the input is not
    modified.
    """
    tile_hw = check_tiling(tile, overlap, blend, batch_size)
    stack = as_plane_stack(image, axes=axes, in_channels=in_channels)
    weights = blend_weights(tile_hw, blend=blend)
    tick = progress_ticker(stack.shape[0] * count_tiles(stack.shape[-2:], tile_hw, overlap),
                           on_event, cancel)
    check_cancel(cancel)
    planes = [predict_plane(plane, predictor, tile_hw=tile_hw, overlap=overlap, weights=weights,
                            batch_size=batch_size, tick=tick) for plane in stack]
    out = np.stack(planes)
    return out if (axes or infer_axes(np.asarray(image)))[0] == "Z" else out[0]
