"""napari reader: a whole slide (SVS, NDPI, OME-TIFF, pyramidal TIFF) as a multiscale image
layer, and EQ's slide labels (``labels.ome.zarr``) as a multiscale labels layer.

Every level is a lazy array over tifffile's Zarr store (``SlideLevel.lazy_array``), so napari
decodes only the tiles of the level and region on screen; the GUI thread never decodes a whole
level. The layer's scale is µm per pixel when the slide records its pixel size, and its
metadata carries the slide path (``eq_slide``) so the Predict dock streams the file instead of
the pixels.
"""

from __future__ import annotations

from pathlib import Path


def _single(path):
    if isinstance(path, (list, tuple)):
        return path[0] if len(path) == 1 else None
    return path


def get_reader(path):
    """The slide reader when ``path`` is a slide or EQ slide labels; None otherwise."""
    path = _single(path)
    if path is None:
        return None
    try:
        if str(path).endswith(".ome.zarr") and Path(path).is_dir():
            from eq_engine.inference import read_ome_zarr_levels

            read_ome_zarr_levels(path)
            return read_labels
        from eq_engine.io import is_slide

        return read_slide if is_slide(path) else None
    except Exception:  # the reader alone may swallow errors (napari tries the next reader)
        return None


def slide_layer_data(path) -> tuple[list, dict, str]:
    """``(levels, kwargs, "image")`` for a slide: a lazy multiscale image layer."""
    from eq_engine.io import open_slide

    slide = open_slide(path)  # stays open: the lazy levels read from it
    info = slide.info
    levels = [slide.level(i).lazy_array() for i in range(len(info.shapes))]
    scale = (info.mpp, info.mpp) if info.mpp else (1.0, 1.0)
    kwargs = {"name": Path(path).name, "multiscale": len(levels) > 1, "rgb": info.channels == 3,
              "scale": scale, "metadata": {"eq_slide": str(Path(path).resolve()),
                                           "mpp": info.mpp, "kind": info.kind}}
    return (levels if len(levels) > 1 else levels[0]), kwargs, "image"


def read_slide(path) -> list[tuple]:
    return [slide_layer_data(_single(path))]


def labels_layer_data(path) -> tuple[list, dict, str]:
    """``(levels, kwargs, "labels")`` for an OME-Zarr written by ``predict_slide``."""
    import zarr

    from eq_engine.inference import read_ome_zarr_levels

    attrs = zarr.open_group(str(path), mode="r").attrs.asdict()
    multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
    scale = multiscales[0]["datasets"][0]["coordinateTransformations"][0]["scale"]
    name = f"{Path(path).parent.name} glomeruli"
    levels = read_ome_zarr_levels(path)
    data = levels if len(levels) > 1 else levels[0]  # napari reads a 1-list as 1D data
    return data, {"name": name, "multiscale": len(levels) > 1, "scale": tuple(scale),
                  "opacity": 0.5}, "labels"


def read_labels(path) -> list[tuple]:
    return [labels_layer_data(_single(path))]
