"""What the docks read from napari layers: full-resolution arrays and the image a layer belongs to."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MODEL_FILTER = "EQ models (*.eqm *.safetensors)"
# what predicts: a model, or an ensemble manifest of `eq cv --ensemble`
PREDICTOR_FILTER = f"EQ models and ensembles (*.eqm *.safetensors *.json);;{MODEL_FILTER}"
IMAGE_KEY = "eq_image"  # layer metadata: the name of the image this mask or prediction is of
MASK_KEY = "eq_mask_path"  # Labels layer metadata: where this annotation is saved
DERIVED_SUFFIXES = (" prediction", " probability", " mask", " annotation", " glomeruli",
                    " mitochondria")


MAX_LAYER_BYTES = 2**30  # a whole slide's full level would not fit; see layer_array


def layer_array(layer) -> np.ndarray:
    """Full-resolution data of a layer (the first level of a multiscale layer).

    Raises ``ValueError`` naming the layer when that level is larger than ``MAX_LAYER_BYTES``
    (a whole slide): decoding it would freeze the window and exhaust memory, and only the
    Predict dock streams slides region by region.
    """
    data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
    nbytes = int(np.prod(data.shape, dtype=np.int64)) * np.dtype(data.dtype).itemsize
    if nbytes > MAX_LAYER_BYTES:
        shape = " x ".join(str(n) for n in data.shape)
        raise ValueError(f"layer {layer.name!r} is a whole slide ({shape}, "
                         f"{nbytes / 2**30:.1f} GiB in full): too large to load here. Predict it "
                         "in the Predict dock (streamed by region) or with `eq predict`, and "
                         "annotate, measure or evaluate fields cut from it")
    return np.asarray(data)


def image_name(layer) -> str:
    """The name of the image ``layer`` shows or was derived from.

    A prediction or mask layer made by EQ records its image in ``metadata["eq_image"]``; other
    layers fall back to their file's stem or their name without a known suffix
    ("T19 prediction" -> "T19").
    """
    meta = getattr(layer, "metadata", None) or {}
    if meta.get(IMAGE_KEY):
        return str(meta[IMAGE_KEY])
    if meta.get("eq_image_path"):
        return Path(meta["eq_image_path"]).stem
    name = layer.name
    for suffix in DERIVED_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name
