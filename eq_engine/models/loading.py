"""Runnable models: an EQ model file rebuilt as a U-Net on a device and wrapped as a predictor.

This sits above both the file format (:mod:`eq_engine.io.models`) and the U-Net builder
(:mod:`eq_engine.models.unet`), so neither of those imports the other's layer.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..errors import ModelError
from ..io.model_info import ModelInfo


@dataclass
class LoadedModel:
    """A model ready to predict: ``predictor(batch)`` maps a normalised float32 batch (B,C,h,w)
    to float32 foreground probabilities (B,h,w). ``module`` is the torch module (eval mode), or
    None for a plain predictor function; ``metadata`` the file's metadata, ``info`` its typed view.
    """

    module: Any
    metadata: dict
    predictor: Callable
    device: str = "cpu"

    @cached_property
    def info(self) -> ModelInfo:
        return ModelInfo.from_metadata(self.metadata)


def load_model(path: str | os.PathLike, *, device: str = "auto",
               mixed_precision: bool = True) -> LoadedModel:
    """Load an EQ model file into a U-Net on ``device`` and wrap it as a predictor.

    The architecture is rebuilt from the metadata (never from the file name) and the weights
    must match it exactly; on CUDA the predictor runs under autocast (float16) unless
    ``mixed_precision`` is False.
    """
    import torch

    from ..device import memory_format, pick_device
    from ..io.models import load_weights
    from .unet import build_unet

    state, meta = load_weights(path)
    info = ModelInfo.from_metadata(meta)
    model = build_unet(info.arch, in_channels=info.in_channels, n_classes=info.n_classes)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"{path}: weights do not match a {info.arch} U-Net with "
                         f"{info.in_channels} input channels ({exc})") from exc
    dev = pick_device(device)
    model = model.to(torch.device(dev.name), memory_format=memory_format(dev.name)).eval()
    return LoadedModel(model, meta, make_predictor(model, device=dev.name,
                                                   mixed_precision=mixed_precision
                                                   and dev.mixed_precision),
                       device=dev.name)


def make_predictor(model: Any, *, device: str = "cpu", mixed_precision: bool = False) -> Callable:
    """Wrap a 2-class segmentation module as ``predictor(batch (B,C,h,w)) -> probs (B,h,w)``."""
    import numpy as np
    import torch

    from ..device import autocast, memory_format

    layout = memory_format(device)

    def predictor(batch):
        x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(device)
        x = x.contiguous(memory_format=layout)
        with torch.inference_mode(), autocast(device, enabled=mixed_precision):
            logits = model(x)
        logits = logits.as_subclass(torch.Tensor).float()
        return torch.softmax(logits, dim=1)[:, 1].cpu().numpy().astype(np.float32, copy=False)

    return predictor
