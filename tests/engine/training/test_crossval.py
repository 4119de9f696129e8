"""cross_validate(): folds by subject, one model per fold, summary = per-fold rows, cancel.

Tiny runs: 3 synthetic animals x 2 histology fields of 64 px, resnet18 on 32-px crops, 1 epoch.
"""

import csv
import json
import math

import numpy as np
import pytest
import torch

from eq_engine.config import CVConfig, TrainConfig
from eq_engine.errors import ConfigError, DataError
from eq_engine.events import CancelToken, Finished
from eq_engine.io.datasets import Pair
from eq_engine.training import cross_validate
from eq_engine.training.crossval import make_folds
from eq_engine.training.cv_summary import pooled_over_images

TINY = TrainConfig(task="glomeruli", arch="resnet18", size=32, batch_size=2, epochs=1,
                   crops_per_image=1, valid_fraction=0.5, seed=0)
PATTERN = r"^(S\d+)_"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    from eq_engine.data.synthetic import write_histology_dataset

    return write_histology_dataset(tmp_path_factory.mktemp("glom") / "glom", n_images=6, size=64,
                                   images_per_animal=2, n_glomeruli=1, seed=0)


@pytest.fixture(scope="module")
def cv_run(cohort, tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("cv") / "cv"
    config = CVConfig(group_pattern=PATTERN, train=TINY)
    return cross_validate(cohort, config, out=out), out


def _pairs(stems):
    return [Pair(s, f"/x/{s}.png", f"/y/{s}.png") for s in stems]


def test_folds_never_share_a_subject():
    stems = [f"{a}_img{k}" for a in ("A1", "A2", "B7", "C3", "C4") for k in range(3)]
    for k in (0, 2, 3, 5):
        folds = make_folds(_pairs(stems), r"^([A-Z]\d)_", folds=k, seed=1)
        assert len(folds) == (k or 5)
        held = [g for f in folds for g in f.test_groups]
        assert sorted(held) == ["A1", "A2", "B7", "C3", "C4"]  # each subject held out once
        for f in folds:
            train_subjects = {p.stem.split("_")[0] for p in f.train}
            test_subjects = {p.stem.split("_")[0] for p in f.test}
            assert test_subjects == set(f.test_groups)
            assert not train_subjects & test_subjects
            assert len(f.train) + len(f.test) == len(stems)


def test_bad_fold_requests_name_the_fix():
    with pytest.raises(DataError, match="only 2 subjects"):
        make_folds(_pairs(["A1_x", "A2_x"]), r"^(A\d)_", folds=3)
    with pytest.raises(DataError, match="at least 2 subjects"):
        make_folds(_pairs(["A1_x", "A1_y"]), r"^(A\d)_")
    with pytest.raises(ConfigError, match="group_pattern"):
        CVConfig(group_pattern="no_group")
    with pytest.raises(ConfigError, match="base_model"):
        CVConfig(group_pattern=PATTERN, compare_scratch=True)


def test_each_fold_writes_its_model_and_tables(cv_run):
    result, out = cv_run
    assert not result.cancelled and len(result.folds) == 3 and len(result.rows) == 3
    from eq_engine.io.models import read_metadata

    for fold, row in zip(result.folds, result.rows, strict=True):
        model = out / f"fold{fold.index}" / "scratch.eqm"
        assert model.is_file() and row["model"] == str(model)
        meta = read_metadata(model)
        trained_on = set(meta["split"]["train"]) | set(meta["split"]["valid"])
        assert trained_on == {p.stem for p in fold.train}  # the held-out subject never trained
        assert meta["scale_policy"]["mode"] == "auto" and meta["scale"] == 1.0  # small objects
        assert meta["predict_tile"] >= meta["tile_size"] and "min_size" in meta["postprocess"]
        assert (out / f"fold{fold.index}" / "eval_scratch" / "per_image.csv").is_file()
    for name in ("folds.csv", "per_image.csv", "summary.json", "folds.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "folds.png").read_bytes()[:4] == b"\x89PNG"


def test_summary_matches_the_per_fold_rows(cv_run):
    result, out = cv_run
    with open(out / "folds.csv") as fh:
        rows = list(csv.DictReader(fh))
    with open(out / "per_image.csv") as fh:
        images = list(csv.DictReader(fh))
    summary = json.loads((out / "summary.json").read_text())
    stats = summary["arms"]["scratch"]["folds"]
    for key in ("pooled_dice", "object_f1", "otsu_dark_dice"):
        values = [float(r[key]) for r in rows]
        assert stats[key]["mean"] == pytest.approx(np.mean(values))
        assert stats[key]["sd"] == pytest.approx(np.std(values, ddof=1))
        lo, hi = stats[key]["ci95"]
        assert lo <= stats[key]["mean"] <= hi
    assert len(images) == 6 and {r["arm"] for r in images} == {"scratch"}
    tp, fp, fn = (sum(int(r[k]) for r in images) for k in ("tp", "fp", "fn"))
    pooled = summary["arms"]["scratch"]["pooled"]
    assert pooled["dice"] == pytest.approx(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)
    assert pooled["n_images"] == 6
    assert pooled["dice_ci95_bootstrap_images"][0] <= pooled["dice_ci95_bootstrap_images"][1]


def test_pooled_over_images_by_hand():
    rows = [{"tp": 3, "fp": 1, "fn": 0, "tn": 10, "matched_objects": 1, "n_pred_objects": 2,
             "n_truth_objects": 1},
            {"tp": 1, "fp": 0, "fn": 3, "tn": 10, "matched_objects": 0, "n_pred_objects": 0,
             "n_truth_objects": 1}]
    pooled = pooled_over_images(rows, bootstrap=0)
    assert pooled["dice"] == pytest.approx(8 / (8 + 1 + 3))
    assert pooled["iou"] == pytest.approx(4 / 8)
    assert pooled["object_f1"] == pytest.approx(2 / (2 + 1 + 1))  # tp 1, fp 1, fn 1
    assert not math.isnan(pooled["object_precision"])


def test_cancel_stops_after_the_running_fold(cohort, tmp_path):
    token = CancelToken()

    def listen(event):
        if isinstance(event, Finished) and event.stage == "train":
            token.cancel()  # the first fold's training just finished

    result = cross_validate(cohort, CVConfig(group_pattern=PATTERN, train=TINY),
                            out=tmp_path / "cv", on_event=listen, cancel=token)
    assert result.cancelled and len(result.rows) <= 1
    assert not (tmp_path / "cv" / "fold1").exists()
    summary = json.loads((tmp_path / "cv" / "summary.json").read_text())
    assert summary["cancelled"] is True and summary["n_folds_planned"] == 3


def test_folds_run_apart_merge_into_the_same_summary(cohort, cv_run, tmp_path):
    from eq_engine.training.cv_merge import merge_folders

    full, _ = cv_run
    config = CVConfig(group_pattern=PATTERN, train=TINY)
    parts = []
    for k in (0, 1, 2):
        part = tmp_path / f"part{k}"
        result = cross_validate(cohort, config.replace(only_folds=(k,)), out=part)
        assert [r["fold"] for r in result.rows] == [k]
        parts.append(part)
    merged = merge_folders(parts, tmp_path / "merged")
    ours = merged["arms"]["scratch"]["folds"]["pooled_dice"]
    assert ours["n"] == 3
    # seeded CPU runs repeat exactly, so the merged parts equal the single run
    assert ours["mean"] == pytest.approx(full.summary["arms"]["scratch"]["folds"]["pooled_dice"]["mean"])
    assert (tmp_path / "merged" / "folds.png").is_file()
    assert not (tmp_path / "merged" / "ensemble.json").exists()
    with pytest.raises(DataError, match="more than one folder"):
        merge_folders([parts[0], parts[0]], tmp_path / "twice")

    from eq_engine.models.ensemble import ensemble_members

    merge_folders(parts, tmp_path / "merged", ensemble=True)
    members = ensemble_members(tmp_path / "merged" / "ensemble.json")
    assert [m.resolve() for m in members] == [(p / f"fold{k}" / "scratch.eqm").resolve()
                                               for k, p in enumerate(parts)]
    with pytest.raises(DataError, match=r"every fold's scratch model.*folds \[0, 1\] of 3"):
        merge_folders(parts[:2], tmp_path / "two", ensemble=True)


def test_a_rerun_into_the_same_folder_scores_finished_folds_without_retraining(cohort, cv_run,
                                                                                tmp_path):
    import shutil

    from eq_engine.events import StageStarted

    full, out = cv_run
    again = tmp_path / "cv"
    shutil.copytree(out, again)
    model = again / "fold1" / "scratch.eqm"
    before = model.stat().st_mtime_ns
    events = []
    config = CVConfig(group_pattern=PATTERN, train=TINY)
    result = cross_validate(cohort, config.replace(only_folds=(1,)), out=again,
                            on_event=events.append)
    assert model.stat().st_mtime_ns == before  # scored, not retrained
    assert any(isinstance(e, StageStarted) and "reusing" in e.message for e in events)
    assert result.rows[0]["pooled_dice"] == pytest.approx(full.rows[1]["pooled_dice"])
    # settings left to auto match what they resolved to (crops per image: 1 here)
    cross_validate(cohort, config.replace(only_folds=(1,), train=TINY.replace(crops_per_image=0)),
                   out=again)
    assert model.stat().st_mtime_ns == before
    # another training config is another experiment: its model is never overwritten
    with pytest.raises(DataError, match=r"scratch.eqm is a finished model of another.*lr=0.001"):
        cross_validate(cohort, config.replace(only_folds=(1,), train=TINY.replace(lr=5e-4)),
                       out=again)
    assert model.stat().st_mtime_ns == before
