"""Masks opened with File ▸ Open become Labels layers named after their image.

napari opens ``masks/T19.png`` as an Image layer called "T19", the very name of the image it
belongs to, so the two layers were told apart only by napari's " [1]". A mask file (in a
``masks/`` folder, or named ``<stem>_mask.*``) that holds a binary mask or 16/32-bit labels is
turned into a Labels layer "T19 mask" that knows its file and its image, as the Data dock's own
masks do.
"""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np

from .layer_data import IMAGE_KEY, MASK_KEY

_installed: weakref.WeakSet = weakref.WeakSet()


def mask_image_stem(path: str | Path | None) -> str | None:
    """The image stem a mask file belongs to, or None if ``path`` is not named like a mask."""
    if not path:
        return None
    path = Path(path)
    if path.stem.endswith("_mask") and len(path.stem) > len("_mask"):
        return path.stem[: -len("_mask")]
    if path.parent.name.lower() in ("masks", "labels", "label"):
        return path.stem
    return None


def looks_like_mask(data) -> bool:
    """Two values (a binary mask), or 16/32-bit integers (how label images are saved).

    An 8-bit grayscale picture with many values stays an image, whatever its file is called.
    """
    array = np.asarray(data)
    if array.dtype.kind not in "biu" or array.ndim not in (2, 3) or array.size == 0:
        return False
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        return False  # RGB(A) pixels
    if array.dtype.itemsize >= 2:
        return True
    sample = array[:: max(1, array.shape[0] // 64)]
    return len(np.unique(sample)) <= 2


def name_opened_masks(viewer) -> None:
    """Watch ``viewer`` (once) and turn opened mask files into named Labels layers."""
    key = getattr(viewer, "__wrapped__", viewer)  # napari's PublicOnlyProxy wraps the viewer
    if key in _installed:
        return
    _installed.add(key)
    viewer.layers.events.inserted.connect(lambda event: _on_inserted(viewer, event.value))


def _on_inserted(viewer, layer) -> None:
    from qtpy.QtCore import QTimer

    path = getattr(getattr(layer, "source", None), "path", None)
    stem = mask_image_stem(path)
    if stem is None or type(layer).__name__ not in ("Image", "Labels"):
        return
    if type(layer).__name__ == "Image" and (layer.rgb or not looks_like_mask(layer.data)):
        return
    # replacing a layer inside its own "inserted" event confuses napari's layer list: defer
    QTimer.singleShot(0, lambda: as_mask_layer(viewer, layer, stem, str(path)))


def as_mask_layer(viewer, layer, stem: str, path: str):
    """Replace ``layer`` (an opened mask file) by a Labels layer "<stem> mask"; returns it."""
    if layer not in viewer.layers:
        return None
    data = np.asarray(layer.data)
    labels = (data > 0).astype(np.int32) if data.max(initial=0) in (1, 255) else data.astype(
        np.int32)
    viewer.layers.remove(layer)
    return viewer.add_labels(labels, name=f"{stem} mask", opacity=0.5, scale=layer.scale,
                             translate=layer.translate,
                             metadata={MASK_KEY: path, IMAGE_KEY: stem})
