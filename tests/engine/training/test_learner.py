"""EQLearner's CPU bfloat16 path: the forward pass in bfloat16, everything else float32."""

import pytest
import torch
from fastai.callback.core import Callback
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader

from eq_engine.errors import ConfigError
from eq_engine.models.unet import build_unet
from eq_engine.training.learner import build_learner


class Spy(Callback):
    """Records the prediction's dtype and whether autocast is on, at its ``order``."""

    def __init__(self, order: int) -> None:
        self.order, self.seen = order, []

    def after_pred(self) -> None:
        self.seen.append((self.pred.dtype, torch.is_autocast_enabled("cpu")))


class Boom(Callback):
    order = 20

    def after_pred(self) -> None:
        raise RuntimeError("boom")


def _learner(callbacks, mixed_precision="cpu"):
    torch.manual_seed(0)
    items = [(torch.rand(3, 64, 64), (torch.rand(64, 64) > 0.5).long()) for _ in range(4)]
    dls = DataLoaders(DataLoader(items, bs=2), DataLoader(items, bs=2))
    return build_learner(dls, build_unet("resnet18"), loss="ce_dice", lr=1e-3,
                         weight_decay=0.01, callbacks=callbacks,
                         mixed_precision=mixed_precision, on_event=None, stage="test")


def test_cpu_bfloat16_runs_the_forward_pass_in_bfloat16_and_the_rest_in_float32():
    early, late = Spy(order=5), Spy(order=20)
    learn = _learner([early, late])
    learn.fit(1)
    assert set(early.seen) == {(torch.bfloat16, True)}  # the network's output, under autocast
    assert set(late.seen) == {(torch.float32, True)}  # loss and metrics get float32
    assert len(early.seen) == 4  # 2 training + 2 validation batches
    assert not torch.is_autocast_enabled("cpu")
    assert {p.dtype for p in learn.model.parameters()} == {torch.float32}


def test_an_error_mid_batch_does_not_leave_the_thread_in_bfloat16():
    learn = _learner([Boom()])
    with pytest.raises(RuntimeError, match="boom"):
        learn.fit(1)
    assert not torch.is_autocast_enabled("cpu")


def test_float32_when_mixed_precision_is_off():
    spy = Spy(order=20)
    _learner([spy], mixed_precision=None).fit(1)
    assert set(spy.seen) == {(torch.float32, False)}


def test_unknown_mixed_precision_is_named():
    with pytest.raises(ConfigError, match="'tpu'"):
        _learner([], mixed_precision="tpu")
