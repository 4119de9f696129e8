"""Peak memory and throughput of streamed prediction with a real U-Net model file.

Writes a synthetic uncompressed RGB TIFF band by band and a random-init U-Net model file
(resnet18 by default: speed, not accuracy, is measured), then predicts the TIFF in a fresh
subprocess with ``eq_engine.inference.stream_model.predict_file_streaming`` (lazy reading,
percentile sample, normalisation per band, the model's scale, float32 probability written
incrementally). The child reports ``VmHWM`` (peak RSS, including torch and the model), the RSS
after loading the model (the floor), and megapixels of input per second.

A wide strip (default 2048 x 16384) has the band width of a 16k x 16k slide, so its peak RSS is
that of the full slide (memory grows with width x tile, not with height) at 1/8 of the time.

    .venv/bin/python bench/large_image_model_rss.py                        # 2048 x 16384, scale 1
    .venv/bin/python bench/large_image_model_rss.py --height 8192 --width 8192 --scale 0.5
    .venv/bin/python bench/large_image_model_rss.py --device cuda --height 16384 --width 16384
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
from eq_engine.config import PredictConfig
from eq_engine.models.loading import load_model
from eq_engine.inference.stream_model import predict_file_streaming

def status_mb(key):
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith(key)) / 1024

src, model, out, device, batch = sys.argv[1:6]
loaded = load_model(model, device=device)
floor = status_mb("VmRSS")
start = time.perf_counter()
res = predict_file_streaming(loaded, src, out, PredictConfig(device=device,
                             batch_size=int(batch)))
print(json.dumps({"seconds": time.perf_counter() - start, "n_tiles": res.n_tiles,
                  "device": loaded.device, "rss_after_load_mb": floor,
                  "peak_rss_mb": status_mb("VmHWM")}))
"""


def write_inputs(src: Path, model: Path, height: int, width: int, *, arch: str, tile: int,
                 scale: float) -> None:
    """The RGB TIFF (never whole in memory) and a random-init model file."""
    import tifffile

    from eq_engine.data.normalize import compute_norm_stats
    from eq_engine.io.models import save_model
    from eq_engine.models.unet import build_unet

    mm = tifffile.memmap(src, shape=(height, width, 3), dtype=np.uint8, photometric="rgb")
    rng = np.random.default_rng(0)
    for y in range(0, height, 1024):
        rows = min(1024, height - y)
        ramp = (np.arange(width, dtype=np.uint16)[None, :, None] + y) % 256
        mm[y:y + rows] = (ramp + rng.integers(0, 32, (rows, width, 3))).astype(np.uint8)
        mm.flush()
    sample = np.array(mm[:512, :512])
    del mm
    meta = {"task": "glomeruli", "arch": arch, "in_channels": 3, "n_classes": 2,
            "normalization": compute_norm_stats([sample]), "tile_size": tile, "scale": scale,
            "threshold": 0.5}
    save_model(model, build_unet(arch, in_channels=3), meta)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=2048)
    parser.add_argument("--width", type=int, default=16384)
    parser.add_argument("--arch", default="resnet18")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dir", default=None, help="scratch folder (default: system temp)")
    parser.add_argument("--write-only", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_only:
        write_inputs(Path(args.write_only[0]), Path(args.write_only[1]), args.height, args.width,
                     arch=args.arch, tile=args.tile, scale=args.scale)
        return 0
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        src, model, out = Path(tmp) / "big.tif", Path(tmp) / "model.eqm", Path(tmp) / "prob.tif"
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--write-only", str(src), str(model),
                        "--height", str(args.height), "--width", str(args.width),
                        "--arch", args.arch, "--tile", str(args.tile),
                        "--scale", str(args.scale)], check=True, cwd=root)
        print(f"wrote {args.height}x{args.width}x3 uint8 TIFF ({src.stat().st_size / 2**20:.0f} "
              f"MiB) and a {args.arch} model in {time.perf_counter() - start:.1f} s",
              file=sys.stderr)
        proc = subprocess.run([sys.executable, "-c", CHILD, str(src), str(model), str(out),
                               args.device, str(args.batch_size)],
                              capture_output=True, text=True, cwd=root)
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    megapixels = args.height * args.width / 1e6
    result.update(height=args.height, width=args.width, arch=args.arch, tile=args.tile,
                  scale=args.scale, batch_size=args.batch_size,
                  megapixels_per_s=round(megapixels / result["seconds"], 3),
                  streaming_mb=round(result["peak_rss_mb"] - result["rss_after_load_mb"]))
    print(json.dumps(result))
    print(f"peak RSS {result['peak_rss_mb']:.0f} MB ({result['rss_after_load_mb']:.0f} MB after "
          f"loading torch and the model), {result['megapixels_per_s']} Mpx/s on "
          f"{result['device']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
