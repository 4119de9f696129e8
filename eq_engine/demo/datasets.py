"""The demo's data: generated samples, or real data in the dataset layout (EQ_DEMO_DATA)."""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from .profiles import DemoConfig

REAL_EM = ("em_cdeep3m_mouse_brain", "em_drosophila_vnc")
REAL_HISTOLOGY = "kidney_preeclampsia_mouse_he"


@dataclass(frozen=True)
class DemoData:
    em: Path
    histology_train: Path
    histology_test: Path
    test_grades: Path  # per-image score sheet of the held-out images
    train_grades: Path  # score sheet of the training images (per glomerulus or per image)
    train_labels: Path  # glomerulus labels/masks of the training images, matching train_grades
    group_pattern: str
    histology_scale: float  # 0: auto (eq train's default), from the objects in the masks
    source: str  # "generated" or the real data folder


def generated_data(root: Path, config: DemoConfig) -> DemoData:
    from ..data.synthetic import write_em_dataset, write_histology_dataset

    em = write_em_dataset(root / "em", n_slices=config.em_slices, size=config.em_size,
                          seed=config.seed)
    n = config.histology_images
    train = write_histology_dataset(root / "histology_train", n_images=n,
                                    size=config.histology_size, seed=config.seed)
    test = write_histology_dataset(root / "histology_test", n_images=max(2, n // 2),
                                   size=config.histology_size, seed=config.seed + 1000)
    return DemoData(em, train, test, test / "image_grades.csv", train / "grades.csv",
                    train / "labels", r"^(S\d+)_", config.histology_scale, "generated")


def real_data(root: Path, data: Path) -> DemoData:
    """Split the real H&E set by animal (the last animal is held out) via symlinks in ``root``."""
    em = next((data / name for name in REAL_EM if (data / name / "images").is_dir()), None)
    histology = data / REAL_HISTOLOGY
    if em is None or not (histology / "images").is_dir():
        raise DataError(f"EQ_DEMO_DATA={data} needs {REAL_EM[0]}/ (or {REAL_EM[1]}/) and "
                        f"{REAL_HISTOLOGY}/ in the dataset layout (images/, masks/)")
    sheet = histology / "grades.csv"
    with open(sheet, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    animals = sorted({r["animal"] for r in rows})
    held_out = animals[-1]
    train, test = root / "histology_train", root / "histology_test"
    for row in rows:
        dest = test if row["animal"] == held_out else train
        stem = Path(row["image"]).stem
        _link(histology / "images" / row["image"], dest / "images" / row["image"])
        _link(histology / "masks" / f"{stem}_mask.png", dest / "masks" / f"{stem}_mask.png")
    sheets = {}
    for name, keep in (("train", lambda a: a != held_out), ("test", lambda a: a == held_out)):
        sheets[name] = root / f"{name}_grades.csv"
        with open(sheets[name], "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=["image", "animal", "grade"])
            writer.writeheader()
            writer.writerows({"image": r["image"], "animal": r["animal"],
                              "grade": r["endotheliosis_grade"]} for r in rows if keep(r["animal"]))
    return DemoData(em, train, test, sheets["test"], sheets["train"], train / "masks",
                    r"^(T\d+)_", 0.0, str(data))


def _link(src: Path, dest: Path) -> None:
    if not src.is_file():
        raise DataError(f"{src} is listed in grades.csv but missing")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        os.symlink(src.resolve(), dest)


def demo_data(root: Path, config: DemoConfig) -> DemoData:
    """Fresh data in ``root`` (the demo's own folder: a previous run's files are replaced)."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    if config.data:
        return real_data(root, Path(config.data))
    return generated_data(root, config)
