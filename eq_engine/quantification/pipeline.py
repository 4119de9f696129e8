"""Quantify a folder of images: segment (or read masks), measure, grade, and write tables.

``quantify(source, images, config, out=...)`` is what ``eq quantify`` runs. ``source`` is a
segmentation model file (glomeruli are predicted) or a folder of masks/labels (matched to images
by whole stem: ``X.png``, ``X_mask.png``, ...). Outputs in ``out``: ``glomeruli.csv``,
``images.csv``, ``subjects.csv``; with grades, ``openness_vs_grade.png``; when fitting,
the grade model file, ``cv_metrics.json`` and ``cv_predictions.csv``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import PredictConfig, QuantConfig
from ..errors import ConfigError, DataError
from ..events import Finished, Progress, StageStarted, check_cancel, emit
from ..io.atomic import atomic_write_text
from .features import measure_glomeruli
from .filtering import flag_glomeruli
from .grading import GradeFit, fit_grade_model, grade
from .ordinal import GradeModel
from .scoresheet import ScoreSheet, check_images, read_score_sheet, subject_of
from .tables import QuantTable, aggregate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuantResult:
    """Tables at three levels, the grade fit (when fitting) or model used, and written files."""

    glomeruli: QuantTable
    images: QuantTable
    subjects: QuantTable
    fit: GradeFit | None = None
    grade_model: GradeModel | None = None
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0


def list_images(images: str | os.PathLike | list) -> list[Path]:
    """Image files from a folder (its ``images/`` subfolder if any), one file, or a list;
    files tagged as masks (``X_mask.png`` beside ``X.png``) are skipped."""
    from ..io.datasets import MASK_TAGS, image_files

    if isinstance(images, (list, tuple)):
        paths = [Path(p) for p in images]
    else:
        root = Path(images)
        if root.is_file():
            return [root]
        if not root.is_dir():
            raise DataError(f"{root}: no such image file or folder")
        folder = root / "images" if (root / "images").is_dir() else root
        paths = image_files(folder)
        stems = {p.stem for p in paths}
        paths = [p for p in paths if not any(
            p.stem.lower().endswith(t) and p.stem[: -len(t)] in stems for t in MASK_TAGS)]
    if not paths:
        raise DataError(f"no images found in {images}; expected .png/.jpg/.tif files")
    return paths


def mask_reader(masks: str | os.PathLike) -> Callable[[str], np.ndarray]:
    """A function stem -> int32 labels reading ``masks/<stem>[_mask|_label|...].<ext>``."""
    from ..io.datasets import MASK_TAGS, image_files
    from ..io.images import read_mask

    root = Path(masks)
    folder = root / "masks" if (root / "masks").is_dir() else root
    by_stem: dict[str, list[Path]] = {}
    for path in image_files(folder):
        by_stem.setdefault(path.stem, []).append(path)

    def read(stem: str) -> np.ndarray:
        for key in (stem, *(stem + tag for tag in MASK_TAGS)):
            if key in by_stem:
                return read_mask(by_stem[key][0], binary=False)
        raise DataError(f"no mask for image {stem!r} in {folder} (looked for {stem}.*, "
                        f"{stem}_mask.* and other tags); add it or drop the image")

    return read


def model_segmenter(model: str | os.PathLike, config: PredictConfig) -> Callable:
    """A function (stem, image) -> labels predicting with a segmentation model (file path or
    loaded model); the model is loaded once."""
    from ..inference import predict
    from ..inference.predictor import load_for_prediction

    loaded = load_for_prediction(model, config)

    def segment(stem: str, image: np.ndarray, on_event=None, cancel=None) -> np.ndarray:
        return predict(loaded, image, config, on_event=on_event, cancel=cancel).labels

    return segment


def labels_source(source, predict_config: PredictConfig = PredictConfig()) -> Callable:
    """``(stem, image) -> labels`` for a masks folder, a model file or a loaded model."""
    if hasattr(source, "predictor") and hasattr(source, "metadata"):
        return model_segmenter(source, predict_config)
    path = Path(source)
    if path.is_dir():
        read = mask_reader(path)
        return lambda stem, image: read(stem)
    if path.is_file():
        return model_segmenter(path, predict_config)
    raise DataError(f"{path}: neither a segmentation model file nor a masks folder")


def measure_images(
    paths: list[Path], labels_for: Callable, config: QuantConfig, *, on_event=None, cancel=None,
) -> QuantTable:
    """Measure every image; ``labels_for(stem, image)`` gives its glomerulus labels."""
    from ..io.images import read_image

    tables = []
    for i, path in enumerate(paths):
        check_cancel(cancel)
        emit(on_event, Progress("quantify", i, len(paths), path.stem))
        image = read_image(path)
        labels = labels_for(path.stem, image)
        table = measure_glomeruli(image, labels, config, name=path.stem, cancel=cancel)
        if not len(table):
            log.warning("%s: no glomeruli found", path.name)
        tables.append(table)
    emit(on_event, Progress("quantify", len(paths), len(paths), "measured"))
    return flag_glomeruli(QuantTable.concat(tables, level="glomerulus"),
                          exclude_border=config.exclude_border)


def quantify(
    source, images: str | os.PathLike | list,
    config: QuantConfig = QuantConfig(), *, out: str | os.PathLike | None = None,
    grades: str | os.PathLike | None = None, fit: str | os.PathLike | None = None,
    grade_model: str | os.PathLike | GradeModel | None = None,
    predict_config: PredictConfig = PredictConfig(), allow_ungraded: bool = False,
    grade_column: str | None = None, subject_column: str | None = None,
    pixel_size: float | None = None, on_event=None, cancel=None,
) -> QuantResult:
    """Segment or read masks, measure glomeruli, optionally fit/apply a grade model, write.

    ``source``: a masks/labels folder, a segmentation model file, or a loaded model
    (:func:`eq_engine.models.loading.load_model`).
    ``grades``: a score sheet (per glomerulus or per image) used as truth and, with ``fit``
    (the path to write the grade model to), to fit one; ``grade_model``: a fitted model file
    or :class:`GradeModel` to apply. ``fit`` and ``grade_model`` are exclusive.
    ``pixel_size`` (µm per pixel) puts µm and µm² in ``glomeruli_readable.csv``.
    """
    start = time.perf_counter()
    if fit is not None and grade_model is not None:
        raise ConfigError("pass either fit (train a grade model) or grade_model (apply one)")
    if fit is not None and grades is None:
        raise ConfigError("fitting a grade model needs grades (a score sheet CSV)")
    if out is not None:
        from ..io.atomic import check_output_folder

        check_output_folder(out)
    emit(on_event, StageStarted("quantify", f"{source} -> {out}"))
    sheet = read_score_sheet(grades, grade_column=grade_column,
                             subject_column=subject_column) if grades else None
    paths = list_images(images)
    labels_for = labels_source(source, predict_config)
    table = measure_images(paths, labels_for, config, on_event=on_event, cancel=cancel)
    table = with_subjects(table, sheet, config)
    if sheet is not None:  # no silent n=0: none matching raises, some unmatched warns
        measured = list(dict.fromkeys(r["image"] for r in table.rows))
        check_images(sheet, measured, allow_missing=True, empty=[p.stem for p in paths])
    fitted, model = None, grade_model
    if fit is not None:
        from .grade_model_io import save_grade_model

        fitted = fit_grade_model(table, sheet, config, allow_missing=allow_ungraded,
                                 on_event=on_event, cancel=cancel)
        model = fitted.model
        save_grade_model(fit, model)
    elif isinstance(grade_model, (str, os.PathLike)):
        from .grade_model_io import load_grade_model

        model = load_grade_model(grade_model)
    result = tables_for(table, model, sheet)
    result = QuantResult(*result, fit=fitted, grade_model=model)
    files = write_outputs(result, out, sheet=sheet, pixel_size=pixel_size) \
        if out is not None else {}
    if fit is not None:
        files["grade_model"] = Path(fit)
    seconds = time.perf_counter() - start
    emit(on_event, Finished("quantify", message=f"{len(table)} glomeruli in {len(paths)} images"))
    return QuantResult(result.glomeruli, result.images, result.subjects, fitted, model, files,
                       seconds)


def with_subjects(table: QuantTable, sheet: ScoreSheet | None, config: QuantConfig) -> QuantTable:
    """Add a ``subject`` column: the sheet's subject column, else ``config.group_pattern``,
    else the image name itself."""
    known = {r["image"]: r["subject"] for r in sheet.rows if r.get("subject")} if sheet else {}
    subjects = [known.get(r["image"]) or subject_of(r["image"], config.group_pattern)
                or r["image"] for r in table.rows]
    return table.with_columns({"subject": subjects})


def tables_for(
    table: QuantTable, model: GradeModel | None, sheet: ScoreSheet | None,
) -> tuple[QuantTable, QuantTable, QuantTable]:
    """(glomeruli, images, subjects) with predictions (``model``) and true grades (``sheet``)."""
    if model is not None:
        table = grade(table, model)
    if sheet is not None and sheet.level == "glomerulus":
        from .scoresheet import glomerulus_grades

        table = table.with_columns({"grade_true": glomerulus_grades(table, sheet)})
    images = aggregate(table, by="image")
    if model is not None and model.level == "image":
        # an image-level model was fitted on per-image means: apply it to exactly those
        images = grade(images, model)
    if sheet is not None and sheet.level == "image":
        truth = {r["image"]: r["grade"] for r in sheet.rows}
        images = images.with_columns({"grade_true": [truth.get(r["image"], math.nan)
                                                     for r in images.rows]})
    subjects = aggregate(table, by="subject")
    if model is not None:
        mean_grade = {}
        for row in images.rows:
            mean_grade.setdefault(row["subject"], []).append(row.get("grade_expected", math.nan))
        subjects = subjects.with_columns({"image_grade_mean": [
            float(np.nanmean(mean_grade[r["subject"]])) if np.isfinite(
                mean_grade[r["subject"]]).any() else math.nan for r in subjects.rows]})
    return table, images, subjects


def write_outputs(
    result: QuantResult, out: str | os.PathLike, *, sheet: ScoreSheet | None = None,
    pixel_size: float | None = None,
) -> dict[str, Path]:
    """Write the CSV tables (``glomeruli_readable.csv``: headers with units, rounded), the CV
    report (when fitted) and, with a sheet, the plot."""
    from .presentation import COLUMNS, readable_rows

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    readable = readable_rows(result.glomeruli.rows, list(COLUMNS), pixel_size)
    files = {
        "glomeruli": result.glomeruli.to_csv(out / "glomeruli.csv"),
        "glomeruli_readable": QuantTable(readable).to_csv(out / "glomeruli_readable.csv"),
        "images": result.images.to_csv(out / "images.csv"),
        "subjects": result.subjects.to_csv(out / "subjects.csv"),
    }
    if result.fit is not None:
        from ..jsonsafe import jsonable

        if result.fit.cv is not None:
            files["cv_metrics"] = atomic_write_text(
                out / "cv_metrics.json", json.dumps(jsonable(result.fit.cv.to_dict()), indent=2))
            files["cv_predictions"] = result.fit.cv.predictions.to_csv(out / "cv_predictions.csv")
    if sheet is not None:
        from .plots import plot_openness_vs_grade

        level = result.glomeruli if sheet.level == "glomerulus" else result.images
        cv = result.fit.cv if result.fit is not None else None
        files["plot"] = plot_openness_vs_grade(level, out / "openness_vs_grade.png", cv=cv)
    return files

