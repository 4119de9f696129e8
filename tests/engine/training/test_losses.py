"""Segmentation losses, checked against hand-computed values; IGNORE pixels never count."""

import math

import pytest
import torch

from eq_engine.data.crops import IGNORE
from eq_engine.errors import ConfigError
from eq_engine.training.losses import LOSSES, get_loss


def _logits(p_fg):
    """2-class logits whose softmax foreground probability is ``p_fg``."""
    p = torch.as_tensor(p_fg, dtype=torch.float32)
    return torch.stack([torch.zeros_like(p), torch.log(p / (1 - p))], dim=1)


P = torch.tensor([[[0.9, 0.2], [0.6, 0.3]]])  # (1, 2, 2)
T = torch.tensor([[[1, 0], [1, 1]]])


def test_cross_entropy_by_hand():
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.6) + math.log(0.3)) / 4
    assert get_loss("ce")(_logits(P), T).item() == pytest.approx(expected, rel=1e-5)


def test_dice_by_hand():
    inter, p_sum, t_sum = 0.9 + 0.6 + 0.3, 0.9 + 0.2 + 0.6 + 0.3, 3
    expected = 1 - (2 * inter + 1) / (p_sum + t_sum + 1)
    assert get_loss("dice")(_logits(P), T).item() == pytest.approx(expected, rel=1e-5)
    ce_dice = get_loss("ce")(_logits(P), T) + get_loss("dice")(_logits(P), T)
    assert get_loss("ce_dice")(_logits(P), T).item() == pytest.approx(ce_dice.item(), rel=1e-6)


def test_focal_and_tversky_by_hand():
    pt = [0.9, 0.8, 0.6, 0.3]
    focal = sum(-((1 - p) ** 2) * math.log(p) for p in pt) / 4
    assert get_loss("focal")(_logits(P), T).item() == pytest.approx(focal, rel=1e-5)
    tp, fp, fn = 0.9 + 0.6 + 0.3, 0.2, 0.1 + 0.4 + 0.7
    tversky = 1 - (tp + 1) / (tp + 0.3 * fp + 0.7 * fn + 1)
    assert get_loss("tversky")(_logits(P), T).item() == pytest.approx(tversky, rel=1e-5)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_ignored_pixels_do_not_count_and_gradients_flow(name):
    loss = get_loss(name)
    target = T.clone()
    target[0, 0, 1] = IGNORE
    a = _logits(P).requires_grad_(True)
    changed = _logits(P).detach().clone()
    changed[0, :, 0, 1] = torch.tensor([5.0, -5.0])  # only the ignored pixel differs
    value = loss(a, target)
    assert value.item() == pytest.approx(loss(changed, target).item(), rel=1e-6)
    value.backward()
    assert a.grad is not None and a.grad[0, :, 0, 1].abs().sum() == 0
    everything_ignored = torch.full_like(T, IGNORE)
    assert math.isfinite(loss(_logits(P), everything_ignored).item())


def test_good_predictions_score_lower_than_bad_ones():
    good, bad = _logits(torch.where(T == 1, 0.95, 0.05)), _logits(torch.where(T == 1, 0.05, 0.95))
    for name, loss in LOSSES.items():
        assert loss(good, T).item() < loss(bad, T).item(), name


def test_unknown_loss_is_a_config_error():
    with pytest.raises(ConfigError, match="not one of"):
        get_loss("hinge")
