"""The training recipe's data-driven choices, made once from the training masks.

- ``scale=0`` ("auto"): :func:`eq_engine.data.objects.choose_scale` from the objects' size;
- ``crops_per_image=0`` ("auto"): :func:`eq_engine.data.objects.choose_crops_per_image` from
  the images' size at that scale, so large EM slices are not sampled as sparsely as small fields;
- post-processing for prediction (fill holes, minimum object size) from the smallest object;
- the prediction tile: :data:`PREDICT_TILE` px (a fully convolutional net needs no training-size
  tiles at prediction; fewer, larger tiles waste less on overlaps), never below the crop size;
- the training images' pixel size (µm/px) when every training file records the same one, so
  that prediction can rescale images of another pixel size (``at_image_scale``).

All of it is stored in the model file through :mod:`eq_engine.io.recipe_meta`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ..config import TrainConfig
from ..errors import DataError

log = logging.getLogger(__name__)

PREDICT_TILE = 512  # px at the model's scale; bounded by CPU memory at batch 8


def _masks(data: Any):
    """(name, mask) for every training mask of ``data``, read without its image for files."""
    import os

    from ..io.datasets import Pair, find_pairs
    from ..io.images import read_mask

    entries = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    for i, entry in enumerate(entries):
        if isinstance(entry, (str, os.PathLike)):
            yield from ((p.stem, read_mask(p.mask)) for p in find_pairs(entry))
        elif isinstance(entry, Pair):
            yield entry.stem, read_mask(entry.mask)
        else:
            yield f"array {i}", np.asarray(entry[-1])


def _image_files(data: Any) -> list | None:
    """The training image files of ``data``; None when any entry is an array."""
    import os

    from ..io.datasets import Pair, find_pairs

    files = []
    for entry in [data] if isinstance(data, (str, os.PathLike)) else list(data):
        if isinstance(entry, (str, os.PathLike)):
            files += [p.image for p in find_pairs(entry)]
        elif isinstance(entry, Pair):
            files.append(entry.image)
        else:
            return None
    return files


def training_pixel_size(data: Any) -> float | None:
    """µm per pixel shared by every training image file (within 1%), else None (logged)."""
    from ..io.pixel_size import file_pixel_size

    files = _image_files(data)
    sizes = [file_pixel_size(f) for f in files or []]
    if not sizes or not all(sizes):
        return None
    if max(sizes) > min(sizes) * 1.01:
        log.warning("training images have different pixel sizes (%.4g-%.4g µm/px): the model "
                    "records none, and prediction will not rescale by pixel size",
                    min(sizes), max(sizes))
        return None
    return float(np.median(sizes))


def _mask_planes(data: Any, names: list):
    """Every 2D training mask of ``data`` at full resolution (stacks slice by slice); the
    names of the masks read so far are appended to ``names``."""
    for name, mask in _masks(data):
        names.append(name)
        if mask.ndim == 3 and mask.shape[-1] in (3, 4):
            mask = mask[..., 0]  # an RGB-saved mask (2D); a stack has many more than 4 slices
        yield from (mask if mask.ndim == 3 else [mask])


def _object_stats(data: Any):
    from ..data.objects import object_stats

    names: list = []
    read_all: list = []

    def planes():
        yield from _mask_planes(data, names)
        read_all.append(True)

    try:
        return object_stats(planes())
    except DataError as exc:
        if not read_all:  # a mask could not be read: its own error names the file
            raise
        # no object anywhere: the same rule and words as training's foreground check
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise DataError(f"the training data has no foreground pixel in any mask ({len(names)} "
                        f"masks: {shown}); check the masks (`eq data check`)") from exc


def apply_recipe(data: Any, config: TrainConfig, *, size: int) -> tuple[TrainConfig, dict]:
    """``config`` with an automatic scale and crops per image resolved, and the recipe's model
    metadata."""
    from ..data.objects import (
        TARGET_DIAMETER,
        choose_crops_per_image,
        choose_scale,
        learned_postprocess,
    )
    from ..io.recipe_meta import recipe_metadata

    stats = _object_stats(data)
    policy = {"mode": "auto" if config.scale == 0 else "fixed",
              "object_median_diameter_px": stats.median_diameter,
              "n_objects": stats.n_objects, "target_diameter_px": TARGET_DIAMETER}
    if config.scale == 0:
        config = config.replace(scale=choose_scale(stats))
        log.info("scale auto: median object %.0f px across -> scale %.4f (%d objects)",
                 stats.median_diameter, config.scale, stats.n_objects)
    policy["scale"] = config.scale
    if config.crops_per_image == 0:
        config = config.replace(crops_per_image=choose_crops_per_image(stats, scale=config.scale,
                                                                       size=size))
        log.info("crops per image auto: %d (median image %.2g Mpx)", config.crops_per_image,
                 stats.median_image_px / 1e6)
    tile = max(PREDICT_TILE, size)
    return config, recipe_metadata(scale_policy=policy, postprocess=learned_postprocess(stats),
                                   predict_tile=tile, pixel_size=training_pixel_size(data))
