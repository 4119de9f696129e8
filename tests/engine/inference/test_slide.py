"""Slide prediction: objects in slide and µm coordinates, merging across regions, tissue, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eq_engine.config.inference import PredictConfig
from eq_engine.config.slide import SlideConfig
from eq_engine.errors import ConfigError
from eq_engine.inference.slide import SLIDE_TILE, predict_slide
from eq_engine.inference.slide_labels import _line_links, merge_objects, read_ome_zarr_levels
from eq_engine.inference.slide_regions import SlidePlan, regions_with_tissue
from eq_engine.io.images import read_image
from eq_engine.models.loading import LoadedModel

SMALL = SlideConfig(region=128, halo=32)  # analysis space is 512 x 768: 4 x 6 regions


def counting(model, calls, fail_after=None):
    """``model`` whose predictor counts its calls and raises after ``fail_after`` of them."""
    def predictor(batch):
        calls.append(batch.shape[0])
        if fail_after is not None and len(calls) > fail_after:
            raise RuntimeError("killed")
        return model.predictor(batch)

    return LoadedModel(None, model.metadata, predictor)


@pytest.mark.parametrize("kind", ["ome", "ndpi"])
def test_objects_in_slide_and_micrometre_coordinates(make_slide, threshold_model, tmp_path, kind):
    result = predict_slide(threshold_model(), make_slide(kind), tmp_path / "out", SMALL)
    assert result.plan.level == 0 and result.plan.residual == 0.5
    assert result.plan.shape == (512, 768)
    assert result.n_objects == 3
    expected = [(256, 256), (400, 700), (600, 1100)]
    for row, (cy, cx) in zip(result.rows, expected, strict=True):
        assert row["centroid_y"] == pytest.approx(cy, abs=1.5)
        assert row["centroid_x"] == pytest.approx(cx, abs=1.5)
        assert row["centroid_x_um"] == pytest.approx(row["centroid_x"] * 0.5)
        assert row["area_um2"] == pytest.approx(np.pi * 60**2 * 0.25, rel=0.05)
        assert row["bbox_y0"] <= cy - 58 and row["bbox_y1"] >= cy + 58
        assert not row["touches_border"]
    text = (tmp_path / "out" / "objects.csv").read_text().splitlines()
    assert text[0].startswith("id,centroid_y,centroid_x,bbox_y0")
    assert len(text) == 4
    levels = read_ome_zarr_levels(result.files["labels"])
    assert levels[0].shape == (512, 768) and levels[1].shape == (256, 384)
    assert set(np.unique(np.asarray(levels[0]))) == {0, 1, 2, 3}
    thumb = read_image(result.files["thumbnail"])
    assert thumb.shape == (1024, 1536, 3)
    assert (thumb == (255, 230, 0)).all(axis=-1).sum() > 100  # outlines drawn


def test_one_glomerulus_split_over_four_regions_is_counted_once(make_slide, slide_image,
                                                                 threshold_model, tmp_path):
    # disc centred on the corner shared by regions (0,0), (0,1), (1,0), (1,1) in analysis space
    image = slide_image(discs=[(256, 256)], radius=90)
    result = predict_slide(threshold_model(), make_slide(image=image), tmp_path / "out", SMALL)
    assert result.n_objects == 1
    labels = np.asarray(read_ome_zarr_levels(result.files["labels"])[0])
    assert set(np.unique(labels)) == {0, 1}
    for y, x in ((100, 100), (100, 150), (150, 100), (150, 150)):  # one in each region
        assert labels[y, x] == 1
    assert result.rows[0]["area_um2"] == pytest.approx(np.pi * 90**2 * 0.25, rel=0.05)


def test_regions_are_chosen_by_tissue_in_their_core_not_their_halo():
    plan = SlidePlan(0, 1.0, (256, 384), (256, 384), (256, 384), region=128, halo=64, mpp=None)
    found = np.zeros((64, 96), bool)  # a thumbnail at 1/4 of analysis space
    found[5, 28:32] = True  # tissue ending at region 0's right border (x 127), in region 1's halo
    assert regions_with_tissue(plan, found) == [0]
    found[40, 70] = True  # region 5 (row 1, column 2)
    assert regions_with_tissue(plan, found) == [0, 5]


def test_tissue_detection_skips_glass(make_slide, threshold_model, tmp_path):
    slide = make_slide("ome")
    calls_tissue, calls_all = [], []
    tissue = predict_slide(counting(threshold_model(), calls_tissue), slide, tmp_path / "a", SMALL)
    everything = predict_slide(counting(threshold_model(), calls_all), slide, tmp_path / "b",
                               SMALL.replace(tissue=False))
    assert tissue.regions_skipped > 0 and everything.regions_skipped == 0
    assert tissue.regions_predicted + tissue.regions_skipped == 24
    assert sum(calls_tissue) < sum(calls_all)
    assert [r["id"] for r in tissue.rows] == [r["id"] for r in everything.rows]


def test_resume_after_a_killed_run(make_slide, threshold_model, tmp_path):
    slide, out = make_slide("ome"), tmp_path / "out"
    with pytest.raises(RuntimeError, match="killed"):
        predict_slide(counting(threshold_model(), [], fail_after=5), slide, out, SMALL)
    state = json.loads((out / "slide_state.json").read_text())
    finished = len(state["done"])
    assert 0 < finished < len(state["todo"])
    calls = []
    resumed = predict_slide(counting(threshold_model(), calls), slide, out, SMALL)
    assert resumed.regions_resumed == finished
    assert resumed.regions_predicted == len(state["todo"]) - finished
    fresh = predict_slide(threshold_model(), slide, tmp_path / "fresh", SMALL)
    assert resumed.rows == fresh.rows
    again = predict_slide(threshold_model(), slide, out, SMALL)
    assert again.regions_predicted == 0  # everything done: only labelling runs


def test_another_config_in_the_same_folder_needs_overwrite(make_slide, threshold_model,
                                                            tmp_path):
    slide, out = make_slide("ome"), tmp_path / "out"
    predict_slide(threshold_model(), slide, out, SMALL)
    with pytest.raises(ConfigError, match="overwrite"):
        predict_slide(threshold_model(), slide, out, SMALL.replace(halo=16))
    result = predict_slide(threshold_model(), slide, out, SMALL.replace(halo=16), overwrite=True)
    assert result.regions_resumed == 0 and result.n_objects == 3


def test_level_matching_the_model_scale_is_read(make_slide, threshold_model, tmp_path):
    # scale 1/4: level 1 is read as it is (no resize), 256 x 384 px
    result = predict_slide(threshold_model(scale=0.25, tile=32), make_slide("svs"),
                           tmp_path / "out", SlideConfig(region=64, halo=16))
    assert (result.plan.level, result.plan.residual, result.plan.shape) == (1, 1.0, (256, 384))
    assert result.n_objects == 3
    assert result.rows[1]["centroid_x"] == pytest.approx(700, abs=4)


@pytest.mark.parametrize(("asked", "used"), [(0, SLIDE_TILE), (512, 512)])
def test_slide_tiles_are_capped_unless_asked_for(make_slide, threshold_model, tmp_path, asked,
                                                 used):
    shapes = []
    model = threshold_model(tile=512)

    def predictor(batch):
        shapes.append(batch.shape[-2:])
        return model.predictor(batch)

    config = SlideConfig(region=512, halo=32, predict=PredictConfig(tile=asked))
    result = predict_slide(LoadedModel(None, model.metadata, predictor), make_slide("ome"),
                           tmp_path / "out", config)
    assert result.n_objects == 3
    assert {tuple(s) for s in shapes} == {(used, used)}


@pytest.mark.parametrize("learned", [False, True])
def test_min_size_applies_to_merged_objects(make_slide, slide_image, threshold_model, tmp_path,
                                            learned):
    from eq_engine.io.recipe_meta import recipe_metadata

    # enough dark discs that the 1st percentile is dark (the threshold model needs contrast)
    discs = [(y, x) for y in (200, 400, 600) for x in (256, 600, 1100)]
    image = slide_image(discs=discs, radius=24)
    image[240:272, 800:832] = (120, 40, 110)  # a 32 px square: 1024 level-0 px
    model, config = threshold_model(), SMALL
    if learned:  # the model's own minimum (full-resolution px), as for a field
        model.metadata.update(recipe_metadata(postprocess={"min_size": 1400}))
    else:
        config = SMALL.replace(predict=SMALL.predict.replace(min_size=1400))
    result = predict_slide(model, make_slide(image=image), tmp_path / "o", config)
    assert result.n_objects == 9  # discs of ~1800 level-0 px each survive, the square does not
    assert all(abs(r["centroid_x"] - 816) > 100 for r in result.rows)


def test_dask_scheduler_gives_the_same_objects(make_slide, threshold_model, tmp_path):
    distributed = pytest.importorskip("distributed")
    slide = make_slide("ome")
    local = predict_slide(threshold_model(), slide, tmp_path / "local", SMALL)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_dask = predict_slide(threshold_model(), slide, tmp_path / "dask", SMALL,
                                scheduler=cluster.scheduler_address)
    assert on_dask.rows == local.rows
    assert on_dask.regions_predicted == local.regions_predicted


def test_line_links_and_merging_by_hand():
    mine = np.array([5, 0, 0, 0, 6])
    theirs = np.array([1, 0, 0, 0, 2, 0, 3])  # covers positions -1..5
    pairs = np.concatenate(_line_links(mine, theirs, -1))
    assert {tuple(p) for p in pairs} == {(1, 5), (2, 6), (3, 6)}
    # labels 1..6: 1-5 linked, 2-6 and 3-6 linked, 4 alone (size 1)
    links = np.array([[1, 5], [2, 6], [3, 6]])
    sizes = np.array([0, 10, 10, 10, 1, 10, 10])
    lookup = merge_objects(6, links, sizes, min_size=0)
    assert lookup.tolist() == [0, 1, 2, 2, 3, 1, 2]
    assert merge_objects(6, links, sizes, min_size=5).tolist() == [0, 1, 2, 2, 0, 1, 2]


def test_normalisation_is_sampled_from_tissue_not_glass(make_slide):
    from eq_engine.inference.slide_regions import (
        AnalysisReader,
        make_plan,
        sample_percentiles,
        tissue_mask,
    )
    from eq_engine.io.slides import open_slide

    rng = np.random.default_rng(0)
    image = np.full((1024, 1536, 3), 242, np.uint8)  # glass
    tissue_px = rng.integers(90, 200, (640, 640, 3)).astype(np.uint8)
    tissue_px[..., 1] //= 2  # pink: saturated, so the tissue detector sees it
    image[200:840, 300:940] = tissue_px
    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8, "channels": 3,
            "mean": [0.0] * 3, "std": [1.0] * 3}
    with open_slide(make_slide(image=image)) as slide:
        plan = make_plan(slide.info, 0.5, region=128, halo=32, level=None)
        tissue = tissue_mask(slide.level(len(slide.info.shapes) - 1)[:, :])
        found = sample_percentiles(AnalysisReader(slide.level(plan.level), plan), tissue, norm)
    assert found[:, 1].max() < 205  # the tissue's own bright end, not the glass (242)
    assert found[1, 1] < 110  # the pink tissue's own green, far from the glass grey
