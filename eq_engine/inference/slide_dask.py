"""Slide regions as Dask tasks: each worker opens the slide, predicts one region and writes its
own chunk of the Zarr mask (regions are whole chunks, so writes never overlap).

``scheduler="local"`` starts a ``LocalCluster`` (one single-threaded worker process per
core but one); any other value is a scheduler address (its workers need EQ and the same paths).
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from pathlib import Path

import numpy as np

from ..errors import Cancelled
from ..events import Progress, emit

log = logging.getLogger(__name__)
_MODELS: dict[tuple, object] = {}
_LOCK = threading.Lock()


def _model(model, config):
    from .predictor import load_for_prediction

    if not isinstance(model, str):
        return model
    key = (model, os.stat(model).st_mtime_ns, config.device)
    with _LOCK:
        if key not in _MODELS:
            _MODELS.clear()  # one model per worker at a time
            _MODELS[key] = load_for_prediction(model, config)
        return _MODELS[key]


def region_task(model, slide_path: str, plan: dict, index: int, facts: dict, config: dict,
                mask_path: str) -> int:
    """Worker task: predict region ``index`` and write its mask chunk; returns ``index``."""
    import zarr

    from ..config.slide import SlideConfig
    from ..io.slides import open_slide
    from .predictor import model_predictor
    from .slide_regions import AnalysisReader, SlidePlan, region_mask

    cfg = SlideConfig.from_dict(config)
    loaded = _model(model, cfg.predict)
    predictor = model_predictor(loaded, cfg.predict)
    plan = SlidePlan.from_dict(plan)
    with open_slide(slide_path) as slide:
        reader = AnalysisReader(slide.level(plan.level), plan)
        region = region_mask(reader, index, predictor, facts, cfg.predict)
    y0, y1, x0, x1 = plan.core(index)
    zarr.open_array(mask_path, mode="r+")[y0:y1, x0:x1] = region
    return index


def _client(scheduler: str):
    from distributed import Client, LocalCluster

    if scheduler != "local":
        return Client(scheduler), None
    workers = max(1, (os.cpu_count() or 2) - 1)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
    return Client(cluster), cluster


def predict_regions_dask(model, slide_path: Path, plan, todo: list[int], done: set[int],
                         facts: dict, config, mask_path: Path, save, *, scheduler: str,
                         on_event=None, cancel=None) -> None:
    """Run ``todo`` regions on Dask; ``done`` grows and ``save()`` runs as each finishes."""
    from distributed import as_completed

    client, cluster = _client(scheduler)
    try:
        shipped = model if isinstance(model, str) else client.scatter(model, broadcast=True)
        tag = uuid.uuid4().hex[:8]
        facts = {k: (np.asarray(v).tolist() if k == "percentiles" else v)
                 for k, v in facts.items()}
        futures = [client.submit(region_task, shipped, str(slide_path), plan.to_dict(), i, facts,
                                 config.to_dict(), str(mask_path), key=f"eq-region-{i}-{tag}",
                                 pure=False) for i in todo]
        for step, future in enumerate(as_completed(futures), start=1):
            done.add(future.result())  # a failed region raises here; finished ones are saved
            save()
            emit(on_event, Progress("predict-slide", step, len(todo),
                                    f"{step}/{len(todo)} regions"))
            if cancel is not None and cancel.cancelled:
                client.cancel(futures)
                raise Cancelled(f"slide prediction cancelled after {step} of {len(todo)} regions")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
