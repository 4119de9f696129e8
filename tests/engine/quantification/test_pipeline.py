"""quantify(): masks/labels folder -> tables, plot, grade model fit and application."""

import csv
import json

import numpy as np
import pytest

from eq_engine.config import QuantConfig
from eq_engine.data.synthetic import write_histology_dataset
from eq_engine.errors import Cancelled, ConfigError, DataError
from eq_engine.events import CancelToken, Progress
from eq_engine.quantification.pipeline import list_images, quantify
from eq_engine.quantification.tables import QuantTable

FAST = QuantConfig(n_bootstrap=20)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("histo")
    return write_histology_dataset(root, n_images=6, size=256, seed=3, images_per_animal=2,
                                   n_glomeruli=3)


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_fit_writes_tables_model_cv_and_plot(dataset, tmp_path):
    events = []
    result = quantify(dataset / "labels", dataset, FAST, out=tmp_path / "q",
                      grades=dataset / "grades.csv", fit=tmp_path / "q" / "grade.json",
                      on_event=events.append)
    files = result.files
    glomeruli, images, subjects = (_rows(files[k]) for k in ("glomeruli", "images", "subjects"))
    assert len(glomeruli) == 18 and len(images) == 6 and len(subjects) == 3
    assert {r["subject"] for r in subjects} == {"S1", "S2", "S3"}
    assert all(r["grade_true"] != "" for r in glomeruli)
    assert {"openness", "grade_expected", "grade_class", "grade_sd"} <= set(glomeruli[0])
    assert files["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cv = json.loads(files["cv_metrics"].read_text())
    assert cv["n_subjects"] == 3 and len(cv["folds"]) == 3 and cv["level"] == "glomerulus"
    assert cv["openness_spearman"]["value"] > 0.8  # openness tracks the known grades
    assert len(_rows(files["cv_predictions"])) == cv["n"]
    model = json.loads(files["grade_model"].read_text())
    assert model["format"] == "eq-grade-model" and model["metadata"]["cv"]["n"] == cv["n"]
    assert any(isinstance(e, Progress) and e.stage == "quantify" for e in events)
    # the per-image table aggregates the glomeruli of each image
    first = [float(r["openness"]) for r in glomeruli if r["image"] == images[0]["image"]]
    assert float(images[0]["openness"]) == pytest.approx(np.mean(first), rel=1e-4)


def test_apply_saved_model_and_binary_masks(dataset, tmp_path):
    fitted = quantify(dataset / "labels", dataset, FAST, grades=dataset / "grades.csv",
                      fit=tmp_path / "g.json", out=tmp_path / "a")
    applied = quantify(dataset / "masks", dataset / "images", FAST, out=tmp_path / "b",
                       grade_model=tmp_path / "g.json")
    assert len(applied.glomeruli) == 18 and "plot" not in applied.files
    by_key = {(r["image"], round(r["centroid_y"]), round(r["centroid_x"])): r
              for r in fitted.glomeruli.rows}
    for row in applied.glomeruli.rows:  # masks split into components measure the same objects
        twin = by_key[(row["image"], round(row["centroid_y"]), round(row["centroid_x"]))]
        assert row["openness"] == pytest.approx(twin["openness"])
        assert row["grade_expected"] == pytest.approx(twin["grade_expected"], nan_ok=True)
    assert all(np.isfinite(r["image_grade_mean"]) for r in applied.subjects.rows)


def test_graded_images_where_nothing_was_found_get_the_right_error(dataset, tmp_path):
    from skimage.io import imread, imsave

    masks = tmp_path / "masks"
    masks.mkdir()
    for path in sorted((dataset / "masks").iterdir()):
        imsave(masks / path.name, np.zeros_like(imread(path)), check_contrast=False)
    with pytest.raises(DataError, match="no glomeruli were found in any of the 6 graded images"):
        quantify(masks, dataset / "images", FAST, grades=dataset / "image_grades.csv")


def test_missing_mask_and_bad_options_raise(dataset, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    (masks / "S1_img0.png").write_bytes((dataset / "masks" / "S1_img0.png").read_bytes())
    with pytest.raises(DataError, match="no mask for image 'S1_img1'"):
        quantify(masks, dataset / "images", FAST)
    with pytest.raises(ConfigError, match="either fit"):
        quantify(dataset / "masks", dataset, FAST, fit=tmp_path / "m.json",
                 grade_model=tmp_path / "m.json", grades=dataset / "grades.csv")
    with pytest.raises(ConfigError, match="needs grades"):
        quantify(dataset / "masks", dataset, FAST, fit=tmp_path / "m.json")
    with pytest.raises(DataError, match="neither"):
        quantify(tmp_path / "nothing", dataset, FAST)


def test_cancel_stops_between_images(dataset):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        quantify(dataset / "masks", dataset, FAST, cancel=token)


def test_list_images_skips_masks_beside_images(tmp_path):
    for name in ("a.png", "a_mask.png", "b.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == ["a.png", "b.jpg"]


def test_table_csv_round_trip(tmp_path):
    table = QuantTable([{"image": "x", "label": 1, "openness": 0.25, "excluded": False,
                         "exclude_reason": ""}, {"image": "y", "label": 2, "openness": float("nan"),
                                                 "excluded": True, "exclude_reason": "border"}])
    back = QuantTable.read_csv(table.to_csv(tmp_path / "t.csv"))
    assert back.rows[0]["openness"] == 0.25 and back.rows[1]["excluded"] is True
    assert np.isnan(back.rows[1]["openness"]) and back.rows[0]["label"] == 1


def test_segments_with_a_model_when_given_one(tmp_path):
    """A (numpy) segmentation model replaces the masks: bright discs become glomeruli."""
    from eq_engine.io.images import write_image
    from eq_engine.models.loading import LoadedModel

    yy, xx = np.mgrid[:96, :96]
    disc = (yy - 48) ** 2 + (xx - 40) ** 2 <= 20**2
    gray = np.where(disc, 200, 40).astype(np.uint8)
    gray[disc & ((yy + xx) % 9 == 0)] = 250  # a few open "lumens" inside
    write_image(tmp_path / "images" / "A1_x.png", np.repeat(gray[..., None], 3, axis=2))
    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 1,
            "mean": [0.5], "std": [0.25]}
    meta = {"in_channels": 1, "normalization": norm, "tile_size": 32, "scale": 1.0,
            "threshold": 0.5, "arch": "numpy"}
    model = LoadedModel(None, meta, lambda batch: 1 / (1 + np.exp(-8 * batch[:, 0])))
    result = quantify(model, tmp_path / "images", FAST)
    (row,) = result.glomeruli.rows
    assert row["area"] == pytest.approx(disc.sum(), rel=0.05)
    assert (row["centroid_y"], row["centroid_x"]) == pytest.approx((48, 40), abs=1)
    assert result.subjects.rows[0]["subject"] == "A1"


@pytest.mark.slow
def test_preeclampsia_grouped_cv_runs(shared_data, tmp_path):
    """Real H&E, true masks, per-image grades, leave-one-animal-out CV (metrics: BENCHMARKS.md)."""
    root = shared_data("kidney_preeclampsia_mouse_he")
    result = quantify(root / "masks", root / "images", QuantConfig(n_bootstrap=100),
                      out=tmp_path, grades=root / "grades.csv", fit=tmp_path / "g.json")
    cv = result.fit.cv
    assert len(result.images) == 48 and cv.n_subjects == 4 and len(cv.folds) == 4
    for fold in cv.folds:
        assert len(fold["test_subjects"]) == 1 and fold["n_test"] == 12
    assert all(np.isfinite(m["value"]) for m in cv.metrics.values())
    assert (tmp_path / "openness_vs_grade.png").is_file()
