"""``evaluate_arrays``: score one prediction array against one truth array (no files).

The same scoring as :func:`eq_engine.evaluation.evaluate`, for callers that hold arrays: a GUI
scoring two layers, a notebook. A float array is a probability map and is thresholded at
``config.threshold``; an integer or bool array counts as its non-zero pixels.
"""

from __future__ import annotations

import time

import numpy as np

from ..config import EvalConfig
from ..errors import DataError
from .report import EvalReport
from .scoring import Sample, aggregate, score_sample


def evaluate_arrays(prediction, truth, config: EvalConfig = EvalConfig(), *,
                    name: str = "image", valid=None) -> EvalReport:
    """An :class:`EvalReport` (one per-image row, its object rows, aggregates) for one image.

    ``prediction``: probability map (float) or mask/labels (bool/int); ``truth``: mask or
    labels of the same shape; ``valid``: optional bool mask of the pixels to score. ``name``
    labels the rows (use the image's name, not the prediction's).
    """
    start = time.perf_counter()
    prediction, truth = np.asarray(prediction), np.asarray(truth)
    if prediction.shape != truth.shape:
        raise DataError(f"prediction {prediction.shape} and truth {truth.shape} differ in shape; "
                        "score a prediction against the truth drawn on the same image")
    if truth.dtype.kind not in "biu":
        raise DataError(f"truth must be a mask or labels (bool or integers), got {truth.dtype}")
    probability = prediction.dtype.kind == "f"
    if probability:
        from .metrics import binarize

        pred = binarize(prediction.astype(np.float32, copy=False), threshold=config.threshold)
    else:
        pred = prediction != 0
    threshold = config.threshold if probability else None
    mask = None if valid is None else np.asarray(valid, bool)
    row, objects, counts, match = score_sample(Sample(name, truth, pred, threshold, valid=mask),
                                               match_iou=config.match_iou)
    report = EvalReport([row], objects, aggregate([counts], [match]),
                        source={"arrays": name}, config=config.to_dict())
    report.seconds = time.perf_counter() - start
    return report
