"""Drive the real EQ studio and save one screenshot per dock into docs/images/.

Everything shown is computed on the spot: a synthetic EM dataset is listed and loaded, a U-Net
trains in the worker process (the Train shot is taken mid-run), the model predicts a slice it
never saw, the prediction is evaluated against that slice's truth, and the histology sample is
quantified. On a headless machine run it under Xvfb (a few minutes on 2 CPU cores):

    xvfb-run -a -s "-screen 0 1920x1200x24" .venv/bin/python docs/make_screenshots.py
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_API", "pyside6")
IMAGES = Path(__file__).resolve().parent / "images"


def wait_until(condition, timeout_s: float = 900.0) -> None:
    """Run the Qt event loop until ``condition()`` is true (checked every 50 ms)."""
    from qtpy.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(50)
    deadline = time.monotonic() + timeout_s
    timer.timeout.connect(lambda: (condition() or time.monotonic() > deadline) and loop.quit())
    timer.start()
    if not condition():
        loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError(f"gave up after {timeout_s:.0f} s waiting for {condition}")


def shoot(viewer, dock, name: str, out: Path) -> Path:
    from eq_gui.docking import raise_dock

    raise_dock(dock)
    wait_until(lambda: True)
    path = out / f"{name}.png"
    viewer.screenshot(str(path), canvas_only=False, flash=False)
    print(f"wrote {path}")
    return path


def only_show(viewer, names: set[str]) -> None:
    for layer in viewer.layers:
        layer.visible = layer.name in names


def data_shot(viewer, docks, work: Path, out: Path) -> Path:
    from eq_engine.data.synthetic import write_em_dataset

    root = write_em_dataset(work / "em", n_slices=6, size=256, seed=0)
    data = docks["Data and Annotation"]
    data.folder.set_path(root)
    wait_until(lambda: data.report is not None)
    data.table.selectRow(1)
    data.load_row(1)
    wait_until(lambda: "em_z01 mask" in viewer.layers)
    viewer.reset_view()
    shoot(viewer, data, "data", out)
    return root


def train_shot(viewer, docks, root: Path, work: Path, out: Path, epochs: int):
    from eq_engine.events import EpochEnd

    train = docks["Train"]
    train.set_mode("pretrain")
    train.folder.set_path(root)
    train.output.set_path(work / "mito.eqm")
    form = train.form
    for box, value in ((form.epochs, epochs), (form.size, 128), (form.batch_size, 8),
                       (form.crops_per_image, 8)):
        box.setValue(value)
    form.arch.setCurrentText("resnet18")
    seen = []
    train.jobs.event.connect(lambda ev: isinstance(ev, EpochEnd) and seen.append(ev))
    train.jobs.start_button.click()
    wait_until(lambda: len(seen) >= max(2, epochs // 2))
    train.panel.redraw()
    shoot(viewer, train, "train", out)
    wait_until(lambda: not train.jobs.running)
    if train.result is None:
        raise RuntimeError(f"training failed: {train.jobs.status.text()}")
    return train


def predict_shot(viewer, train, out: Path) -> None:
    from eq_engine.data.synthetic import make_em_stack

    image, mask = make_em_stack(n_slices=1, size=256, seed=7)  # never seen in training
    viewer.add_image(image[0], name="EM test")
    viewer.add_labels(mask[0].astype(np.int32), name="EM test truth", visible=False)
    predict = train.load_in_predict()
    predict.image_layer.setCurrentText("EM test")
    predict.jobs.start_button.click()
    wait_until(lambda: not predict.jobs.running and "EM test prediction" in viewer.layers)
    only_show(viewer, {"EM test", "EM test prediction"})
    viewer.reset_view()
    shoot(viewer, predict, "predict", out)


def evaluate_shot(viewer, docks, out: Path) -> None:
    evaluate = docks["Evaluate"]
    evaluate.pred_layer.setCurrentText("EM test prediction")
    evaluate.truth_layer.setCurrentText("EM test truth")
    evaluate.jobs.start_button.click()
    wait_until(lambda: not evaluate.jobs.running and evaluate.report is not None)
    only_show(viewer, {"EM test", "EM test prediction", "EM test truth"})
    viewer.layers["EM test truth"].contour = 2
    rows = evaluate.object_table.rows
    if rows:
        pick = next((i for i, r in enumerate(rows) if r["kind"] == "matched"), 0)
        evaluate.object_table.selectRow(pick)
        evaluate.go_to_object(pick)
    shoot(viewer, evaluate, "evaluate", out)


def quantify_shot(viewer, docks, out: Path) -> None:
    quantify = docks["Quantify"]
    layers = viewer.open_sample("eq", "histology")
    image, labels = layers[0], layers[1]
    quantify.image_layer.setCurrentText(image.name)
    quantify.labels_layer.setCurrentText(labels.name)
    quantify.jobs.start_button.click()
    wait_until(lambda: not quantify.jobs.running and quantify.table is not None)
    only_show(viewer, {image.name, quantify.coloured_layer.name})
    viewer.reset_view()
    shoot(viewer, quantify, "quantify", out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMAGES)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--size", default="1600x1000", help="window size WxH")
    args = parser.parse_args(argv)
    from eq_gui import workers
    from eq_gui.launcher import create_viewer

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="eq-shots-"))
    viewer, docks = create_viewer(show=True)
    width, height = (int(v) for v in args.size.split("x"))
    viewer.window.resize(width, height)
    try:
        root = data_shot(viewer, docks, work, args.out)
        train = train_shot(viewer, docks, root, work, args.out, args.epochs)
        predict_shot(viewer, train, args.out)
        evaluate_shot(viewer, docks, args.out)
        quantify_shot(viewer, docks, args.out)
    finally:
        viewer.close()
        workers.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
