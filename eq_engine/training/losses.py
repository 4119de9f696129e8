"""Segmentation losses over 2-class logits (B,2,H,W) and targets (B,H,W) in {0, 1, IGNORE}.

Pixels labelled IGNORE (padding, pixels another validation tile owns, pixels an augmentation
moved in from outside the crop) never contribute. Region losses (Dice, Tversky) pool over the
whole batch, which keeps them stable on crops without foreground.

- ``ce``: cross-entropy;
- ``dice``: 1 - soft Dice of the foreground probability;
- ``ce_dice``: their sum (default; CE for calibrated pixels, Dice against class imbalance);
- ``focal``: focal loss, gamma 2, down-weights easy pixels;
- ``tversky``: 1 - Tversky index, alpha 0.3 (false positives) / beta 0.7 (false negatives),
  favouring recall of small structures.
"""

from __future__ import annotations

from collections.abc import Callable

from ..data.crops import IGNORE
from ..errors import ConfigError

SMOOTH = 1.0
FOCAL_GAMMA = 2.0
TVERSKY_ALPHA, TVERSKY_BETA = 0.3, 0.7


def _plain(pred):
    import torch

    return pred.as_subclass(torch.Tensor) if type(pred) is not torch.Tensor else pred


def _valid_fg(pred, target):
    """Foreground probability and 0/1 truth at non-ignored pixels (1-D), float32."""
    import torch

    valid = target != IGNORE
    prob = torch.softmax(_plain(pred).float(), dim=1)[:, 1]
    return prob[valid], (target[valid] == 1).float()


def ce_loss(pred, target):
    import torch.nn.functional as F

    pred = _plain(pred).float()
    if not bool((target != IGNORE).any()):
        return pred.sum() * 0.0
    return F.cross_entropy(pred, target, ignore_index=IGNORE)


def dice_loss(pred, target):
    prob, truth = _valid_fg(pred, target)
    inter = (prob * truth).sum()
    return 1 - (2 * inter + SMOOTH) / (prob.sum() + truth.sum() + SMOOTH)


def ce_dice_loss(pred, target):
    return ce_loss(pred, target) + dice_loss(pred, target)


def focal_loss(pred, target):
    import torch
    import torch.nn.functional as F

    pred = _plain(pred).float()
    valid = target != IGNORE
    if not bool(valid.any()):
        return pred.sum() * 0.0
    logp = F.log_softmax(pred, dim=1)
    safe = torch.where(valid, target, 0)
    logpt = logp.gather(1, safe.unsqueeze(1)).squeeze(1)[valid]
    return (-((1 - logpt.exp()) ** FOCAL_GAMMA) * logpt).mean()


def tversky_loss(pred, target):
    prob, truth = _valid_fg(pred, target)
    tp = (prob * truth).sum()
    fp = (prob * (1 - truth)).sum()
    fn = ((1 - prob) * truth).sum()
    return 1 - (tp + SMOOTH) / (tp + TVERSKY_ALPHA * fp + TVERSKY_BETA * fn + SMOOTH)


LOSSES: dict[str, Callable] = {
    "ce": ce_loss,
    "dice": dice_loss,
    "ce_dice": ce_dice_loss,
    "focal": focal_loss,
    "tversky": tversky_loss,
}


def get_loss(name: str) -> Callable:
    """The loss function called ``name`` (one of :data:`LOSSES`)."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ConfigError(f"loss={name!r} is not one of {tuple(LOSSES)}") from None
