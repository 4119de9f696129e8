"""The engine calls a worker process runs for the GUI (see :mod:`eq_gui.workers`).

Each job takes a plain payload dict (arrays, paths, configs) and calls one public engine
function with ``on_event`` and ``cancel``; the return value travels back to the GUI pickled.
Runs only in the worker process, which is the only EQ process allowed to import torch.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

_state = {"threads": False}
_models: dict[tuple, Any] = {}  # the last model this worker loaded, by file identity and device
log = logging.getLogger(__name__)


def _setup_torch() -> None:
    """Leave one core to the GUI's event loop (DESIGN: torch uses cores - 1 threads)."""
    if not _state["threads"]:
        from eq_engine.device import configure_threads

        configure_threads(leave_one_free=True)
        _state["threads"] = True


def cached_model(path, device: str, *, mixed_precision: bool = True):
    """The loaded model (or ensemble manifest) ``path`` on ``device``: read once per warm
    worker, not per click.

    The size and modification time of the file (and of an ensemble's members) are part of the
    key, so a model retrained into the same file is read again. Only the last model is kept (a
    124 MB resnet34 U-Net is enough).
    """
    from pathlib import Path

    from eq_engine.models import ensemble_members, is_ensemble, load_model_or_ensemble

    file = Path(path).expanduser().resolve()
    files = [file, *ensemble_members(file)] if is_ensemble(file) else [file]
    stats = [(str(f), f.stat()) for f in files]
    key = (tuple((name, st.st_mtime_ns, st.st_size) for name, st in stats), device,
           mixed_precision)
    if key not in _models:
        _models.clear()  # drop the previous model before loading the next one
        _models[key] = load_model_or_ensemble(file, device=device,
                                              mixed_precision=mixed_precision)
        log.info("loaded %s on %s (kept for the next job)", file.name, device)
    return _models[key]


def _model(payload: dict, config):
    """The payload's model, loaded through the cache when it is a file path."""
    model = payload["model"]
    if isinstance(model, (str, os.PathLike)):
        return cached_model(model, getattr(config, "device", "auto") if config else "auto",
                            mixed_precision=getattr(config, "mixed_precision", True))
    return model


def used_gpu() -> bool:
    """Whether this process initialised CUDA (then it is retired to free GPU memory)."""
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_initialized())


def warmup(payload: dict, *, on_event=None, cancel=None) -> dict:
    """Import the torch stack ahead of the first real job (touching a public name of each
    package loads the module behind it)."""
    import eq_engine

    _setup_torch()
    loaded = []
    for name in ("train", "transfer_train", "predict"):
        getattr(eq_engine, name)
        loaded.append(name)
    return {"loaded": loaded}


def probe(payload: dict, *, on_event=None, cancel=None) -> dict:
    """Diagnostics: emit ``events`` Progress events, optionally wait for Stop, report the process.

    ``until_cancelled`` keeps it waiting (up to ``timeout`` s) until the caller's Stop arrives.
    """
    import os
    import threading

    from eq_engine import events

    n = int(payload.get("events", 0))
    for step in range(n):
        events.emit(on_event, events.Progress("probe", step + 1, n))
    if payload.get("until_cancelled"):
        waiter = threading.Event()
        deadline = float(payload.get("timeout", 30.0))
        while deadline > 0:
            events.check_cancel(cancel)
            waiter.wait(0.02)
            deadline -= 0.02
    return {"pid": os.getpid(), "torch": "torch" in sys.modules}


def without_module(result):
    """The result without its torch module: unpickling that would import torch in the GUI."""
    if result is None:
        return None
    changes = {}
    if getattr(result, "module", None) is not None:
        changes["module"] = None
    for name in ("transfer", "scratch"):  # TransferResult holds TrainResults
        inner = getattr(result, name, None)
        if inner is not None and not isinstance(inner, (str, bool)):
            changes[name] = without_module(inner)
    return dataclasses.replace(result, **changes) if changes else result


def _paths(*values) -> list[str]:
    """The values that name files or folders (layer arrays are not recorded as inputs)."""
    return [str(v) for v in values if isinstance(v, (str, os.PathLike))]


def train(payload: dict, *, on_event=None, cancel=None):
    """``eq_engine.training.train(data, config, out=...)`` -> TrainResult (no module)."""
    _setup_torch()
    from eq_engine.runs import recorded_run
    from eq_engine.training import train as engine_train

    with recorded_run("train", payload["config"], inputs=_paths(payload["data"])) as run:
        result = engine_train(payload["data"], payload["config"], out=payload.get("out"),
                              overwrite=payload.get("overwrite", False), on_event=on_event,
                              cancel=cancel)
        run.add_training(result)
    return without_module(result)


def transfer(payload: dict, *, on_event=None, cancel=None):
    """``eq_engine.transfer_train(data, config, out=...)`` -> TransferResult."""
    _setup_torch()
    from eq_engine import transfer_train
    from eq_engine.runs import recorded_run

    config, inputs = payload["config"], _paths(payload["data"])
    with recorded_run("transfer", config, inputs=inputs,
                      models=[("base", config.base_model)]) as run:
        result = transfer_train(payload["data"], config, out=payload.get("out"),
                                overwrite=payload.get("overwrite", False), on_event=on_event,
                                cancel=cancel)
        run.add_training(result.transfer)
    if result.scratch is not None:  # the baseline ran inside the transfer run; its own record
        with recorded_run("train", config.train, inputs=inputs) as scratch:
            scratch.add_training(result.scratch)
    return without_module(result)


def predict(payload: dict, *, on_event=None, cancel=None):
    """``eq_engine.inference.predict(model, image, config)`` -> Prediction."""
    _setup_torch()
    from eq_engine.inference import predict as engine_predict
    from eq_engine.runs import recorded_run

    with recorded_run("predict", payload["config"],
                      models=[("model", p) for p in _paths(payload["model"])]) as run:
        prediction = engine_predict(_model(payload, payload["config"]), payload["image"],
                                    payload["config"], on_event=on_event, cancel=cancel)
        run.metrics.update({"images": 1, "objects": int(prediction.labels.max())})
    return prediction


def predict_folder(payload: dict, *, on_event=None, cancel=None):
    """``eq_engine.inference.predict_batch`` over a folder into ``out`` -> BatchResult.

    Dask runs threads inside this worker process (the model is loaded once, no extra process).
    """
    _setup_torch()
    from eq_engine.inference import predict_batch
    from eq_engine.runs import recorded_run

    with recorded_run("predict", payload["config"], inputs=_paths(payload["folder"]),
                      models=[("model", p) for p in _paths(payload["model"])]) as run:
        result = predict_batch(payload["model"], [payload["folder"]], payload["out"],
                               payload["config"], processes=False, on_event=on_event,
                               cancel=cancel)
        run.add_batch(result)
    return result


def predict_slide(payload: dict, *, on_event=None, cancel=None):
    """``eq_engine.inference.slide.predict_slide`` on a slide file into ``out`` -> SlideResult."""
    _setup_torch()
    from eq_engine.inference import predict_slide as engine_predict_slide
    from eq_engine.runs import recorded_run

    with recorded_run("predict", payload["config"],
                      models=[("model", p) for p in _paths(payload["model"])]) as run:
        result = engine_predict_slide(payload["model"], payload["slide"], payload["out"],
                                      payload["config"], on_event=on_event, cancel=cancel)
        run.metrics.update({"objects": result.n_objects, "regions": result.regions_predicted})
    return result


def evaluate(payload: dict, *, on_event=None, cancel=None):
    """``eq_engine.evaluation.evaluate(data, config, model=...)`` on a dataset -> EvalReport."""
    _setup_torch()
    from eq_engine.evaluation import evaluate as engine_evaluate
    from eq_engine.runs import recorded_run

    config = {"evaluate": payload["config"], "predict": payload.get("predict_config")}
    with recorded_run("evaluate", config, inputs=_paths(payload["data"]),
                      models=[("model", p) for p in _paths(payload["model"])]) as run:
        report = engine_evaluate(payload["data"], payload["config"], model=payload["model"],
                                 predict_config=payload.get("predict_config"),
                                 on_event=on_event, cancel=cancel)
        run.add_evaluation(report)
    return report


JOBS: dict[str, Callable[..., Any]] = {
    "warmup": warmup,
    "probe": probe,
    "train": train,
    "transfer": transfer,
    "predict": predict,
    "predict_folder": predict_folder,
    "evaluate": evaluate,
    "predict_slide": predict_slide,
}


def run_job(kind: str, payload: dict, *, on_event=None, cancel=None):
    try:
        job = JOBS[kind]
    except KeyError:
        raise ValueError(f"unknown engine job {kind!r}; known jobs: {sorted(JOBS)}") from None
    return job(payload, on_event=on_event, cancel=cancel)
