"""Post-processing of a probability map too large for memory, band by band, into mask and labels.

Gives exactly what :func:`~eq_engine.inference.postprocess` gives for the whole map (threshold,
fill holes, drop objects under ``min_size``, label with full connectivity, labels numbered in
raster order), holding a few bands at a time. Connected components are found per band and
joined across band edges by a graph of provisional labels, in three passes over the file:

1. background components (4-connected, as ``scipy.ndimage.binary_fill_holes``) that never reach
   the image border are holes;
2. objects (8-connected) of the hole-filled mask: their sizes, and so which are too small;
3. final labels (surviving objects numbered by their first pixel) and the mask are written.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..events import CancelToken, EventCallback
from ..io.atomic import atomic_path
from .large import BandReader, TiffRowWriter
from .tiling import progress_ticker

log = logging.getLogger(__name__)
BAND_PIXELS = 1 << 24  # pixels per band (1024 rows of a 16k-wide image)


@dataclass
class _Graph:
    """Provisional labels of all bands (1..count) and the links between them across band edges."""

    count: int = 0
    offsets: list[int] = field(default_factory=list)  # first label - 1 of each band
    links: list[np.ndarray] = field(default_factory=list)
    sizes: list[np.ndarray] = field(default_factory=list)
    marked: list[np.ndarray] = field(default_factory=list)  # labels touching the image border

    def components(self) -> np.ndarray:
        """Component id of every provisional label (index 0 is background)."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        links = np.concatenate(self.links) if self.links else np.zeros((0, 2), np.int64)
        n = self.count + 1
        graph = coo_matrix((np.ones(len(links), np.int8), (links[:, 0], links[:, 1])),
                           shape=(n, n))
        return connected_components(graph, directed=False)[1]


def _label(mask: np.ndarray, connectivity: int, offset: int) -> tuple[np.ndarray, int]:
    from skimage.measure import label

    labels, n = label(mask, connectivity=connectivity, return_num=True)
    labels = labels.astype(np.int64)
    labels[labels > 0] += offset
    return labels, int(n)


def _edge_links(above: np.ndarray, below: np.ndarray, connectivity: int) -> np.ndarray:
    """Pairs of labels in two adjacent rows that touch (diagonally too when connectivity 2)."""
    width = len(above)
    pairs = []
    for d in ((0,) if connectivity == 1 else (-1, 0, 1)):  # below[x] touches above[x + d]
        a = above[max(d, 0):width + min(d, 0)]
        b = below[max(-d, 0):width - max(d, 0)]
        keep = (a > 0) & (b > 0)
        pairs.append(np.stack([a[keep], b[keep]], axis=1))
    return np.unique(np.concatenate(pairs), axis=0)


def _pass(reader: BandReader, bands, graph: _Graph, connectivity: int,
          band_mask: Callable, tick) -> None:
    """Label every band's ``band_mask`` into ``graph``: offsets, sizes, links, border labels."""
    height = reader.shape[0]
    last_row = None
    for i, (y0, y1) in enumerate(bands):
        labels, n = _label(band_mask(i, y0, y1), connectivity, graph.count)
        graph.offsets.append(graph.count)
        graph.count += n
        graph.sizes.append(np.bincount(labels.ravel(), minlength=graph.count + 1)[-n:] if n
                           else np.zeros(0, np.int64))
        edges = [labels[:, 0], labels[:, -1]]
        edges += [labels[0]] if y0 == 0 else []
        edges += [labels[-1]] if y1 == height else []
        graph.marked.append(np.concatenate(edges))
        if last_row is not None:
            graph.links.append(_edge_links(last_row, labels[0], connectivity))
        last_row = labels[-1]
        tick(1)


def _holes(reader: BandReader, bands, threshold: float, tick) -> tuple[_Graph, np.ndarray]:
    """Pass 1: the background graph and, per provisional label, whether it is a hole."""
    graph = _Graph()
    _pass(reader, bands, graph, 1, lambda i, y0, y1: ~_binary(reader, y0, y1, threshold), tick)
    comp = graph.components()
    reaches_border = np.zeros(comp.max() + 1, bool)
    reaches_border[comp[np.concatenate(graph.marked)]] = True
    hole = ~reaches_border[comp]
    hole[0] = False
    return graph, hole


def _binary(reader: BandReader, y0: int, y1: int, threshold: float) -> np.ndarray:
    from .postprocessing import binarize

    return binarize(reader.band(y0, y1), threshold=threshold)


def _final_labels(graph: _Graph, min_size: int) -> tuple[np.ndarray, int]:
    """Final label of every provisional object label: survivors numbered by their first pixel."""
    comp = graph.components()
    sizes = np.concatenate([[0], *graph.sizes]).astype(np.int64)
    comp_size = np.bincount(comp, weights=sizes, minlength=comp.max() + 1)
    first = np.full(comp.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, comp[1:], np.arange(1, graph.count + 1))
    keep = first < np.iinfo(np.int64).max
    if min_size > 1:
        keep &= comp_size >= min_size
    order = np.argsort(first[keep], kind="stable")
    final_of_comp = np.zeros(len(first), np.int64)
    final_of_comp[np.flatnonzero(keep)[order]] = np.arange(1, keep.sum() + 1)
    final = final_of_comp[comp]
    final[0] = 0
    return final, int(keep.sum())


def postprocess_file(probability, *, mask_out: str | os.PathLike, labels_out: str | os.PathLike,
                     threshold: float = 0.5, min_size: int = 0, fill_holes: bool = True,
                     band_rows: int | None = None, on_event: EventCallback | None = None,
                     cancel: CancelToken | None = None) -> int:
    """Threshold, clean up and label a large 2D probability map, writing TIFFs band by band.

    ``probability`` is a file path (read lazily) or an array-like (Y, X); float values are
    foreground at ``>= threshold``, integers where non-zero. Writes ``labels_out`` (uint8/16/32
    by object count) and then ``mask_out`` (uint8 0/255), each atomically, with exactly the
    values :func:`~eq_engine.inference.postprocess` would give. ``band_rows`` defaults to about
    16 Mpx per band. Emits ``Progress(stage="postprocess")`` per band; honours ``cancel``.
    Returns the number of objects.
    """
    if not 0 < threshold < 1:
        raise ConfigError(f"threshold={threshold!r}: must be strictly between 0 and 1, e.g. 0.5")
    if not isinstance(min_size, (int, np.integer)) or min_size < 0:
        raise ConfigError(f"min_size={min_size!r}: must be an integer >= 0 (pixels)")
    reader = BandReader(probability)
    height, width = reader.shape[:2]
    rows = band_rows or max(16, BAND_PIXELS // max(width, 1))
    bands = [(y, min(y + rows, height)) for y in range(0, height, rows)]
    tick = progress_ticker(len(bands) * (3 if fill_holes else 2), on_event, cancel,
                           stage="postprocess", unit="bands")
    background, hole = _holes(reader, bands, threshold, tick) if fill_holes else (None, None)

    def filled(i: int, y0: int, y1: int) -> np.ndarray:
        mask = _binary(reader, y0, y1, threshold)
        if background is None:
            return mask
        return mask | hole[_label(~mask, 1, background.offsets[i])[0]]

    objects = _Graph()
    _pass(reader, bands, objects, 2, filled, tick)
    final, n_objects = _final_labels(objects, min_size)
    dtype = np.uint8 if n_objects <= 255 else np.uint16 if n_objects <= 65535 else np.uint32
    with atomic_path(mask_out) as mask_tmp, atomic_path(labels_out) as labels_tmp:
        masks = TiffRowWriter(Path(mask_tmp), (height, width), np.uint8)
        labels = TiffRowWriter(Path(labels_tmp), (height, width), dtype)
        for i, (y0, y1) in enumerate(bands):
            band = final[_label(filled(i, y0, y1), 2, objects.offsets[i])[0]]
            labels.write(y0, band.astype(dtype))
            masks.write(y0, (band > 0).astype(np.uint8) * np.uint8(255))
            tick(1)
    log.info("post-processed %s in %d bands: %d objects", reader.shape, len(bands), n_objects)
    return n_objects
