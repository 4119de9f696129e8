"""Build EQ's segmentation U-Net: a fastai ``DynamicUnet`` over a torchvision ResNet body.

Decisions (recorded in every model file's metadata):

- **Weights.** Random init by default. ImageNet weights are used only from a *local* torchvision
  state-dict file (``weights_path``), read with ``torch.load(weights_only=True)``; EQ never
  downloads at run time.
- **Channels.** A model has ``in_channels`` 1 (grayscale EM) or 3 (RGB histology). For 1-channel
  models built from 3-channel ImageNet weights the first convolution's kernels are summed over
  RGB (fastai's rule). Moving an encoder between 1 and 3 channels is handled in
  :mod:`eq_engine.training.transfer`.
- **Classes.** Two output classes, background and foreground (softmax over dim 1).
- **Size.** The network is built for any input that is a multiple of 32 pixels; its weights do
  not depend on the crop size, so it is traced at 64 px to build quickly.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import ConfigError, ModelError

ARCHS = ("resnet18", "resnet34", "resnet50")
ENCODER_PREFIX = "layers.0."  # DynamicUnet keeps the ResNet body as its first layer
FIRST_CONV_KEY = "layers.0.0.weight"  # the body's first convolution (ResNet conv1)
_BUILD_SIZE = 64


def build_unet(arch: str = "resnet34", *, in_channels: int = 3, n_classes: int = 2,
               weights_path: str | os.PathLike | None = None) -> Any:
    """A ``DynamicUnet`` over a torchvision ``arch`` body with ``in_channels`` inputs.

    ``weights_path`` is a local torchvision ResNet state dict (``.pth`` or safetensors) for the
    encoder; the classifier (``fc``) entries are ignored. Any other mismatch raises ModelError.
    """
    import torchvision
    from fastai.vision.learner import create_body
    from fastai.vision.models.unet import DynamicUnet

    if arch not in ARCHS:
        raise ConfigError(f"arch={arch!r} is not one of {ARCHS}")
    if in_channels not in (1, 3):
        raise ConfigError(f"in_channels={in_channels!r} must be 1 (grayscale) or 3 (RGB)")
    resnet = getattr(torchvision.models, arch)(weights=None)
    if weights_path is not None:
        _load_resnet_weights(resnet, weights_path, arch)
    body = create_body(resnet, n_in=in_channels, pretrained=weights_path is not None, cut=-2)
    return DynamicUnet(body, n_classes, (_BUILD_SIZE, _BUILD_SIZE))


def _load_resnet_weights(resnet: Any, weights_path: str | os.PathLike, arch: str) -> None:
    from ..io.models import read_state_dict

    state = {k: v for k, v in read_state_dict(weights_path).items() if not k.startswith("fc.")}
    own = {k: v for k, v in resnet.state_dict().items() if not k.startswith("fc.")}
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    wrong = sorted(k for k in own.keys() & state.keys() if own[k].shape != state[k].shape)
    if missing or extra or wrong:
        raise ModelError(
            f"{weights_path} is not a torchvision {arch} state dict: missing {missing[:3]}, "
            f"unexpected {extra[:3]}, shape mismatch {wrong[:3]} "
            f"({len(missing)}/{len(extra)}/{len(wrong)} in all); pass {arch} weights")
    resnet.load_state_dict(state, strict=False)


def encoder(model: Any) -> Any:
    """The ResNet body (encoder) of an EQ U-Net."""
    return model.layers[0]


def encoder_keys(state: dict) -> list[str]:
    """State-dict keys that belong to the encoder."""
    return [k for k in state if k.startswith(ENCODER_PREFIX)]


ENCODER_STAGES = 4  # ResNet's layer1..layer4 after its stem


def encoder_stage(key: str) -> int:
    """The ResNet stage an encoder key belongs to: 0 for the stem (conv1, bn1), 1-4 for
    layer1-layer4 (the body's children 4-7)."""
    if not key.startswith(ENCODER_PREFIX):
        raise ModelError(f"{key!r} is not an encoder tensor (they start with {ENCODER_PREFIX!r})")
    child = int(key[len(ENCODER_PREFIX):].split(".", 1)[0])
    return max(0, child - 3)


def split_encoder_head(model: Any, stages: int = ENCODER_STAGES) -> list:
    """fastai splitter: parameter groups ``[encoder, decoder + head]``.

    ``learn.freeze()`` then trains only the decoder/head (BatchNorm stays trainable), and
    ``slice(lr / 10, lr)`` gives the encoder the smaller learning rate. With ``stages`` < 4 only
    the stem and the first ``stages`` ResNet stages (what transfer copied) form the first group;
    the later stages learn with the decoder.
    """
    first = [p for name, p in model.named_parameters()
             if name.startswith(ENCODER_PREFIX) and encoder_stage(name) <= stages]
    ids = {id(p) for p in first}
    return [first, [p for p in model.parameters() if id(p) not in ids]]


def count_parameters(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))
