"""napari sample data: real human kidney tissue that EQ ships, and generated EM and histology.

The tissue is a few AIDPATH PAS tiles (Bueno et al. 2020, doi:10.17632/k7nvtgn2x6.3,
CC BY 4.0) in ``resources/samples/aidpath_pas``; EM stays generated (no EM set may be
redistributed). Nothing is downloaded; generated samples are deterministic.
"""

from __future__ import annotations

import numpy as np

from .layer_data import IMAGE_KEY, MASK_KEY

TISSUE_TILE = "10183"  # two glomeruli side by side
ATTRIBUTION = ("AIDPATH human kidney, PAS: Bueno et al. 2020, Mendeley Data "
               "doi:10.17632/k7nvtgn2x6.3, CC BY 4.0 (down-sized, re-encoded)")


def tissue_sample(tile: str = TISSUE_TILE) -> list[tuple]:
    """A real PAS tile (RGB) with its glomeruli as instance labels."""
    from eq_engine import read_image, read_mask
    from eq_engine.quantification import instance_labels

    from .resources import tissue_pairs

    pairs = {image.stem: (image, mask) for image, mask in tissue_pairs()}
    image_path, mask_path = pairs[tile]
    image = read_image(image_path)
    labels = instance_labels(read_mask(mask_path)).astype(np.int32)
    name = f"PAS {tile}"
    about = {"attribution": ATTRIBUTION, "eq_image_path": str(image_path)}
    return [
        (image, {"name": name, "rgb": True, "metadata": about}, "image"),
        (labels, {"name": f"{name} glomeruli", "opacity": 0.4,
                  "metadata": {**about, IMAGE_KEY: name, MASK_KEY: str(mask_path)}}, "labels"),
    ]


def em_sample() -> list[tuple]:
    """An EM-like stack with its mitochondria mask as a Labels layer."""
    from eq_engine.data import make_em_stack

    image, mask = make_em_stack(n_slices=8, size=256, seed=0)
    return [
        (image, {"name": "EM sample"}, "image"),
        (mask.astype(np.uint8), {"name": "EM sample mitochondria", "opacity": 0.5,
                                 "metadata": {IMAGE_KEY: "EM sample"}}, "labels"),
    ]


def histology_sample() -> list[tuple]:
    """A histology-like field (RGB) with glomerulus instance labels and their true grades."""
    from eq_engine.data import make_histology_field

    sample = make_histology_field(size=512, n_glomeruli=4, seed=0)
    grades = {int(k): float(v) for k, v in sample.grades.items()}
    return [
        (sample.image, {"name": "histology sample", "rgb": True}, "image"),
        (sample.labels, {"name": "histology sample glomeruli", "opacity": 0.4,
                         "metadata": {"grades": grades, IMAGE_KEY: "histology sample"}},
         "labels"),
    ]
