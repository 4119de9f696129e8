"""Photometric augmentation for another lab's microscope and stain (batch tensors, seeded).

These work in the percentile-scaled space of :mod:`eq_engine.data.normalize` (step 1: the 1st
and 99.8th percentiles of each image at 0 and 1), where "intensity" still means something:

- ``hed_jitter`` (RGB): optical density -> haematoxylin/eosin/DAB (Ruifrok & Johnston, the
  matrix scikit-image uses) -> per-sample scale and shift of each stain -> back to RGB. This
  imitates another lab's staining strength and hue, for H&E and PAS alike;
- ``gamma``: a per-sample gamma on the [0, 1] part of the range (EM and histology);
- ``blur`` and ``noise``: Gaussian blur and additive noise on a random subset of samples
  (focus and detector differences).

Every function takes and returns (B, C, H, W) float tensors and draws from ``gen`` (a CPU
``torch.Generator``), so seeded CPU runs stay reproducible.
"""

from __future__ import annotations

import math

# scikit-image's rgb_from_hed (Ruifrok & Johnston 2001): rows are the H, E and DAB RGB vectors
RGB_FROM_HED = ((0.65, 0.70, 0.29), (0.07, 0.99, 0.11), (0.27, 0.57, 0.78))
MIN_TRANSMISSION = 1e-3


def _uniform(gen, shape, low: float, high: float):
    import torch

    return torch.rand(shape, generator=gen) * (high - low) + low


def _chosen(gen, n: int, p: float):
    import torch

    return torch.rand(n, generator=gen) < p


def hed_jitter(x, gen, amount: float):
    """Scale and shift each stain's optical density by up to ``amount`` (RGB only)."""
    import torch

    if x.shape[1] != 3 or amount <= 0:
        return x
    n, dev, dt = x.shape[0], x.device, x.dtype
    rgb_from_hed = torch.tensor(RGB_FROM_HED, dtype=torch.float32)
    hed_from_rgb = torch.linalg.inv(rgb_from_hed)
    clamped = x.clamp(MIN_TRANSMISSION, 1.0)
    od = -torch.log(clamped)  # (B, 3, H, W)
    hed = torch.einsum("bchw,cd->bdhw", od, hed_from_rgb.to(dev, dt))
    alpha = _uniform(gen, (n, 3, 1, 1), 1 - amount, 1 + amount).to(dev, dt)
    beta = _uniform(gen, (n, 3, 1, 1), -amount, amount).to(dev, dt)
    od_new = torch.einsum("bdhw,dc->bchw", hed * alpha + beta, rgb_from_hed.to(dev, dt))
    return torch.exp(-od_new) + (x - clamped)  # keep what lay outside (0, 1]


def gamma(x, gen, log_range: float):
    """``x ** g`` on the [0, 1] part, ``g = exp(U(-log_range, log_range))`` per sample."""
    if log_range <= 0:
        return x
    n = x.shape[0]
    g = _uniform(gen, (n, 1, 1, 1), -log_range, log_range).exp().to(x.device, x.dtype)
    inside = x.clamp(0.0, 1.0)
    return inside ** g + (x - inside)


def blur(x, gen, p: float, max_sigma: float):
    """Gaussian blur (sigma U(0.3, max_sigma)) of a random share ``p`` of the samples."""
    import torch
    import torch.nn.functional as F

    chosen = _chosen(gen, x.shape[0], p)
    sigmas = _uniform(gen, (x.shape[0],), 0.3, max_sigma)
    if max_sigma <= 0 or not bool(chosen.any()):
        return x
    out = x.clone()
    c = x.shape[1]
    for i in torch.nonzero(chosen).flatten().tolist():
        sigma = float(sigmas[i])
        radius = max(1, math.ceil(2.5 * sigma))
        t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
        k = torch.exp(-(t ** 2) / (2 * sigma ** 2))
        k = k / k.sum()
        img = F.pad(x[i:i + 1], (radius, radius, radius, radius), mode="reflect")
        img = F.conv2d(img, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
        img = F.conv2d(img, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
        out[i] = img[0]
    return out


def noise(x, gen, p: float, max_std: float):
    """Additive Gaussian noise (std U(0, max_std)) on a random share ``p`` of the samples."""
    import torch

    if max_std <= 0 or p <= 0:
        return x
    n = x.shape[0]
    std = _uniform(gen, (n, 1, 1, 1), 0.0, max_std) * _chosen(gen, n, p).view(n, 1, 1, 1)
    z = torch.randn(tuple(x.shape), generator=gen)
    return x + (z * std).to(x.device, x.dtype)
