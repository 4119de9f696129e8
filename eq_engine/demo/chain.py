"""`eq demo`: the whole idea on one machine, through the public engine API.

Pretrain on EM mitochondria -> transfer to glomeruli (against scratch) -> predict -> evaluate
-> quantify endotheliosis, then write ``report.html``. Each step writes a run record.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import EvalConfig, PredictConfig, QuantConfig, TrainConfig, TransferConfig
from ..events import Finished, StageStarted, check_cancel, emit
from ..runs import numeric_metrics, recorded_run
from .datasets import DemoData, demo_data
from .profiles import DemoConfig


@dataclass
class DemoResult:
    out: Path
    report: Path
    data: DemoData
    mito: object
    transfer: object
    evaluation: object
    quant: object
    quant_fit: object
    prediction_figures: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    run_ids: dict = field(default_factory=dict)
    device: str = ""


def _train_config(config: DemoConfig, **kw) -> TrainConfig:
    return TrainConfig(arch="resnet18", size=config.crop, batch_size=8 if config.quick else 8,
                       crops_per_image=config.crops_per_image, seed=config.seed,
                       device=config.device, **kw)


def run_demo(out: str | os.PathLike, config: DemoConfig = DemoConfig(), *,
             runs_dir: str | os.PathLike | None = None, on_event=None, cancel=None) -> DemoResult:
    """Run the chain into ``out`` and return what it made; ``out/report.html`` shows it all."""
    out = Path(out)
    with recorded_run("demo", config, runs_dir=runs_dir) as run:
        result = _run_chain(out, config, runs_dir=runs_dir, on_event=on_event, cancel=cancel)
        result.run_ids["demo"] = run.id
        for path in (result.data.em, result.data.histology_train):
            run.add_input(path)
        run.add_model(result.mito.model_path, "mito")
        run.add_model(result.transfer.transfer.model_path, "glomeruli")
        run.metrics.update(numeric_metrics(result.evaluation.aggregates["pooled"], "pooled"))
        run.timings["total_s"], run.device = result.timings["total"], result.device
    emit(on_event, Finished("demo", message=f"report: {result.report}"))
    return result


def _run_chain(out: Path, config: DemoConfig, *, runs_dir, on_event, cancel) -> DemoResult:
    from ..models.loading import load_model

    models = out / "models"
    timings: dict[str, float] = {}
    ids: dict[str, str] = {}
    t0 = time.perf_counter()
    emit(on_event, StageStarted("demo", "preparing data"))
    data = demo_data(out / "data", config)
    timings["data"] = time.perf_counter() - t0
    step = dict(data=data, config=config, runs_dir=runs_dir, ids=ids, timings=timings,
                on_event=on_event, cancel=cancel)
    mito = _pretrain(models / "mito.eqm", **step)
    transfer = _transfer(mito, models / "glomeruli.eqm", **step)
    model = transfer.transfer.model_path
    loaded = load_model(model, device=config.device)  # once, for predict, evaluate and quantify
    figures = _predict_step(loaded, model, out / "figures", mito.device, **step)
    evaluation = _evaluate_step(loaded, model, out / "evaluation", mito.device, **step)
    fit, quant = _quantify_step(loaded, model, out, models / "grades.json", **step)
    timings["total"] = time.perf_counter() - t0
    result = DemoResult(out, out / "report.html", data, mito, transfer, evaluation, quant, fit,
                        figures, timings, ids, mito.device)
    from .report import write_report

    write_report(result, config)
    return result


def _pretrain(path: Path, *, data, config, runs_dir, ids, timings, on_event, cancel):
    from ..training import train

    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "1/5 pretraining on EM mitochondria"))
    mito_cfg = _train_config(config, task="mitochondria", epochs=config.mito_epochs,
                             valid_pattern=r"^validation_" if config.data else None)
    with recorded_run("train", mito_cfg, inputs=[data.em], runs_dir=runs_dir) as run:
        mito = train(data.em, mito_cfg, out=path, on_event=on_event, cancel=cancel)
        run.add_training(mito)
    timings["mito"], ids["mito"] = mito.seconds, run.id
    return mito


def _transfer(mito, path: Path, *, data, config, runs_dir, ids, timings, on_event, cancel):
    from ..training.transfer import transfer_train

    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "2/5 transfer to glomeruli, against scratch"))
    glom_cfg = _train_config(config, task="glomeruli", scale=data.histology_scale,
                             group_pattern=data.group_pattern)
    tcfg = TransferConfig(base_model=str(mito.model_path), train=glom_cfg,
                          freeze_epochs=config.freeze_epochs,
                          unfreeze_epochs=config.unfreeze_epochs, compare_scratch=True)
    with recorded_run("transfer", tcfg, inputs=[data.histology_train],
                      models=[("base", mito.model_path)], runs_dir=runs_dir) as run:
        transfer = transfer_train(data.histology_train, tcfg, out=path, on_event=on_event,
                                  cancel=cancel)
        run.add_training(transfer.transfer)
    ids["transfer"] = run.id
    timings["transfer"] = transfer.transfer.seconds
    timings["scratch"] = transfer.scratch.seconds if transfer.scratch else 0.0
    if transfer.scratch is not None:  # the baseline ran inside the transfer; its own record
        with recorded_run("train", glom_cfg, inputs=[data.histology_train],
                          runs_dir=runs_dir) as scratch:
            scratch.add_training(transfer.scratch)
        ids["scratch"] = scratch.id
    return transfer


def _predict_step(loaded, model, folder: Path, device: str, *, data, config, runs_dir, ids, timings,
                  on_event, cancel) -> list[Path]:
    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "3/5 predicting held-out fields"))
    with recorded_run("predict", PredictConfig(), inputs=[data.histology_test],
                      models=[("model", model)], runs_dir=runs_dir) as run:
        figures = _predict_figures(loaded, data, folder, on_event=on_event, cancel=cancel)
        run.metrics["images"], run.device = len(figures), device
    timings["predict"], ids["predict"] = run.timings["total_s"], run.id
    return figures


def _evaluate_step(loaded, model, folder: Path, device: str, *, data, config, runs_dir, ids, timings,
                   on_event, cancel):
    from ..evaluation import evaluate

    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "4/5 evaluating"))
    with recorded_run("evaluate", EvalConfig(), inputs=[data.histology_test],
                      models=[("model", model)], runs_dir=runs_dir) as run:
        t = time.perf_counter()
        evaluation = evaluate(data.histology_test, EvalConfig(), model=loaded, out=folder,
                              on_event=on_event, cancel=cancel)
        run.metrics.update(numeric_metrics(evaluation.aggregates["pooled"], "pooled"))
        run.timings["total_s"], run.device = time.perf_counter() - t, device
    timings["evaluate"], ids["evaluate"] = run.timings["total_s"], run.id
    return evaluation


def _quantify_step(loaded, model, out: Path, grade_model: Path, *, data, config, runs_dir,
                   ids, timings, on_event, cancel):
    from ..quantification import quantify

    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "5/5 quantifying endotheliosis"))
    qcfg = QuantConfig(group_pattern=data.group_pattern, seed=config.seed)
    with recorded_run("quantify", qcfg, inputs=[data.histology_test],
                      models=[("segmentation", model)], runs_dir=runs_dir) as run:
        fit = quantify(data.train_labels, data.histology_train, qcfg,
                       out=out / "quantify_train", grades=data.train_grades, fit=grade_model,
                       on_event=on_event, cancel=cancel)
        quant = quantify(loaded, data.histology_test, qcfg, out=out / "quantify",
                         grades=data.test_grades, grade_model=grade_model, on_event=on_event,
                         cancel=cancel)
        cv = fit.fit.cv.to_dict() if fit.fit and fit.fit.cv else {}
        run.metrics.update(numeric_metrics(cv.get("metrics", {}), "cv"))
        run.add_model(grade_model, "grades")
    timings["quantify"], ids["quantify"] = run.timings["total_s"], run.id
    return fit, quant


def _predict_figures(model, data: DemoData, folder: Path, *, on_event, cancel) -> list[Path]:
    from ..inference import predict
    from ..io.datasets import find_pairs
    from ..io.images import read_image, read_mask
    from .figures import plot_prediction

    figures = []
    for pair in find_pairs(data.histology_test)[:2]:
        image = read_image(pair.image)
        prediction = predict(model, image, PredictConfig(), on_event=on_event, cancel=cancel)
        truth = read_mask(pair.mask, binary=False)
        figures.append(plot_prediction(image, prediction.probability, prediction.labels, truth,
                                       folder / f"{pair.stem}_prediction.png", title=pair.stem))
    return figures
