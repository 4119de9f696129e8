"""Grade model files: plain, self-describing JSON (never pickle).

A file holds the format tag and version, the model kind, the features with their standardisation,
coefficients, cut points and grade classes, the level it was fitted at, the training CV metrics
and sample sizes, the QuantConfig used to measure, library versions and a creation time.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from ..errors import ModelError
from ..io.atomic import atomic_write_text
from ..jsonsafe import jsonable
from ..versions import library_versions
from .ordinal import GradeModel

FORMAT = "eq-grade-model"
FORMAT_VERSION = 1
KIND = "ordinal-logistic"


def save_grade_model(path: str | os.PathLike, model: GradeModel) -> Path:
    """Write ``model`` as JSON at ``path`` (atomically); suggested suffix ``.json``."""
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": KIND,
        "link": "logit",
        "description": "P(grade <= classes[k]) = sigmoid(cut_points[k] - sum(coefficients * "
                       "(x - mean) / scale)) for features x",
        "level": model.level,
        "features": list(model.features),
        "mean": list(model.mean),
        "scale": list(model.scale),
        "coefficients": list(model.coef),
        "cut_points": list(model.cuts),
        "classes": list(model.classes),
        "l2": model.l2,
        "metadata": model.metadata,
        "versions": library_versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return atomic_write_text(path, json.dumps(jsonable(doc), indent=2, allow_nan=False) + "\n")


def load_grade_model(path: str | os.PathLike) -> GradeModel:
    """Read a grade model file written by :func:`save_grade_model`; ModelError otherwise."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is not an EQ grade model (JSON expected: {exc}); grade models "
                         "are written by `eq quantify --fit`, segmentation models are .eqm") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelError(f"{path} is not an EQ grade model (format {doc.get('format')!r} "
                         f"if any, expected {FORMAT!r})" if isinstance(doc, dict) else
                         f"{path} is not an EQ grade model")
    if doc.get("format_version", 0) > FORMAT_VERSION or doc.get("kind") != KIND:
        raise ModelError(f"{path}: grade model version {doc.get('format_version')} / kind "
                         f"{doc.get('kind')!r} is not supported by this EQ; upgrade EQ")
    try:
        model = GradeModel(
            features=tuple(doc["features"]), mean=tuple(map(float, doc["mean"])),
            scale=tuple(map(float, doc["scale"])), coef=tuple(map(float, doc["coefficients"])),
            cuts=tuple(map(float, doc["cut_points"])), classes=tuple(map(float, doc["classes"])),
            level=str(doc["level"]), l2=float(doc.get("l2", 0.0)),
            metadata={**doc.get("metadata", {}), "versions": doc.get("versions"),
                      "created": doc.get("created")},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: grade model is missing or has a bad field ({exc})") from exc
    p, k = len(model.features), len(model.classes)
    if not (len(model.mean) == len(model.scale) == len(model.coef) == p
            and len(model.cuts) == k - 1 and k >= 2):
        raise ModelError(f"{path}: inconsistent grade model ({p} features, {k} classes, "
                         f"{len(model.cuts)} cut points)")
    return model
