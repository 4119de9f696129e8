"""Training data: read image/mask pairs, split, scale, normalise, and build fastai DataLoaders.

``data`` for training may be a dataset folder, a list of folders, a list of
:class:`~eq_engine.io.datasets.Pair`, or a list of ``(image, mask)`` / ``(stem, image, mask)``
array tuples. Stacks ((Z,Y,X) with a (Z,Y,X) mask) become one item per slice, named
``<stem>_z000`` etc. Only the training split's images feed the normalisation statistics.

Training batches are positive-aware random crops (``crops_per_image`` per image and epoch),
augmented on the device; validation covers every pixel of the validation images once with a
grid of tiles, so its Dice/IoU are whole-image numbers, up to :data:`VALID_PIXEL_BUDGET` pixels
per epoch; above it, the same evenly spread subset of tiles every epoch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from .crops import foreground_index, grid_tiles, pad_to, random_crop
from .normalize import compute_norm_stats, image_channels, normalize, rescale_image, rescale_mask
from .split import Split, split_items

log = logging.getLogger(__name__)

# Validation pixels per epoch at the model's scale: ~20 s of CPU forward passes. Ten 1024² EM
# slices are 10 Mpx, which cost three times the epoch's training.
VALID_PIXEL_BUDGET = 2_000_000


@dataclass
class Item:
    """One prepared training image: normalised float32 (C,Y,X) and uint8 0/1 (Y,X) mask."""

    stem: str
    image: np.ndarray
    mask: np.ndarray
    fg_index: np.ndarray = field(repr=False, default=None)


@dataclass
class PreparedData:
    train: list[Item]
    valid: list[Item]
    split: Split
    norm: dict
    in_channels: int
    sources: list[str]  # what was read (folders/files), for the model metadata


# -- reading -----------------------------------------------------------------------------------
def _source_loaders(data: Any) -> tuple[list[tuple[str, Callable, str]], list[str]]:
    """``[(stem, load() -> (image, mask), where)]`` for every source item, plus source
    descriptions; ``where`` names the files (or array) for error messages."""
    from ..io.datasets import Pair

    if isinstance(data, (str, os.PathLike)):
        data = [data]
    if not isinstance(data, Sequence) or not len(data):
        raise DataError(f"no training data given ({data!r}); pass a dataset folder, pairs or "
                        "(image, mask) arrays")
    out, sources = [], []
    for i, entry in enumerate(data):
        if isinstance(entry, (str, os.PathLike)):
            pairs = _find_pairs(Path(entry))
            out += [(p.stem, _pair_loader(p), f"image {p.image} / mask {p.mask}") for p in pairs]
            sources.append(str(entry))
        elif isinstance(entry, Pair):
            out.append((entry.stem, _pair_loader(entry), f"image {entry.image} / mask {entry.mask}"))
            sources.append(str(entry.image))
        elif isinstance(entry, tuple) and len(entry) in (2, 3):
            stem = str(entry[0]) if len(entry) == 3 else f"image{i}"
            image, mask = entry[-2:]
            out.append((stem, lambda image=image, mask=mask: (np.asarray(image), np.asarray(mask)),
                        f"training array {stem}"))
            sources.append(f"<array {stem}>")
        else:
            raise DataError(f"training data item {i} ({type(entry).__name__}) is not a folder, "
                            "a Pair or an (image, mask) tuple")
    return out, sources


def _find_pairs(root: Path) -> list:
    from ..io.datasets import training_pairs

    pairs = training_pairs(root)
    if not pairs:
        raise DataError(f"{root} holds no image/mask pairs (expected images/<stem>.* and "
                        "masks/<stem>.png); `eq data check` explains what is missing")
    return pairs


def _pair_loader(pair) -> Callable:
    def load():
        from ..io.images import read_image, read_mask

        return read_image(pair.image), read_mask(pair.mask)

    return load


def _slices(stem: str, image: np.ndarray, mask: np.ndarray, where: str = ""
            ) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Split a stack into 2D slices, checking image and mask shapes agree."""
    where = where or stem
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] in (3, 4) and image.shape[:2] == mask.shape[:2]:
        mask = mask[..., 0]  # an RGB-saved mask
    if mask.ndim == 3:
        if image.shape[:3] != mask.shape:
            raise DataError(f"{where}: image stack shape {image.shape} and mask stack shape "
                            f"{mask.shape} differ; a mask must cover every pixel")
        return [(f"{stem}_z{z:03d}", image[z], mask[z]) for z in range(mask.shape[0])]
    if image.shape[:2] != mask.shape or (image.ndim == 3 and image.shape[-1] not in (3, 4)):
        raise DataError(f"{where}: image shape {image.shape} and mask shape {mask.shape} differ; "
                        "a mask must cover every pixel (a stack needs a stack mask)")
    return [(stem, image, mask)]


def read_items(data: Any, *, scale: float = 1.0) -> tuple[list[tuple[str, np.ndarray, np.ndarray]], list[str]]:
    """All 2D ``(stem, image, mask)`` items of ``data``, images rescaled (float32) by ``scale``."""
    loaders, sources = _source_loaders(data)
    items = []
    for stem, load, where in loaders:
        image, mask = load()
        for name, img, msk in _slices(stem, np.asarray(image), mask, where):
            image_channels(img)  # validates the layout early, naming nothing vague
            items.append((name, rescale_image(img, scale), rescale_mask(msk, scale)))
    stems = [s for s, _, _ in items]
    if len(set(stems)) != len(stems):
        dup = sorted({s for s in stems if stems.count(s) > 1})
        raise DataError(f"duplicate image names {dup[:5]}; the split needs unique stems")
    return items, sources


def prepare_data(data: Any, *, scale: float, size: int, valid_fraction: float, seed: int,
                 group_pattern: str | None = None, valid_pattern: str | None = None,
                 in_channels: int = 0, norm: dict | None = None) -> PreparedData:
    """Read, split, normalise (statistics from the training split unless ``norm`` is given)."""
    raw, sources = read_items(data, scale=scale)
    split = split_items([s for s, _, _ in raw], valid_fraction=valid_fraction, seed=seed,
                        group_pattern=group_pattern, valid_pattern=valid_pattern)
    if norm is not None:
        in_channels = int(norm["channels"])
    in_channels = in_channels or image_channels(raw[split.train[0]][1])
    if norm is None:
        norm = compute_norm_stats((raw[i][1] for i in split.train), channels=in_channels)

    def item(i: int) -> Item:
        stem, img, msk = raw[i]
        image, mask = pad_to(normalize(img, norm), msk.astype(np.uint8), size)
        return Item(stem, image, mask, foreground_index(mask))

    _check_foreground(raw, split)
    prepared = PreparedData([item(i) for i in split.train], [item(i) for i in split.valid],
                            split, norm, in_channels, sources)
    log.info("training on %d images, validating on %d (groups %s)", len(prepared.train),
             len(prepared.valid), split.valid_groups)
    return prepared


def _check_foreground(raw: list, split: Split) -> None:
    """DataError when the training or the validation split has not one foreground pixel: the
    model would learn nothing, or validation Dice would be meaningless (1 for empty output)."""
    for name, indices in (("training", split.train), ("validation", split.valid)):
        if indices and not any(np.any(raw[i][2]) for i in indices):
            stems = [raw[i][0] for i in indices]
            raise DataError(
                f"the {name} split has no foreground pixel in any mask ({len(stems)} images: "
                f"{', '.join(stems[:5])}{', ...' if len(stems) > 5 else ''}); check the masks "
                "(`eq data check`) or choose other validation images (--valid-pattern)")


# -- datasets ----------------------------------------------------------------------------------
class CropDataset:
    """``crops_per_image`` random crops per image per epoch, from a seeded, stateful RNG."""

    def __init__(self, items: list[Item], *, size: int, crops_per_image: int,
                 positive_fraction: float, seed: int) -> None:
        self.items, self.size, self.positive_fraction = items, size, positive_fraction
        self.n = len(items) * crops_per_image
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int):
        import torch

        item = self.items[index % len(self.items)]
        positive = bool(self.rng.random() < self.positive_fraction)
        image, mask = random_crop(item.image, item.mask, size=self.size, rng=self.rng,
                                  positive=positive, fg_index=item.fg_index)
        return torch.from_numpy(np.ascontiguousarray(image)), torch.from_numpy(mask.astype(np.int64))


class TileDataset:
    """Every pixel of the validation images exactly once (see :func:`grid_tiles`); with
    ``max_pixels``, an evenly spread, fixed subset of those tiles (whole tiles, every image)."""

    def __init__(self, items: list[Item], *, size: int, max_pixels: int | None = None) -> None:
        tiles = [t for item in items for t in grid_tiles(item.image, item.mask, size=size)]
        keep = len(tiles) if max_pixels is None else max(1, max_pixels // (size * size))
        if keep < len(tiles):
            log.info("validating on %d of %d tiles (%d px budget)", keep, len(tiles), max_pixels)
            tiles = [tiles[i] for i in np.linspace(0, len(tiles) - 1, keep).round().astype(int)]
        self.tiles = tiles

    def __len__(self) -> int:
        return len(self.tiles)

    def __getitem__(self, index: int):
        import torch

        image, mask = self.tiles[index]
        return torch.from_numpy(np.ascontiguousarray(image)), torch.from_numpy(mask.astype(np.int64))


def build_dataloaders(prepared: PreparedData, *, size: int, batch_size: int, crops_per_image: int,
                      positive_fraction: float, seed: int, scale_jitter: float,
                      device: str = "cpu", augment: bool = True) -> Any:
    """fastai ``DataLoaders(train, valid)`` on ``device``; training batches are augmented, with
    zoom factors in [1 / ``scale_jitter``, ``scale_jitter``]."""
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader

    from .augment import AugmentSettings, make_batch_augmenter

    train_ds = CropDataset(prepared.train, size=size, crops_per_image=crops_per_image,
                           positive_fraction=positive_fraction, seed=seed)
    bs = min(batch_size, len(train_ds))
    settings = AugmentSettings(zoom=(1 / scale_jitter, scale_jitter))
    kwargs = ({"after_batch": make_batch_augmenter(seed, settings, norm=prepared.norm)}
              if augment else {})
    train = DataLoader(train_ds, bs=bs, shuffle=True, drop_last=True, device=device, **kwargs)
    valid = DataLoader(TileDataset(prepared.valid, size=size, max_pixels=VALID_PIXEL_BUDGET),
                       bs=batch_size, shuffle=False, device=device)
    return DataLoaders(train, valid, device=device)
