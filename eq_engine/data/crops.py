"""Crop sampling for training (positive-aware random crops) and validation (a covering grid).

Arrays here are already prepared: image float32 (C,Y,X), mask uint8 (Y,X) with 0/1 labels.
Pixels that must not count (padding, or grid pixels owned by another tile) carry
:data:`IGNORE` in the mask; losses and metrics skip them.

Positive-aware sampling: with probability ``positive_fraction`` a crop is centred on a random
foreground pixel, otherwise it is placed uniformly. Large fields with small glomeruli would
otherwise give mostly empty crops.
"""

from __future__ import annotations

import numpy as np

IGNORE = 255


def pad_to(image: np.ndarray, mask: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pad (bottom/right) so both sides are at least ``size``: image with 0 (the normalised
    mean), mask with IGNORE. Arrays already large enough are returned as they are."""
    pad_y, pad_x = max(0, size - mask.shape[0]), max(0, size - mask.shape[1])
    if not pad_y and not pad_x:
        return image, mask
    image = np.pad(image, ((0, 0), (0, pad_y), (0, pad_x)), constant_values=0)
    mask = np.pad(mask, ((0, pad_y), (0, pad_x)), constant_values=IGNORE)
    return image, mask


def foreground_index(mask: np.ndarray) -> np.ndarray:
    """Flat indices of foreground pixels (label 1), int64."""
    return np.flatnonzero(mask == 1)


def crop_origin(shape: tuple[int, int], size: int, *, rng: np.random.Generator,
                positive: bool, fg_index: np.ndarray | None = None) -> tuple[int, int]:
    """Top-left corner of a ``size`` crop inside ``shape`` (which is at least ``size``)."""
    h, w = shape
    if positive and fg_index is not None and len(fg_index):
        cy, cx = divmod(int(fg_index[rng.integers(len(fg_index))]), w)
        y, x = cy - size // 2, cx - size // 2
        return int(np.clip(y, 0, h - size)), int(np.clip(x, 0, w - size))
    return int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))


def random_crop(image: np.ndarray, mask: np.ndarray, *, size: int, rng: np.random.Generator,
                positive: bool, fg_index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One ``size`` crop of (padded) ``image``/``mask``; positive crops centre on foreground."""
    image, mask = pad_to(image, mask, size)
    if fg_index is None and positive:
        fg_index = foreground_index(mask)
    y, x = crop_origin(mask.shape, size, rng=rng, positive=positive, fg_index=fg_index)
    return image[:, y:y + size, x:x + size], mask[y:y + size, x:x + size]


def grid_starts(length: int, size: int) -> list[int]:
    """Tile starts covering ``length`` with tiles of ``size``; the last tile ends at the edge."""
    if length <= size:
        return [0]
    starts = list(range(0, length - size, size))
    return starts + [length - size]


def grid_tiles(image: np.ndarray, mask: np.ndarray, *, size: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Tiles covering the whole image. Each pixel counts exactly once: pixels already covered
    by an earlier tile, and padding, are IGNORE in the later tile's mask."""
    h, w = mask.shape
    image, padded = pad_to(image, mask, size)
    tiles = []
    ys, xs = grid_starts(h, size), grid_starts(w, size)
    for iy, y in enumerate(ys):
        for ix, x in enumerate(xs):
            m = padded[y:y + size, x:x + size].copy()
            own_y = (ys[iy - 1] + size - y) if iy else 0  # rows the tile above already owns
            own_x = (xs[ix - 1] + size - x) if ix else 0
            m[:max(own_y, 0)] = IGNORE
            m[:, :max(own_x, 0)] = IGNORE
            tiles.append((image[:, y:y + size, x:x + size], m))
    return tiles
