"""RSS of repeated ``predict()`` calls on one loaded model: does memory grow per call?

Loads one EQ model file (or writes a random-init resnet18 U-Net when none is given: memory, not
accuracy, is measured), then calls :func:`eq_engine.inference.prediction.predict` on the same
synthetic EM slice ``--calls`` times and prints the process RSS and the Python heap
(tracemalloc) after calls 1, 10 and every 10th call. Goal: RSS growth between call 10 and the
last call under 2%.

    .venv/bin/python bench/predict_rss.py --calls 100 --size 128 --threads 1
    .venv/bin/python bench/predict_rss.py --model mito.eqm --calls 100 --size 512 --tile 256
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import tracemalloc
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="EQ model file (default: random resnet18)")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--size", type=int, default=128, help="image side in px")
    parser.add_argument("--tile", type=int, default=0, help="tile (default: the model's)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()

    import psutil
    import torch

    from eq_engine.config import PredictConfig
    from eq_engine.data.synthetic import make_em_stack
    from eq_engine.inference.prediction import predict
    from eq_engine.io.models import save_model
    from eq_engine.models.loading import load_model
    from eq_engine.models.unet import build_unet

    if args.threads:
        torch.set_num_threads(args.threads)
    model = args.model
    if model is None:
        meta = {"task": "mitochondria", "arch": "resnet18", "in_channels": 1, "n_classes": 2,
                "normalization": {"method": "percentile-standardize", "low": 1.0, "high": 99.8,
                                  "channels": 1, "mean": [0.0], "std": [1.0]},
                "tile_size": 128, "scale": 1.0, "threshold": 0.5}
        model = save_model(Path(tempfile.mkdtemp()) / "random.eqm",
                           build_unet("resnet18", in_channels=1), meta)
    loaded = load_model(model, device="cpu")
    image = make_em_stack(1, args.size, seed=0)[0][0]
    config = PredictConfig(tile=args.tile, device="cpu")
    process = psutil.Process()
    tracemalloc.start()
    rss = {}
    for call in range(1, args.calls + 1):
        predict(loaded, image, config)
        if call in (1, 10) or call % 10 == 0 or call == args.calls:
            rss[call] = process.memory_info().rss / 2**20
            print(json.dumps({"call": call, "rss_mb": round(rss[call], 1),
                              "python_heap_mb": round(tracemalloc.get_traced_memory()[0] / 2**20, 2)}),
                  flush=True)
    if 10 in rss:
        growth = 100 * (rss[args.calls] - rss[10]) / rss[10]
        print(json.dumps({"growth_10_to_last_pct": round(growth, 2), "threads": torch.get_num_threads(),
                          "size": args.size, "calls": args.calls}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
