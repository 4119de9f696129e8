"""Screenshot of a whole slide and its glomeruli in napari, for the README (docs/images/slide.png).

A slide is built on the spot from EQ's synthetic H&E fields (2 x 3 fields of 512 px with glass
between them), written as a pyramidal OME-TIFF, opened with EQ's napari reader (lazy
multiscale), predicted with ``predict_slide`` and its ``labels.ome.zarr`` opened on top. The
predictor is a stand-in (dark-tuft threshold on the normalised image), not a trained model.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_slide_screenshot.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_API", "pyside6")
OUT = Path(__file__).resolve().parent / "images" / "slide.png"


def build_slide(path: Path) -> Path:
    from eq_engine.data.synthetic_histology import make_histology_field
    from eq_engine.io.slide_writer import write_pyramid

    size, gap = 512, 192
    image = np.full((2 * size + 3 * gap, 3 * size + 4 * gap, 3), 242, np.uint8)
    for i in range(6):
        y, x = gap + (i // 3) * (size + gap), gap + (i % 3) * (size + gap)
        image[y:y + size, x:x + size] = make_histology_field(size, n_glomeruli=3, seed=i).image
    return write_pyramid(path, image, mpp=0.5, downsamples=(1, 4, 16))


def main() -> None:
    import napari

    from eq_engine.config.slide import SlideConfig
    from eq_engine.inference.slide import predict_slide
    from eq_engine.models.loading import LoadedModel

    with tempfile.TemporaryDirectory(prefix="eq-slide-shot-") as tmp:
        slide = build_slide(Path(tmp) / "synthetic_kidney.ome.tif")
        norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 1,
                "mean": [0.0], "std": [1.0]}
        meta = {"normalization": norm, "in_channels": 1, "tile_size": 256, "scale": 0.5,
                "threshold": 0.5}
        model = LoadedModel(None, meta, lambda b: (b[:, 0] < 0.45).astype(np.float32))
        from eq_engine.config.inference import PredictConfig

        config = SlideConfig(predict=PredictConfig(min_size=100), region=256, halo=64)
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
