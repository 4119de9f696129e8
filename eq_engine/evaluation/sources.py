"""What to score: truth masks (with optional images and valid regions) paired with predictions.

A *truth* source is a dataset folder (``images/`` + ``masks/``, as :mod:`eq_engine.io.datasets`
pairs them; a ``valid_regions/<stem>.png`` restricts scoring to its foreground), a folder of
masks, or a list of :class:`~eq_engine.io.datasets.Pair`. A *prediction* folder holds, per
stem, ``<stem>_prob.tif`` (probability, enables the threshold sweep) or a mask named
``<stem>_mask.*``, ``<stem>_pred.*`` or ``<stem>.*`` (what ``eq predict`` writes, or a copy of
the truth folder for an oracle). Anything unpaired or ambiguous is an error that lists it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from ..io.datasets import image_files

PRED_TAGS = ("_prob", "_mask", "_pred", "")  # _prob: a probability map, the rest masks
TRUTH_TAGS = ("_mask", "_label", "_labels", "_gt", "_groundtruth", "")
VALID_DIR = "valid_regions"


@dataclass(frozen=True)
class EvalItem:
    """One image to score. ``image``, ``valid`` and the prediction files are optional.

    ``prediction`` is the mask to score (or, without one, the probability map, thresholded);
    ``probability`` is the probability map, when there is one, for the threshold sweep.
    """

    name: str
    truth: Path
    image: Path | None = None
    valid: Path | None = None
    prediction: Path | None = None
    probability: Path | None = None


def _key(path: Path, tags: Sequence[str], known: set[str]) -> tuple[str, int]:
    """``(stem, tag rank)`` of a file: a whole stem in ``known`` wins, else the first tag off."""
    stem = path.stem
    if stem in known:
        return stem, tags.index("")
    for rank, tag in enumerate(tags):
        if tag and stem.lower().endswith(tag) and len(stem) > len(tag):
            return stem[: -len(tag)], rank
    return stem, tags.index("")


def _raise_problems(what: str, missing: list[str], extra: list[str], ambiguous: list[str]) -> None:
    parts = []
    if missing:
        parts.append(f"no prediction for {len(missing)} truth mask(s): {missing[:10]}")
    if extra:
        parts.append(f"{len(extra)} prediction(s) without a truth mask: {extra[:10]}")
    if ambiguous:
        parts.append(f"several candidate files for: {ambiguous[:10]}")
    if parts:
        raise DataError(f"{what}: " + "; ".join(parts) +
                        ". Predictions must be named <stem>_prob.tif, <stem>_mask.* or <stem>.*")


def _valid_for(root: Path, stem: str) -> Path | None:
    folder = root / VALID_DIR
    if not folder.is_dir():
        return None
    found = [p for p in image_files(folder) if p.stem == stem]
    return found[0] if found else None


def dataset_items(root: str | os.PathLike) -> list[EvalItem]:
    """Items of a dataset folder; DataError listing unpaired images, orphan masks, bad files."""
    from ..io.datasets import check_dataset

    root = Path(root)
    report = check_dataset(root)
    # orphan masks, and all-empty truth (the report flags it), do not block scoring
    blocking = [p for p in report.problems
                if p.kind not in ("orphan_mask", "no_foreground") or not report.pairs]
    if blocking or not report.pairs:
        listed = "\n  ".join(p.message for p in report.problems) or "no image/mask pairs"
        raise DataError(f"{root}: cannot evaluate this dataset:\n  {listed}\n"
                        "Fix or remove the files listed (eq data check shows the same report).")
    return [EvalItem(p.stem, p.mask, p.image, _valid_for(root, p.stem)) for p in report.pairs]


def truth_items(truth: str | os.PathLike | Sequence) -> list[EvalItem]:
    """Items from a dataset folder, a folder of masks, or a list of Pair."""
    if not isinstance(truth, (str, os.PathLike)):
        return [EvalItem(p.stem, Path(p.mask), Path(p.image)) for p in truth]
    root = Path(truth)
    if not root.is_dir():
        raise DataError(f"{root}: truth folder not found")
    if (root / "images").is_dir():
        return dataset_items(root)
    masks = root / "masks" if (root / "masks").is_dir() else root
    by_stem: dict[str, list[Path]] = {}
    for path in image_files(masks):
        by_stem.setdefault(_key(path, TRUTH_TAGS, set())[0], []).append(path)
    ambiguous = sorted(s for s, ps in by_stem.items() if len(ps) > 1)
    if ambiguous:
        raise DataError(f"{masks}: several masks for {ambiguous[:10]}; keep one per stem")
    if not by_stem:
        raise DataError(f"{masks}: no masks (.png, .tif) found")
    return [EvalItem(stem, ps[0], valid=_valid_for(root, stem)) for stem, ps in sorted(by_stem.items())]


def attach_predictions(items: list[EvalItem], pred_dir: str | os.PathLike) -> list[EvalItem]:
    """Pair each truth item with its prediction file in ``pred_dir``; every file must pair."""
    pred_dir = Path(pred_dir)
    if not pred_dir.is_dir():
        raise DataError(f"{pred_dir}: prediction folder not found")
    folder = pred_dir / "masks" if (pred_dir / "masks").is_dir() else pred_dir
    known = {item.name for item in items}
    candidates: dict[str, list[tuple[int, Path]]] = {}
    for path in image_files(folder):
        if path.stem.endswith("_labels") and path.stem not in known:
            continue  # instance labels written beside the mask by eq predict
        stem, rank = _key(path, PRED_TAGS, known)
        candidates.setdefault(stem, []).append((rank, path))
    paired, missing, ambiguous = [], [], []
    for item in items:
        found = candidates.pop(item.name, [])
        probs = [p for rank, p in found if rank == 0]
        masks = sorted((rank, p) for rank, p in found if rank > 0)
        if not found:
            missing.append(item.name)
        elif len(probs) > 1 or (len(masks) > 1 and masks[0][0] == masks[1][0]):
            ambiguous.append(item.name)
        else:
            prob = probs[0] if probs else None
            paired.append(EvalItem(item.name, item.truth, item.image, item.valid,
                                   masks[0][1] if masks else prob, prob))
    extra = sorted(p.name for found in candidates.values() for _, p in found)
    _raise_problems(f"{pred_dir} vs truth", missing, extra, ambiguous)
    return paired
