"""Live training curves: batch loss, train/valid loss and Dice/IoU per epoch (pyqtgraph).

Events go in with :meth:`MetricPanel.add_event`; the plots redraw on a 10 Hz timer, so a flood of
batch events costs the event loop almost nothing. Each run (e.g. "transfer" and "scratch") is one
colour, so a compare-with-scratch run overlays both curves in the same plots.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QVBoxLayout, QWidget

from eq_engine.events import BatchEnd, EpochEnd

RUN_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
METRICS = ("dice", "iou")
REDRAW_MS = 100


def run_of(stage: str) -> str:
    """The run a stage belongs to: everything is one run except a from-scratch baseline."""
    return "scratch" if "scratch" in stage.lower() else "model"


def _finite(value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


class _Run:
    def __init__(self) -> None:
        self.batch_loss: list[float] = []
        self.epochs: list[int] = []
        self.train_loss: list[float] = []
        self.valid_loss: list[float] = []
        self.metrics: dict[str, list[float]] = {m: [] for m in METRICS}

    def add_batch(self, ev: BatchEnd) -> None:
        self.batch_loss.append(_finite(ev.loss))

    def add_epoch(self, ev: EpochEnd) -> None:
        self.epochs.append(len(self.epochs) + 1)  # stages restart epoch numbers; count instead
        self.train_loss.append(_finite(ev.train_loss))
        self.valid_loss.append(_finite(ev.valid_loss))
        lowered = {str(k).lower(): v for k, v in (ev.metrics or {}).items()}
        for name in METRICS:
            self.metrics[name].append(_finite(lowered.get(name)))


class MetricPanel(QWidget):
    """Three stacked plots fed by engine events."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, foreground="#d0d0d0", background="#262930")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumHeight(360)
        layout.addWidget(self.view)
        self.batch_plot = self._plot("batch loss", "batch", row=0)
        self.loss_plot = self._plot("loss per epoch", "epoch", row=1)
        self.metric_plot = self._plot("Dice / IoU per epoch (valid)", "epoch", row=2)
        self.metric_plot.setYRange(0, 1)
        self._runs: dict[str, _Run] = {}
        self._curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()

    def _plot(self, title: str, xlabel: str, *, row: int) -> pg.PlotItem:
        plot = self.view.addPlot(row=row, col=0, title=title)
        plot.setLabel("bottom", xlabel)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.addLegend(offset=(-5, 5), labelTextSize="8pt")
        return plot

    # -- data ---------------------------------------------------------------------------------
    def clear(self) -> None:
        for plot in (self.batch_plot, self.loss_plot, self.metric_plot):
            plot.clear()
            if plot.legend is not None:
                plot.legend.clear()
        self._runs.clear()
        self._curves.clear()
        self._dirty = False

    def add_event(self, event) -> None:
        """Record a BatchEnd or EpochEnd; other events are ignored."""
        if isinstance(event, BatchEnd):
            self._run(run_of(event.stage)).add_batch(event)
        elif isinstance(event, EpochEnd):
            self._run(run_of(event.stage)).add_epoch(event)
        else:
            return
        self._dirty = True

    def add_history(self, history: list[dict], *, run: str = "model") -> None:
        """Show a finished run's per-epoch history (rows with train_loss, valid_loss, metrics)."""
        for row in history:
            metrics = {k: v for k, v in row.items() if k.lower() in METRICS}
            metrics.update(row.get("metrics") or {})
            self._run(run).add_epoch(EpochEnd(run, int(row.get("epoch", 0)), 0,
                                              row.get("train_loss", math.nan),
                                              row.get("valid_loss", math.nan), metrics))
        self._dirty = True
        self.redraw()

    def _run(self, name: str) -> _Run:
        if name not in self._runs:
            self._runs[name] = _Run()
        return self._runs[name]

    @property
    def runs(self) -> list[str]:
        return list(self._runs)

    def series(self, run: str, name: str) -> list[float]:
        """Recorded values: ``batch_loss``, ``train_loss``, ``valid_loss``, ``dice`` or ``iou``."""
        data = self._runs[run]
        return list(data.metrics[name] if name in METRICS else getattr(data, name))

    # -- drawing ------------------------------------------------------------------------------
    def redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        for index, (name, run) in enumerate(self._runs.items()):
            colour = RUN_COLOURS[index % len(RUN_COLOURS)]
            self._draw(self.batch_plot, name, "batch loss", list(range(1, len(run.batch_loss) + 1)),
                       run.batch_loss, pg.mkPen(colour, width=1))
            self._draw(self.loss_plot, name, "train", run.epochs, run.train_loss,
                       pg.mkPen(colour, width=2), symbol="o")
            self._draw(self.loss_plot, name, "valid", run.epochs, run.valid_loss,
                       pg.mkPen(colour, width=2, style=pg.QtCore.Qt.PenStyle.DashLine), symbol="t")
            for metric, style in zip(METRICS, (pg.QtCore.Qt.PenStyle.SolidLine,
                                               pg.QtCore.Qt.PenStyle.DotLine), strict=True):
                self._draw(self.metric_plot, name, metric, run.epochs, run.metrics[metric],
                           pg.mkPen(colour, width=2, style=style), symbol="o")

    def _draw(self, plot, run: str, label: str, x, y, pen, symbol=None) -> None:
        key = (run, f"{plot.titleLabel.text}:{label}")
        curve = self._curves.get(key)
        if curve is None:
            legend = label if run == "model" else f"{run} {label}"
            curve = plot.plot(name=legend, pen=pen, symbol=symbol, symbolSize=5,
                              symbolBrush=pen.color(), connect="finite")
            self._curves[key] = curve
        curve.setData(x, y, connect="finite")
