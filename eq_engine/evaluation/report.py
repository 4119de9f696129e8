"""The evaluation report: tables, aggregates, CSV/JSON output and overlay images."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_write_text
from ..jsonsafe import jsonable

AGGREGATE_MEANING = {
    "pooled": "pixel (object) counts summed over all images, then the metric: large images and "
              "images with much foreground weigh more",
    "mean": "the metric per image, then averaged over images (std alongside): every image "
            "weighs the same",
}
OVERLAY_COLOURS = {"tp": (0, 200, 0), "fp": (255, 140, 0), "fn": (0, 120, 255)}  # FP orange: PAS is magenta
OVERLAY_MAX_SIDE = 1024
OVERLAY_ALPHA = 0.45


@dataclass
class EvalReport:
    """Result of :func:`eq_engine.evaluation.evaluate`.

    ``per_image``: one row per image (Dice, IoU, precision, recall, pixel counts, object
    scores). ``per_object``: one row per object (kind ``matched``/``missed``/``false_positive``,
    labels, matched IoU, area, centroid, bounding box) for jumping to it. ``aggregates``:
    ``{"pooled": {...}, "mean": {...}}`` as described by ``aggregates["meaning"]``.
    ``baselines``: the same aggregates for all-background and Otsu predictions (when images are
    available). ``sweep``: pooled/mean Dice per threshold (when probabilities are available)
    and ``recommended_threshold``, the one with the best pooled Dice.
    """

    per_image: list[dict]
    per_object: list[dict]
    aggregates: dict
    baselines: dict | None = None
    sweep: list[dict] | None = None
    recommended_threshold: float | None = None
    overlays: list[str] = field(default_factory=list)
    source: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def n_truth_empty(self) -> int:
        """Images whose (scored) truth has no foreground pixel."""
        return sum(1 for r in self.per_image if r["tp"] + r["fn"] == 0)

    @property
    def n_both_empty(self) -> int:
        """Images where truth and prediction are both empty: they score 1 by the empty policy
        of :mod:`eq_engine.evaluation.metrics`, which says nothing about segmentation."""
        return sum(1 for r in self.per_image if r["tp"] + r["fn"] + r["fp"] == 0)

    def summary(self) -> dict:
        """Everything except the tables, JSON-ready."""
        return {"source": self.source, "config": self.config, "n_images": len(self.per_image),
                "n_objects": len(self.per_object), "aggregates": self.aggregates,
                "baselines": self.baselines, "sweep": self.sweep,
                "recommended_threshold": self.recommended_threshold,
                "overlays": self.overlays, "seconds": self.seconds,
                "n_truth_empty": self.n_truth_empty, "n_both_empty": self.n_both_empty,
                "warnings": list(self.warnings)}

    def to_json(self, path: str | os.PathLike, *, tables: bool = True) -> Path:
        """Write the summary (and, with ``tables``, both tables) as JSON; NaN becomes null."""
        data = self.summary()
        if tables:
            data |= {"per_image": self.per_image, "per_object": self.per_object}
        text = json.dumps(jsonable(data), indent=2, allow_nan=False)
        return atomic_write_text(path, text + "\n")

    def to_csv(self, folder: str | os.PathLike) -> list[Path]:
        """Write ``per_image.csv``, ``per_object.csv`` (and ``sweep.csv``) into ``folder``."""
        folder = Path(folder)
        tables = {"per_image.csv": self.per_image, "per_object.csv": self.per_object}
        if self.sweep:
            tables["sweep.csv"] = self.sweep
        else:  # an earlier run's sweep would pass for this one's
            (folder / "sweep.csv").unlink(missing_ok=True)
        return [atomic_write_text(folder / name, rows_to_csv(rows)) for name, rows in tables.items()]

    def write(self, folder: str | os.PathLike) -> list[Path]:
        """CSV tables plus ``summary.json`` into ``folder`` (overlays are written by evaluate)."""
        return self.to_csv(folder) + [self.to_json(Path(folder) / "summary.json", tables=False)]

    def table(self) -> str:
        """A short plain-text summary for the CLI and logs."""
        lines = [f"{len(self.per_image)} images, {len(self.per_object)} objects"]
        for kind in ("pooled", "mean"):
            agg = self.aggregates[kind]
            lines.append(f"  {kind:<7} Dice {agg['dice']:.4f}  IoU {agg['iou']:.4f}  precision "
                         f"{agg['precision']:.4f}  recall {agg['recall']:.4f}  object F1 "
                         f"{agg['object_f1']:.4f}")
        for name, base in (self.baselines or {}).items():
            lines.append(f"  baseline {name:<15} pooled Dice {base['pooled']['dice']:.4f}  "
                         f"IoU {base['pooled']['iou']:.4f}")
        if self.recommended_threshold is not None:
            lines.append(f"  recommended threshold {self.recommended_threshold:g} "
                         "(best pooled Dice in the sweep)")
        if self.n_both_empty:
            lines.append(f"  {self.n_both_empty} of {len(self.per_image)} images have empty truth "
                         "and empty prediction and score 1 by the empty policy")
        lines += [f"  WARNING: {w}" for w in self.warnings]
        return "\n".join(lines)


def rows_to_csv(rows: list[dict]) -> str:
    """CSV text of dict rows; columns in first-seen order, missing values empty."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue()


# ---------------------------------------------------------------- overlays


def _display(image: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """uint8 RGB background from an image (percentile-stretched), or mid-gray without one."""
    if image is None:
        return np.full((*shape, 3), 96, np.uint8)
    x = np.asarray(image, dtype=np.float32)
    x = np.repeat(x[..., None], 3, axis=2) if x.ndim == 2 else x[..., :3]
    lo, hi = np.percentile(x[::4, ::4], (0.5, 99.5))
    return (np.clip((x - lo) / max(float(hi - lo), 1e-6), 0, 1) * 255).astype(np.uint8)


def overlay_rgb(pred: np.ndarray, truth: np.ndarray, *, image: np.ndarray | None = None,
                valid: np.ndarray | None = None) -> np.ndarray:
    """uint8 RGB picture of a 2D prediction against truth: TP green, FP orange, FN blue.

    Pixels outside ``valid`` are dimmed. Large images are subsampled to at most
    :data:`OVERLAY_MAX_SIDE` pixels on their long side.
    """
    step = max(1, math.ceil(max(pred.shape) / OVERLAY_MAX_SIDE))
    sub = (slice(None, None, step), slice(None, None, step))
    p, t = pred[sub].astype(bool), truth[sub].astype(bool)
    out = _display(None if image is None else image[sub], p.shape).astype(np.float32)
    for key, where in (("tp", p & t), ("fp", p & ~t), ("fn", ~p & t)):
        colour = np.array(OVERLAY_COLOURS[key], np.float32)
        out[where] = (1 - OVERLAY_ALPHA) * out[where] + OVERLAY_ALPHA * colour
    if valid is not None:
        out[~valid[sub].astype(bool)] *= 0.35
    return out.astype(np.uint8)


def busiest_slice(pred: np.ndarray, truth: np.ndarray) -> int:
    """Index of the stack slice with the most predicted or true foreground."""
    return int(np.argmax((pred != 0).sum(axis=(1, 2)) + (truth != 0).sum(axis=(1, 2))))
