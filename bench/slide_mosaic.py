"""Glomeruli found on a mosaic slide vs on its source fields, with the same model.

Real ``kidney_preeclampsia_mouse_he`` fields (2448 x 2048) are tiled into a mosaic with blank
glass between them and written as a pyramidal OME-TIFF (levels 1, 1/4, 1/16; in a temporary
folder, never committed). Each field is predicted on its own with ``predict`` and the mosaic
with ``predict_slide``; the slide's labels are cut back into each field's frame and matched to
the field's objects (IoU >= 0.5, ``match_objects``). Both are also scored against the fields'
glomerulus masks.

    .venv/bin/python bench/slide_mosaic.py --model glomeruli.eqm --fields 4
    .venv/bin/python bench/slide_mosaic.py --fields 4        # no model: a darkness predictor

Without ``--model`` a numpy predictor (normalised lightness below 0.25 = foreground, min size
2000 px) stands in: it checks the slide machinery (levels, regions, halo, merging, geometry,
slide-wide normalisation) on real tissue texture, not glomerulus accuracy. A hard threshold is
very sensitive to normalisation: ``--percentiles 0 100`` (min/max, equal per field and per
slide) isolates the machinery from the slide-wide percentile estimate.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "kidney_preeclampsia_mouse_he"
GAP = 512


def darkness_model(low: float = 1.0, high: float = 99.8):
    from eq_engine.models.loading import LoadedModel

    norm = {"method": "percentile-standardize", "low": low, "high": high, "channels": 1,
            "mean": [0.0], "std": [1.0]}
    meta = {"normalization": norm, "in_channels": 1, "tile_size": 512, "scale": 1.0,
            "threshold": 0.5}
    return LoadedModel(None, meta, lambda b: (b[:, 0] < 0.25).astype(np.float32))


def mosaic(fields: list[np.ndarray], columns: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    height, width = fields[0].shape[:2]
    rows = -(-len(fields) // columns)
    out = np.full((rows * (height + GAP) + GAP, columns * (width + GAP) + GAP, 3), 242, np.uint8)
    origins = []
    for i, field in enumerate(fields):
        y, x = GAP + (i // columns) * (height + GAP), GAP + (i % columns) * (width + GAP)
        out[y:y + height, x:x + width] = field
        origins.append((y, x))
    return out, origins


def main() -> None:
    from skimage.transform import resize

    from eq_engine.config import PredictConfig
    from eq_engine.config.slide import SlideConfig
    from eq_engine.evaluation.metrics import match_objects
    from eq_engine.inference import predict
    from eq_engine.inference.slide import predict_slide
    from eq_engine.inference.slide_labels import read_ome_zarr_levels
    from eq_engine.io.images import read_image, read_mask
    from eq_engine.io.slide_writer import write_pyramid

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--fields", type=int, default=4)
    parser.add_argument("--columns", type=int, default=2)
    parser.add_argument("--min-size", type=int, default=None,
                        help="px at full resolution (default: the model's learned minimum; "
                        "2000 for the darkness predictor)")
    parser.add_argument("--percentiles", type=float, nargs=2, default=(1.0, 99.8),
                        help="normalisation percentiles of the darkness predictor; 0 100 "
                        "(min/max) makes slide-wide and per-field normalisation agree")
    args = parser.parse_args()
    paths = sorted((DATA / "images").glob("*.jpg"))[:args.fields]
    fields = [read_image(p) for p in paths]
    truths = [read_mask(DATA / "masks" / f"{p.stem}_mask.png") for p in paths]
    model = args.model or darkness_model(*args.percentiles)
    min_size = args.min_size if args.min_size is not None else (-1 if args.model else 2000)
    config = PredictConfig(device="cpu", min_size=min_size)
    start = time.perf_counter()
    field_labels = [predict(model, f, config).labels for f in fields]
    field_s = time.perf_counter() - start
    image, origins = mosaic(fields, args.columns)
    with tempfile.TemporaryDirectory(prefix="eq-mosaic-") as tmp:
        slide = write_pyramid(Path(tmp) / "mosaic.ome.tif", image, mpp=0.5)
        start = time.perf_counter()
        result = predict_slide(model, slide, Path(tmp) / "out", SlideConfig(predict=config))
        slide_s = time.perf_counter() - start
        labels = np.asarray(read_ome_zarr_levels(result.files["labels"])[0])
    fy, fx = result.plan.to_slide
    rows = []
    for (y, x), own, truth in zip(origins, field_labels, truths, strict=True):
        h, w = own.shape
        crop = labels[int(y / fy):int(np.ceil((y + h) / fy)), int(x / fx):int(np.ceil((x + w) / fx))]
        crop = resize(crop, (h, w), order=0, preserve_range=True, anti_aliasing=False)
        crop = crop.astype(np.int64)
        rows.append({"slide_vs_field_f1": match_objects(crop, own).f1,
                     "field_objects": int(len(np.unique(own)) - 1),
                     "slide_objects": int(len(np.unique(crop)) - 1),
                     "field_vs_truth_f1": match_objects(own, truth).f1,
                     "slide_vs_truth_f1": match_objects(crop, truth).f1})
    summary = {"model": args.model or f"darkness predictor, percentiles {args.percentiles}",
               "fields": len(fields),
               "mosaic": list(image.shape[:2]), "slide_objects": result.n_objects,
               "field_objects": sum(r["field_objects"] for r in rows),
               "mean_slide_vs_field_f1": float(np.mean([r["slide_vs_field_f1"] for r in rows])),
               "min_slide_vs_field_f1": float(np.min([r["slide_vs_field_f1"] for r in rows])),
               "field_s": round(field_s, 1), "slide_s": round(slide_s, 1), "per_field": rows}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
