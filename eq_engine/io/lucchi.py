"""Organise the Lucchi EPFL mitochondria stacks into EQ's dataset layout.

Recognised sources (in ``src`` or one folder below it):

- the EPFL release: ``training.tif`` + ``training_groundtruth.tif`` and ``testing.tif`` +
  ``testing_groundtruth.tif``;
- the Lucchi++ variant: ``img/train_im.tif`` + ``label/train_label.tif`` and
  ``img/test_im.tif`` + ``label/test_label.tif``.

Each (Z,Y,X) stack becomes one image/mask pair per slice: ``DEST/train/images/train_000.tif`` with
``DEST/train/masks/train_000.png`` (0/255), and likewise ``DEST/test``. Slices are read lazily, so
the stacks never need to fit in memory twice.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from ..events import CancelToken, EventCallback, Progress, check_cancel, emit
from .images import open_image_lazy, to_mask, write_image, write_mask

log = logging.getLogger(__name__)

# split -> {layout name: (image stack, mask stack)} relative to the source folder
LAYOUTS = {
    "train": {"epfl": ("training.tif", "training_groundtruth.tif"),
              "lucchi++": ("img/train_im.tif", "label/train_label.tif")},
    "test": {"epfl": ("testing.tif", "testing_groundtruth.tif"),
             "lucchi++": ("img/test_im.tif", "label/test_label.tif")},
}


@dataclass(frozen=True)
class LucchiResult:
    """Where the organised datasets are; a split absent from the source has ``None`` / 0."""

    train: Path | None
    test: Path | None
    n_train: int
    n_test: int
    layout: str  # "epfl" or "lucchi++"
    source: Path


def find_lucchi_stacks(src: str | os.PathLike) -> tuple[Path, str, dict[str, tuple[Path, Path]]]:
    """(folder, layout name, {split: (image stack, mask stack)}) for the stacks under ``src``."""
    src = Path(src)
    if not src.is_dir():
        raise DataError(f"{src}: Lucchi source folder not found")
    candidates = [src] + sorted(p for p in src.iterdir() if p.is_dir())
    for folder in candidates:
        for layout in ("epfl", "lucchi++"):
            splits = {}
            for split, layouts in LAYOUTS.items():
                image, mask = (_existing(folder / name) for name in layouts[layout])
                if image and not mask:
                    raise DataError(f"{image}: found, but its ground truth "
                                    f"{folder / layouts[layout][1]} is missing")
                if image:
                    splits[split] = (image, mask)
            if splits:
                return folder, layout, splits
    expected = "; ".join(" + ".join(pair) for layouts in LAYOUTS.values() for pair in layouts.values())
    raise DataError(f"{src}: no Lucchi stacks found (looked here and one folder down for {expected})")


def organise_lucchi(src: str | os.PathLike, dest: str | os.PathLike, *, overwrite: bool = False,
                    on_event: EventCallback | None = None,
                    cancel: CancelToken | None = None) -> LucchiResult:
    """Write one image/mask pair per slice into ``dest/train`` and ``dest/test``.

    Masks must be binary (Lucchi's are 0/255); they are all checked before anything is
    written, so bad input leaves ``dest`` untouched. An existing non-empty ``dest/<split>`` raises
    :class:`DataError` unless ``overwrite=True``, which replaces only files EQ's own naming
    (``<split>_NNN``) would write. Emits ``Progress("lucchi", ...)`` per slice; honours ``cancel``.
    """
    folder, layout, splits = find_lucchi_stacks(src)
    dest = Path(dest)
    stacks = {split: _open_pair(*paths) for split, paths in splits.items()}
    for split, (_, mask) in stacks.items():  # fail before writing anything
        for z in range(mask.shape[0]):
            check_cancel(cancel)
            to_mask(mask[z], binary=True, source=f"{splits[split][1]} slice {z}")
    for split in stacks:
        _prepare(dest / split, split, overwrite=overwrite)
    total = sum(image.shape[0] for image, _ in stacks.values())
    done, counts = 0, {}
    for split, (image, mask) in stacks.items():
        out = dest / split
        width = max(3, len(str(image.shape[0] - 1)))
        source = splits[split][1]
        for z in range(image.shape[0]):
            check_cancel(cancel)
            emit(on_event, Progress("lucchi", done, total, f"{split} slice {z}"))
            stem = f"{split}_{z:0{width}d}"
            write_image(out / "images" / f"{stem}.tif", image[z])
            write_mask(out / "masks" / f"{stem}.png",
                       to_mask(mask[z], binary=True, source=f"{source} slice {z}"))
            done += 1
        counts[split] = image.shape[0]
        log.info("Lucchi %s: %d slices -> %s", split, image.shape[0], out)
    emit(on_event, Progress("lucchi", total, total, "done"))
    return LucchiResult(dest / "train" if "train" in counts else None,
                        dest / "test" if "test" in counts else None,
                        counts.get("train", 0), counts.get("test", 0), layout, folder)


def _existing(path: Path) -> Path | None:
    for candidate in (path, path.with_suffix(".tiff")):
        if candidate.is_file():
            return candidate
    return None


def _open_pair(image_path: Path, mask_path: Path):
    image, mask = open_image_lazy(image_path), open_image_lazy(mask_path)
    if image.ndim == 2:  # a single slice is a stack of one
        image = image[None]
    if mask.ndim == 2:
        mask = mask[None]
    if image.ndim != 3 or mask.ndim != 3:
        raise DataError(f"{image_path}: expected grayscale (Z,Y,X) stacks, got image "
                        f"{image.shape} and mask {mask.shape}")
    if tuple(image.shape) != tuple(mask.shape):
        raise DataError(f"{mask_path}: shape {tuple(mask.shape)} does not match its image stack "
                        f"{image_path} {tuple(image.shape)}")
    return image, mask


def _prepare(out: Path, split: str, *, overwrite: bool) -> None:
    ours = re.compile(rf"{re.escape(split)}_\d+\.(tif|png)")
    existing = [p for sub in ("images", "masks") if (out / sub).is_dir()
                for p in (out / sub).iterdir()]
    if existing and not overwrite:
        raise DataError(f"{out}: already holds {len(existing)} files; choose another destination "
                        "or pass overwrite=True (--overwrite)")
    for path in existing:
        if ours.fullmatch(path.name):
            path.unlink()
