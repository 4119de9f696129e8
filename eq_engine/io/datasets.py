"""Find image/mask pairs in a dataset folder, validate them, and report.

Layout: ``root/images/<stem>.<ext>`` with the mask of ``X.<ext>`` at ``root/masks/X.*`` or
``X_mask``, ``X_label``, ``X_labels``, ``X_gt``, ``X_groundtruth`` (in ``masks/`` or beside the
image). Without an ``images/`` folder the images are the files directly in ``root``. Other
folders (e.g. ``valid_regions/``) are ignored. Stems match whole: ``T19_Image9`` never pairs with
``T19_Image99_mask``. Suffix tags match case-insensitively, stems exactly.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError
from ..events import CancelToken, EventCallback, Progress, check_cancel, emit
from .images import IMAGE_SUFFIXES, distinct_values, image_info, read_image, read_mask
from .slides import is_slide

log = logging.getLogger(__name__)

MASK_TAGS = ("_mask", "_label", "_labels", "_gt", "_groundtruth")
ERROR, WARNING = "error", "warning"
PROBLEM_KINDS = {  # kind -> (severity, table heading)
    "unreadable": (ERROR, "unreadable files"),
    "shape_mismatch": (ERROR, "shape mismatches"),
    "non_binary_mask": (ERROR, "non-binary masks"),
    "duplicate": (ERROR, "duplicates"),
    "unpaired_image": (WARNING, "unpaired images"),
    "orphan_mask": (WARNING, "orphan masks"),
    "no_images": (ERROR, "no images"),
    "no_foreground": (ERROR, "no foreground"),
}


@dataclass(frozen=True)
class Pair:
    stem: str
    image: Path
    mask: Path


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`check_dataset`; ``message`` names the file(s) and the fix."""

    kind: str  # a key of PROBLEM_KINDS
    message: str
    paths: tuple[Path, ...] = ()

    @property
    def severity(self) -> str:
        return PROBLEM_KINDS[self.kind][0]


@dataclass(frozen=True)
class DatasetReport:
    """Result of :func:`check_dataset`. ``pairs`` holds only pairs that passed every check."""

    root: Path
    pairs: tuple[Pair, ...]
    problems: tuple[Problem, ...]
    n_images: int
    n_masks: int
    n_empty_masks: int = 0
    labels: bool = False
    layout: str = ""
    seconds: float = field(default=0.0, compare=False)

    @property
    def usable(self) -> bool:
        """At least one valid pair: training can start."""
        return bool(self.pairs)

    @property
    def ok(self) -> bool:
        """Usable and no error-level problem (warnings such as unpaired images are allowed)."""
        return self.usable and not self.errors

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == ERROR)

    def of_kind(self, kind: str) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.kind == kind)

    @property
    def unpaired_images(self) -> tuple[Problem, ...]:
        return self.of_kind("unpaired_image")

    @property
    def orphan_masks(self) -> tuple[Problem, ...]:
        return self.of_kind("orphan_mask")

    @property
    def shape_mismatches(self) -> tuple[Problem, ...]:
        return self.of_kind("shape_mismatch")

    @property
    def non_binary_masks(self) -> tuple[Problem, ...]:
        return self.of_kind("non_binary_mask")

    @property
    def unreadable(self) -> tuple[Problem, ...]:
        return self.of_kind("unreadable")

    @property
    def duplicates(self) -> tuple[Problem, ...]:
        return self.of_kind("duplicate")

    def table(self) -> str:
        """Plain-text report: counts, then one line per problem."""
        lines = [f"Dataset: {self.root}", f"Layout:  {self.layout}",
                 f"  {'images found':<22}{self.n_images:>6}", f"  {'masks found':<22}{self.n_masks:>6}",
                 f"  {'usable pairs':<22}{len(self.pairs):>6}"]
        for kind, (_, heading) in PROBLEM_KINDS.items():
            if kind not in ("no_images", "no_foreground"):
                lines.append(f"  {heading:<22}{len(self.of_kind(kind)):>6}")
        lines.append(f"  {'empty masks (no fg)':<22}{self.n_empty_masks:>6}")
        if self.problems:
            n_err = len(self.errors)
            lines.append(f"Problems ({n_err} errors, {len(self.problems) - n_err} warnings):")
            lines += [f"  {p.severity:<8}{p.message}" for p in self.problems]
        verdict = "OK" if self.ok else ("NOT USABLE" if not self.usable else "PROBLEMS")
        lines.append(f"Result: {verdict}: {len(self.pairs)} usable pairs, "
                     f"{len(self.errors)} errors, {len(self.problems) - len(self.errors)} warnings")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "root": str(self.root), "layout": self.layout, "labels": self.labels,
            "n_images": self.n_images, "n_masks": self.n_masks,
            "n_empty_masks": self.n_empty_masks, "usable": self.usable, "ok": self.ok,
            "pairs": [{"stem": p.stem, "image": str(p.image), "mask": str(p.mask)}
                      for p in self.pairs],
            "problems": [{"kind": p.kind, "severity": p.severity, "message": p.message,
                          "paths": [str(x) for x in p.paths]} for p in self.problems],
        }


@dataclass(frozen=True)
class _Matching:
    pairs: tuple[Pair, ...]
    problems: tuple[Problem, ...]
    n_images: int
    n_masks: int
    layout: str


def find_pairs(root: str | os.PathLike) -> list[Pair]:
    """Image/mask pairs matched by whole stem, sorted by stem; no file is opened.

    Images without a mask, orphan masks and ambiguous (duplicate) stems are left out; use
    :func:`check_dataset` to see them.
    """
    return list(_match(Path(root)).pairs)


def training_pairs(root: str | os.PathLike) -> list[Pair]:
    """:func:`find_pairs`, but DataError when stems are ambiguous instead of leaving them out.

    Training must not silently drop images that :func:`check_dataset` would refuse."""
    matching = _match(Path(root))
    duplicates = [p.message for p in matching.problems if p.kind == "duplicate"]
    if duplicates:
        raise DataError(f"{root}: " + "; ".join(duplicates[:5])
                        + " (training would leave these images out; `eq data check` lists them)")
    return list(matching.pairs)


def check_dataset(root: str | os.PathLike, *, labels: bool = False, decode_images: bool = False,
                  on_event: EventCallback | None = None,
                  cancel: CancelToken | None = None) -> DatasetReport:
    """Pair and validate a dataset folder.

    Each mask is decoded (values and shape); each image is checked from its header plus a
    truncation check, or fully decoded with ``decode_images=True``. A mask with more than two
    values is an error unless ``labels=True`` (label images). Emits ``Progress("check_dataset",
    ...)`` per pair and honours ``cancel``.
    """
    import time

    start = time.perf_counter()
    root = Path(root)
    matching = _match(root)
    pairs, problems, n_empty = [], list(matching.problems), 0
    total = len(matching.pairs)
    for step, pair in enumerate(matching.pairs):
        check_cancel(cancel)
        emit(on_event, Progress("check_dataset", step, total, pair.stem))
        found, empty = _check_pair(pair, root, labels=labels, decode_images=decode_images)
        problems += found
        n_empty += empty
        if not found:
            pairs.append(pair)
    emit(on_event, Progress("check_dataset", total, total, "done"))
    if pairs and n_empty == total:
        problems.append(Problem("no_foreground", f"every mask is empty ({total} of {total} have "
                                "no foreground pixel): training cannot learn from it and any "
                                "empty prediction would score a perfect 1 against it; check the "
                                "masks were exported with foreground values", (root,)))
    problems.sort(key=lambda p: (p.severity != ERROR, p.kind, p.message))
    return DatasetReport(root, tuple(pairs), tuple(problems), matching.n_images, matching.n_masks,
                         n_empty, labels, matching.layout, time.perf_counter() - start)


def _check_pair(pair: Pair, root: Path, *, labels: bool, decode_images: bool
                ) -> tuple[list[Problem], bool]:
    """Problems of one pair, and whether its mask is all background."""
    try:
        if decode_images and not is_slide(pair.image):  # a slide's full level may not fit
            image = read_image(pair.image)
            spatial = image.shape[:-1] if image.ndim >= 3 and image.shape[-1] == 3 else image.shape
        else:
            spatial = image_info(pair.image).spatial_shape
    except DataError as exc:
        return [Problem("unreadable", _rel(exc, root), (pair.image,))], False
    try:
        mask = read_mask(pair.mask, binary=False)
    except DataError as exc:
        return [Problem("unreadable", _rel(exc, root), (pair.mask,))], False
    found = []
    values = distinct_values(mask)
    if not labels and (len(values) > 2 or (len(values) == 2 and values[0] != 0)):
        shown = ", ".join(str(v) for v in values[:5]) + (", ..." if len(values) > 5 else "")
        found.append(Problem("non_binary_mask", f"{_short(pair.mask, root)}: {len(values)} "
                             f"distinct values ({shown}); a binary mask has 0 and one other "
                             "value (check with --labels if these are label images)", (pair.mask,)))
    if tuple(mask.shape) != tuple(spatial):
        found.append(Problem("shape_mismatch", f"{_short(pair.mask, root)}: mask shape "
                             f"{mask.shape} but image {_short(pair.image, root)} is {spatial}",
                             (pair.image, pair.mask)))
    return found, not values.any()


def _rel(exc: DataError, root: Path) -> str:
    return str(exc).replace(f"{root}{os.sep}", "")


def _short(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def image_files(folder: Path) -> list[Path]:
    """The visible image files (by suffix) directly in ``folder``, sorted; [] if no folder."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                  and p.suffix.lower() in IMAGE_SUFFIXES)


def file_stem(path: str | os.PathLike) -> str:
    """A file's name without its suffix, ``.ome.tif(f)`` counted as one suffix."""
    path = Path(path)
    name = path.name
    for double in (".ome.tif", ".ome.tiff"):
        if name.lower().endswith(double):
            return name[: -len(double)]
    return path.stem


def _untag(stem: str) -> str | None:
    """``X`` for ``X_mask`` and the other tags, else None."""
    lower = stem.lower()
    for tag in MASK_TAGS:
        if lower.endswith(tag) and len(stem) > len(tag):
            return stem[: -len(tag)]
    return None


def _match(root: Path) -> _Matching:
    if not root.is_dir():
        raise DataError(f"{root}: dataset folder not found")
    images_dir = root / "images" if (root / "images").is_dir() else root
    masks_dir = root / "masks" if (root / "masks").is_dir() else None
    layout = ("images/" if images_dir != root else "files in the folder") + (
        " + masks/" if masks_dir else " (masks beside images)")
    in_images = image_files(images_dir)
    stems_there = {file_stem(p) for p in in_images}
    images: dict[str, list[Path]] = defaultdict(list)
    mask_keys: list[tuple[Path, tuple[str, ...]]] = []
    for path in in_images:  # a tagged file beside its image is a mask, otherwise an image
        base = _untag(file_stem(path))
        if base is not None and base in stems_there:
            mask_keys.append((path, (base,)))
        else:
            images[file_stem(path)].append(path)
    for path in image_files(masks_dir) if masks_dir else []:
        stem = file_stem(path)
        base = _untag(stem)
        mask_keys.append((path, (stem,) if base is None else (stem, base)))
    return _assign(root, images, mask_keys, layout)


def _assign(root: Path, images: dict[str, list[Path]],
            mask_keys: list[tuple[Path, tuple[str, ...]]], layout: str) -> _Matching:
    masks: dict[str, list[Path]] = defaultdict(list)
    problems = []
    for path, keys in mask_keys:
        key = next((k for k in keys if k in images), None)  # the whole stem first
        if key is None:
            problems.append(Problem("orphan_mask", f"{_short(path, root)}: no image with stem "
                                    f"{' or '.join(repr(k) for k in keys[::-1])}", (path,)))
        else:
            masks[key].append(path)
    pairs = []
    for stem in sorted(images):
        found_images, found_masks = images[stem], sorted(masks.get(stem, []))
        names = ", ".join(_short(p, root) for p in found_images + found_masks)
        if len(found_images) > 1:
            problems.append(Problem("duplicate", f"{names}: {len(found_images)} images share stem "
                                    f"{stem!r}; keep one", tuple(found_images + found_masks)))
        elif len(found_masks) > 1:
            problems.append(Problem("duplicate", f"{names}: {len(found_masks)} masks for one "
                                    "image; keep one", tuple(found_images + found_masks)))
        elif not found_masks:
            problems.append(Problem("unpaired_image", f"{_short(found_images[0], root)}: no mask "
                                    f"(looked for masks/{stem}.* and {stem}_mask.*, ...)",
                                    (found_images[0],)))
        else:
            pairs.append(Pair(stem, found_images[0], found_masks[0]))
    if not images:
        problems.append(Problem("no_images", f"{root}: no images found (expected images/<stem>"
                                ".tif|.png|.jpg, or image files in the folder)", (root,)))
    return _Matching(tuple(pairs), tuple(problems), sum(map(len, images.values())),
                     len(mask_keys), layout)
