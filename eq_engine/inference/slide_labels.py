"""Objects of a slide's region-by-region mask: labels merged across region borders, per-object
geometry, the multiscale OME-Zarr labels and the thumbnail with outlines.

Regions are labelled one at a time (8-connected, holes inside a region filled) in raster
order. Each region's top row and left column are compared with the already labelled pixels
above and to the left (diagonals included), and touching labels are linked; the connected
components of those links are the objects, so a glomerulus cut by region borders is one
object, counted once. Final ids number the surviving objects (``min_size`` at the model's
scale) in the order their first region was labelled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .slide_regions import SlidePlan

log = logging.getLogger(__name__)
OUTPUT_CHUNK = 512


@dataclass(frozen=True)
class SlideObjects:
    """Final id of every provisional label and per-object geometry in analysis pixels."""

    lookup: np.ndarray  # uint32, index = provisional label
    area: np.ndarray  # analysis pixels per final id (index 0 unused)
    centroid: np.ndarray  # (n + 1, 2) y, x
    bbox: np.ndarray  # (n + 1, 4) y0, x0, y1, x1 (exclusive)

    @property
    def count(self) -> int:
        return len(self.area) - 1


def _line_links(mine: np.ndarray, theirs: np.ndarray, lo: int) -> list[np.ndarray]:
    """Pairs (their label, my label) of 8-adjacent pixels across a straight border.

    ``mine`` covers positions ``0..n`` along the border; ``theirs`` covers ``lo..lo+len``
    (``lo`` is -1 or 0) on the other side."""
    n = len(mine)
    padded = np.zeros(n + 2, theirs.dtype)
    padded[1 + lo:1 + lo + len(theirs)] = theirs
    pairs = []
    for d in (-1, 0, 1):
        other = padded[1 + d:1 + d + n]
        keep = (other > 0) & (mine > 0)
        pairs.append(np.stack([other[keep], mine[keep]], axis=1))
    return pairs


def label_regions(mask, provisional, plan: SlidePlan, *, fill_holes: bool = True,
                  tick=None) -> tuple[int, np.ndarray, np.ndarray]:
    """Label every region of ``mask`` into ``provisional`` (uint32 zarr arrays of analysis
    shape); returns ``(count, links (K, 2), sizes per provisional label)``."""
    from scipy import ndimage
    from skimage.measure import label

    count, links, sizes = 0, [np.zeros((0, 2), np.int64)], [np.zeros(1, np.int64)]
    for index in range(plan.n_regions):
        y0, y1, x0, x1 = plan.core(index)
        core = np.asarray(mask[y0:y1, x0:x1]) > 0
        if fill_holes:
            core = ndimage.binary_fill_holes(core)
        labels, n = label(core, connectivity=2, return_num=True)
        labels = labels.astype(np.uint32)
        labels[labels > 0] += np.uint32(count)
        if n:
            provisional[y0:y1, x0:x1] = labels
            sizes.append(np.bincount(labels.ravel(), minlength=count + n + 1)[count + 1:])
            if y0 > 0:
                lo = max(0, x0 - 1)
                above = np.asarray(provisional[y0 - 1, lo:min(plan.shape[1], x1 + 1)])
                links += _line_links(labels[0], above, lo - x0)
            if x0 > 0:
                left = np.asarray(provisional[y0:y1, x0 - 1])
                links += _line_links(labels[:, 0], left, 0)
        count += n
        if tick is not None:
            tick(1)
    return count, np.concatenate(links).astype(np.int64), np.concatenate(sizes)


def merge_objects(count: int, links: np.ndarray, sizes: np.ndarray, *,
                  min_size: int = 0) -> np.ndarray:
    """Final id (uint32, 0 = dropped) of every provisional label 0..count: linked labels share
    one id; objects under ``min_size`` pixels are dropped."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = count + 1
    graph = coo_matrix((np.ones(len(links), np.int8), (links[:, 0], links[:, 1])), shape=(n, n))
    comp = connected_components(graph, directed=False)[1]
    comp_size = np.bincount(comp, weights=sizes, minlength=comp.max() + 1)
    first = np.full(comp.max() + 1, n)
    np.minimum.at(first, comp[1:], np.arange(1, n))
    keep = (first < n) & (comp_size >= max(min_size, 1))
    keep[comp[0]] = False
    final_of_comp = np.zeros(len(first), np.uint32)
    order = np.flatnonzero(keep)[np.argsort(first[keep], kind="stable")]
    final_of_comp[order] = np.arange(1, len(order) + 1, dtype=np.uint32)
    return final_of_comp[comp]


def object_geometry(provisional, lookup: np.ndarray, plan: SlidePlan) -> SlideObjects:
    """Area, centroid and bounding box (analysis pixels) of every final object."""
    n = int(lookup.max()) + 1 if len(lookup) else 1
    area = np.zeros(n, np.int64)
    sums = np.zeros((n, 2))
    lo = np.full((n, 2), np.iinfo(np.int64).max)
    hi = np.zeros((n, 2), np.int64)
    for index in range(plan.n_regions):
        y0, y1, x0, x1 = plan.core(index)
        final = lookup[np.asarray(provisional[y0:y1, x0:x1])]
        ys, xs = np.nonzero(final)
        if not len(ys):
            continue
        ids = final[ys, xs]
        ys, xs = ys + y0, xs + x0
        area += np.bincount(ids, minlength=n)
        sums[:, 0] += np.bincount(ids, weights=ys, minlength=n)
        sums[:, 1] += np.bincount(ids, weights=xs, minlength=n)
        for axis, coords in enumerate((ys, xs)):
            np.minimum.at(lo[:, axis], ids, coords)
            np.maximum.at(hi[:, axis], ids, coords + 1)
    centroid = sums / np.maximum(area, 1)[:, None]
    bbox = np.concatenate([lo, hi], axis=1)
    bbox[0] = 0
    return SlideObjects(lookup, area, centroid, bbox)


def object_rows(objects: SlideObjects, plan: SlidePlan) -> list[dict]:
    """One row per object: id, centroid and bbox in level-0 slide pixels and µm, area."""
    fy, fx = plan.to_slide
    mpp = plan.mpp
    rows = []
    for i in range(1, objects.count + 1):
        cy, cx = objects.centroid[i]
        y0, x0, y1, x1 = objects.bbox[i]
        row = {"id": i, "centroid_y": float((cy + 0.5) * fy - 0.5),
               "centroid_x": float((cx + 0.5) * fx - 0.5),
               "bbox_y0": int(np.floor(y0 * fy)), "bbox_x0": int(np.floor(x0 * fx)),
               "bbox_y1": int(np.ceil(y1 * fy)), "bbox_x1": int(np.ceil(x1 * fx)),
               "area_px": float(objects.area[i] * fy * fx)}
        if mpp:
            for key in ("centroid_y", "centroid_x", "bbox_y0", "bbox_x0", "bbox_y1", "bbox_x1"):
                row[f"{key}_um"] = row[key] * mpp
            row["area_um2"] = row["area_px"] * mpp * mpp
        row["touches_border"] = bool(y0 == 0 or x0 == 0 or y1 == plan.shape[0]
                                     or x1 == plan.shape[1])
        rows.append(row)
    return rows


def final_labels(provisional, lookup: np.ndarray):
    """The final labels as a lazy dask array (lookup applied chunk by chunk)."""
    import dask.array as da

    return da.from_zarr(provisional).map_blocks(lambda block: lookup[block], dtype=np.uint32)


def write_ome_zarr(labels, path: Path, plan: SlidePlan, *, min_size: int = 256) -> Path:
    """Write ``labels`` (dask, analysis space) as a multiscale OME-Zarr at ``path``: levels
    halve until the longest side is under ``min_size``; the scale is µm (when the slide gives
    its pixel size) or level-0 slide pixels."""
    import zarr
    from ome_zarr.writer import write_multiscale

    fy, fx = plan.to_slide
    unit = plan.mpp or 1.0
    pyramid, transforms, step = [labels], [], 1
    while max(pyramid[-1].shape) >= 2 * min_size:
        step *= 2
        pyramid.append(labels[::step, ::step])
    for k in range(len(pyramid)):
        f = 2 ** k
        transforms.append([{"type": "scale", "scale": [fy * f * unit, fx * f * unit]}])
    pyramid = [p.rechunk(OUTPUT_CHUNK) for p in pyramid]
    group = zarr.open_group(str(path), mode="w")
    axes = [{"name": a, "type": "space", **({"unit": "micrometer"} if plan.mpp else {})}
            for a in ("y", "x")]
    write_multiscale(pyramid, group, axes=axes, coordinate_transformations=transforms,
                     storage_options={"chunks": (OUTPUT_CHUNK, OUTPUT_CHUNK)}, name="labels")
    label_meta = {"version": "0.5", "source": {"image": "../"}}
    ome = group.attrs.asdict().get("ome")
    if ome is not None:  # OME-Zarr 0.5 keeps its metadata under "ome"
        group.attrs["ome"] = {**ome, "image-label": label_meta}
    else:
        group.attrs["image-label"] = label_meta
    return path


def read_ome_zarr_levels(path: str | Path) -> list:
    """The levels of an OME-Zarr multiscale written by :func:`write_ome_zarr`, as dask arrays."""
    import dask.array as da
    import zarr

    group = zarr.open_group(str(path), mode="r")
    attrs = group.attrs.asdict()
    multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
    return [da.from_zarr(group[d["path"]]) for d in multiscales[0]["datasets"]]


def draw_thumbnail(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """RGB uint8 thumbnail with object outlines (yellow) drawn over ``image``."""
    from skimage.segmentation import find_boundaries
    from skimage.transform import resize

    rgb = np.asarray(image)
    if rgb.dtype != np.uint8:
        top = float(np.iinfo(rgb.dtype).max) if rgb.dtype.kind in "ui" else max(rgb.max(), 1e-6)
        rgb = (rgb.astype(np.float32) / top * 255).clip(0, 255).astype(np.uint8)
    rgb = np.repeat(rgb[..., None], 3, axis=-1) if rgb.ndim == 2 else rgb[..., :3].copy()
    small = resize(labels, rgb.shape[:2], order=0, preserve_range=True,
                   anti_aliasing=False).astype(labels.dtype)
    rgb[find_boundaries(small, mode="inner")] = (255, 230, 0)
    return rgb
