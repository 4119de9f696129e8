"""Predict a whole slide: streamed region by region at the model's scale, resumable.

1. The pyramid level matching the model's scale is chosen (:func:`~eq_engine.io.slides.
   choose_level`); tissue is found on the coarsest level and regions without it are skipped.
2. Each region (core plus halo) is predicted and its thresholded core written to a Zarr mask
   in ``out/work/``; ``out/slide_state.json`` lists the finished regions after each one, so a
   re-run (same slide, model and config) resumes after them. With ``scheduler`` the regions
   run as Dask tasks (each worker reads the slide and writes its own region's chunk).
3. Regions are labelled and merged across their borders (:mod:`.slide_labels`), and the outputs
   are written: ``labels.ome.zarr`` (multiscale), ``objects.csv`` (one row per object) and
   ``thumbnail.png`` (outlines on the coarsest level).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config.slide import SlideConfig
from ..errors import ConfigError
from ..events import CancelToken, EventCallback, Progress, check_cancel, emit
from ..io.atomic import atomic_write_text
from .slide_labels import (
    draw_thumbnail,
    final_labels,
    label_regions,
    merge_objects,
    object_geometry,
    object_rows,
    write_ome_zarr,
)
from .slide_regions import (
    AnalysisReader,
    SlidePlan,
    make_plan,
    region_mask,
    regions_with_tissue,
    sample_percentiles,
    tissue_mask,
)

log = logging.getLogger(__name__)
STATE = "slide_state.json"
# Largest default tile for slides (px at the model's scale). A U-Net's activations grow with
# batch x tile²: at batch 2, 512-px tiles of a resnet18 U-Net take ~0.9 GB on the CPU and push a
# slide run past 2 GB; 384-px tiles take ~0.5-0.7 GB. An explicit PredictConfig.tile is used as is.
SLIDE_TILE = 384


@dataclass(frozen=True)
class SlideResult:
    """What :func:`predict_slide` wrote and found. ``rows`` hold one dict per object."""

    out: Path
    plan: SlidePlan
    rows: list[dict] = field(repr=False)
    files: dict[str, Path] = field(default_factory=dict)
    regions_predicted: int = 0
    regions_resumed: int = 0
    regions_skipped: int = 0  # no tissue
    seconds: float = 0.0

    @property
    def n_objects(self) -> int:
        return len(self.rows)


def _model_facts(loaded, config, mpp: float | None) -> dict:
    """The few metadata facts a slide run needs (for a slide of ``mpp`` µm/px), read in one
    place."""
    from .predictor import at_image_scale, model_min_size, model_threshold, model_tile

    info = at_image_scale(loaded.info, config.pixel_size or mpp, config.object_diameter)
    # objects are merged at the model's scale: a minimum in level-0 px counts scale² as many
    min_size = model_min_size(info, config) * float(info.scale) ** 2
    return {"scale": float(info.scale), "norm": dict(info.normalization),
            "min_size": max(0, round(min_size)),
            "tile": slide_tile(model_tile(info, config, loaded.module is not None), config),
            "threshold": model_threshold(info, config)}


def slide_tile(tile: int, config) -> int:
    """The tile a slide is predicted with: ``config.tile`` when given, else the model's tile
    capped at :data:`SLIDE_TILE` to bound memory."""
    return tile if config.tile else min(tile, SLIDE_TILE)


def _identity(model, slide_path: Path, config: SlideConfig, plan: SlidePlan) -> dict:
    model_id = str(Path(model).resolve()) if isinstance(model, (str, os.PathLike)) else repr(
        sorted(getattr(model, "metadata", {}).items()))[:2000]
    if isinstance(model, (str, os.PathLike)):
        model_id += f"@{os.stat(model).st_mtime_ns}"
    stat = slide_path.stat()
    identity = {"slide": str(slide_path.resolve()), "slide_size": stat.st_size,
                "slide_mtime": stat.st_mtime_ns, "model": model_id, "config": config.to_dict(),
                "plan": plan.to_dict()}
    return json.loads(json.dumps(identity))  # as the state file will hold it


def _load_state(out: Path, identity: dict, overwrite: bool) -> set[int]:
    path = out / STATE
    if overwrite or not path.exists():
        return set()
    state = json.loads(path.read_text())
    if state.get("identity") != identity:
        raise ConfigError(f"{out} holds a slide run with another slide, model or config; "
                          "pass overwrite=True (--overwrite) or choose another --out")
    return set(state.get("done", []))


def _save_state(out: Path, identity: dict, done: set[int], percentiles, todo: list[int]) -> None:
    state = {"identity": identity, "percentiles": np.asarray(percentiles).tolist(),
             "todo": todo, "done": sorted(done)}
    atomic_write_text(out / STATE, json.dumps(state))


def _open_mask(out: Path, plan: SlidePlan, fresh: bool):
    import zarr

    path = out / "work" / "mask.zarr"
    if fresh and path.exists():
        shutil.rmtree(path)
    if path.exists():
        return zarr.open_array(str(path), mode="r+")
    return zarr.open_array(str(path), mode="w", shape=plan.shape, dtype=np.uint8,
                           chunks=(plan.region, plan.region), fill_value=0)


def _predict_local(loaded, slide, plan, todo, done, facts, config, mask, save, *,
                   on_event, cancel) -> None:
    from .predictor import model_predictor

    predictor = model_predictor(loaded, config.predict)
    reader = AnalysisReader(slide.level(plan.level), plan)
    for step, index in enumerate(todo, start=1):
        check_cancel(cancel)
        y0, y1, x0, x1 = plan.core(index)
        mask[y0:y1, x0:x1] = region_mask(reader, index, predictor, facts, config.predict)
        done.add(index)
        save()
        emit(on_event, Progress("predict-slide", step, len(todo), f"{step}/{len(todo)} regions"))


def _plan_and_tissue(slide, scale: float, config: SlideConfig):
    plan = make_plan(slide.info, scale, region=config.region, halo=config.halo,
                     level=config.level)
    fits = [i for i, shape in enumerate(slide.info.shapes) if max(shape) <= config.thumbnail]
    thumbnail = slide.level(fits[0] if fits else len(slide.info.shapes) - 1)[:, :]
    if config.tissue:
        tissue = tissue_mask(thumbnail, saturation=config.tissue_saturation,
                             lightness=config.tissue_lightness)
    else:
        tissue = np.ones(thumbnail.shape[:2], bool)
    return plan, thumbnail, tissue


def predict_slide(model, slide_path: str | os.PathLike, out: str | os.PathLike,
                  config: SlideConfig = SlideConfig(), *, scheduler: str | None = None,
                  overwrite: bool = False, on_event: EventCallback | None = None,
                  cancel: CancelToken | None = None) -> SlideResult:
    """Find the objects of a whole slide with ``model`` and write them into ``out``.

    ``model`` is an EQ model file or a LoadedModel (anything with ``metadata`` and a
    ``predictor`` callable). The slide is read at the model's scale from the level that reads
    the fewest pixels, regions without tissue are skipped, and each region is predicted with
    ``config.predict``'s tiling, threshold and TTA (``min_size``, in level-0 pixels or the
    model's learned one as for a field, and ``fill_holes`` apply to the merged objects).
    ``scheduler`` (a Dask address, or ``"local"`` for a LocalCluster) runs the regions in
    parallel. A run interrupted (killed, cancelled, failed) resumes after
    its finished regions when called again with the same slide, model and config;
    ``overwrite=True`` starts afresh. Emits ``Progress(stage="predict-slide")`` per region.
    """
    from ..io.slides import open_slide
    from .predictor import load_for_prediction

    start = time.perf_counter()
    out, slide_path = Path(out), Path(slide_path)
    loaded = load_for_prediction(model, config.predict)
    with open_slide(slide_path) as slide:
        facts = _model_facts(loaded, config.predict, slide.info.mpp)
        plan, thumbnail, tissue = _plan_and_tissue(slide, facts["scale"], config)
        wanted = regions_with_tissue(plan, tissue)
        identity = _identity(model, slide_path, config, plan)
        out.mkdir(parents=True, exist_ok=True)
        done = _load_state(out, identity, overwrite) & set(wanted)
        reader = AnalysisReader(slide.level(plan.level), plan)
        facts["percentiles"] = sample_percentiles(reader, tissue, facts["norm"]).tolist()
        mask = _open_mask(out, plan, fresh=not done)
        todo = [i for i in wanted if i not in done]
        resumed = len(done)
        log.info("%s: level %d x%.3f -> %s px, %d regions (%d with tissue, %d done)", slide_path,
                 plan.level, plan.residual, plan.shape, plan.n_regions, len(wanted), resumed)

        def save() -> None:
            _save_state(out, identity, done, facts["percentiles"], wanted)

        save()
        if scheduler:
            from .slide_dask import predict_regions_dask

            shipped = str(Path(model).resolve()) if isinstance(model, (str, os.PathLike)) else loaded
            predict_regions_dask(shipped, slide_path, plan, todo, done, facts, config,
                                 out / "work" / "mask.zarr", save, scheduler=scheduler,
                                 on_event=on_event, cancel=cancel)
        else:
            _predict_local(loaded, slide, plan, todo, done, facts, config, mask, save,
                           on_event=on_event, cancel=cancel)
        rows, files = _finish(out, plan, mask, thumbnail, config, facts["min_size"],
                              on_event=on_event, cancel=cancel)
    seconds = time.perf_counter() - start
    log.info("%s: %d objects in %.1f s", slide_path, len(rows), seconds)
    return SlideResult(out, plan, rows, files, len(todo), resumed,
                       plan.n_regions - len(wanted), seconds)


def _finish(out: Path, plan: SlidePlan, mask, thumbnail, config: SlideConfig, min_size: int, *,
            on_event, cancel) -> tuple[list[dict], dict[str, Path]]:
    """Merge labels across regions (dropping objects under ``min_size`` px at the model's
    scale) and write labels.ome.zarr, objects.csv and thumbnail.png."""
    import zarr

    from ..io.images import write_image

    check_cancel(cancel)
    emit(on_event, Progress("label-slide", 0, plan.n_regions, "labelling regions"))
    provisional = zarr.open_array(str(out / "work" / "provisional.zarr"), mode="w",
                                  shape=plan.shape, dtype=np.uint32,
                                  chunks=(plan.region, plan.region), fill_value=0)
    count, links, sizes = label_regions(mask, provisional, plan,
                                        fill_holes=config.predict.fill_holes)
    lookup = merge_objects(count, links, sizes, min_size=min_size)
    objects = object_geometry(provisional, lookup, plan)
    rows = object_rows(objects, plan)
    files = {"labels": write_ome_zarr(final_labels(provisional, lookup), out / "labels.ome.zarr",
                                      plan),
             "objects": _write_csv(out / "objects.csv", rows)}
    small = np.asarray(final_labels(provisional, lookup)[::_thumb_step(plan, config),
                                                         ::_thumb_step(plan, config)])
    files["thumbnail"] = write_image(out / "thumbnail.png", draw_thumbnail(
        _fit(thumbnail, config.thumbnail), small))
    return rows, files


def _thumb_step(plan: SlidePlan, config: SlideConfig) -> int:
    return max(1, int(max(plan.shape) // (2 * config.thumbnail)))


def _fit(image: np.ndarray, size: int) -> np.ndarray:
    step = max(1, int(np.ceil(max(image.shape[:2]) / size)))
    return np.asarray(image)[::step, ::step]


def _write_csv(path: Path, rows: list[dict]) -> Path:
    import csv
    import io

    columns = list(dict.fromkeys(k for row in rows for k in row)) or ["id"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(path, buf.getvalue())
