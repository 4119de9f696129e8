"""napari sample data that EQ generates itself (no downloads, deterministic)."""

from __future__ import annotations

import numpy as np


def em_sample() -> list[tuple]:
    """An EM-like stack with its mitochondria mask as a Labels layer."""
    from eq_engine.data.synthetic import make_em_stack

    image, mask = make_em_stack(n_slices=8, size=256, seed=0)
    return [
        (image, {"name": "EM sample"}, "image"),
        (mask.astype(np.uint8), {"name": "EM sample mitochondria", "opacity": 0.5}, "labels"),
    ]


def histology_sample() -> list[tuple]:
    """A histology-like field (RGB) with glomerulus instance labels and their true grades."""
    from eq_engine.data.synthetic import make_histology_field

    sample = make_histology_field(size=512, n_glomeruli=4, seed=0)
    grades = {int(k): float(v) for k, v in sample.grades.items()}
    return [
        (sample.image, {"name": "histology sample", "rgb": True}, "image"),
        (sample.labels, {"name": "histology sample glomeruli", "opacity": 0.4,
                         "metadata": {"grades": grades}}, "labels"),
    ]
