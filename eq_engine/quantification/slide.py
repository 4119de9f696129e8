"""Quantify a whole slide: every glomerulus found by :func:`~eq_engine.inference.slide.
predict_slide`, measured at full resolution, optionally graded, with a per-slide summary.

Each glomerulus is measured on its level-0 crop (bounding box plus a margin) with its mask
brought up from the model's scale, exactly as :func:`~eq_engine.quantification.features.
glomerulus_features` measures fields. The per-image lumen and nuclei thresholds of the field
pipeline become per-slide thresholds from a sample of glomerulus crops.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import QuantConfig
from ..config.slide import SlideConfig
from ..events import CancelToken, EventCallback, Progress, check_cancel, emit
from ..io.atomic import atomic_path, atomic_write_text
from .tables import QuantTable

log = logging.getLogger(__name__)
MARGIN = 16  # level-0 px around each glomerulus crop
SAMPLE_CROPS = 64


@dataclass(frozen=True)
class SlideQuant:
    """The per-glomerulus table, the per-slide summary and the files written."""

    glomeruli: QuantTable
    summary: dict
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0


def _crop(slide, labels0, plan, row: dict):
    """Level-0 crop around one object and its mask (labels resized nearest from analysis)."""
    from skimage.transform import resize

    height, width = plan.slide_shape
    y0, x0 = max(0, row["bbox_y0"] - MARGIN), max(0, row["bbox_x0"] - MARGIN)
    y1, x1 = min(height, row["bbox_y1"] + MARGIN), min(width, row["bbox_x1"] + MARGIN)
    crop = slide.level(0)[y0:y1, x0:x1]
    fy, fx = plan.to_slide
    ay0, ax0 = int(y0 / fy), int(x0 / fx)
    ay1, ax1 = int(np.ceil(y1 / fy)), int(np.ceil(x1 / fx))
    small = np.asarray(labels0[ay0:ay1, ax0:ax1])
    # nearest-neighbour up to level 0, then trim the analysis-pixel rounding
    big = resize(small, (round((ay1 - ay0) * fy), round((ax1 - ax0) * fx)), order=0,
                 preserve_range=True, anti_aliasing=False)
    oy, ox = round(y0 - ay0 * fy), round(x0 - ax0 * fx)
    mask = big[oy:oy + crop.shape[0], ox:ox + crop.shape[1]] == row["id"]
    if mask.shape != crop.shape[:2]:
        mask = np.pad(mask, ((0, crop.shape[0] - mask.shape[0]), (0, crop.shape[1] - mask.shape[1])))
    return crop, mask


def slide_thresholds(crops: list[np.ndarray], config: QuantConfig):
    """Per-slide lumen/nuclei thresholds from glomerulus crops (the field pipeline's 3-class
    Otsu over the crops side by side)."""
    from .features import image_thresholds

    height = max(c.shape[0] for c in crops)
    padded = [np.pad(c, ((0, height - c.shape[0]),) + ((0, 0),) * (c.ndim - 1), mode="edge")
              for c in crops]
    return image_thresholds(np.concatenate(padded, axis=1), config)


def measure_slide(slide_path, result, config: QuantConfig = QuantConfig(), *,
                  on_event: EventCallback | None = None,
                  cancel: CancelToken | None = None) -> QuantTable:
    """Measure every object of a :class:`~eq_engine.inference.slide.SlideResult`: its geometry
    row plus the features of :func:`glomerulus_features` on the level-0 crop."""
    from ..inference.slide_labels import read_ome_zarr_levels
    from ..io.slides import open_slide
    from .features import glomerulus_features

    rows = result.rows
    if not rows:
        return QuantTable([], "glomerulus")
    labels0 = read_ome_zarr_levels(result.files["labels"])[0]
    name = Path(slide_path).name
    out = []
    with open_slide(slide_path) as slide:
        picks = np.unique(np.linspace(0, len(rows) - 1, min(SAMPLE_CROPS, len(rows))).astype(int))
        thresholds = slide_thresholds([_crop(slide, labels0, result.plan, rows[i])[0]
                                       for i in picks], config)
        for i, row in enumerate(rows, start=1):
            check_cancel(cancel)
            crop, mask = _crop(slide, labels0, result.plan, row)
            excluded = bool(row["touches_border"]) and config.exclude_border
            measured = {"image": name, "label": row["id"], **row, "excluded": excluded,
                        "exclude_reason": "border" if excluded else ""}
            if mask.any():
                measured.update(glomerulus_features(crop, mask, thresholds, config))
            out.append(measured)
            emit(on_event, Progress("measure", i, len(rows), name))
    return QuantTable(out, "glomerulus")


def slide_summary(table: QuantTable, *, slide: str, mpp: float | None) -> dict:
    """Counts, areas, mean openness and the grade distribution of one slide."""
    included = table.included()
    summary: dict = {"slide": slide, "glomeruli": len(table), "included": len(included),
                     "excluded_border": len(table) - len(included), "mpp": mpp}
    for column in ("area_um2", "openness"):
        values = included.column(column) if included.rows and column in included.columns else []
        values = np.asarray(values, float)
        values = values[np.isfinite(values)]
        summary[f"{column}_mean"] = float(values.mean()) if values.size else None
    if included.rows and "grade_class" in included.columns:
        grades = included.column("grade_class")
        grades = grades[np.isfinite(grades)]
        summary["grade_counts"] = {f"{g:g}": int((grades == g).sum()) for g in np.unique(grades)}
        summary["grade_mean"] = float(grades.mean()) if grades.size else None
        expected = included.column("grade_expected")
        summary["grade_expected_mean"] = float(np.nanmean(expected)) if grades.size else None
    return summary


def plot_histogram(table: QuantTable, path: str | os.PathLike, *, title: str) -> Path:
    """Bar chart of glomeruli per grade (with a grade model) or histogram of tuft openness."""
    from matplotlib.figure import Figure  # Agg, never a GUI

    included = table.included()
    fig = Figure(figsize=(5, 3.5), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    if included.rows and "grade_class" in included.columns:
        grades = included.column("grade_class")
        grades = grades[np.isfinite(grades)]
        classes = np.unique(grades)
        ax.bar([f"{g:g}" for g in classes], [(grades == g).sum() for g in classes],
               color="tab:purple")
        ax.set_xlabel("endotheliosis grade (grade model)")
    else:
        values = included.column("openness") if included.rows else np.zeros(0)
        ax.hist(values[np.isfinite(values)], bins=20, color="tab:blue")
        ax.set_xlabel("open lumen fraction of the tuft")
    ax.set_ylabel("glomeruli")
    ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)


def quantify_slide(model, slide_path: str | os.PathLike, out: str | os.PathLike,
                   config: QuantConfig = QuantConfig(), slide_config: SlideConfig = SlideConfig(),
                   *, grade_model: str | os.PathLike | None = None, scheduler: str | None = None,
                   overwrite: bool = False, on_event: EventCallback | None = None,
                   cancel: CancelToken | None = None) -> SlideQuant:
    """Predict (or resume) a slide with ``model``, measure and grade every glomerulus, and write
    ``glomeruli.csv``, ``summary.json`` and ``histogram.png`` beside the slide outputs."""
    from ..inference.slide import predict_slide
    from .grade_model_io import load_grade_model
    from .grading import grade

    start = time.perf_counter()
    out = Path(out)
    grader = load_grade_model(grade_model) if grade_model else None  # fail before predicting
    result = predict_slide(model, slide_path, out, slide_config, scheduler=scheduler,
                           overwrite=overwrite, on_event=on_event, cancel=cancel)
    table = measure_slide(slide_path, result, config, on_event=on_event, cancel=cancel)
    if grader is not None and table.rows:
        table = grade(table, grader)
    summary = slide_summary(table, slide=str(slide_path), mpp=result.plan.mpp)
    files = dict(result.files)
    files["glomeruli"] = table.to_csv(out / "glomeruli.csv")
    files["summary"] = atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    files["histogram"] = plot_histogram(table, out / "histogram.png",
                                        title=f"{Path(slide_path).name}: {len(table)} glomeruli")
    return SlideQuant(table, summary, files, time.perf_counter() - start)
