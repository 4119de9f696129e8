"""Throughput of ``predict_tiled`` with a real U-Net against a plain batched forward pass.

Both sides run the same predictor (``eq_engine.models.loading.make_predictor``: inference mode,
autocast on CUDA) over the same tiles (overlap counted) in the same process. The plain side
gets the tiles pre-cut and already float32; the tiled side cuts, pads, batches, blends and
normalises by the summed weights. ratio = plain time / tiled time (goal >= 0.85).

    .venv/bin/python bench/tiled_throughput.py                     # CPU, small
    .venv/bin/python bench/tiled_throughput.py --device cuda --size 4096 --arch resnet34
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np


def timed_pair(plain, tiled, repeats: int) -> tuple[float, float]:
    """Median times, runs interleaved (plain, tiled, plain, ...) so load drift hits both."""
    times: dict = {plain: [], tiled: []}
    for _ in range(repeats):
        for fn in (plain, tiled):
            start = time.perf_counter()
            fn()
            times[fn].append(time.perf_counter() - start)
    return statistics.median(times[plain]), statistics.median(times[tiled])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="resnet18")
    parser.add_argument("--size", type=int, default=768, help="image side (px)")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--overlap", type=float, default=0.25)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch

    from eq_engine.device import pick_device
    from eq_engine.inference import predict_tiled
    from eq_engine.inference.tiling import tile_grid
    from eq_engine.models.loading import make_predictor
    from eq_engine.models.unet import build_unet

    info = pick_device(args.device)
    model = build_unet(args.arch, in_channels=3).to(info.name).eval()
    predictor = make_predictor(model, device=info.name, mixed_precision=info.mixed_precision)
    rng = np.random.default_rng(0)
    image = rng.standard_normal((args.size, args.size, 3), dtype=np.float32)
    corners = tile_grid(image.shape[:2], tile=args.tile, overlap=args.overlap)
    tiles = np.stack([image[y:y + args.tile, x:x + args.tile].transpose(2, 0, 1)
                      for y, x in corners]).astype(np.float32)

    def plain():
        for i in range(0, len(tiles), args.batch_size):
            predictor(tiles[i:i + args.batch_size])
        if info.kind == "cuda":
            torch.cuda.synchronize()

    def tiled():
        predict_tiled(image, predictor, tile=args.tile, overlap=args.overlap,
                      batch_size=args.batch_size)
        if info.kind == "cuda":
            torch.cuda.synchronize()

    plain()  # warm-up: cudnn autotuning, allocator, first-call overheads
    tiled()
    t_plain, t_tiled = timed_pair(plain, tiled, args.repeats)
    result = {"device": info.description, "arch": args.arch, "size": args.size,
              "tile": args.tile, "overlap": args.overlap, "batch_size": args.batch_size,
              "n_tiles": len(corners), "plain_s": round(t_plain, 4), "tiled_s": round(t_tiled, 4),
              "plain_tiles_per_s": round(len(corners) / t_plain, 2),
              "tiled_tiles_per_s": round(len(corners) / t_tiled, 2),
              "ratio": round(t_plain / t_tiled, 3), "torch_threads": torch.get_num_threads()}
    print(json.dumps(result))
    print(f"ratio tiled/plain throughput {result['ratio']:.3f} (goal >= 0.85): "
          f"{'PASS' if result['ratio'] >= 0.85 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
