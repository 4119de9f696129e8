"""Object sizes from training masks -> automatic scale and learned clean-up (hand-made masks)."""

import numpy as np
import pytest

from eq_engine.data.objects import (
    FEW_OBJECTS_FRACTION,
    MIN_CROPS,
    MIN_OBJECTS_FOR_SIZE,
    MIN_SIZE_FRACTION,
    TARGET_DIAMETER,
    ObjectStats,
    choose_crops_per_image,
    choose_scale,
    learned_postprocess,
    object_stats,
)
from eq_engine.errors import DataError
from eq_engine.io.recipe_meta import learned_min_size, predict_tile, recipe_metadata


def _disk(shape, centre, radius):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius ** 2


def test_stats_skip_border_cut_objects_and_specks():
    mask = np.zeros((400, 400), np.uint8)
    mask |= _disk(mask.shape, (100, 100), 40)  # whole, area ~5027
    mask |= _disk(mask.shape, (250, 250), 60)  # whole, area ~11310
    mask |= _disk(mask.shape, (0, 300), 30)  # cut by the border: not counted
    mask[380, 20] = 1  # a 1-px speck: counted in the median, never as the smallest object
    stats = object_stats([mask])
    assert stats.n_objects == 3 and stats.n_images == 1 and stats.median_image_px == 400 * 400
    areas = [int(_disk(mask.shape, (100, 100), 40).sum()), int(_disk(mask.shape, (250, 250), 60).sum())]
    assert stats.min_area == areas[0]
    assert stats.median_diameter == pytest.approx(np.sqrt(4 * areas[0] / np.pi))


def test_scale_gives_the_target_diameter_and_never_upsamples():
    big = ObjectStats(10, median_diameter=4 * TARGET_DIAMETER, min_area=100, n_images=2)
    assert choose_scale(big) == pytest.approx(0.25)
    small = ObjectStats(10, median_diameter=TARGET_DIAMETER / 3, min_area=10, n_images=2)
    assert choose_scale(small) == 1.0


def test_auto_crops_cover_half_a_median_image_and_never_fall_under_the_minimum():
    em = ObjectStats(900, 36.0, min_area=100, n_images=3, median_image_px=1024 * 1024)
    assert choose_crops_per_image(em, scale=1.0, size=128) == 32  # 64 tiles of 128 px, half
    assert choose_crops_per_image(em, scale=0.5, size=128) == MIN_CROPS  # 16 tiles -> 8
    field = ObjectStats(90, 395.0, min_area=20_000, n_images=41, median_image_px=2448 * 2048)
    assert choose_crops_per_image(field, scale=0.162, size=128) == MIN_CROPS  # ~8 tiles
    assert choose_crops_per_image(field, scale=1.0, size=128) == 153  # 306 tiles


def test_empty_masks_name_the_fix():
    with pytest.raises(DataError, match="scale"):
        object_stats([np.zeros((8, 8), np.uint8)])


@pytest.mark.parametrize("n_objects, fraction", [(MIN_OBJECTS_FOR_SIZE, MIN_SIZE_FRACTION),
                                                 (3, FEW_OBJECTS_FRACTION)])
def test_learned_postprocess_round_trips_through_the_metadata(n_objects, fraction):
    stats = ObjectStats(n_objects, 50.0, min_area=2000, n_images=1)
    meta = recipe_metadata(postprocess=learned_postprocess(stats), predict_tile=512)
    assert learned_min_size(meta) == int(fraction * 2000)
    assert predict_tile(meta) == 512
    assert learned_min_size({}) == 0 and predict_tile({}) == 0  # older model files


def test_training_pixel_size_is_recorded_only_when_the_files_agree(tmp_path):
    import tifffile

    from eq_engine.io.images import write_mask
    from eq_engine.training.recipe import training_pixel_size

    root = tmp_path / "ds"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    mask = np.zeros((32, 32), bool)
    mask[8:20, 8:20] = True
    for name, px_per_cm in (("a", 20000), ("b", 20000)):
        tifffile.imwrite(root / "images" / f"{name}.tif", np.zeros((32, 32), np.uint8),
                         resolution=(px_per_cm, px_per_cm), resolutionunit=3)
        write_mask(root / "masks" / f"{name}.png", mask)
    assert training_pixel_size(root) == pytest.approx(0.5)
    tifffile.imwrite(root / "images" / "b.tif", np.zeros((32, 32), np.uint8),
                     resolution=(40000, 40000), resolutionunit=3)
    assert training_pixel_size(root) is None  # 0.5 and 0.25 µm/px: no single pixel size
    assert training_pixel_size([(np.zeros((32, 32)), mask)]) is None  # arrays carry none


def test_recipe_resolves_auto_crops_and_keeps_given_ones():
    from eq_engine.config import TrainConfig
    from eq_engine.training.recipe import apply_recipe

    mask = np.zeros((1024, 1024), np.uint8)
    mask |= _disk(mask.shape, (300, 300), 20)
    data = [(np.zeros((1024, 1024), np.float32), mask)] * 2
    auto, meta = apply_recipe(data, TrainConfig(crops_per_image=0), size=128)
    assert auto.scale == 1.0 and auto.crops_per_image == 32
    given, _ = apply_recipe(data, TrainConfig(crops_per_image=5), size=128)
    assert given.crops_per_image == 5
