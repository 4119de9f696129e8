"""Synthetic sample data: EM-like stacks and histology-like fields, in memory or as datasets.

The generators live in :mod:`eq_engine.data.synthetic_em` and
:mod:`eq_engine.data.synthetic_histology`; this module re-exports them and writes them to disk in
the dataset layout (``images/<stem>``, ``masks/<stem>.png`` with 0/255), used by tests, the napari
sample menu and the demo. Everything is deterministic for a given ``seed``.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from eq_engine.data.synthetic_em import make_em_stack
from eq_engine.data.synthetic_histology import (
    GRADE_LEVELS,
    HistologySample,
    make_histology_field,
    open_fraction_for_grade,
)
from eq_engine.errors import ConfigError
from eq_engine.io.atomic import atomic_path, atomic_write_text

__all__ = [
    "GRADE_LEVELS",
    "HistologySample",
    "make_em_stack",
    "make_histology_field",
    "open_fraction_for_grade",
    "write_em_dataset",
    "write_histology_dataset",
]


def _write_png(path: Path, array: np.ndarray) -> None:
    from PIL import Image

    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format="PNG")


def _write_tiff(path: Path, array: np.ndarray) -> None:
    import tifffile

    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, array)


def write_em_dataset(dest: str | os.PathLike, *, n_slices: int = 4, size: int = 256,
                     seed: int = 0) -> Path:
    """Write one EM-like stack as per-slice pairs ``images/em_zNN.tif`` + ``masks/em_zNN.png``.

    Existing files of the same names are overwritten. Returns ``dest`` as a Path.
    """
    image, mask = make_em_stack(n_slices, size, seed=seed)
    root = Path(dest)
    for z in range(image.shape[0]):
        stem = f"em_z{z:02d}"
        _write_tiff(root / "images" / f"{stem}.tif", image[z])
        _write_png(root / "masks" / f"{stem}.png", mask[z].astype(np.uint8) * 255)
    return root


def _csv_text(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _animal_grades(rng, severity: int, n_glomeruli: int) -> list[float]:
    """Grades of one image: the animal's level give or take two steps. The spread is wide enough
    that leave-one-animal-out folds usually still see every grade (an ordinal model cannot
    predict a grade it never saw)."""
    idx = np.clip(severity + rng.integers(-2, 3, n_glomeruli), 0, len(GRADE_LEVELS) - 1)
    return [GRADE_LEVELS[i] for i in idx]


def write_histology_dataset(dest: str | os.PathLike, *, n_images: int = 4, size: int = 512,
                            seed: int = 0, images_per_animal: int = 2,
                            n_glomeruli: int = 4) -> Path:
    """Write histology-like fields in the dataset layout, with score sheets.

    Files: ``images/S<a>_img<k>.png`` (RGB), ``masks/<stem>.png`` (0/255 glomeruli),
    ``labels/<stem>.tif`` (int32 instances 1..n), ``grades.csv`` (image, animal, glomerulus,
    grade: one row per glomerulus, ``glomerulus`` being the label id) and ``image_grades.csv``
    (image, animal, grade: the image's mean). ``image`` holds the file name, as in real score
    sheets. Each animal has its own severity, so grades cluster by animal. Returns ``dest``.
    """
    if int(n_images) < 1 or int(images_per_animal) < 1:
        raise ConfigError(f"n_images={n_images!r} and images_per_animal={images_per_animal!r} "
                          "must both be >= 1")
    rng = np.random.default_rng(seed)
    root = Path(dest)
    n_animals = -(-n_images // images_per_animal)
    severity = rng.integers(0, len(GRADE_LEVELS), n_animals)
    per_glom, per_image = [], []
    for k in range(n_images):
        animal = f"S{k // images_per_animal + 1}"
        stem = f"{animal}_img{k % images_per_animal}"
        grades = _animal_grades(rng, int(severity[k // images_per_animal]), n_glomeruli)
        sample = make_histology_field(size, n_glomeruli=n_glomeruli, grades=grades,
                                      seed=int(rng.integers(2**31)))
        _write_png(root / "images" / f"{stem}.png", sample.image)
        _write_png(root / "masks" / f"{stem}.png", (sample.labels > 0).astype(np.uint8) * 255)
        _write_tiff(root / "labels" / f"{stem}.tif", sample.labels)
        per_glom += [[f"{stem}.png", animal, lab, g] for lab, g in sorted(sample.grades.items())]
        mean = float(np.mean(list(sample.grades.values()))) if sample.grades else float("nan")
        per_image.append([f"{stem}.png", animal, round(mean, 4)])
    atomic_write_text(root / "grades.csv",
                      _csv_text(["image", "animal", "glomerulus", "grade"], per_glom))
    atomic_write_text(root / "image_grades.csv",
                      _csv_text(["image", "animal", "grade"], per_image))
    return root
