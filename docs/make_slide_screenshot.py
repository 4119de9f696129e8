"""Screenshot of a whole slide and its glomeruli in napari, for the README (docs/images/slide.png).

A slide is built on the spot (2 x 3 fields with glass between them), written as a pyramidal
OME-TIFF, opened with EQ's napari reader (lazy multiscale), predicted with ``predict_slide`` and
its ``labels.ome.zarr`` opened on top.

- ``--model M.eqm --tiles A.png B.png ...``: six real fields and a trained model, e.g. AIDPATH
  human PAS tiles (CC BY 4.0, Bueno et al. 2020; a picture of them needs that attribution).
- no options (the README's picture): EQ's synthetic H&E fields and a stand-in predictor (a
  dark-tuft threshold).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_slide_screenshot.py \
        --model aidpath.eqm --tiles ../shared/data/kidney_aidpath_human_pas/images/1002*.png
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_API", "pyside6")
OUT = Path(__file__).resolve().parent / "images" / "slide.png"


def build_slide(path: Path, fields: list[np.ndarray]) -> Path:
    """Six RGB fields of one size on glass, 2 x 3, as a pyramidal OME-TIFF."""
    from eq_engine.io.slide_writer import write_pyramid

    (h, w), gap = fields[0].shape[:2], max(fields[0].shape[:2]) // 3
    image = np.full((2 * h + 3 * gap, 3 * w + 4 * gap, 3), 242, np.uint8)
    for i, field in enumerate(fields[:6]):
        y, x = gap + (i // 3) * (h + gap), gap + (i % 3) * (w + gap)
        image[y:y + h, x:x + w] = field[..., :3]
    return write_pyramid(path, image, mpp=0.5, downsamples=(1, 4, 16))


def stand_in():
    """Synthetic fields and a threshold predictor: the picture without a trained model."""
    from eq_engine.config.inference import PredictConfig
    from eq_engine.config.slide import SlideConfig
    from eq_engine.data.synthetic_histology import make_histology_field
    from eq_engine.models.loading import LoadedModel

    fields = [make_histology_field(512, n_glomeruli=3, seed=i).image for i in range(6)]
    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 1,
            "mean": [0.0], "std": [1.0]}
    meta = {"normalization": norm, "in_channels": 1, "tile_size": 256, "scale": 0.5,
            "threshold": 0.5}
    model = LoadedModel(None, meta, lambda b: (b[:, 0] < 0.45).astype(np.float32))
    return fields, model, SlideConfig(predict=PredictConfig(min_size=100), region=256, halo=64)


def main() -> None:
    import argparse

    import napari

    from eq_engine.config.slide import SlideConfig
    from eq_engine.inference.slide import predict_slide

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, help="EQ glomeruli model (.eqm)")
    p.add_argument("--tiles", type=Path, nargs="*", default=[], help="six RGB fields of one size")
    args = p.parse_args()
    if args.model:
        if len(args.tiles) < 6:
            p.error(f"--model needs six --tiles, got {len(args.tiles)}")
        from eq_engine.io.images import read_image

        fields, model, config = [read_image(t) for t in args.tiles[:6]], args.model, SlideConfig()
    else:
        fields, model, config = stand_in()
    with tempfile.TemporaryDirectory(prefix="eq-slide-shot-") as tmp:
        slide = build_slide(Path(tmp) / "kidney.ome.tif", fields)
        result = predict_slide(model, slide, Path(tmp) / "out", config)
        viewer = napari.Viewer(show=True)
        viewer.window.resize(1500, 950)
        viewer.open(slide, plugin="eq")
        viewer.open(result.files["labels"], plugin="eq")
        viewer.layers[-1].contour = 3
        viewer.reset_view()
        OUT.parent.mkdir(exist_ok=True)
        viewer.screenshot(str(OUT), canvas_only=False)
        print(f"{OUT}: {result.n_objects} objects")
        viewer.close()


if __name__ == "__main__":
    main()
