"""The napari slide reader: a lazy multiscale image layer; EQ slide labels as labels; the
Predict dock streams a slide layer's file."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from eq_engine.io.slide_writer import write_pyramid
from eq_engine.models.loading import LoadedModel
from eq_gui.slide_reader import get_reader

pytestmark = pytest.mark.gui


@pytest.fixture
def slide(tmp_path):
    image = np.full((512, 768, 3), 240, np.uint8)
    image[100:400, 100:700] = (230, 170, 200)
    yy, xx = np.ogrid[:512, :768]
    image[(yy - 250) ** 2 + (xx - 300) ** 2 < 50**2] = (120, 40, 110)
    return write_pyramid(tmp_path / "kidney.ome.tif", image, mpp=0.5, downsamples=(1, 4, 16))


def test_slide_opens_as_a_lazy_multiscale_layer(make_napari_viewer, slide):
    viewer = make_napari_viewer()
    layers = viewer.open(slide, plugin="eq")
    layer = layers[0]
    assert layer.multiscale and layer.rgb
    assert [lv.shape for lv in layer.data] == [(512, 768, 3), (128, 192, 3), (32, 48, 3)]
    assert not any(isinstance(lv, np.ndarray) for lv in layer.data)  # lazy: read on screen
    assert tuple(layer.scale) == (0.5, 0.5)
    assert layer.metadata["eq_slide"] == str(slide.resolve())


def test_reader_declines_plain_images(tmp_path, slide):
    plain = tmp_path / "field.tif"
    tifffile.imwrite(plain, np.zeros((32, 32), np.uint8))
    assert get_reader(str(plain)) is None
    assert get_reader([str(slide), str(slide)]) is None
    assert get_reader(str(tmp_path / "missing.svs")) is None
    assert callable(get_reader(str(slide)))


def test_slide_labels_open_as_multiscale_labels_aligned_with_the_slide(make_napari_viewer,
                                                                      slide, tmp_path):
    from eq_engine.config.slide import SlideConfig
    from eq_engine.inference.slide import predict_slide

    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 3,
            "mean": [0.0] * 3, "std": [1.0] * 3}
    meta = {"normalization": norm, "in_channels": 3, "tile_size": 64, "scale": 0.5,
            "threshold": 0.5}
    model = LoadedModel(None, meta, lambda b: (b.mean(axis=1) < 0.5).astype(np.float32))
    result = predict_slide(model, slide, tmp_path / "out", SlideConfig(region=128, halo=32))
    assert result.n_objects == 1
    viewer = make_napari_viewer()
    image = viewer.open(slide, plugin="eq")[0]
    labels = viewer.open(result.files["labels"], plugin="eq")[0]
    level0 = labels.data[0] if labels.multiscale else labels.data
    assert level0.shape == (256, 384)
    assert tuple(labels.scale) == (1.0, 1.0)  # analysis px = 2 slide px of 0.5 µm
    # the glomerulus centre in world coordinates (µm) is labelled
    centre_um = (250 * 0.5, 300 * 0.5)
    index = tuple(int(c / s) for c, s in zip(centre_um, labels.scale, strict=True))
    assert np.asarray(level0[index]) == 1
    assert image.data[0].shape[:2] == (512, 768)


def test_predict_dock_streams_a_slide_layer(make_napari_viewer, slide):
    from eq_engine.config.inference import PredictConfig
    from eq_gui.predict_dock import PredictDock

    viewer = make_napari_viewer()
    viewer.open(slide, plugin="eq")
    dock = PredictDock(viewer)
    payload = dock._layer_payload(PredictConfig())
    assert payload["slide"] == str(slide.resolve())
    assert payload["out"].endswith("kidney_eq") and "image" not in payload


def test_data_dock_opens_a_dataset_slide_lazily_and_refuses_a_full_size_annotation(
        make_napari_viewer, qtbot, tmp_path, monkeypatch):
    from eq_gui import layer_data
    from eq_gui.data_dock import DataDock

    root = tmp_path / "ds"
    (root / "images").mkdir(parents=True)
    image = np.full((512, 768, 3), 240, np.uint8)
    write_pyramid(root / "images" / "section.ome.tif", image, mpp=0.5, downsamples=(1, 4))
    viewer = make_napari_viewer()
    dock = DataDock(viewer)
    viewer.window.add_dock_widget(dock, name="Data")
    dock.folder.set_path(root)
    qtbot.waitUntil(lambda: dock.decoded, timeout=20_000)  # the decode pass skips the slide
    row = next(i for i, (stem, _, _) in enumerate(dock.rows) if stem == "section")
    dock.load_row(row)
    layer = viewer.layers["section"]
    assert layer.multiscale and not any(isinstance(lv, np.ndarray) for lv in layer.data)
    assert "slide" in dock.status.text()
    # a real slide's full level is gigabytes: the dock says so instead of allocating it
    monkeypatch.setattr(layer_data, "MAX_LAYER_BYTES", 512 * 768 * 3 - 1)
    assert dock.new_annotation() is None
    assert "whole slide" in dock.status.text() and "Predict" in dock.status.text()
    assert [lv.name for lv in viewer.layers] == ["section"]
