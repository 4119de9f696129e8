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
from ..runs import numeric_metrics, record_run, record_training
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
    from ..evaluation import evaluate
    from ..models.loading import load_model
    from ..quantification import quantify
    from ..training import train
    from ..training.transfer import transfer_train

    out = Path(out)
    models = out / "models"
    timings: dict[str, float] = {}
    ids: dict[str, str] = {}
    t0 = time.perf_counter()

    emit(on_event, StageStarted("demo", "preparing data"))
    data = demo_data(out / "data", config)
    timings["data"] = time.perf_counter() - t0

    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "1/5 pretraining on EM mitochondria"))
    mito_cfg = _train_config(config, task="mitochondria", epochs=config.mito_epochs,
                             valid_pattern=r"^validation_" if config.data else None)
    mito = train(data.em, mito_cfg, out=models / "mito.eqm", on_event=on_event, cancel=cancel)
    timings["mito"] = mito.seconds
    ids["mito"] = record_training("train", mito_cfg, mito, inputs=[data.em],
                                  runs_dir=runs_dir).id

    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "2/5 transfer to glomeruli, against scratch"))
    glom_cfg = _train_config(config, task="glomeruli", scale=data.histology_scale,
                             group_pattern=data.group_pattern)
    tcfg = TransferConfig(base_model=str(mito.model_path), train=glom_cfg,
                          freeze_epochs=config.freeze_epochs,
                          unfreeze_epochs=config.unfreeze_epochs, compare_scratch=True)
    transfer = transfer_train(data.histology_train, tcfg, out=models / "glomeruli.eqm",
                              on_event=on_event, cancel=cancel)
    timings["transfer"] = transfer.transfer.seconds
    timings["scratch"] = transfer.scratch.seconds if transfer.scratch else 0.0
    ids["transfer"] = record_training("transfer", tcfg, transfer.transfer,
                                      inputs=[data.histology_train],
                                      models=[("base", mito.model_path)], runs_dir=runs_dir).id
    if transfer.scratch is not None:
        ids["scratch"] = record_training("train", glom_cfg, transfer.scratch,
                                         inputs=[data.histology_train], runs_dir=runs_dir).id
    model = transfer.transfer.model_path
    loaded = load_model(model, device=config.device)  # once, for predict, evaluate and quantify

    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "3/5 predicting held-out fields"))
    t = time.perf_counter()
    figures = _predict_figures(loaded, data, out / "figures", on_event=on_event, cancel=cancel)
    timings["predict"] = time.perf_counter() - t
    ids["predict"] = record_run("predict", PredictConfig(), metrics={"images": len(figures)},
                                seconds=timings["predict"], runs_dir=runs_dir,
                                models=[("model", model)], inputs=[data.histology_test],
                                device=mito.device).id

    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "4/5 evaluating"))
    t = time.perf_counter()
    evaluation = evaluate(data.histology_test, EvalConfig(), model=loaded, out=out / "evaluation",
                          on_event=on_event, cancel=cancel)
    timings["evaluate"] = time.perf_counter() - t
    pooled = numeric_metrics(evaluation.aggregates["pooled"], "pooled")
    ids["evaluate"] = record_run("evaluate", EvalConfig(), metrics=pooled,
                                 seconds=timings["evaluate"], runs_dir=runs_dir,
                                 models=[("model", model)], inputs=[data.histology_test],
                                 device=mito.device).id

    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "5/5 quantifying endotheliosis"))
    t = time.perf_counter()
    qcfg = QuantConfig(group_pattern=data.group_pattern, seed=config.seed)
    grade_model = models / "grades.json"
    fit = quantify(data.train_labels, data.histology_train, qcfg, out=out / "quantify_train",
                   grades=data.train_grades, fit=grade_model, on_event=on_event, cancel=cancel)
    quant = quantify(loaded, data.histology_test, qcfg, out=out / "quantify",
                     grades=data.test_grades, grade_model=grade_model, on_event=on_event,
                     cancel=cancel)
    timings["quantify"] = time.perf_counter() - t
    cv = fit.fit.cv.to_dict() if fit.fit and fit.fit.cv else {}
    ids["quantify"] = record_run("quantify", qcfg,
                                 metrics=numeric_metrics(cv.get("metrics", {}), "cv"),
                                 seconds=timings["quantify"], runs_dir=runs_dir,
                                 models=[("segmentation", model), ("grades", grade_model)],
                                 inputs=[data.histology_test]).id
    timings["total"] = time.perf_counter() - t0

    result = DemoResult(out, out / "report.html", data, mito, transfer, evaluation, quant, fit,
                        figures, timings, ids, mito.device)
    from .report import write_report

    write_report(result, config)
    ids["demo"] = record_run("demo", config, metrics=pooled, seconds=timings["total"],
                             runs_dir=runs_dir,
                             models=[("mito", mito.model_path), ("glomeruli", model)],
                             inputs=[data.em, data.histology_train], device=mito.device).id
    emit(on_event, Finished("demo", message=f"report: {result.report}"))
    return result


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
