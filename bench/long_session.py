"""Long GUI session: 100 predictions in one window, with one warm worker process.

A napari viewer with the EQ Predict dock predicts a 1024 x 1024 RGB field again and again with a
resnet34 U-Net (about 124 MB on disk, like a real glomeruli model) through the worker process.
Resident memory of the GUI process and of the worker is sampled after every prediction. Goals:
both grow by less than 10% between prediction 10 and prediction 100, and the warm worker reuses
the loaded model instead of re-reading the file on each click (``--reload`` touches the file
before each click to measure what a re-read costs). Run under Xvfb on a headless machine:

    xvfb-run -a .venv/bin/python bench/long_session.py --n 100
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_API", "pyside6")
MB = 2**20


def make_model(out: Path, device: str) -> Path:
    """A resnet34 glomeruli U-Net trained for one tiny epoch (the file is what matters)."""
    from eq_engine.config import TrainConfig
    from eq_engine.data import write_histology_dataset
    from eq_gui import workers

    data = write_histology_dataset(out / "histology", n_images=4, size=512, seed=0)
    config = TrainConfig(task="glomeruli", arch="resnet34", size=256, batch_size=2, epochs=1,
                         crops_per_image=1, scale=0.5, augment=False, device=device)
    path = out / "glomeruli_resnet34.eqm"
    workers.submit("train", {"data": str(data), "config": config, "out": str(path)}).wait(900)
    return path


def predict_once(dock, timeout_s: float = 900) -> float:
    """Click Predict and run the event loop until the dock is idle; returns seconds."""
    from qtpy.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    dock.jobs.idle.connect(loop.quit)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    start = time.perf_counter()
    dock.jobs.start_button.click()
    loop.exec()
    dock.jobs.idle.disconnect(loop.quit)
    if dock.prediction is None:
        raise RuntimeError(f"prediction failed: {dock.jobs.status.text()}")
    return time.perf_counter() - start


def rss_mb(pid: int | None) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / MB if pid else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="predictions in the session")
    parser.add_argument("--size", type=int, default=1024, help="field size (px)")
    parser.add_argument("--reload", type=int, default=5,
                        help="extra predictions that touch the model file first (forced re-read)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tile", type=int, default=512, help="prediction tile (0: the model's)")
    parser.add_argument("--json", default=None, help="also write the samples here")
    args = parser.parse_args(argv)

    import napari

    from eq_engine.data import make_histology_field
    from eq_gui import workers
    from eq_gui.docking import show_dock

    out = Path(tempfile.mkdtemp(prefix="eq-long-session-"))
    model = make_model(out, args.device)
    viewer = napari.Viewer(show=True, title="EQ long session")
    field = make_histology_field(size=args.size, n_glomeruli=6, seed=3).image
    viewer.add_image(field, name="field", rgb=True)
    dock = show_dock(viewer, "Predict")
    dock.set_model(model)
    dock.image_layer.setCurrentText("field")
    dock.device.setCurrentText(args.device)
    dock.tile.setValue(args.tile)
    rows = []
    for i in range(1, args.n + args.reload + 1):
        reload = i > args.n
        if reload:
            stat = model.stat()
            os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        seconds = predict_once(dock)
        pids = workers.live_processes()
        row = {"i": i, "seconds": round(seconds, 2), "reload": reload,
               "gui_mb": round(rss_mb(os.getpid()), 1),
               "worker_mb": round(rss_mb(pids[0] if pids else None), 1), "workers": len(pids)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    viewer.close()
    workers.shutdown()
    report(rows, args, model)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


def report(rows: list[dict], args, model: Path) -> None:
    warm = [r for r in rows if not r["reload"]]
    at = {r["i"]: r for r in warm}
    first, last = at[min(10, len(warm))], warm[-1]
    grow = {k: 100 * (last[k] / first[k] - 1) for k in ("gui_mb", "worker_mb")}
    cached = np.median([r["seconds"] for r in warm[1:]])
    reloaded = [r["seconds"] for r in rows if r["reload"]]
    print(f"\nmodel file {model.stat().st_size / MB:.0f} MB; {len(warm)} predictions of "
          f"{args.size}x{args.size} px on {args.device}")
    print(f"GUI RSS: {first['gui_mb']:.0f} MB after #{first['i']} -> {last['gui_mb']:.0f} MB "
          f"after #{last['i']} ({grow['gui_mb']:+.1f}%)")
    print(f"worker RSS: {first['worker_mb']:.0f} MB -> {last['worker_mb']:.0f} MB "
          f"({grow['worker_mb']:+.1f}%); worker processes alive: {last['workers']}")
    print(f"click -> result: first {warm[0]['seconds']:.2f} s (starts the worker), then median "
          f"{cached:.2f} s with the model kept; "
          + (f"median {np.median(reloaded):.2f} s when the file is re-read" if reloaded else ""))
    print(f"{platform.node()} {os.cpu_count()} CPUs, python {platform.python_version()}")
    ok = all(v < 10 for v in grow.values())
    print("goal (< 10% growth from #10 to the last):", "met" if ok else "NOT met")


if __name__ == "__main__":
    sys.exit(main())
