"""Does the model's own uncertainty find the right scale for images of another microscope?

For each scale multiplier, the model predicts every image of a labelled set (a centre crop of at
most ``--crop`` px, to keep it short) at the model's scale times that multiplier
(``PredictConfig.object_diameter``), and the bench records the pooled IoU against the masks and
the mean binary entropy of the probability map. If the multiplier with the lowest entropy is
also the one with the best IoU, on sets the model never saw, an automatic object size at
prediction would be worth building.

    python bench/scale_probe.py MODEL.eqm DATASET [--mults 0.5 0.63 0.8 1 1.25 1.6] [--out F.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def centre_crop(array: np.ndarray, size: int) -> np.ndarray:
    y0 = max(0, (array.shape[0] - size) // 2)
    x0 = max(0, (array.shape[1] - size) // 2)
    return array[y0:y0 + size, x0:x0 + size]


def mean_entropy(probability: np.ndarray) -> float:
    p = np.clip(probability.astype(np.float64), 1e-6, 1 - 1e-6)
    return float(np.mean(-(p * np.log(p) + (1 - p) * np.log(1 - p))))


def probe(model_path: Path, data: Path, mults: list[float], crop: int) -> list[dict]:
    from eq_engine.config import PredictConfig
    from eq_engine.evaluation.metrics import confusion, iou_from_counts
    from eq_engine.inference import predict
    from eq_engine.io.datasets import find_pairs
    from eq_engine.io.images import read_image, read_mask
    from eq_engine.io.recipe_meta import network_object_diameter
    from eq_engine.models.ensemble import load_model_or_ensemble

    loaded = load_model_or_ensemble(model_path, device="cpu")
    seen = network_object_diameter(loaded.info)
    if not seen:
        raise SystemExit(f"{model_path}: the model records no training object size")
    pairs = find_pairs(data)
    images = [centre_crop(read_image(p.image), crop) for p in pairs]
    masks = [centre_crop(read_mask(p.mask), crop) > 0 for p in pairs]
    rows = []
    for mult in mults:
        start = time.perf_counter()
        config = PredictConfig(object_diameter=seen / (loaded.info.scale * mult))
        counts, entropies = None, []
        for image, mask in zip(images, masks, strict=True):
            pred = predict(loaded, image, config)
            c = confusion(pred.mask, mask)
            counts = c if counts is None else counts + c
            entropies.append(mean_entropy(pred.probability))
        rows.append({"mult": mult, "scale": loaded.info.scale * mult,
                     "pooled_iou": iou_from_counts(counts),
                     "mean_entropy": float(np.mean(entropies)),
                     "seconds": time.perf_counter() - start})
        print(f"x{mult:<5g} scale {rows[-1]['scale']:.3f}  IoU {rows[-1]['pooled_iou']:.3f}  "
              f"entropy {rows[-1]['mean_entropy']:.4f}  {rows[-1]['seconds']:.0f} s", flush=True)
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path)
    p.add_argument("data", type=Path)
    p.add_argument("--mults", type=float, nargs="+", default=[0.5, 0.63, 0.8, 1.0, 1.25, 1.6])
    p.add_argument("--crop", type=int, default=512)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    if not args.data.is_dir():
        print(f"{args.data}: not found", file=sys.stderr)
        return 2
    rows = probe(args.model, args.data, args.mults, args.crop)
    best_iou = max(rows, key=lambda r: r["pooled_iou"])["mult"]
    least_entropy = min(rows, key=lambda r: r["mean_entropy"])["mult"]
    print(f"best IoU at x{best_iou:g}; lowest entropy at x{least_entropy:g}")
    if args.out:
        args.out.write_text(json.dumps({"rows": rows, "best_iou_mult": best_iou,
                                        "least_entropy_mult": least_entropy}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
