"""Features on hand-made masks: known areas, known open fractions, border flags, the tuft."""

import numpy as np
import pytest

from eq_engine.config import QuantConfig
from eq_engine.errors import DataError
from eq_engine.quantification.features import (
    image_thresholds,
    instance_labels,
    measure_glomeruli,
    structure_maps,
    tuft_mask,
)

TISSUE, NUCLEUS, WHITE = 140, 50, 245


def _disc(shape, cy, cx, r):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2


def _field(size=128):
    """Gray RGB field with the three classes a stain rule expects: tissue, nuclei, white space."""
    gray = np.full((size, size), TISSUE, np.uint8)
    gray[:, :12] = WHITE  # glass / tubule lumen
    for cy in range(8, size, 24):  # nuclei along the right edge
        gray[_disc(gray.shape, cy, size - 8, 4)] = NUCLEUS
    return gray


def _rgb(gray):
    return np.repeat(gray[..., None], 3, axis=-1)


def test_disc_area_and_shape():
    mask = _disc((128, 128), 64, 64, 30)
    table = measure_glomeruli(_rgb(_field()), mask, QuantConfig(), name="disc")
    assert len(table) == 1
    row = table.rows[0]
    assert row["area"] == mask.sum()
    assert row["equivalent_diameter"] == pytest.approx(60, rel=0.02)
    assert row["circularity"] == pytest.approx(1.0, abs=0.1)
    assert row["eccentricity"] < 0.1 and row["solidity"] > 0.97
    assert (row["centroid_y"], row["centroid_x"]) == pytest.approx((64, 64))
    assert row["image"] == "disc" and row["label"] == 1
    assert row["touches_border"] is False and row["excluded"] is False


def test_ring_open_fraction_is_exact_without_erosion():
    gray = _field()
    mask = _disc(gray.shape, 64, 64, 30)
    ring = _disc(gray.shape, 64, 64, 20) & ~_disc(gray.shape, 64, 64, 14)
    gray[ring] = WHITE
    row = measure_glomeruli(_rgb(gray), mask, QuantConfig(tuft_erosion=0.0)).rows[0]
    assert row["openness"] == pytest.approx(ring.sum() / mask.sum())
    assert row["lumen_count"] == 1
    assert row["lumen_area_mean"] == ring.sum()


def test_tuft_drops_bowman_rim():
    gray = _field()
    mask = _disc(gray.shape, 64, 64, 30)
    rim = mask & ~_disc(gray.shape, 64, 64, 27)  # white rim 3 px < 0.12 * 30 px deep
    gray[rim] = WHITE
    row = measure_glomeruli(_rgb(gray), mask, QuantConfig(tuft_erosion=0.15)).rows[0]
    assert row["openness"] == 0.0 and row["lumen_count"] == 0
    assert row["mask_openness"] == pytest.approx(rim.sum() / mask.sum())
    assert row["rim_openness"] > 0.5
    assert row["tuft_area"] < mask.sum()


def test_tuft_mask_erodes_by_fraction_of_radius():
    mask = _disc((200, 200), 100, 100, 50)
    tuft = tuft_mask(mask, erosion=0.2)
    assert tuft.sum() == pytest.approx(np.pi * 40**2, rel=0.05)
    assert not (tuft & ~mask).any()
    assert tuft_mask(mask, erosion=0.0).sum() == mask.sum()


def test_border_flag_and_exclusion():
    gray = _field()
    labels = np.zeros(gray.shape, np.int32)
    labels[_disc(gray.shape, 64, 64, 15)] = 3
    labels[_disc(gray.shape, 0, 64, 15)] = 7  # cut by the top edge
    rows = {r["label"]: r for r in measure_glomeruli(_rgb(gray), labels).rows}
    assert rows[7]["touches_border"] and rows[7]["excluded"]
    assert rows[7]["exclude_reason"] == "border"
    assert not rows[3]["touches_border"] and not rows[3]["excluded"]
    kept = measure_glomeruli(_rgb(gray), labels, QuantConfig(exclude_border=False)).rows
    assert all(not r["excluded"] for r in kept) and len(kept) == 2


def test_binary_mask_split_and_small_objects_dropped():
    mask = np.zeros((128, 128), np.uint8)
    mask[_disc(mask.shape, 40, 40, 12)] = 255
    mask[_disc(mask.shape, 90, 90, 12)] = 255
    mask[5, 100] = 255  # one-pixel speck, below min_area
    labels = instance_labels(mask)
    assert labels.max() == 3 and labels.dtype == np.int32
    table = measure_glomeruli(_rgb(_field()), mask, QuantConfig(min_area=50))
    assert len(table) == 2


def test_label_image_kept_and_inputs_not_mutated():
    gray = _field()
    labels = np.zeros(gray.shape, np.int32)
    labels[_disc(gray.shape, 40, 40, 12)] = 5
    labels[_disc(gray.shape, 90, 90, 12)] = 9
    image, before = _rgb(gray), labels.copy()
    table = measure_glomeruli(image, labels)
    assert sorted(r["label"] for r in table.rows) == [5, 9]
    assert np.array_equal(labels, before) and np.array_equal(image, _rgb(gray))


def test_thresholds_separate_three_classes_and_hed_method():
    image = _rgb(_field())
    th = image_thresholds(image, QuantConfig())
    assert NUCLEUS / 255 < th.nuclear < TISSUE / 255 < th.lumen < WHITE / 255
    pink = np.stack([_field(), (_field() * 0.8).astype(np.uint8), _field()], axis=-1)
    mask = _disc((128, 128), 64, 64, 30)
    row = measure_glomeruli(pink, mask, QuantConfig(lumen_method="hed", tuft_erosion=0)).rows[0]
    assert row["openness"] == 0.0 and row["eosin_mean"] > 0


def test_stain_and_nuclei_features():
    gray = _field()
    mask = _disc(gray.shape, 64, 64, 30)
    nuclei = np.zeros(gray.shape, bool)
    for cy, cx in [(55, 55), (55, 73), (73, 64)]:
        nuclei |= _disc(gray.shape, cy, cx, 4)
    gray[nuclei] = NUCLEUS
    row = measure_glomeruli(_rgb(gray), mask, QuantConfig(tuft_erosion=0.0)).rows[0]
    assert row["nuclear_fraction"] == pytest.approx(nuclei.sum() / mask.sum())
    assert row["nuclear_density"] == pytest.approx(3 * 1e4 / mask.sum())


def test_bad_inputs_raise_data_error():
    with pytest.raises(DataError, match="match the image size"):
        measure_glomeruli(_rgb(_field()), np.ones((10, 10), bool))
    with pytest.raises(DataError, match="blank"):
        measure_glomeruli(np.zeros((64, 64, 3), np.uint8), _disc((64, 64), 32, 32, 10))


def test_crescent_rim_is_trimmed_from_the_tuft():
    gray = _field()
    mask = _disc(gray.shape, 64, 64, 30)
    crescent = mask & ~_disc(gray.shape, 64, 58, 24)  # Bowman's space up to 12 px wide
    gray[crescent] = WHITE
    trimmed = measure_glomeruli(_rgb(gray), mask, QuantConfig(tuft_erosion=0.1)).rows[0]
    eroded_only = measure_glomeruli(_rgb(gray), mask,
                                    QuantConfig(tuft_erosion=0.1, rim_max=0.0)).rows[0]
    assert trimmed["openness"] < 0.01 < eroded_only["openness"]
    assert trimmed["rim_openness"] > 0.7


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_openness_ranks_synthetic_glomeruli_by_grade(seed):
    """Done-when: on synthetic H&E with known grades, openness ranks glomeruli (Spearman >= 0.9)."""
    from scipy.stats import spearmanr

    from eq_engine.data.synthetic import make_histology_field

    grades, openness, tuft_iou = [], [], []
    for k in range(2):
        sample = make_histology_field(512, n_glomeruli=6, seed=1000 * seed + k)
        for row in measure_glomeruli(sample.image, sample.labels).rows:
            grades.append(sample.grades[row["label"]])
            openness.append(row["openness"])
        tuft, _, _ = structure_maps(sample.image, sample.labels)
        truth = sample.tuft
        tuft_iou.append(((tuft > 0) & (truth > 0)).sum() / ((tuft > 0) | (truth > 0)).sum())
    assert len(grades) >= 12
    assert -spearmanr(openness, grades).statistic >= 0.9
    assert min(tuft_iou) > 0.9  # the tuft found matches the rendered tuft
