"""Synthetic generators: deterministic, hard enough, and faithful to their labels."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy import ndimage, stats

from eq_engine.data import synthetic as syn
from eq_engine.errors import ConfigError


def best_global_threshold_dice(image: np.ndarray, mask: np.ndarray) -> float:
    """Best Dice of ``image >= t`` or ``image < t`` over every threshold t (both polarities)."""
    values, fg = image.ravel(), mask.ravel()
    hist_all = np.bincount(values, minlength=256).astype(float)
    hist_fg = np.bincount(values[fg], minlength=256).astype(float)
    n_fg = fg.sum()
    bright_tp, bright_n = np.cumsum(hist_fg[::-1])[::-1], np.cumsum(hist_all[::-1])[::-1]
    dark_tp, dark_n = np.cumsum(hist_fg), np.cumsum(hist_all)
    return float(max((2 * bright_tp / (bright_n + n_fg)).max(),
                     (2 * dark_tp / (dark_n + n_fg)).max()))


# ---------------------------------------------------------------- EM


def test_em_stack_shapes_and_determinism():
    image, mask = syn.make_em_stack(3, 96, seed=5)
    assert image.shape == mask.shape == (3, 96, 96)
    assert image.dtype == np.uint8 and mask.dtype == bool
    again, again_mask = syn.make_em_stack(3, 96, seed=5)
    assert np.array_equal(image, again) and np.array_equal(mask, again_mask)
    other, _ = syn.make_em_stack(3, 96, seed=6)
    assert not np.array_equal(image, other)


@pytest.mark.parametrize(("size", "seed"), [(256, 0), (256, 1), (128, 2), (128, 3)])
def test_em_stack_is_not_threshold_separable_and_has_realistic_fraction(size, seed):
    image, mask = syn.make_em_stack(4, size, seed=seed)
    assert 0.04 <= mask.mean() <= 0.15
    assert best_global_threshold_dice(image, mask) < 0.6


def test_em_mito_interior_overlaps_cytoplasm_and_has_dark_membranes():
    image, mask = syn.make_em_stack(4, 256, seed=0)
    interior = ndimage.binary_erosion(mask, np.ones((1, 9, 9), bool))
    rim = mask & ~ndimage.binary_erosion(mask, np.ones((1, 3, 3), bool))
    background = ~ndimage.binary_dilation(mask, np.ones((1, 7, 7), bool))
    cyto = np.median(image[background])
    assert abs(np.median(image[interior]) - cyto) < 30  # matrix overlaps cytoplasm
    assert np.median(image[rim]) < cyto - 25  # membrane outline is dark
    # distractors: plenty of dark background pixels (membranes, vesicles, blobs)
    assert np.mean(image[background] < np.median(image[rim])) > 0.02


def test_em_stack_is_consistent_along_z():
    image, mask = syn.make_em_stack(4, 256, seed=1)
    for z in range(3):
        inter = np.sum(mask[z] & mask[z + 1])
        union = np.sum(mask[z] | mask[z + 1])
        assert inter / union > 0.5
        assert np.corrcoef(image[z].ravel(), image[z + 1].ravel())[0, 1] > 0.5


def test_em_stack_rejects_bad_sizes():
    with pytest.raises(ConfigError, match="size"):
        syn.make_em_stack(2, 8)
    with pytest.raises(ConfigError, match="n_slices"):
        syn.make_em_stack(0, 64)


# ---------------------------------------------------------------- histology


def test_histology_field_structure_and_determinism():
    s = syn.make_histology_field(512, seed=2)
    assert s.image.shape == (512, 512, 3) and s.image.dtype == np.uint8
    assert s.labels.shape == (512, 512) and s.labels.dtype == np.int32
    assert sorted(s.grades) == [1, 2, 3, 4] == sorted(np.unique(s.labels)[1:])
    assert all(g in syn.GRADE_LEVELS for g in s.grades.values())
    again = syn.make_histology_field(512, seed=2)
    assert np.array_equal(s.image, again.image) and s.grades == again.grades
    for lab in s.grades:
        glom = s.labels == lab
        diameter = 2 * np.sqrt(glom.sum() / np.pi)
        assert 55 <= diameter <= 125
        assert ndimage.label(glom)[1] == 1
        grown = ndimage.binary_dilation(glom, iterations=3)
        assert set(np.unique(s.labels[grown])) <= {0, lab}  # glomeruli do not touch
    edge = np.concatenate([s.labels[0], s.labels[-1], s.labels[:, 0], s.labels[:, -1]])
    assert not edge.any() and s.touches_border == ()


def test_histology_glomerulus_has_white_bowman_space_around_a_dense_tuft():
    s = syn.make_histology_field(512, seed=4, grades=[3, 3, 3, 3])
    lightness = s.image.mean(axis=-1)
    tissue = np.median(lightness[s.labels == 0])
    for lab in s.grades:
        glom, tuft = s.labels == lab, s.tuft == lab
        assert tuft.sum() < glom.sum() and not (tuft & ~glom).any()
        rim = glom & ~ndimage.binary_dilation(tuft, iterations=1)
        assert np.mean(lightness[rim] > tissue + 25) > 0.3  # Bowman's space is white
        assert np.median(lightness[tuft]) < tissue  # a closed tuft is dense and dark


def test_histology_grades_given_and_border_glomeruli():
    s = syn.make_histology_field(256, n_glomeruli=3, grades=[0, 1.5, 3], seed=1, n_border=1)
    assert s.grades == {1: 0.0, 2: 1.5, 3: 3.0}
    assert s.touches_border == (3,)
    edge = np.concatenate([s.labels[0], s.labels[-1], s.labels[:, 0], s.labels[:, -1]])
    assert set(np.unique(edge)) == {0, 3}
    assert s.open_fraction[1] > s.open_fraction[2] > s.open_fraction[3]


def _openness(image: np.ndarray, labels: np.ndarray) -> dict[int, float]:
    """Open fraction of each tuft, found by erosion; threshold: Otsu over all glomeruli."""
    from skimage.filters import threshold_otsu

    lightness = image.astype(float).mean(axis=-1)
    threshold = threshold_otsu(lightness[labels > 0])
    out = {}
    for lab in np.unique(labels)[1:]:
        glom = labels == lab
        depth = max(1, int(0.2 * np.sqrt(glom.sum() / np.pi)))
        tuft = ndimage.binary_erosion(glom, iterations=depth)
        out[int(lab)] = float(np.mean(lightness[tuft] > threshold))
    return out


def test_histology_openness_measured_in_tuft_ranks_grades():
    levels = list(syn.GRADE_LEVELS)
    grades, measured, rendered = [], [], []
    for seed in range(6):
        chosen = [levels[(seed + k) % 6] for k in range(4)]
        s = syn.make_histology_field(384, grades=chosen, seed=seed)
        for lab, value in _openness(s.image, s.labels).items():
            grades.append(s.grades[lab])
            measured.append(value)
            rendered.append(s.open_fraction[lab])
    assert stats.spearmanr(grades, rendered)[0] <= -0.95
    assert stats.spearmanr(grades, measured)[0] <= -0.9
    assert np.mean([r for g, r in zip(grades, rendered, strict=True) if g == 3]) < 0.05
    assert np.mean([r for g, r in zip(grades, rendered, strict=True) if g == 0]) > 0.25


def test_histology_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="one grade per glomerulus"):
        syn.make_histology_field(256, n_glomeruli=2, grades=[1.0])
    with pytest.raises(ConfigError, match="outside 0..3"):
        syn.make_histology_field(256, n_glomeruli=1, grades=[4.0])
    with pytest.raises(ConfigError, match="cannot fit"):
        syn.make_histology_field(128, n_glomeruli=40)


# ---------------------------------------------------------------- datasets on disk


def test_write_em_dataset_layout(tmp_path):
    import tifffile
    from PIL import Image

    root = syn.write_em_dataset(tmp_path / "em", n_slices=2, size=64, seed=0)
    image, mask = syn.make_em_stack(2, 64, seed=0)
    assert sorted(p.name for p in (root / "images").iterdir()) == ["em_z00.tif", "em_z01.tif"]
    assert np.array_equal(tifffile.imread(root / "images" / "em_z01.tif"), image[1])
    written = np.asarray(Image.open(root / "masks" / "em_z01.png"))
    assert set(np.unique(written)) <= {0, 255}
    assert np.array_equal(written == 255, mask[1])


def test_write_histology_dataset_layout_and_score_sheets(tmp_path):
    import tifffile
    from PIL import Image

    root = syn.write_histology_dataset(tmp_path / "h", n_images=3, size=128, seed=0,
                                       n_glomeruli=2)
    stems = ["S1_img0", "S1_img1", "S2_img0"]
    assert sorted(p.stem for p in (root / "images").glob("*.png")) == stems
    with open(root / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and set(rows[0]) == {"image", "animal", "glomerulus", "grade"}
    with open(root / "image_grades.csv", newline="") as fh:
        per_image = {r["image"]: r for r in csv.DictReader(fh)}
    for stem in stems:
        image = np.asarray(Image.open(root / "images" / f"{stem}.png"))
        mask = np.asarray(Image.open(root / "masks" / f"{stem}.png"))
        labels = tifffile.imread(root / "labels" / f"{stem}.tif")
        assert image.shape == (128, 128, 3) and mask.shape == labels.shape == (128, 128)
        assert np.array_equal(mask == 255, labels > 0)
        mine = [r for r in rows if r["image"] == f"{stem}.png"]
        assert sorted(int(r["glomerulus"]) for r in mine) == sorted(np.unique(labels)[1:])
        assert all(r["animal"] == stem.split("_")[0] for r in mine)
        mean = np.mean([float(r["grade"]) for r in mine])
        assert float(per_image[f"{stem}.png"]["grade"]) == pytest.approx(mean, abs=1e-3)
