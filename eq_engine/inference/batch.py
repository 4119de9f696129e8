"""Batch prediction over many images on Dask distributed: one task per image.

A ``LocalCluster`` is started by default; pass ``scheduler="tcp://host:8786"`` to use an existing
cluster (its workers need EQ installed and must see the same file paths). Workers read the
image, predict it and write its outputs themselves, each file atomically, so an output that
exists is complete. A failed image is reported in :class:`BatchResult` while the others finish;
re-running skips images whose outputs all exist unless ``overwrite=True``.
"""

from __future__ import annotations

import glob
import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..config import PredictConfig
from ..errors import Cancelled, DataError
from ..events import CancelToken, EventCallback, Progress, check_cancel, emit

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")
OUTPUT_KINDS = ("mask", "labels", "probability")
_MODEL_CACHE: dict[tuple, object] = {}
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class BatchResult:
    """What :func:`predict_batch` did: outputs per image, skipped images, failures with reasons."""

    outputs: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        lines = [f"{len(self.outputs)} predicted, {len(self.skipped)} skipped (outputs exist), "
                 f"{len(self.failed)} failed in {self.seconds:.1f} s"]
        lines += [f"  FAILED {path}: {reason}" for path, reason in sorted(self.failed.items())]
        return "\n".join(lines)


def collect_inputs(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Image files named by ``inputs``: files, folders (their images, or ``images/`` inside) and
    glob patterns. Raises DataError for names that match nothing or stems that collide."""
    found: list[Path] = []
    missing: list[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            folder = path / "images" if (path / "images").is_dir() else path
            found += sorted(p for p in folder.iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            found.append(path)
        elif glob.has_magic(str(item)):
            matches = sorted(Path(p) for p in glob.glob(str(item)) if Path(p).is_file())
            found += matches
            if not matches:
                missing.append(str(item))
        else:
            missing.append(str(item))
    if missing:
        raise DataError(f"no image files at {missing}; give files, folders or glob patterns")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise DataError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found in {list(map(str, inputs))}")
    stems: dict[str, list[str]] = {}
    for p in unique:
        stems.setdefault(p.stem, []).append(str(p))
    clashes = {s: ps for s, ps in stems.items() if len(ps) > 1}
    if clashes:
        raise DataError(f"several inputs share a name, so their outputs would collide: {clashes}; "
                        "predict them into separate --out folders")
    return unique


def output_paths(image: str | os.PathLike, out: str | os.PathLike, *,
                 save_probability: bool = True) -> dict[str, Path]:
    """Files written for ``image``: ``<stem>_mask.tif`` (0/255), ``<stem>_labels.tif`` and
    ``<stem>_prob.tif`` (float32 probability, when ``save_probability``)."""
    stem, out = Path(image).stem, Path(out)
    paths = {"mask": out / f"{stem}_mask.tif", "labels": out / f"{stem}_labels.tif"}
    if save_probability:
        paths["probability"] = out / f"{stem}_prob.tif"
    return paths


def outputs_complete(paths: dict[str, Path]) -> bool:
    """True when every output exists and is a readable image (a 0-byte or damaged file left by
    another tool or a full disk is not a result)."""
    from ..io.images import image_info

    for path in paths.values():
        try:
            if path.stat().st_size == 0:
                return False
            image_info(path)
        except (OSError, DataError):
            return False
    return True


def remove_outputs(image: str | os.PathLike, out: str | os.PathLike) -> None:
    """Delete every output of ``image`` in ``out``: a failed image must not keep old results."""
    for path in output_paths(image, out).values():
        path.unlink(missing_ok=True)


def _cached_model(model: str, config: PredictConfig):
    from .predictor import load_for_prediction

    key = (model, os.stat(model).st_mtime_ns, config.device, config.mixed_precision)
    with _CACHE_LOCK:
        if key not in _MODEL_CACHE:
            _MODEL_CACHE.clear()  # one model per worker at a time
            _MODEL_CACHE[key] = load_for_prediction(model, config)
        return _MODEL_CACHE[key]


def predict_file(model, image: str, out: str, config: dict, save_probability: bool) -> list[str]:
    """Worker task: predict one image file and write its outputs; returns their paths.

    2D images too large for memory are streamed (see ``stream_model.should_stream``)."""
    from ..io.images import read_image, write_image, write_mask
    from ..io.pixel_size import file_pixel_size
    from .prediction import predict
    from .predictor import at_image_scale, load_for_prediction, model_tile
    from .stream_model import predict_to_files, should_stream

    cfg = PredictConfig.from_dict(config)
    if not cfg.pixel_size:  # the file's own, read once for the stream and memory paths
        cfg = cfg.replace(pixel_size=file_pixel_size(image) or 0.0)
    loaded = load_for_prediction(_cached_model(model, cfg) if isinstance(model, str) else model,
                                 cfg)
    paths = output_paths(image, out, save_probability=save_probability)
    if should_stream(image, cfg, tile=model_tile(loaded.info, cfg, loaded.module is not None),
                     scale=at_image_scale(loaded.info, cfg.pixel_size, cfg.object_diameter).scale):
        return predict_to_files(loaded, image, paths, cfg)
    result = predict(loaded, read_image(image), cfg)
    if "probability" in paths:
        write_image(paths["probability"], result.probability)
    write_mask(paths["labels"], result.labels)
    write_mask(paths["mask"], result.mask)  # last: its presence marks a complete image
    return [str(p) for p in paths.values()]


def _predict_task(model, image: str, out: str, config: dict, save_probability: bool):
    """``predict_file``, with EQ's own errors returned as ``("error", message)`` instead of
    raised: Dask would log each as an ERROR block with a traceback."""
    from ..errors import EngineError

    try:
        return predict_file(model, image, out, config, save_probability)
    except EngineError as exc:
        return ("error", f"{type(exc).__name__}: {exc}")


def _start_client(scheduler: str | None, workers: int | None, processes: bool):
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers or 1, threads_per_worker=1, processes=processes,
                           dashboard_address=None)
    return Client(cluster), cluster


def _eta(done: int, total: int, elapsed: float) -> str:
    if not done:
        return ""
    return f", eta {elapsed / done * (total - done):.0f} s"


def predict_batch(model, inputs: Sequence[str | os.PathLike], out: str | os.PathLike,
                  config: PredictConfig = PredictConfig(), *, scheduler: str | None = None,
                  workers: int | None = None, processes: bool = True, overwrite: bool = False,
                  save_probability: bool = True, on_event: EventCallback | None = None,
                  cancel: CancelToken | None = None) -> BatchResult:
    """Predict every image in ``inputs`` into ``out`` on Dask, one task per image.

    ``model`` is an EQ model file path (each worker loads it once) or a loaded model (sent to the
    workers once). ``scheduler`` is a Dask scheduler address; without it a ``LocalCluster`` of
    ``workers`` (default 1) single-threaded workers runs here (``processes=False``: threads).
    Emits ``Progress(stage="predict-batch", step=images_done, total=n_images)`` with an ETA in
    its message as images finish; ``cancel`` stops waiting and cancels the remaining tasks.
    """
    from ..io.atomic import check_output_folder

    start = time.perf_counter()
    images = collect_inputs(inputs)
    out = check_output_folder(out)
    if isinstance(model, (str, os.PathLike)):
        from ..models.ensemble import model_metadata

        model_metadata(model)  # fail here, not on every worker, if it is not a model
        model = str(Path(model).resolve())
    todo = [p for p in images if overwrite or not outputs_complete(
        output_paths(p, out, save_probability=save_probability))]
    skipped = [str(p) for p in images if p not in todo]
    if not todo:
        return BatchResult({}, skipped, {}, time.perf_counter() - start)
    out.mkdir(parents=True, exist_ok=True)
    check_cancel(cancel)
    client, cluster = _start_client(scheduler, workers, processes)
    try:
        outputs, failed = _run(client, model, todo, out, config, save_probability,
                               on_event=on_event, cancel=cancel, start=time.perf_counter())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    result = BatchResult(outputs, skipped, failed, time.perf_counter() - start)
    log.info(result.summary())
    return result


def _run(client, model, todo, out, config, save_probability, *, on_event, cancel, start):
    from distributed import as_completed

    shipped = model if isinstance(model, str) else client.scatter(model, broadcast=True)
    tag = uuid.uuid4().hex[:8]
    futures = {client.submit(_predict_task, shipped, str(p), str(out), config.to_dict(),
                             save_probability, key=f"eq-predict-{p.stem}-{tag}", pure=False): p
               for p in todo}
    outputs: dict[str, list[str]] = {}
    failed: dict[str, str] = {}
    emit(on_event, Progress("predict-batch", 0, len(todo), f"0/{len(todo)} images"))
    for done, future in enumerate(as_completed(futures), start=1):
        path = str(futures[future])
        value = future.exception() if future.status == "error" else future.result()
        if isinstance(value, BaseException) or (isinstance(value, tuple) and value[0] == "error"):
            failed[path] = value[1] if isinstance(value, tuple) else f"{type(value).__name__}: {value}"
            remove_outputs(path, out)
            log.warning("prediction of %s failed: %s", path, failed[path])
        else:
            outputs[path] = value
        message = f"{done}/{len(todo)} images, {len(failed)} failed" + _eta(
            done, len(todo), time.perf_counter() - start)
        emit(on_event, Progress("predict-batch", done, len(todo), message))
        if cancel is not None and cancel.cancelled:
            client.cancel(list(futures))
            raise Cancelled(f"batch prediction cancelled after {done} of {len(todo)} images")
    return outputs, failed
