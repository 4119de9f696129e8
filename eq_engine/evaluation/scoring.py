"""``evaluate``: score a model on a dataset, or prediction files against truth masks.

Every number comes from :mod:`eq_engine.evaluation.metrics`: pixel counts per image
(:class:`~eq_engine.evaluation.metrics.Confusion`), pooled by adding counts; objects by
:func:`~eq_engine.evaluation.metrics.match_objects`. Where a dataset has
``valid_regions/<stem>.png``, only pixels (and objects, clipped) inside it are scored.
"""

from __future__ import annotations

import heapq
import logging
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..config import EvalConfig, PredictConfig
from ..errors import ConfigError, DataError
from ..events import CancelToken, EventCallback, Progress, check_cancel, emit
from . import metrics as m
from .baselines import BASELINES, baseline_masks
from .report import AGGREGATE_MEANING, EvalReport, busiest_slice, overlay_rgb
from .sources import EvalItem, attach_predictions, truth_items
from .sweep import summarize_sweep, sweep_confusions

log = logging.getLogger(__name__)


@dataclass
class Sample:
    """One image's arrays, ready to score (truth as labels, prediction as a bool mask)."""

    name: str
    truth: np.ndarray
    pred: np.ndarray
    threshold: float | None
    probability: np.ndarray | None = None
    image: np.ndarray | None = None
    valid: np.ndarray | None = None


@dataclass
class _Tally:
    rows: list[dict] = field(default_factory=list)
    objects: list[dict] = field(default_factory=list)
    confusions: list[m.Confusion] = field(default_factory=list)
    matches: list[m.ObjectMatch] = field(default_factory=list)
    baselines: dict[str, list[m.Confusion]] = field(default_factory=dict)
    sweep: list[list[m.Confusion]] = field(default_factory=list)
    best: list = field(default_factory=list)  # heaps of (score, order, name, rgb)
    worst: list = field(default_factory=list)


def score_sample(s: Sample, *, match_iou: float) -> tuple[dict, list[dict], m.Confusion,
                                                        m.ObjectMatch]:
    """Per-image row, per-object rows, pixel counts and object match of one sample."""
    truth, pred = s.truth, s.pred
    if s.valid is not None:
        truth, pred = np.where(s.valid, truth, 0), pred & s.valid
    c = m.confusion(pred[s.valid] if s.valid is not None else pred, truth[s.valid]
                    if s.valid is not None else truth)
    match = m.match_objects(pred, truth, match_iou=match_iou)
    n = max(c.total, 1)
    row = {"image": s.name, "dice": m.dice_from_counts(c), "iou": m.iou_from_counts(c),
           "precision": m.precision_from_counts(c), "recall": m.recall_from_counts(c),
           "tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn,
           "truth_fraction": (c.tp + c.fn) / n, "pred_fraction": (c.tp + c.fp) / n,
           "n_truth_objects": match.n_truth, "n_pred_objects": match.n_pred,
           "matched_objects": match.tp, "object_precision": match.precision,
           "object_recall": match.recall, "object_f1": match.f1,
           "mean_matched_iou": match.mean_matched_iou, "threshold": s.threshold,
           "scored_pixels": c.total}
    return row, object_rows(s.name, pred, truth, match), c, match


def _regions(labels: np.ndarray) -> dict[int, object]:
    from skimage.measure import regionprops

    return {int(r.label): r for r in regionprops(labels)}


def _geometry(region, ndim: int) -> dict:
    centre = [float(v) for v in region.centroid]
    box = [int(v) for v in region.bbox]
    out = {"centroid_y": centre[-2], "centroid_x": centre[-1], "bbox_y0": box[ndim - 2],
           "bbox_x0": box[ndim - 1], "bbox_y1": box[2 * ndim - 2], "bbox_x1": box[2 * ndim - 1]}
    if ndim == 3:
        out |= {"centroid_z": centre[0], "bbox_z0": box[0], "bbox_z1": box[3]}
    return out


def object_rows(name: str, pred: np.ndarray, truth: np.ndarray, match: m.ObjectMatch) -> list[dict]:
    """One row per object: matched pairs (truth geometry), missed truths, false positives."""
    pred_regions = _regions(m.object_labels(pred))
    truth_regions = _regions(m.object_labels(truth))
    rows = []
    for p, t, value in match.pairs:
        rows.append({"image": name, "kind": "matched", "truth_label": t, "pred_label": p,
                     "iou": value, "area": match.truth_areas[t], "pred_area": match.pred_areas[p],
                     **_geometry(truth_regions[t], truth.ndim)})
    for t in match.unmatched_truth:
        rows.append({"image": name, "kind": "missed", "truth_label": t, "pred_label": None,
                     "iou": None, "area": match.truth_areas[t], "pred_area": None,
                     **_geometry(truth_regions[t], truth.ndim)})
    for p in match.unmatched_pred:
        rows.append({"image": name, "kind": "false_positive", "truth_label": None,
                     "pred_label": p, "iou": None, "area": match.pred_areas[p],
                     "pred_area": match.pred_areas[p], **_geometry(pred_regions[p], pred.ndim)})
    return rows


def aggregate(confusions: list[m.Confusion], matches: list[m.ObjectMatch] | None = None) -> dict:
    """``{"pooled": ..., "mean": ..., "meaning": ...}`` over images (see AGGREGATE_MEANING)."""
    metric_fns = {"dice": m.dice_from_counts, "iou": m.iou_from_counts,
                  "precision": m.precision_from_counts, "recall": m.recall_from_counts}
    pooled_c = sum(confusions, m.Confusion())
    pooled = {k: fn(pooled_c) for k, fn in metric_fns.items()}
    mean = {}
    for k, fn in metric_fns.items():
        values = [fn(c) for c in confusions]
        mean[k], mean[f"{k}_std"] = float(np.mean(values)), float(np.std(values))
    if matches is not None:
        objects = sum((m.Confusion(tp=x.tp, fp=x.fp, fn=x.fn) for x in matches), m.Confusion())
        pooled |= {"object_precision": m.precision_from_counts(objects),
                   "object_recall": m.recall_from_counts(objects),
                   "object_f1": m.dice_from_counts(objects),  # F1 = 2tp / (2tp + fp + fn)
                   "tp": pooled_c.tp, "fp": pooled_c.fp, "fn": pooled_c.fn, "tn": pooled_c.tn,
                   "objects_matched": objects.tp, "objects_false_positive": objects.fp,
                   "objects_missed": objects.fn}
        mean["object_f1"] = float(np.mean([x.f1 for x in matches]))
    return {"pooled": pooled, "mean": mean, "n_images": len(confusions),
            "meaning": AGGREGATE_MEANING}


def _read_truth(item: EvalItem) -> tuple[np.ndarray, np.ndarray | None]:
    from ..io.images import read_mask

    truth = read_mask(item.truth, binary=False)
    valid = read_mask(item.valid) if item.valid is not None else None
    return truth, valid


def _file_sample(item: EvalItem, config: EvalConfig, want_image: bool) -> Sample:
    """A sample from prediction files: a mask, or a probability map thresholded."""
    from ..io.images import read_image, read_mask

    truth, valid = _read_truth(item)
    probability = read_image(item.probability) if item.probability is not None else None
    if item.prediction == item.probability:
        pred, threshold = m.binarize(probability.astype(np.float32), threshold=config.threshold), \
            config.threshold
    else:
        pred, threshold = read_mask(item.prediction, binary=False) != 0, None
    image = read_image(item.image) if (want_image and item.image is not None) else None
    return Sample(item.name, truth, pred, threshold, probability, image, valid)


def _model_sample(item: EvalItem, loaded, predict_config: PredictConfig, cancel) -> Sample:
    from ..inference.prediction import predict
    from ..io.images import read_image

    truth, valid = _read_truth(item)
    image = read_image(item.image)
    pred = predict(loaded, image, predict_config, cancel=cancel)
    return Sample(item.name, truth, pred.mask, pred.threshold, pred.probability, image, valid)


def _check_shapes(items: list[EvalItem]) -> None:
    """DataError listing every item whose files disagree in spatial shape (headers only)."""
    from ..io.images import image_info

    bad = []
    for item in items:
        files = {"truth": item.truth, "image": item.image, "valid region": item.valid,
                 "prediction": item.prediction, "probability": item.probability}
        shapes = {k: image_info(p).spatial_shape for k, p in files.items() if p is not None}
        if len(set(shapes.values())) > 1:
            bad.append(f"{item.name}: " + ", ".join(f"{k} {v}" for k, v in shapes.items()))
    if bad:
        raise DataError(f"{len(bad)} image(s) whose files differ in shape:\n  " + "\n  ".join(bad)
                        + "\nPredictions, masks and images must have the same size.")


def _tally_sample(tally: _Tally, s: Sample, config: EvalConfig, *, overlays: bool) -> None:
    row, objects, c, match = score_sample(s, match_iou=config.match_iou)
    tally.rows.append(row)
    tally.objects += objects
    tally.confusions.append(c)
    tally.matches.append(match)
    truth_fg = s.truth != 0
    if s.probability is not None:
        tally.sweep.append(sweep_confusions(s.probability.astype(np.float32), truth_fg,
                                            config.sweep, valid=s.valid))
    if s.image is not None:
        for name, mask in baseline_masks(s.image, truth_fg.shape, valid=s.valid).items():
            scored = (mask[s.valid], truth_fg[s.valid]) if s.valid is not None else (mask, truth_fg)
            tally.baselines.setdefault(name, []).append(m.confusion(*scored))
    if overlays and config.n_overlays:
        _keep_overlay(tally, s, row["dice"], config.n_overlays)


def _keep_overlay(tally: _Tally, s: Sample, dice: float, n: int) -> None:
    pred, truth, image, valid = s.pred, s.truth, s.image, s.valid
    if pred.ndim == 3:
        z = busiest_slice(pred, truth)
        pred, truth = pred[z], truth[z]
        image = image[z] if image is not None else None
        valid = valid[z] if valid is not None else None
    rgb = overlay_rgb(pred, truth != 0, image=image, valid=valid)
    order = len(tally.rows)
    for heap, key in ((tally.best, dice), (tally.worst, -dice)):
        entry = (key, -order, s.name, rgb)
        (heapq.heappush if len(heap) < n else heapq.heappushpop)(heap, entry)


def _write_overlays(tally: _Tally, folder) -> list[str]:
    from pathlib import Path

    from ..io.images import write_image

    written = []
    for kind, heap, sign in (("best", tally.best, 1), ("worst", tally.worst, -1)):
        for rank, (key, _, name, rgb) in enumerate(sorted(heap, reverse=True), start=1):
            path = Path(folder) / "overlays" / f"{kind}{rank}_{name}.png"
            write_image(path, rgb)
            written.append(str(path))
            log.debug("overlay %s: Dice %.4f", path, sign * key)
    return written


def _items(data, model, predictions) -> list[EvalItem]:
    if (model is None) == (predictions is None):
        raise ConfigError("evaluate needs exactly one of model= (predict the dataset's images) "
                          "or predictions= (a folder of predicted masks or probability maps)")
    items = truth_items(data)
    if predictions is not None:
        return attach_predictions(items, predictions)
    no_image = [i.name for i in items if i.image is None]
    if no_image:
        raise DataError(f"{data}: no image for {no_image[:10]}; evaluating a model needs a "
                        "dataset folder with images/ and masks/")
    return items


def evaluate(data, config: EvalConfig = EvalConfig(), *, model=None,
             predictions: str | os.PathLike | None = None,
             predict_config: PredictConfig | None = None, out: str | os.PathLike | None = None,
             on_event: EventCallback | None = None,
             cancel: CancelToken | None = None) -> EvalReport:
    """Score a model on a dataset, or prediction files against truth masks.

    ``data`` is the truth: a dataset folder (``images/`` + ``masks/`` [+ ``valid_regions/``]),
    a folder of masks, or a list of :class:`~eq_engine.io.datasets.Pair`. Give either ``model``
    (a model file or LoadedModel; images are predicted with ``predict_config``, default: the
    model's own tile and threshold) or ``predictions`` (a folder, see
    :mod:`eq_engine.evaluation.sources`). Probability files are thresholded at
    ``config.threshold``. With ``out``, writes ``per_image.csv``, ``per_object.csv``,
    ``sweep.csv``, ``summary.json`` and the ``config.n_overlays`` best and worst overlays
    (TP green, FP orange, FN blue). Emits ``Progress("evaluate", ...)`` per image.
    """
    start = time.perf_counter()
    items = _items(data, model, predictions)
    _check_shapes(items)
    loaded, pcfg = None, predict_config or PredictConfig()
    if model is not None:
        from ..inference.predictor import load_for_prediction

        loaded = load_for_prediction(model, pcfg)
    tally = _Tally()
    for step, item in enumerate(items):
        check_cancel(cancel)
        emit(on_event, Progress("evaluate", step, len(items), item.name))
        sample = (_model_sample(item, loaded, pcfg, cancel) if loaded is not None
                  else _file_sample(item, config, want_image=True))
        _tally_sample(tally, sample, config, overlays=out is not None)
    emit(on_event, Progress("evaluate", len(items), len(items), "done"))
    report = _report(tally, config, data=data, model=model, predictions=predictions)
    if out is not None:
        report.overlays = _write_overlays(tally, out)
        report.seconds = time.perf_counter() - start
        report.write(out)
    report.seconds = time.perf_counter() - start
    return report


def _report(tally: _Tally, config: EvalConfig, *, data, model, predictions) -> EvalReport:
    baselines = {name: aggregate(tally.baselines[name]) for name in BASELINES
                 if name in tally.baselines} or None
    if baselines and len(tally.baselines[BASELINES[0]]) != len(tally.rows):
        baselines = None  # some images were missing: a partial baseline would mislead
    sweep, recommended = (summarize_sweep(tally.sweep, config.sweep)
                          if tally.sweep and len(tally.sweep) == len(tally.rows) else (None, None))
    source = {"truth": str(data) if isinstance(data, (str, os.PathLike)) else "pairs",
              "model": str(model) if isinstance(model, (str, os.PathLike)) else
              (None if model is None else "loaded model"),
              "predictions": None if predictions is None else str(predictions)}
    return EvalReport(tally.rows, tally.objects, aggregate(tally.confusions, tally.matches),
                      baselines, sweep, recommended, [], source, config.to_dict())
