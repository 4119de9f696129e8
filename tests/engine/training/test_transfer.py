"""Encoder transfer: copy by name and shape, adapt 1<->3 channels, refuse mismatches."""

import pytest
import torch

from eq_engine.config import TrainConfig, TransferConfig
from eq_engine.errors import ConfigError, ModelError
from eq_engine.events import CheckpointSaved, EpochEnd, StageStarted
from eq_engine.io.models import load_weights, save_model
from eq_engine.models.unet import FIRST_CONV_KEY, build_unet, encoder, encoder_keys, encoder_stage
from eq_engine.training.transfer import adapt_first_conv, copy_encoder, transfer_train

TINY = dict(arch="auto", size=32, batch_size=2, crops_per_image=1, epochs=1, seed=0)


def _meta(in_channels=1, arch="resnet18"):
    norm = {"method": "percentile-standardize", "low": 1.0, "high": 99.8,
            "channels": in_channels, "mean": [0.0] * in_channels, "std": [1.0] * in_channels}
    return {"task": "mitochondria", "arch": arch, "in_channels": in_channels, "n_classes": 2,
            "normalization": norm, "tile_size": 32, "scale": 1.0, "threshold": 0.5}


@pytest.fixture(scope="module")
def mito_file(tmp_path_factory):
    torch.manual_seed(42)
    model = build_unet("resnet18", in_channels=1)
    path = tmp_path_factory.mktemp("base") / "mito.eqm"
    return save_model(path, model, _meta())


def test_copy_gray_encoder_into_rgb_unet(mito_file):
    base, _ = load_weights(mito_file)
    torch.manual_seed(7)
    model = build_unet("resnet18", in_channels=3)
    report = copy_encoder(base, model, base_name=str(mito_file))
    state = model.state_dict()
    for key in encoder_keys(state):
        if key == FIRST_CONV_KEY:
            assert torch.allclose(state[key], base[key].repeat(1, 3, 1, 1) / 3)
        else:
            assert torch.equal(state[key], base[key]), key
    assert [a["name"] for a in report.adapted] == [FIRST_CONV_KEY]
    assert len(report.copied) == len(encoder_keys(state)) - 1
    # the decoder/head is freshly initialised, not the base model's
    head_keys = [k for k in state if k not in set(encoder_keys(state))]
    assert len(report.skipped) == len(head_keys)
    assert all(s["reason"].startswith("decoder/head") for s in report.skipped)
    assert not torch.equal(state["layers.3.0.0.weight"], base["layers.3.0.0.weight"])
    assert "1 adapted" in report.summary()


def test_copy_only_the_first_encoder_stages(mito_file):
    base, _ = load_weights(mito_file)
    torch.manual_seed(7)
    model = build_unet("resnet18", in_channels=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = copy_encoder(base, model, stages=2)
    state = model.state_dict()
    for key in encoder_keys(state):
        if encoder_stage(key) > 2:  # layer3, layer4: the new model's own random init
            assert torch.equal(state[key], before[key]), key
        elif key != FIRST_CONV_KEY:
            assert torch.equal(state[key], base[key]), key
    late = [k for k in encoder_keys(state) if encoder_stage(k) > 2]
    assert late and set(late) <= {s["name"] for s in report.skipped}
    assert all(s["reason"] == "encoder stage past copy_stages=2, re-initialised"
               for s in report.skipped if s["name"] in set(late))
    assert len(report.copied) + len(report.adapted) + len(late) == len(encoder_keys(state))


def test_copy_stages_is_validated():
    with pytest.raises(ConfigError, match="copy_stages"):
        TransferConfig(base_model="m.eqm", copy_stages=5)


def test_adapted_rgb_encoder_sees_a_gray_image_like_the_base(mito_file):
    base, _ = load_weights(mito_file)
    gray_model = build_unet("resnet18", in_channels=1)
    gray_model.load_state_dict(base)
    rgb_model = build_unet("resnet18", in_channels=3)
    copy_encoder(base, rgb_model)
    x = torch.randn(1, 1, 64, 64)
    with torch.no_grad():
        a = encoder(gray_model.eval())(x)
        b = encoder(rgb_model.eval())(x.repeat(1, 3, 1, 1))
    assert torch.allclose(a, b, atol=1e-4)


def test_rgb_to_gray_sums_the_kernel():
    w = torch.randn(4, 3, 3, 3)
    assert torch.allclose(adapt_first_conv(w, 1), w.sum(1, keepdim=True))
    with pytest.raises(ModelError):
        adapt_first_conv(torch.randn(4, 2, 3, 3), 3)


def test_mismatched_encoder_is_refused(mito_file):
    base, _ = load_weights(mito_file)
    with pytest.raises(ModelError, match="does not match"):
        copy_encoder(base, build_unet("resnet34", in_channels=3))


def test_refused_base_models(tmp_path, mito_file):
    from safetensors.torch import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(1)}, str(plain))
    data = [(f"S{i}_a", torch.zeros(40, 40, 3).numpy(), torch.zeros(40, 40).numpy()) for i in range(2)]
    with pytest.raises(ModelError, match="not an EQ segmentation model"):
        transfer_train(data, TransferConfig(base_model=str(plain)))
    cfg = TransferConfig(base_model=str(mito_file), train=TrainConfig(task="glomeruli", arch="resnet34"))
    with pytest.raises(ModelError, match="same architecture"):
        transfer_train(data, cfg)


def test_transfer_train_freezes_then_compares_with_scratch(tmp_path, mito_file):
    from eq_engine.data.synthetic import write_histology_dataset

    root = write_histology_dataset(tmp_path / "hist", n_images=4, size=96, seed=0, n_glomeruli=2)
    base, _ = load_weights(mito_file)
    snapshots, events = {}, []

    def listen(ev):
        events.append(ev)
        if isinstance(ev, CheckpointSaved) and ev.stage == "freeze":
            snapshots["freeze"] = load_weights(ev.path)[0]

    cfg = TransferConfig(base_model=str(mito_file), freeze_epochs=1, unfreeze_epochs=1,
                         compare_scratch=True,
                         train=TrainConfig(task="glomeruli", group_pattern=r"^(S\d+)_", **TINY))
    result = transfer_train(root, cfg, out=tmp_path / "glom.eqm", on_event=listen)

    frozen = snapshots["freeze"]  # after stage 1 the encoder's convolutions are still the base's
    assert torch.equal(frozen["layers.0.4.0.conv1.weight"], base["layers.0.4.0.conv1.weight"])
    assert not torch.equal(frozen["layers.3.0.0.weight"], base["layers.3.0.0.weight"])
    stages = [e.stage for e in events if isinstance(e, StageStarted)]
    assert stages == ["prepare", "freeze", "unfreeze", "scratch"]
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == [1, 2, 1, 2]

    assert [r["stage"] for r in result.transfer.history] == ["freeze", "unfreeze"]
    assert len(result.scratch.history) == 2 and result.scratch.model_path.name == "glom_scratch.eqm"
    assert result.transfer.metadata["in_channels"] == 3
    assert result.transfer.metadata["parent"]["path"] == str(mito_file)
    assert result.transfer.metadata["split"]["valid"] == result.scratch.metadata["split"]["valid"]
    assert [r["epoch"] for r in result.table] == [1, 2, "best"]
    assert result.table[-1]["transfer_dice"] == result.transfer.best["dice"]
    assert "scratch_dice" in result.table_text.splitlines()[0]


def test_freeze_holds_only_the_copied_stages(tmp_path, mito_file):
    from eq_engine.data.synthetic import write_histology_dataset
    from eq_engine.training.trainer import seed_everything

    root = write_histology_dataset(tmp_path / "hist", n_images=4, size=96, seed=0, n_glomeruli=2)
    base, _ = load_weights(mito_file)
    saved = []
    cfg = TransferConfig(base_model=str(mito_file), freeze_epochs=1, unfreeze_epochs=0,
                         copy_stages=1,
                         train=TrainConfig(task="glomeruli", group_pattern=r"^(S\d+)_", **TINY))
    result = transfer_train(root, cfg, out=tmp_path / "glom.eqm",
                            on_event=lambda ev: isinstance(ev, CheckpointSaved)
                            and saved.append(load_weights(ev.path)[0]))
    seed_everything(0)  # transfer_train's own seed: the new U-Net's initial weights
    initial = build_unet("resnet18", in_channels=3).state_dict()
    frozen = saved[-1]
    # layer1 (copied) is held; layer2 (not copied) starts from the new U-Net's init and learns
    assert torch.equal(frozen["layers.0.4.0.conv1.weight"], base["layers.0.4.0.conv1.weight"])
    assert not torch.equal(frozen["layers.0.5.0.conv1.weight"], initial["layers.0.5.0.conv1.weight"])
    assert result.transfer.metadata["transfer"]["copy_stages"] == 1
