"""Peak memory of streamed prediction on a 16k x 16k RGB TIFF (goal: peak RSS < 1.5 GB).

Writes a synthetic uncompressed RGB TIFF band by band (never whole in memory), then predicts it
in a fresh subprocess with ``eq_engine.inference.predict_large`` and a cheap numpy predictor
(channel mix / 255), writing a float32 probability TIFF. The child's peak RSS is
``VmHWM`` from ``/proc/self/status`` (``ru_maxrss`` is printed too, but on Linux it can inherit
the parent's peak across fork+exec), so it includes the interpreter, numpy and tifffile, and
every mapped file page the run touched. The input is written by another subprocess so that the
measuring parent stays small.

    .venv/bin/python bench/large_image_rss.py                # 16384 px, tile 512
    .venv/bin/python bench/large_image_rss.py --size 4096    # quick check
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
import json, resource, sys, time
import numpy as np
from eq_engine.inference import predict_large

def peak_rss_mb():
    # VmHWM belongs to this process image; ru_maxrss may carry the parent's peak over exec
    try:
        with open("/proc/self/status") as fh:
            return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def cheap(batch):
    return (batch[:, 0] * 0.25 + batch[:, 1] * 0.5 + batch[:, 2] * 0.25) / 255

src, out, tile, output = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
start = time.perf_counter()
res = predict_large(src, cheap, out, tile=tile, overlap=0.25, batch_size=8, output=output,
                    overwrite=True)
print(json.dumps({"seconds": time.perf_counter() - start, "n_tiles": res.n_tiles,
                  "peak_rss_mb": peak_rss_mb(),
                  "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_rgb_tiff(path: Path, size: int, band: int = 1024) -> None:
    import tifffile

    mm = tifffile.memmap(path, shape=(size, size, 3), dtype=np.uint8, photometric="rgb")
    rng = np.random.default_rng(0)
    for y in range(0, size, band):
        rows = min(band, size - y)
        ramp = (np.arange(size, dtype=np.uint16)[None, :, None] + y) % 256
        mm[y:y + rows] = (ramp + rng.integers(0, 32, (rows, size, 3))).astype(np.uint8)
        mm.flush()
    del mm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16384)
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--output", choices=("probability", "mask"), default="probability")
    parser.add_argument("--dir", default=None, help="scratch folder (default: system temp)")
    parser.add_argument("--write-only", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_only:
        write_rgb_tiff(Path(args.write_only), args.size)
        return 0
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        src, out = Path(tmp) / "big.tif", Path(tmp) / "prob.tif"
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--write-only", str(src), "--size",
                        str(args.size)], check=True)
        print(f"wrote {args.size}x{args.size}x3 uint8 TIFF ({src.stat().st_size / 2**20:.0f} MiB)"
              f" in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(src), str(out), str(args.tile), args.output],
            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result.update(size=args.size, tile=args.tile, output=args.output,
                      out_mib=round(out.stat().st_size / 2**20),
                      megapixels_per_s=round(args.size**2 / 1e6 / result["seconds"], 1))
    print(json.dumps(result))
    print(f"peak RSS {result['peak_rss_mb']:.0f} MB (goal < 1536 MB): "
          f"{'PASS' if result['peak_rss_mb'] < 1536 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
