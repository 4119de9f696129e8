"""Drive the real EQ studio and save one screenshot per dock into docs/images/.

Everything shown is computed on the spot, on the real human kidney tissue EQ ships
(resources/samples/aidpath_pas: AIDPATH PAS tiles, Bueno et al. 2020, CC BY 4.0): three tiles are
listed and one loaded, a glomerulus U-Net trains on them in the worker process (the Train shot is
taken mid-run), the model predicts the fourth tile, which it never saw, that prediction is
evaluated against the tile's mask, and the tile's glomeruli are quantified. On a headless machine
run it under Xvfb (a few minutes on 2 CPU cores):

    xvfb-run -a -s "-screen 0 1920x1200x24" .venv/bin/python docs/make_screenshots.py
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def tissue_split(work: Path) -> tuple[Path, tuple[Path, Path]]:
    """A training dataset of all shipped tiles but the last, and the last (image, mask) pair."""
    from eq_gui.resources import tissue_pairs

    pairs = tissue_pairs()
    root = work / "tissue"
    for image, mask in pairs[:-1]:
        for path, folder in ((image, "images"), (mask, "masks")):
            (root / folder).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, root / folder / path.name)
    return root, pairs[-1]


def data_shot(viewer, docks, root: Path, out: Path) -> None:
    data = docks["Data and Annotation"]
    data.folder.set_path(root)
    wait_until(lambda: data.decoded)
    data.table.selectRow(1)
    data.load_row(1)
    stem = data.rows[1][0]
    wait_until(lambda: f"{stem} mask" in viewer.layers)
    viewer.layers[f"{stem} mask"].contour = 3
    viewer.reset_view()
    shoot(viewer, data, "data", out)


def train_shot(viewer, docks, root: Path, work: Path, out: Path, epochs: int):
    from eq_engine.events import EpochEnd

    if not len(viewer.layers):  # show the tissue being trained on, not an empty canvas
        from eq_engine import read_image

        first = sorted((root / "images").glob("*"))[0]
        viewer.add_image(read_image(first), name=first.stem, rgb=True)
    train = docks["Train"]
    train.set_mode("scratch")
    train.folder.set_path(root)
    train.output.set_path(work / "glomeruli.eqm")
    form = train.form
    for box, value in ((form.epochs, epochs), (form.size, 128), (form.batch_size, 6),
                       (form.crops_per_image, 6), (form.scale, 0.5)):
        box.setValue(value)
    form.arch.setCurrentText("resnet18")
    seen = []
    train.jobs.event.connect(lambda ev: isinstance(ev, EpochEnd) and seen.append(ev))
    train.jobs.start_button.click()
    wait_until(lambda: len(seen) >= max(2, epochs // 2) or not train.jobs.running, 3600)
    if not seen:
        raise RuntimeError(f"training ended without an epoch: {train.jobs.status.text()}")
    train.panel.redraw()
    shoot(viewer, train, "train", out)
    wait_until(lambda: not train.jobs.running, 3600)
    if train.result is None:
        raise RuntimeError(f"training failed: {train.jobs.status.text()}")
    return train


def predict_shot(viewer, train, held_out: tuple[Path, Path], out: Path) -> str:
    from eq_engine import read_image, read_mask

    image_path, mask_path = held_out  # never seen in training
    name = image_path.stem
    viewer.add_image(read_image(image_path), name=name, rgb=True)
    viewer.add_labels(read_mask(mask_path).astype(np.int32), name=f"{name} mask", visible=False)
    predict = train.load_in_predict()
    predict.image_layer.setCurrentText(name)
    predict.jobs.start_button.click()
    wait_until(lambda: not predict.jobs.running and f"{name} prediction" in viewer.layers)
    only_show(viewer, {name, f"{name} prediction"})
    viewer.reset_view()
    shoot(viewer, predict, "predict", out)
    return name


def evaluate_shot(viewer, docks, name: str, out: Path) -> None:
    evaluate = docks["Evaluate"]
    evaluate.pred_layer.setCurrentText(f"{name} prediction")
    evaluate.truth_layer.setCurrentText(f"{name} mask")
    evaluate.jobs.start_button.click()
    wait_until(lambda: not evaluate.jobs.running and evaluate.report is not None)
    only_show(viewer, {name, f"{name} prediction", f"{name} mask", "EQ selection"})
    viewer.layers[f"{name} mask"].contour = 3
    rows = evaluate.object_table.rows
    if rows:
        pick = next((i for i, r in enumerate(rows) if r["kind"] == "matched"), 0)
        evaluate.object_table.selectRow(pick)
        evaluate.go_to_object(pick)
    shoot(viewer, evaluate, "evaluate", out)


def quantify_shot(viewer, docks, out: Path) -> None:
    quantify = docks["Quantify"]
    layers = viewer.open_sample("eq", "tissue")
    image, labels = layers[0], layers[1]
    quantify.image_layer.setCurrentText(image.name)
    quantify.labels_layer.setCurrentText(labels.name)
    quantify.jobs.start_button.click()
    wait_until(lambda: not quantify.jobs.running and quantify.table is not None)
    only_show(viewer, {image.name, quantify.coloured_layer.name, "EQ selection"})
    viewer.reset_view()
    quantify.rows.selectRow(0)
    quantify.go_to(0)
    viewer.reset_view()  # the whole tile, with the first glomerulus outlined
    shoot(viewer, quantify, "quantify", out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMAGES)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--size", default="1600x1000", help="window size WxH")
    parser.add_argument("--only", default="data,train,predict,evaluate,quantify",
                        help="comma-separated shots; train, predict and evaluate go together")
    args = parser.parse_args(argv)
    from eq_gui import workers
    from eq_gui.launcher import create_viewer

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="eq-shots-"))
    viewer, docks = create_viewer(show=True)
    width, height = (int(v) for v in args.size.split("x"))
    viewer.window.resize(width, height)
    try:
        shots = set(args.only.split(","))
        root, held_out = tissue_split(work)
        if "data" in shots:
            data_shot(viewer, docks, root, args.out)
        if shots & {"train", "predict", "evaluate"}:
            train = train_shot(viewer, docks, root, work, args.out, args.epochs)
            name = predict_shot(viewer, train, held_out, args.out)
            evaluate_shot(viewer, docks, name, args.out)
        if "quantify" in shots:
            quantify_shot(viewer, docks, args.out)
    finally:
        viewer.close()
        workers.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
