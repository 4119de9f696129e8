"""Model metadata written by the training recipe: scale policy, learned clean-up, prediction tile.

The one place these keys are read and written, so that moving them into the model-info record
is a change here only. Models without them (older files) get the old behaviour: no clean-up
beyond filling holes, and the training crop as the prediction tile.
"""

from __future__ import annotations

SCALE_POLICY = "scale_policy"
POSTPROCESS = "postprocess"
PREDICT_TILE = "predict_tile"


def recipe_metadata(*, scale_policy: dict | None = None, postprocess: dict | None = None,
                    predict_tile: int | None = None) -> dict:
    """The metadata entries for a model file (only those given)."""
    out = {}
    if scale_policy is not None:
        out[SCALE_POLICY] = dict(scale_policy)
    if postprocess is not None:
        out[POSTPROCESS] = dict(postprocess)
    if predict_tile:
        out[PREDICT_TILE] = int(predict_tile)
    return out


def recipe_entries(meta: dict) -> dict:
    """The recipe entries of an existing model's metadata (to carry them over on resume)."""
    return {k: meta[k] for k in (SCALE_POLICY, POSTPROCESS, PREDICT_TILE) if k in meta}


def learned_min_size(meta: dict) -> int:
    """Objects under this many full-resolution pixels are dropped (0: keep all)."""
    value = (meta.get(POSTPROCESS) or {}).get("min_size", 0)
    return int(value) if isinstance(value, (int, float)) and value > 0 else 0


def predict_tile(meta: dict) -> int:
    """The tile the model prefers at prediction (0: none stored)."""
    value = meta.get(PREDICT_TILE, 0)
    return int(value) if isinstance(value, (int, float)) and value > 0 else 0
