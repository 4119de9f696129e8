"""Endotheliosis grading on the preeclampsia mouse H&E set, cross-validated by animal.

Measures every glomerulus of ``kidney_preeclampsia_mouse_he`` from its true mask, fits the
ordinal grade model on per-image grades (``grades.csv``: image, animal, endotheliosis_grade) and
reports leave-one-animal-out metrics with 95% bootstrap intervals, per-fold metrics, the
trivial baseline (always the training median grade) and the rank correlation of openness alone.
Optionally writes a tuft/lumen/nuclei overlay of one image for a visual check.

    .venv/bin/python bench/quantify_preeclampsia.py
    .venv/bin/python bench/quantify_preeclampsia.py --lumen-method hed --out /tmp/eq_q_hed
    .venv/bin/python bench/quantify_preeclampsia.py --overlay T19_Image0 --overlay-out /tmp/o.png
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "kidney_preeclampsia_mouse_he"


def overlay(data: Path, stem: str, path: Path, config) -> None:
    """Side by side: the first glomerulus of ``stem`` and its mask (red), tuft (yellow),
    open lumens (cyan) and nuclei (magenta)."""
    from PIL import Image
    from skimage.segmentation import find_boundaries

    from eq_engine.io.images import read_image, read_mask
    from eq_engine.quantification.features import instance_labels, structure_maps

    image = read_image(data / "images" / f"{stem}.jpg")
    labels = instance_labels(read_mask(data / "masks" / f"{stem}_mask.png", binary=False))
    tuft, lumen, nuclei = structure_maps(image, labels, config)
    ys, xs = np.nonzero(labels == 1)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    crop, drawn = image[box], image[box].copy()
    drawn[lumen[box]] = (0.4 * drawn[lumen[box]] + [0, 150, 150]).astype(np.uint8)
    drawn[nuclei[box]] = (0.5 * drawn[nuclei[box]] + [120, 0, 60]).astype(np.uint8)
    drawn[find_boundaries(labels[box] == 1)] = [255, 0, 0]
    drawn[find_boundaries(tuft[box] == 1)] = [255, 255, 0]
    Image.fromarray(np.concatenate([crop, drawn], axis=1)).save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA.resolve())
    parser.add_argument("--out", type=Path, default=Path("/tmp/eq_quantify_preeclampsia"))
    parser.add_argument("--lumen-method", default="otsu", choices=("otsu", "hed"))
    parser.add_argument("--features", default=None, help="comma-separated grade features")
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--overlay", default=None, help="image stem to draw, e.g. T19_Image0")
    parser.add_argument("--overlay-out", type=Path, default=Path("/tmp/eq_quant_overlay.png"))
    args = parser.parse_args(argv)
    if not (args.data / "grades.csv").is_file():
        print(f"dataset not found at {args.data}; skipping", file=sys.stderr)
        return 0

    from eq_engine.config import QuantConfig
    from eq_engine.quantification.pipeline import quantify

    kwargs = {"lumen_method": args.lumen_method, "n_bootstrap": args.bootstrap}
    if args.features:
        kwargs["grade_features"] = tuple(args.features.split(","))
    config = QuantConfig(**kwargs)
    start = time.perf_counter()
    result = quantify(args.data / "masks", args.data / "images", config, out=args.out,
                      grades=args.data / "grades.csv", fit=args.out / "grade_model.json")
    seconds = time.perf_counter() - start
    cv = result.fit.cv
    n_glom, n_incl = len(result.glomeruli), len(result.glomeruli.included())
    print(f"{len(result.images)} images, {n_glom} glomeruli ({n_glom - n_incl} on the border, "
          f"excluded), {result.seconds:.1f} s total ({seconds / len(result.images):.2f} s/image)")
    print(cv.summary())
    for fold in cv.folds:
        print("  fold", json.dumps({k: (round(v, 3) if isinstance(v, float) else v)
                                    for k, v in fold.items()}))
    print("model:", json.dumps({"features": result.fit.model.features,
                                "coef": [round(c, 3) for c in result.fit.model.coef],
                                "cuts": [round(c, 3) for c in result.fit.model.cuts],
                                "classes": result.fit.model.classes}))
    if result.fit.dropped:
        print("images without usable glomeruli (dropped):", result.fit.dropped)
    if args.overlay:
        overlay(args.data, args.overlay, args.overlay_out, config)
        print("overlay:", args.overlay_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
