"""Whole-slide prediction: peak RSS on a large generated slide, and time vs tissue area.

A procedural RGB slide (glass with square tissue islands holding dark "glomeruli" discs) is
written as a pyramidal OME-TIFF (levels 1, 1/4, 1/16, 0.5 µm/px) tile by tile, never in memory.
A random-init U-Net model file (resnet18; speed and memory, not accuracy, are measured) then
predicts it with ``eq_engine.inference.slide.predict_slide`` in a fresh subprocess, which
reports ``VmHWM`` (peak RSS including torch and the model), seconds and regions.

    .venv/bin/python bench/slide_prediction.py rss --height 50000 --width 40000 --tissue 0.02
    .venv/bin/python bench/slide_prediction.py proportional --size 6144 --fractions 0.1 0.25 0.5

``proportional`` predicts the same-size slide with increasing tissue fractions and with tissue
detection off (the whole slide), and prints seconds per tissue fraction.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = r"""
import json, sys, time
from eq_engine.config.inference import PredictConfig
from eq_engine.config.slide import SlideConfig
from eq_engine.inference.slide import predict_slide

def status_mb(key):
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith(key)) / 1024

slide, model, out, batch, tissue, region = sys.argv[1:7]
config = SlideConfig(predict=PredictConfig(device="cpu", batch_size=int(batch)),
                     tissue=tissue == "1", region=int(region), halo=min(128, int(region)))
start = time.perf_counter()
result = predict_slide(model, slide, out, config, overwrite=True)
print(json.dumps({"seconds": time.perf_counter() - start, "peak_rss_mb": status_mb("VmHWM"),
                  "objects": result.n_objects, "regions_predicted": result.regions_predicted,
                  "regions_skipped": result.regions_skipped,
                  "analysis_shape": list(result.plan.shape), "level": result.plan.level}))
"""


class ProceduralSlide:
    """Array-like RGB slide computed on demand: glass, tissue islands (a fraction ``tissue`` of
    the area, in a regular grid) and discs of 120 px diameter inside them."""

    def __init__(self, height: int, width: int, tissue: float, island: int = 4096) -> None:
        self.shape, self.dtype, self.ndim = (height, width, 3), np.dtype(np.uint8), 3
        self.island = island
        n_islands = max(1, round(tissue * height * width / island**2))
        cells_x = max(1, width // island)
        cells = [(i // cells_x, i % cells_x) for i in range(cells_x * max(1, height // island))]
        step = max(1, len(cells) // n_islands)
        self.islands = [(cy * island, cx * island) for cy, cx in cells[::step][:n_islands]]

    def __getitem__(self, key) -> np.ndarray:
        ys, xs = key
        y0, y1, x0, x1 = ys.start, ys.stop, xs.start, xs.stop
        out = np.full((y1 - y0, x1 - x0, 3), 242, np.uint8)
        yy, xx = np.ogrid[y0:y1, x0:x1]
        for iy, ix in self.islands:
            if iy >= y1 or ix >= x1 or iy + self.island <= y0 or ix + self.island <= x0:
                continue
            inside = (yy >= iy) & (yy < iy + self.island) & (xx >= ix) & (xx < ix + self.island)
            noise = ((yy * 73856093) ^ (xx * 19349663)) % 24
            out[inside] = np.stack(np.broadcast_arrays(210 + noise, 150 + noise, 185 + noise),
                                   axis=-1)[inside]
            disc = (((yy - iy) % 512 - 256) ** 2 + ((xx - ix) % 512 - 256) ** 2) < 60**2
            out[inside & disc] = (110, 40, 105)
        return out


def make_model(path: Path, tile: int) -> Path:
    from eq_engine.io.models import save_model
    from eq_engine.models.unet import build_unet

    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 3,
            "mean": [0.5] * 3, "std": [0.25] * 3}
    meta = {"task": "glomeruli", "arch": "resnet18", "in_channels": 3, "n_classes": 2,
            "normalization": norm, "tile_size": tile, "scale": 0.5, "threshold": 0.5}
    return save_model(path, build_unet("resnet18", in_channels=3), meta)


def run_child(slide: Path, model: Path, out: Path, batch: int, tissue: bool,
              region: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(slide), str(model), str(out),
                           str(batch), "1" if tissue else "0", str(region)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def write_slide(path: Path, height: int, width: int, tissue: float, island: int) -> float:
    from eq_engine.io.slide_writer import write_pyramid

    start = time.perf_counter()
    write_pyramid(path, ProceduralSlide(height, width, tissue, island), mpp=0.5, kind="ome",
                  compression="zlib")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("rss", "proportional"))
    parser.add_argument("--height", type=int, default=50000)
    parser.add_argument("--width", type=int, default=40000)
    parser.add_argument("--tissue", type=float, default=0.02)
    parser.add_argument("--size", type=int, default=6144)
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.25, 0.5])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--region", type=int, default=2048, help="region px (model scale)")
    parser.add_argument("--tile", type=int, default=512, help="model tile px")
    parser.add_argument("--island", type=int, default=0,
                        help="tissue island side, px (default 4096 for rss, 1024 otherwise)")
    parser.add_argument("--slide", type=Path, default=None,
                        help="rss: keep the generated slide here (reused when it exists, e.g. "
                        "by bench/slide_panning.py --slide)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eq-slide-bench-") as tmp:
        tmp = Path(tmp)
        model = make_model(tmp / "m.eqm", args.tile)
        if args.mode == "rss":
            slide, seconds = args.slide or tmp / "s.ome.tif", 0.0
            if not slide.is_file():
                seconds = write_slide(slide, args.height, args.width, args.tissue,
                                      args.island or 4096)
            result = run_child(slide, model, tmp / "out", args.batch, True, args.region)
            print(json.dumps({"slide": [args.height, args.width], "tissue": args.tissue,
                              "write_s": round(seconds, 1), **result}))
            return
        for fraction in args.fractions:
            write_slide(tmp / f"s{fraction}.ome.tif", args.size, args.size, fraction,
                        args.island or 1024)
            result = run_child(tmp / f"s{fraction}.ome.tif", model, tmp / "o", args.batch, True,
                              args.region)
            print(json.dumps({"tissue": fraction, **result}))
        whole = run_child(tmp / f"s{args.fractions[-1]}.ome.tif", model, tmp / "o", args.batch,
                          False, args.region)
        print(json.dumps({"tissue": "off (whole slide)", **whole}))


if __name__ == "__main__":
    main()
