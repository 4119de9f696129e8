"""Seeded train/validation split, by image or by subject group.

With a ``group_pattern`` (a regex whose first group names the subject, e.g. ``r"^(T\\d+)_"`` for
``T19_Image3``) whole groups go to one side, so images of one animal never sit on both sides of
the split. Without it every image is its own group. A ``valid_pattern`` names the validation
images explicitly (e.g. a dataset's own ``validation_*`` slices) instead of drawing them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError


@dataclass(frozen=True)
class Split:
    """Indices into the item list; ``groups`` maps each group name to its item indices."""

    train: list[int]
    valid: list[int]
    groups: dict[str, list[int]] = field(default_factory=dict)
    valid_groups: list[str] = field(default_factory=list)


def group_of(stem: str, pattern: str | None) -> str:
    """The subject group of ``stem``; the stem itself without a pattern. DataError on no match."""
    if pattern is None:
        return stem
    match = re.search(pattern, stem)
    if match is None or not match.groups() or match.group(1) is None:
        raise DataError(f"group_pattern {pattern!r} does not match image {stem!r}; give a regex "
                        "whose first group names the subject, e.g. r'^(T\\d+)_'")
    return match.group(1)


def split_items(stems: Sequence[str], *, valid_fraction: float = 0.2, seed: int = 0,
                group_pattern: str | None = None, valid_pattern: str | None = None) -> Split:
    """Split items named ``stems`` into train and validation sets, reproducibly for ``seed``.

    ``round(valid_fraction * n_groups)`` groups (at least 1, at most n_groups - 1) go to
    validation. Needs at least two groups. With ``valid_pattern`` the stems it matches are the
    validation set (DataError if that leaves either side empty or splits a group).
    """
    if valid_pattern is not None:
        return _explicit_split(stems, valid_pattern, group_pattern)
    if not 0 < valid_fraction < 1:
        raise DataError(f"valid_fraction={valid_fraction!r} must be strictly between 0 and 1")
    groups: dict[str, list[int]] = {}
    for i, stem in enumerate(stems):
        groups.setdefault(group_of(stem, group_pattern), []).append(i)
    names = sorted(groups)
    if len(names) < 2:
        what = f"group (pattern {group_pattern!r})" if group_pattern else "image"
        raise DataError(f"need at least 2 {what}s to split into train and validation; found "
                        f"{len(names)}: {names}. Add images or change the group pattern")
    n_valid = min(max(1, int(round(valid_fraction * len(names)))), len(names) - 1)
    order = np.random.default_rng(seed).permutation(len(names))
    valid_groups = sorted(names[i] for i in order[:n_valid])
    valid = sorted(i for g in valid_groups for i in groups[g])
    train = sorted(set(range(len(stems))) - set(valid))
    return Split(train=train, valid=valid, groups=groups, valid_groups=valid_groups)


def _explicit_split(stems: Sequence[str], valid_pattern: str, group_pattern: str | None) -> Split:
    valid = [i for i, s in enumerate(stems) if re.search(valid_pattern, s)]
    train = [i for i in range(len(stems)) if i not in set(valid)]
    if not valid or not train:
        side = "no" if not valid else "every"
        raise DataError(f"valid_pattern {valid_pattern!r} matches {side} image; it must pick "
                        f"some but not all of {list(stems)[:5]}...")
    groups: dict[str, list[int]] = {}
    for i, stem in enumerate(stems):
        groups.setdefault(group_of(stem, group_pattern), []).append(i)
    valid_set = set(valid)
    mixed = sorted(g for g, idx in groups.items() if 0 < len(valid_set & set(idx)) < len(idx))
    if group_pattern is not None and mixed:
        raise DataError(f"valid_pattern {valid_pattern!r} splits subject group(s) {mixed} "
                        "between training and validation; change one of the patterns")
    valid_groups = sorted({group_of(stems[i], group_pattern) for i in valid})
    return Split(train=train, valid=valid, groups=groups, valid_groups=valid_groups)
