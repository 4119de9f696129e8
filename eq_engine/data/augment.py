"""Microscopy augmentation, applied to whole training batches on the training device.

Per sample: horizontal/vertical flips and 90-degree rotations (microscopy has no "up"); with
probability ``p_affine`` an affine (rotation within +-15 degrees, zoom 0.8-1.25: scale jitter
around the model's scale); brightness and contrast jitter; for RGB a mild per-channel stain
jitter. Images are already normalised (zero mean, unit std), so intensity jitter is in std
units. Given the normalisation (``norm``), the photometric augmentation of
:mod:`eq_engine.data.augment_photometric` (HED stain jitter, gamma, blur, noise) runs in the
percentile-scaled space first. Mask pixels that the affine moves in from outside the crop
become IGNORE.

Random numbers come from a seeded CPU ``torch.Generator`` so CPU runs are reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .crops import IGNORE


@dataclass(frozen=True)
class AugmentSettings:
    p_affine: float = 0.6
    max_rotation: float = 15.0  # degrees
    zoom: tuple = (0.8, 1.25)  # training sets it from TrainConfig.scale_jitter
    contrast: tuple = (0.8, 1.2)
    brightness: float = 0.2  # +- std units
    stain: float = 0.05  # +- per-channel scale and shift for RGB
    hed: float = 0.05  # +- scale and shift of each stain's optical density (RGB)
    gamma: float = 0.3  # gamma = exp(U(-0.3, 0.3))
    blur_p: float = 0.2
    blur_sigma: float = 1.2  # px
    noise_p: float = 0.2
    noise: float = 0.05  # std, in percentile-scaled units (1 = the 1st..99.8th percentile range)


def _uniform(gen, n: int, low: float, high: float, shape=()):
    import torch

    return torch.rand((n, *shape), generator=gen) * (high - low) + low


def flip_rotate(images, masks, gen):
    """Random flips and 90-degree rotations per sample (square crops)."""
    import torch

    n = images.shape[0]
    k = torch.randint(0, 4, (n,), generator=gen).tolist()
    flip = (torch.rand(n, generator=gen) < 0.5).tolist()
    out_i, out_m = [], []
    for i in range(n):
        x, y = images[i], masks[i]
        if flip[i]:
            x, y = x.flip(-1), y.flip(-1)
        out_i.append(torch.rot90(x, k[i], (-2, -1)))
        out_m.append(torch.rot90(y, k[i], (-2, -1)))
    return torch.stack(out_i), torch.stack(out_m)


def mild_affine(images, masks, gen, settings: AugmentSettings):
    """Rotation and zoom for a random subset of samples (bilinear image, nearest mask)."""
    import torch
    import torch.nn.functional as F

    n = images.shape[0]
    angle = _uniform(gen, n, -settings.max_rotation, settings.max_rotation) * math.pi / 180
    zoom = _uniform(gen, n, *settings.zoom)
    apply = torch.rand(n, generator=gen) < settings.p_affine
    angle, zoom = torch.where(apply, angle, 0.0), torch.where(apply, zoom, 1.0)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, torch.zeros(n)], 1),
                         torch.stack([sin, cos, torch.zeros(n)], 1)], 1)
    theta = theta.to(images.device, images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    images = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    shifted = (masks.to(images.dtype) + 1).unsqueeze(1)  # 0 after sampling = outside the crop
    sampled = F.grid_sample(shifted, grid, mode="nearest", padding_mode="zeros",
                            align_corners=False).squeeze(1).round().long()
    masks = torch.where(sampled == 0, IGNORE, sampled - 1).to(masks.dtype)
    return images, masks


def intensity_jitter(images, gen, settings: AugmentSettings):
    """Contrast and brightness per sample; per-channel stain jitter when RGB."""
    n, c = images.shape[:2]
    contrast = _uniform(gen, n, *settings.contrast, (1, 1, 1))
    bright = _uniform(gen, n, -settings.brightness, settings.brightness, (1, 1, 1))
    if c == 3:
        contrast = contrast * _uniform(gen, n, 1 - settings.stain, 1 + settings.stain, (3, 1, 1))
        bright = bright + _uniform(gen, n, -settings.stain, settings.stain, (3, 1, 1))
    dev = images.device
    return images * contrast.to(dev, images.dtype) + bright.to(dev, images.dtype)


def photometric(images, gen, settings: AugmentSettings, norm: dict):
    """Stain, gamma, blur and noise in percentile-scaled space (undo, augment, redo step 2)."""
    import torch

    from . import augment_photometric as ph

    mean = torch.tensor(norm["mean"], dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
    std = torch.tensor(norm["std"], dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
    x = images * std + mean
    x = ph.hed_jitter(x, gen, settings.hed)
    x = ph.gamma(x, gen, settings.gamma)
    x = ph.blur(x, gen, settings.blur_p, settings.blur_sigma)
    x = ph.noise(x, gen, settings.noise_p, settings.noise)
    return (x - mean) / std


def augment_batch(images, masks, *, generator, settings: AugmentSettings = AugmentSettings(),
                  norm: dict | None = None):
    """Augment a training batch: images (B,C,S,S) float, masks (B,S,S) int. New tensors."""
    images, masks = flip_rotate(images, masks, generator)
    if settings.p_affine > 0:
        images, masks = mild_affine(images, masks, generator, settings)
    if norm is not None:
        images = photometric(images, generator, settings, norm)
    return intensity_jitter(images, generator, settings), masks


def make_batch_augmenter(seed: int, settings: AugmentSettings = AugmentSettings(),
                         norm: dict | None = None):
    """A ``batch -> batch`` function for a DataLoader's ``after_batch`` with its own generator."""
    import torch

    gen = torch.Generator().manual_seed(int(seed))

    def after_batch(batch):
        images, masks = batch
        return augment_batch(images, masks, generator=gen, settings=settings, norm=norm)

    return after_batch
