"""Model metadata written by the training recipe: scale policy, learned clean-up, prediction
tile, and the pixel size of the training images.

The one place these keys are read and written, so that moving them into the model-info record
is a change here only. Models without them (older files) get the old behaviour: no clean-up
beyond filling holes, and the training crop as the prediction tile.
"""

from __future__ import annotations

from collections.abc import Mapping

SCALE_POLICY = "scale_policy"
POSTPROCESS = "postprocess"
PREDICT_TILE = "predict_tile"
PIXEL_SIZE = "pixel_size_um"  # µm per pixel of the training images, before ``scale``


def recipe_metadata(*, scale_policy: dict | None = None, postprocess: dict | None = None,
                    predict_tile: int | None = None, pixel_size: float | None = None) -> dict:
    """The metadata entries for a model file (only those given)."""
    out = {}
    if scale_policy is not None:
        out[SCALE_POLICY] = dict(scale_policy)
    if postprocess is not None:
        out[POSTPROCESS] = dict(postprocess)
    if predict_tile:
        out[PREDICT_TILE] = int(predict_tile)
    if pixel_size:
        out[PIXEL_SIZE] = float(pixel_size)
    return out


def _entries(meta) -> Mapping:
    """A ModelInfo keeps these keys in ``extra``; a plain metadata dict has them at the top."""
    extra = getattr(meta, "extra", None)
    return extra if isinstance(extra, Mapping) else meta


def recipe_entries(meta) -> dict:
    """The recipe entries of an existing model's metadata (to carry them over on resume)."""
    meta = _entries(meta)
    return {k: meta[k] for k in (SCALE_POLICY, POSTPROCESS, PREDICT_TILE, PIXEL_SIZE)
            if k in meta}


def learned_min_size(meta) -> int:
    """Objects under this many full-resolution pixels are dropped (0: keep all)."""
    value = (_entries(meta).get(POSTPROCESS) or {}).get("min_size", 0)
    return int(value) if isinstance(value, (int, float)) and value > 0 else 0


def predict_tile(meta) -> int:
    """The tile the model prefers at prediction (0: none stored)."""
    value = _entries(meta).get(PREDICT_TILE, 0)
    return int(value) if isinstance(value, (int, float)) and value > 0 else 0


def trained_pixel_size(meta) -> float | None:
    """µm per pixel of the images the model was trained on (None: they recorded none)."""
    value = _entries(meta).get(PIXEL_SIZE)
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def training_object_diameter(meta) -> float | None:
    """Median object diameter in the model's training images, px at their own resolution
    (None: not recorded)."""
    value = (_entries(meta).get(SCALE_POLICY) or {}).get("object_median_diameter_px")
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def network_object_diameter(meta) -> float | None:
    """Median object diameter the network saw in training, in network pixels (the training
    images' median times the training scale); None for models that recorded none."""
    scale = (_entries(meta).get(SCALE_POLICY) or {}).get("scale")
    diameter = training_object_diameter(meta)
    if diameter and isinstance(scale, (int, float)) and scale > 0:
        return diameter * float(scale)
    return None


def with_min_size_factor(meta, factor: float) -> dict:
    """``meta``'s entries with the learned minimum object area multiplied by ``factor`` (an
    image of another pixel size counts its objects in more or fewer pixels)."""
    entries = dict(_entries(meta))
    post = dict(entries.get(POSTPROCESS) or {})
    if learned_min_size(entries):
        post["min_size"] = max(1, round(learned_min_size(entries) * factor))
        entries[POSTPROCESS] = post
    return entries
