"""Time to predict one 2448 x 2048 H&E field with a glomeruli model file (CPU by default).

    .venv/bin/python bench/predict_field.py MODEL [--image PATH] [--repeats 3]

Loads the model once, predicts the field ``--repeats`` times after one warm-up call, prints the
median wall and CPU time of ``eq_engine.predict`` (read + scale + normalise + tiles + resize back +
post-processing; the file read is outside the timing) and the tile size and count used.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EQ_SHARED_DATA", ROOT / ".." / "shared" / "data")).resolve()
FIELD = DATA / "kidney_preeclampsia_mouse_he" / "images" / "T21_Image0.jpg"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("--image", default=str(FIELD))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--tile", type=int, default=0, help="0: the model's prediction tile")
    args = p.parse_args()
    from eq_engine.config import PredictConfig
    from eq_engine.inference import predict
    from eq_engine.io.images import read_image
    from eq_engine.models.loading import load_model

    image = read_image(args.image)
    loaded = load_model(args.model, device=args.device)
    config = PredictConfig(device=args.device, tile=args.tile)
    predict(loaded, image, config)  # warm-up
    times, cpu = [], []
    for _ in range(args.repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = predict(loaded, image, config)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(f"{image.shape} -> median {statistics.median(times):.2f} s wall over {args.repeats} "
          f"(min {min(times):.2f}, max {max(times):.2f}), median "
          f"{statistics.median(cpu):.2f} CPU s (all threads); tile {result.tile}, "
          f"scale {loaded.metadata['scale']}, {int(result.labels.max())} objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
