"""The U-Net builder: DynamicUnet over a ResNet body, random init, local weights only."""

import pytest
import torch
import torchvision

from eq_engine.errors import ConfigError, ModelError
from eq_engine.models.unet import (
    ENCODER_PREFIX,
    FIRST_CONV_KEY,
    build_unet,
    encoder,
    encoder_keys,
    encoder_stage,
    split_encoder_head,
)


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    """Any attempt to fetch weights fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("EQ tried to download weights")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)


@pytest.mark.parametrize("channels", [1, 3])
def test_output_is_two_class_logits_at_input_size(channels):
    model = build_unet("resnet18", in_channels=channels).eval()
    with torch.no_grad():
        for size in (32, 96):
            out = model(torch.zeros(2, channels, size, size))
            assert tuple(out.shape) == (2, 2, size, size)
    assert model.state_dict()[FIRST_CONV_KEY].shape[1] == channels


def test_encoder_access_and_splitter():
    model = build_unet("resnet18", in_channels=1)
    body = encoder(model)
    assert isinstance(body[0], torch.nn.Conv2d)
    keys = encoder_keys(model.state_dict())
    assert keys and all(k.startswith(ENCODER_PREFIX) for k in keys)
    enc, head = split_encoder_head(model)
    assert len(enc) == len(list(body.parameters()))
    assert len(enc) + len(head) == len(list(model.parameters()))
    assert not {id(p) for p in enc} & {id(p) for p in head}


def test_encoder_stages_and_a_splitter_over_the_first_stages():
    model = build_unet("resnet18", in_channels=3)
    assert encoder_stage("layers.0.0.weight") == encoder_stage("layers.0.1.bias") == 0  # stem
    assert [encoder_stage(f"layers.0.{child}.0.conv1.weight") for child in (4, 5, 6, 7)] \
        == [1, 2, 3, 4]
    with pytest.raises(ModelError, match="layers.3.0.0.weight"):
        encoder_stage("layers.3.0.0.weight")
    body = encoder(model)
    enc, rest = split_encoder_head(model, stages=2)
    # conv1 + bn1 + layer1 + layer2 of the body: its children 0-5
    expected = [p for child in list(body.children())[:6] for p in child.parameters()]
    assert [id(p) for p in enc] == [id(p) for p in expected]
    assert len(enc) + len(rest) == len(list(model.parameters()))
    assert {id(p) for p in split_encoder_head(model, stages=4)[0]} == {id(p) for p in body.parameters()}


def test_local_torchvision_weights_are_used_never_downloaded(tmp_path):
    torch.manual_seed(1)
    resnet = torchvision.models.resnet18(weights=None)
    path = tmp_path / "resnet18.pth"
    torch.save(resnet.state_dict(), path)
    rgb = build_unet("resnet18", in_channels=3, weights_path=path).state_dict()
    gray = build_unet("resnet18", in_channels=1, weights_path=path).state_dict()
    conv1 = resnet.state_dict()["conv1.weight"]
    assert torch.equal(rgb[FIRST_CONV_KEY], conv1)
    assert torch.allclose(gray[FIRST_CONV_KEY], conv1.sum(dim=1, keepdim=True))
    assert torch.equal(rgb["layers.0.4.0.conv1.weight"], resnet.state_dict()["layer1.0.conv1.weight"])


def test_random_init_differs_between_seeds():
    torch.manual_seed(0)
    a = build_unet("resnet18", in_channels=1).state_dict()[FIRST_CONV_KEY]
    torch.manual_seed(1)
    b = build_unet("resnet18", in_channels=1).state_dict()[FIRST_CONV_KEY]
    assert not torch.equal(a, b)


def test_wrong_weights_and_bad_arguments_raise(tmp_path):
    path = tmp_path / "resnet34.pth"
    torch.save(torchvision.models.resnet34(weights=None).state_dict(), path)
    with pytest.raises(ModelError, match="not a torchvision resnet18"):
        build_unet("resnet18", in_channels=3, weights_path=path)
    with pytest.raises(ConfigError, match="arch"):
        build_unet("vgg16")
    with pytest.raises(ConfigError, match="in_channels"):
        build_unet("resnet18", in_channels=2)
