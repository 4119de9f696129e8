"""train(): events, metrics from eq_engine.evaluation, cancel, resume, OOM, reproducibility.

Tiny runs: resnet18 on 32-px crops of 64-px synthetic EM slices, one or two epochs.
"""

import json
import math

import numpy as np
import pytest
import torch

from eq_engine.config import TrainConfig
from eq_engine.device import DeviceInfo
from eq_engine.errors import Cancelled, ConfigError
from eq_engine.events import (
    BatchEnd,
    BatchSizeReduced,
    CancelToken,
    CheckpointSaved,
    EpochEnd,
    Finished,
    StageStarted,
)
from eq_engine.training import train

TINY = TrainConfig(task="mitochondria", arch="resnet18", size=32, batch_size=2, epochs=2,
                   crops_per_image=1, seed=0)


@pytest.fixture(scope="module")
def em_root(tmp_path_factory):
    from eq_engine.data.synthetic import write_em_dataset

    return write_em_dataset(tmp_path_factory.mktemp("em") / "em", n_slices=5, size=64, seed=0)


@pytest.fixture(scope="module")
def trained(em_root, tmp_path_factory):
    torch.set_num_threads(1)
    events = []
    out = tmp_path_factory.mktemp("model") / "mito.eqm"
    result = train(em_root, TINY, out=out, on_event=events.append)
    return result, events


def test_events_arrive_in_order(trained):
    result, events = trained
    kinds = [type(e).__name__ for e in events]
    assert kinds[:2] == ["StageStarted", "StageStarted"] and kinds[-1] == "Finished"
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2] and all(e.n_epochs == 2 for e in epochs)
    for epoch in (1, 2):  # every batch of an epoch comes before its EpochEnd
        end = events.index(epochs[epoch - 1])
        batches = [e for e in events[:end] if isinstance(e, BatchEnd) and e.epoch == epoch]
        assert [b.step for b in batches] == list(range(1, batches[0].total + 1))
    saved = [e for e in events if isinstance(e, CheckpointSaved)]
    assert saved and all(events.index(s) > events.index(epochs[s.epoch - 1]) for s in saved)
    for e in epochs:
        assert set(e.metrics) == {"dice", "iou"} and e.seconds > 0 and e.lr > 0
        assert all(0 <= v <= 1 for v in e.metrics.values())
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert result.history[-1]["dice"] == epochs[-1].metrics["dice"]
    assert not result.cancelled and result.device == "cpu"


def test_model_file_round_trips_and_valid_dice_comes_from_metrics(trained, em_root):
    from eq_engine.data.crops import IGNORE
    from eq_engine.data.loaders import TileDataset, prepare_data
    from eq_engine.evaluation.metrics import Confusion, confusion, dice_from_counts
    from eq_engine.io.models import read_metadata
    from eq_engine.models.loading import load_model

    result, _ = trained
    meta = read_metadata(result.model_path)
    assert meta["metrics"]["dice"] == result.best["dice"] and len(meta["history"]) == 2
    assert meta["train_config"]["arch"] == "resnet18" and meta["tile_size"] == 32
    loaded = load_model(result.model_path, device="cpu")
    prepared = prepare_data(em_root, scale=1.0, size=32, valid_fraction=0.2, seed=0,
                            norm=meta["normalization"])
    assert [i.stem for i in prepared.valid] == meta["split"]["valid"]
    tiles = TileDataset(prepared.valid, size=32)
    batch = np.stack([tiles[i][0].numpy() for i in range(len(tiles))])
    prob = loaded.predictor(batch)
    with torch.inference_mode():
        own = torch.softmax(result.module(torch.from_numpy(batch)).as_subclass(torch.Tensor), 1)
    np.testing.assert_array_equal(prob, own[:, 1].numpy())  # identical predictions
    total = Confusion()
    for i in range(len(tiles)):
        target = tiles[i][1].numpy()
        keep = target != IGNORE
        total = total + confusion(prob[i][keep], target[keep] == 1, threshold=0.5)
    assert dice_from_counts(total) == pytest.approx(result.best["dice"], abs=1e-6)


def test_seeded_runs_are_reproducible(trained, em_root):
    again = train(em_root, TINY)
    first, _ = trained
    keys = ("train_loss", "valid_loss", "dice", "iou")
    assert [[r[k] for k in keys] for r in again.history] == [[r[k] for k in keys] for r in first.history]
    assert again.model_path is None and again.module is not None


def test_cpu_training_runs_channels_last():
    """Weights and every training and validation batch in the CPU layout of
    eq_engine.device.memory_format (RGB: a 1-channel batch is the same in both layouts)."""
    from fastai.vision.models.unet import DynamicUnet

    layouts, fitting = [], []

    def record(module, args):
        if fitting and isinstance(module, DynamicUnet):  # not the U-Net's build-time probe
            layouts.append(args[0].is_contiguous(memory_format=torch.channels_last)
                           and not args[0].is_contiguous())

    def on_event(event):
        if isinstance(event, StageStarted) and event.stage != "prepare":
            fitting.append(event)

    hook = torch.nn.modules.module.register_module_forward_pre_hook(record)
    try:
        result = train(_rgb_arrays(), TINY.replace(epochs=1, group_pattern=r"^(A\d)_"),
                       on_event=on_event)
    finally:
        hook.remove()
    assert layouts and all(layouts)
    weight = next(p for p in result.module.parameters() if p.ndim == 4)
    assert weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()


def test_scale_jitter_sets_the_zoom_range_of_augmentation(em_root, monkeypatch):
    from eq_engine.data import augment

    zooms, real = [], augment.mild_affine

    def spy(images, masks, gen, settings):
        zooms.append(settings.zoom)
        return real(images, masks, gen, settings)

    monkeypatch.setattr(augment, "mild_affine", spy)
    train(em_root, TINY.replace(epochs=1, scale_jitter=1.6))
    assert zooms and set(zooms) == {(1 / 1.6, 1.6)}


def test_cancel_stops_at_the_next_batch_and_keeps_the_best(em_root, tmp_path):
    # Promptness is structural (no further batch runs); seconds belong to bench/, not tests.
    token, events = CancelToken(), []

    def listen(ev):
        events.append(ev)
        if isinstance(ev, BatchEnd) and ev.epoch == 2:
            token.cancel()

    result = train(em_root, TINY.replace(epochs=5), out=tmp_path / "m.eqm", on_event=listen,
                   cancel=token)
    assert result.cancelled and [h["epoch"] for h in result.history] == [1]
    assert result.model_path.is_file() and result.best["epoch"] == 1
    assert isinstance(events[-1], Finished) and events[-1].cancelled
    assert not [e for e in events if isinstance(e, BatchEnd) and e.epoch == 2 and e.step > 1]


def test_cancel_before_training_raises_cancelled(em_root):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        train(em_root, TINY, cancel=token)


def test_resume_continues_the_epoch_count(trained, em_root, tmp_path):
    first, _ = trained
    events = []
    resumed = train(em_root, TINY.replace(epochs=1, crops_per_image=0), out=tmp_path / "more.eqm",
                    resume_from=first.model_path, on_event=events.append)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    assert resumed.metadata["train_config"]["crops_per_image"] == 1  # auto: the first run's
    ends = [e for e in events if isinstance(e, EpochEnd)]
    assert [(e.epoch, e.n_epochs) for e in ends] == [(3, 3)]
    assert resumed.metadata["normalization"] == first.metadata["normalization"]
    assert resumed.best["dice"] >= first.best["dice"]
    with pytest.raises(ConfigError, match="resnet34"):
        train(em_root, TINY.replace(arch="resnet34"), resume_from=first.model_path)


def test_simulated_cuda_oom_halves_the_batch_and_goes_on(em_root, monkeypatch):
    from eq_engine.training.learner import EQLearner

    original, raised = EQLearner._do_one_batch, []

    def flaky(self):
        if self.training and self.xb[0].shape[0] > 2 and not raised:
            raised.append(self.xb[0].shape[0])
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        original(self)

    monkeypatch.setattr(EQLearner, "_do_one_batch", flaky)
    events = []
    result = train(em_root, TINY.replace(crops_per_image=2, batch_size=4), on_event=events.append)
    reduced = [e for e in events if isinstance(e, BatchSizeReduced)]
    assert [(e.old, e.new) for e in reduced] == [(4, 2)] and "simulated" in reduced[0].reason
    batches = [e for e in events if isinstance(e, BatchEnd)]
    assert [b.total for b in batches if b.epoch == 2] == [4, 4, 4, 4]  # the loader now serves 2
    assert len(result.history) == 2 and not result.cancelled


def test_oom_at_batch_size_one_is_a_config_error(em_root, monkeypatch):
    from eq_engine.training.learner import EQLearner

    def always(self):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(EQLearner, "_do_one_batch", always)
    with pytest.raises(ConfigError, match="batch size 1"):
        train(em_root, TINY.replace(epochs=1))


def test_nan_losses_and_broken_listeners_do_not_break_training(em_root, tmp_path, monkeypatch):
    import eq_engine.training.learner as learner_module

    monkeypatch.setattr(learner_module, "get_loss", lambda name: lambda p, t: p.float().mean() * math.nan)

    def broken(ev):
        raise RuntimeError("listener bug")

    result = train(em_root, TINY.replace(epochs=1), out=tmp_path / "nan.eqm", on_event=broken)
    assert math.isnan(result.history[0]["train_loss"])
    raw = result.model_path.read_bytes()
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    assert json.loads(header["__metadata__"]["eq"])["history"][0]["train_loss"] is None


def _rgb_arrays() -> list:
    from eq_engine.data.synthetic import make_histology_field

    data = []
    for i in range(4):
        sample = make_histology_field(64, n_glomeruli=1, seed=i)
        data.append((f"A{i // 2}_img{i}", sample.image, sample.labels > 0))
    return data


def test_arrays_with_group_pattern_and_rgb(tmp_path):
    data = _rgb_arrays()
    events = []
    result = train(data, TINY.replace(epochs=1, group_pattern=r"^(A\d)_", task="glomeruli"),
                   on_event=events.append)
    split = result.metadata["split"]
    assert result.metadata["in_channels"] == 3 and len(split["valid_groups"]) == 1
    assert {s.split("_")[0] for s in split["valid"]} == set(split["valid_groups"])
    assert isinstance(events[0], StageStarted)


def test_device_defaults():
    from eq_engine.training.trainer import resolve_settings

    cpu = DeviceInfo("cpu", "cpu", "CPU", mixed_precision=False)
    cuda = DeviceInfo("cuda", "cuda", "GPU", mixed_precision=True)
    auto = TrainConfig()
    assert (lambda r: (r.arch, r.tile, r.batch_size, r.mixed_precision))(resolve_settings(auto, cpu)) \
        == ("resnet18", 128, 4, False)
    assert (lambda r: (r.arch, r.tile, r.batch_size, r.mixed_precision))(resolve_settings(auto, cuda)) \
        == ("resnet34", 256, 16, True)
    assert not resolve_settings(auto.replace(mixed_precision=False), cuda).mixed_precision
    assert resolve_settings(auto.replace(arch="resnet50", size=64), cuda).arch == "resnet50"


@pytest.mark.slow
@pytest.mark.bench
def test_real_em_pretraining_then_preeclampsia_transfer(shared_data, tmp_path):
    """bench/real_data_training.py with its defaults (minutes on a CPU); numbers in BENCHMARKS.md."""
    import importlib.util
    from pathlib import Path

    shared_data("em_cdeep3m_mouse_brain")
    shared_data("kidney_preeclampsia_mouse_he")
    script = Path(__file__).resolve().parents[3] / "bench" / "real_data_training.py"
    spec = importlib.util.spec_from_file_location("real_data_training", script)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    summary = bench.run(bench.parse_args(["--out-dir", str(tmp_path)]))
    assert summary["mito"]["best"]["dice"] >= 0.6
    assert summary["mito"]["valid"] == [f"validation_05{i}" for i in range(4)]
    assert len(summary["transfer"]["valid_groups"]) == 1
    for run in ("transfer", "scratch"):
        assert 0 <= summary[run]["best"]["dice"] <= 1
    assert summary["table"][-1]["epoch"] == "best"
