"""report.html for `eq demo`: curves, transfer vs scratch, overlays, tables, timings."""

from __future__ import annotations

from pathlib import Path

from ..run_compare import plot_histories
from ..versions import library_versions
from .html import HtmlReport
from .profiles import DemoConfig

_EVAL_COLUMNS = ["image", "dice", "iou", "precision", "recall", "object_f1", "n_pred", "n_truth"]
_QUANT_COLUMNS = ["image", "label", "area", "touches_border", "openness", "n_lumens",
                  "grade_expected", "grade_sd", "grade_true"]


def _curves(result, folder: Path) -> dict[str, Path]:
    t = result.transfer
    plots = {"mito": plot_histories({"mitochondria pretraining": result.mito.history},
                                    folder / "curves_mito.png")}
    histories = {"transfer (pretrained encoder)": t.transfer.history}
    if t.scratch is not None:
        histories["scratch (random init)"] = t.scratch.history
    plots["glomeruli"] = plot_histories(histories, folder / "curves_transfer_vs_scratch.png")
    return plots


def _present(rows: list[dict], wanted: list[str]) -> list[str]:
    have = set(rows[0]) if rows else set()
    return [c for c in wanted if c in have]


def write_report(result, config: DemoConfig) -> Path:
    figures = result.out / "figures"
    report = HtmlReport("EQ demo: mitochondria → glomeruli → endotheliosis")
    source = "generated samples" if result.data.source == "generated" else result.data.source
    report.paragraph(f"Data: {source}. Device: {result.device}. Seed: {config.seed}. "
                     f"Profile: {'quick' if config.quick else 'default'}. "
                     f"Total time: {result.timings['total']:.0f} s.")

    report.heading("1. Pretraining on EM mitochondria")
    curves = _curves(result, figures)
    report.figure(curves["mito"], "mitochondria U-Net: loss and validation Dice/IoU per epoch")
    report.table([{"model": str(result.mito.model_path), **_numbers(result.mito.best)}])

    report.heading("2. Transfer to glomeruli, against training from scratch")
    report.figure(curves["glomeruli"], "same split, seed and epochs; only the encoder init differs")
    report.table(result.transfer.table)
    report.paragraph(result.transfer.copy_report.summary(), note=True)

    report.heading("3. Prediction on held-out fields")
    for png in result.prediction_figures:
        report.figure(png, Path(png).stem)

    report.heading("4. Evaluation on held-out fields")
    ev = result.evaluation
    aggregate_rows = [{"aggregate": k, **_numbers(ev.aggregates[k])} for k in ("pooled", "mean")]
    for name, base in (ev.baselines or {}).items():
        aggregate_rows.append({"aggregate": f"baseline: {name} (pooled)", **_numbers(base["pooled"])})
    report.table(aggregate_rows, columns=["aggregate", "dice", "iou", "precision", "recall",
                                          "object_f1"])
    report.paragraph("pooled: counts summed over all images, then the metric; mean: the metric "
                     "per image, then averaged.", note=True)
    report.table(ev.per_image, columns=_present(ev.per_image, _EVAL_COLUMNS))
    for png in ev.overlays:
        report.figure(png, f"{Path(png).stem} (green: correct, orange: false positive, "
                           "blue: missed)", width=360)

    report.heading("5. Endotheliosis quantification")
    fit = result.quant_fit.fit
    if fit is not None and fit.cv is not None:
        report.paragraph("Grade model fitted on the training fields (true glomerulus labels), "
                         "cross-validated by subject:")
        report.table([{"metric": k, **v} for k, v in fit.cv.metrics.items()])
    plot = result.quant.files.get("plot")
    if plot:
        report.figure(plot, "openness vs grade on the held-out fields (predicted glomeruli)")
    rows = result.quant.glomeruli.rows
    report.table(rows, columns=_present(rows, _QUANT_COLUMNS))

    report.heading("Timings, versions, runs")
    report.table([{"step": k, "seconds": v} for k, v in result.timings.items()])
    report.table([{"library": k, "version": v} for k, v in library_versions().items()])
    report.table([{"step": k, "run id": v} for k, v in result.run_ids.items()])
    return report.write(result.report)


def _numbers(row: dict) -> dict:
    return {k: v for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
