"""Fixtures shared by engine tests: tiny pyramidal slides written with tifffile (never committed)."""

from __future__ import annotations

import numpy as np
import pytest

GLASS = (240, 240, 240)
TISSUE = (230, 170, 200)
NUCLEUS = (120, 40, 110)


def synthetic_slide_image(shape=(1024, 1536), discs=((256, 256), (400, 700), (600, 1100)),
                          radius=60, tissue=(100, 700, 100, 1300)) -> np.ndarray:
    """Glass with one pink tissue rectangle holding dark discs ("glomeruli")."""
    from skimage.draw import disk

    image = np.full((*shape, 3), GLASS, np.uint8)
    y0, y1, x0, x1 = tissue
    image[y0:y1, x0:x1] = TISSUE
    for centre in discs:
        rr, cc = disk(centre, radius, shape=shape)
        image[rr, cc] = NUCLEUS
    return image


@pytest.fixture
def make_slide(tmp_path):
    """``make_slide(kind="ome", image=None, mpp=0.5, name=None, **kw)`` -> path of a pyramid
    (levels 1, 1/4, 1/16) written into tmp_path."""
    from eq_engine.io.slide_writer import write_pyramid

    def make(kind: str = "ome", image=None, mpp: float | None = 0.5, name: str | None = None,
             **kwargs):
        image = synthetic_slide_image() if image is None else image
        suffix = {"ome": ".ome.tif", "svs": ".svs", "generic": ".tif"}[kind]
        path = tmp_path / (name or f"slide_{kind}{suffix}")
        return write_pyramid(path, image, mpp=mpp, kind=kind, **kwargs)

    return make


def threshold_model(*, scale: float = 0.5, tile: int = 64, threshold: float = 0.5):
    """A LoadedModel-like predictor: dark pixels (normalised mean < 0.5) are foreground."""
    from eq_engine.models.loading import LoadedModel

    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 3,
            "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}
    meta = {"normalization": norm, "in_channels": 3, "tile_size": tile, "scale": scale,
            "threshold": threshold}
    return LoadedModel(None, meta, lambda batch: (batch.mean(axis=1) < 0.5).astype(np.float32))


@pytest.fixture(name="threshold_model")
def threshold_model_fixture():
    """The :func:`threshold_model` factory (test modules cannot import conftest)."""
    return threshold_model


@pytest.fixture(name="slide_image")
def slide_image_fixture():
    """The :func:`synthetic_slide_image` factory."""
    return synthetic_slide_image
