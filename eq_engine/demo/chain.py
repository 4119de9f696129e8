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
from ..runs import RunRecord
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


def _record_training(result, kind: str, config, data: Path, runs_dir, parent=None) -> str:
    record = RunRecord(kind, config=config)
    record.inputs.append({"path": str(data)})
    if parent:
        record.add_model(parent, "base")
    if result.model_path:
        record.add_model(result.model_path, "output")
    record.history = result.history
    record.metrics = {k: v for k, v in result.best.items() if isinstance(v, (int, float))}
    record.timings = {"total_s": result.seconds}
    record.device = result.device
    record.save(runs_dir)
    return record.id


def _record(kind: str, config, *, metrics: dict, seconds: float, runs_dir, models=(),
            inputs=(), device: str = "") -> str:
    record = RunRecord(kind, config=config)
    for path in inputs:
        record.inputs.append({"path": str(path)})
    for role, path in models:
        record.add_model(path, role)
    record.metrics, record.timings, record.device = metrics, {"total_s": seconds}, device
    record.save(runs_dir)
    return record.id


def run_demo(out: str | os.PathLike, config: DemoConfig = DemoConfig(), *,
             runs_dir: str | os.PathLike | None = None, on_event=None, cancel=None) -> DemoResult:
    """Run the chain into ``out`` and return what it made; ``out/report.html`` shows it all."""
    from ..evaluation import evaluate
    from ..models.transfer import transfer_train
    from ..quantification import quantify
    from ..training import train

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
    ids["mito"] = _record_training(mito, "train", mito_cfg, data.em, runs_dir)

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
    ids["transfer"] = _record_training(transfer.transfer, "transfer", tcfg, data.histology_train,
                                       runs_dir, parent=mito.model_path)
    if transfer.scratch is not None:
        ids["scratch"] = _record_training(transfer.scratch, "train", glom_cfg,
                                          data.histology_train, runs_dir)
    model = transfer.transfer.model_path

    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "3/5 predicting held-out fields"))
    t = time.perf_counter()
    figures = _predict_figures(model, data, out / "figures", on_event=on_event, cancel=cancel)
    timings["predict"] = time.perf_counter() - t
    ids["predict"] = _record("predict", PredictConfig(), metrics={"images": len(figures)},
                             seconds=timings["predict"], runs_dir=runs_dir,
                             models=[("model", model)], inputs=[data.histology_test],
                             device=mito.device)

    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "4/5 evaluating"))
    t = time.perf_counter()
    evaluation = evaluate(data.histology_test, EvalConfig(), model=model, out=out / "evaluation",
                          on_event=on_event, cancel=cancel)
    timings["evaluate"] = time.perf_counter() - t
    ids["evaluate"] = _record("evaluate", EvalConfig(), metrics=_flat(evaluation.aggregates["pooled"], "pooled"),
                              seconds=timings["evaluate"], runs_dir=runs_dir,
                              models=[("model", model)], inputs=[data.histology_test],
                              device=mito.device)

    check_cancel(cancel)
    emit(on_event, StageStarted("demo", "5/5 quantifying endotheliosis"))
    t = time.perf_counter()
    qcfg = QuantConfig(group_pattern=data.group_pattern, seed=config.seed)
    grade_model = models / "grades.json"
    fit = quantify(data.train_labels, data.histology_train, qcfg, out=out / "quantify_train",
                   grades=data.train_grades, fit=grade_model, on_event=on_event, cancel=cancel)
    quant = quantify(model, data.histology_test, qcfg, out=out / "quantify",
                     grades=data.test_grades, grade_model=grade_model, on_event=on_event,
                     cancel=cancel)
    timings["quantify"] = time.perf_counter() - t
    cv = fit.fit.cv.to_dict() if fit.fit and fit.fit.cv else {}
    ids["quantify"] = _record("quantify", qcfg, metrics=_flat(cv.get("metrics", {}), "cv"),
                              seconds=timings["quantify"], runs_dir=runs_dir,
                              models=[("segmentation", model), ("grades", grade_model)],
                              inputs=[data.histology_test])
    timings["total"] = time.perf_counter() - t0

    result = DemoResult(out, out / "report.html", data, mito, transfer, evaluation, quant, fit,
                        figures, timings, ids, mito.device)
    from .report import write_report

    write_report(result, config)
    ids["demo"] = _record("demo", config, metrics=_flat(evaluation.aggregates["pooled"], "pooled"),
                          seconds=timings["total"], runs_dir=runs_dir,
                          models=[("mito", mito.model_path), ("glomeruli", model)],
                          inputs=[data.em, data.histology_train], device=mito.device)
    emit(on_event, Finished("demo", message=f"report: {result.report}"))
    return result


def _flat(metrics: dict, prefix: str) -> dict:
    out = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, (int, float)):
            out[f"{prefix}_{key}"] = float(value)
        elif isinstance(value, dict) and isinstance(value.get("value"), (int, float)):
            out[f"{prefix}_{key}"] = float(value["value"])
    return out


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
