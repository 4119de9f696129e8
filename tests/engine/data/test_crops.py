"""Positive-aware random crops, padding, and the validation tile grid."""

import numpy as np
import pytest

from eq_engine.data.crops import (
    IGNORE,
    foreground_index,
    grid_starts,
    grid_tiles,
    pad_to,
    random_crop,
)


def _blob_mask(h=120, w=100):
    mask = np.zeros((h, w), np.uint8)
    mask[90:96, 10:16] = 1  # one small object in a large field
    return mask


def test_pad_small_image_with_zero_and_ignore():
    image = np.ones((2, 10, 12), np.float32)
    mask = np.ones((10, 12), np.uint8)
    pi, pm = pad_to(image, mask, 16)
    assert pi.shape == (2, 16, 16) and pm.shape == (16, 16)
    assert (pi[:, 10:] == 0).all() and (pm[10:] == IGNORE).all() and (pm[:, 12:] == IGNORE).all()
    assert (pm[:10, :12] == 1).all()
    assert pad_to(image, mask, 8)[0] is image


def test_positive_crops_contain_foreground_and_random_crops_rarely_do():
    mask = _blob_mask()
    image = mask[None].astype(np.float32)
    rng = np.random.default_rng(0)
    fg = foreground_index(mask)
    pos = [random_crop(image, mask, size=32, rng=rng, positive=True, fg_index=fg) for _ in range(50)]
    rand = [random_crop(image, mask, size=32, rng=rng, positive=False) for _ in range(200)]
    assert all((m == 1).any() for _, m in pos)
    assert all(i.shape == (1, 32, 32) and np.array_equal(i[0], m) for i, m in pos)
    hit_rate = np.mean([(m == 1).any() for _, m in rand])
    assert hit_rate < 0.5  # the object covers a small part of the field


def test_crop_of_image_smaller_than_crop_is_padded():
    image = np.ones((1, 20, 20), np.float32)
    mask = np.ones((20, 20), np.uint8)
    ci, cm = random_crop(image, mask, size=32, rng=np.random.default_rng(0), positive=True)
    assert ci.shape == (1, 32, 32) and (cm == 1).sum() == 400 and (cm == IGNORE).sum() == 32 * 32 - 400


@pytest.mark.parametrize("shape", [(100, 70), (20, 20), (64, 64), (65, 33)])
def test_grid_counts_every_pixel_exactly_once(shape):
    rng = np.random.default_rng(1)
    mask = (rng.random(shape) < 0.3).astype(np.uint8)
    image = rng.random((1, *shape)).astype(np.float32)
    tiles = grid_tiles(image, mask, size=32)
    counted = sum(int((m != IGNORE).sum()) for _, m in tiles)
    foreground = sum(int((m == 1).sum()) for _, m in tiles)
    assert counted == mask.size and foreground == int(mask.sum())
    assert all(i.shape == (1, 32, 32) and m.shape == (32, 32) for i, m in tiles)


def test_grid_starts_end_at_the_edge():
    assert grid_starts(100, 32) == [0, 32, 64, 68]
    assert grid_starts(64, 32) == [0, 32]
    assert grid_starts(10, 32) == [0]


def test_crop_dataset_positive_fraction_is_honoured():
    from eq_engine.data.loaders import CropDataset, Item

    mask = _blob_mask()
    item = Item("a", mask[None].astype(np.float32), mask, foreground_index(mask))
    always = CropDataset([item], size=32, crops_per_image=40, positive_fraction=1.0, seed=0)
    never = CropDataset([item], size=32, crops_per_image=200, positive_fraction=0.0, seed=0)
    assert all(bool((always[i][1] == 1).any()) for i in range(len(always)))
    assert np.mean([bool((never[i][1] == 1).any()) for i in range(len(never))]) < 0.5
    image, target = always[0]
    assert tuple(image.shape) == (1, 32, 32) and str(target.dtype) == "torch.int64"


def test_validation_tiles_over_budget_are_a_fixed_even_subset():
    from eq_engine.data.loaders import Item, TileDataset

    items = []
    for k in range(3):  # three 64x64 images: 4 tiles of 32 px each, 12 in all
        image = np.full((1, 64, 64), k, np.float32)
        image[0, 32:, 32:] += 0.5  # marks the last tile of each image
        items.append(Item(f"s{k}", image, np.zeros((64, 64), np.uint8)))
    every = TileDataset(items, size=32)
    capped = TileDataset(items, size=32, max_pixels=6 * 32 * 32 + 5)
    assert len(every) == 12 and len(capped) == 6
    firsts = [float(capped[i][0][0, 0, 0]) for i in range(6)]
    assert firsts == sorted(firsts)
    assert {int(v) for v in firsts} == {0, 1, 2}  # every image keeps tiles
    assert float(capped[5][0][0, 0, 0]) == 2.5  # the spread reaches the last tile
    again = TileDataset(items, size=32, max_pixels=6 * 32 * 32 + 5)
    assert [float(again[i][0].sum()) for i in range(6)] == [float(capped[i][0].sum()) for i in range(6)]
    assert len(TileDataset(items, size=32, max_pixels=1)) == 1
