"""Photometric augmentation: identities at zero strength, stain jitter only for RGB, seeded."""

import torch

from eq_engine.data import augment_photometric as ph
from eq_engine.data.augment import AugmentSettings, augment_batch


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_zero_strength_is_the_identity():
    x = torch.rand(3, 3, 16, 16, generator=_gen(1))
    assert torch.equal(ph.hed_jitter(x, _gen(), 0.0), x)
    assert torch.equal(ph.gamma(x, _gen(), 0.0), x)
    assert torch.equal(ph.blur(x, _gen(), 0.0, 1.0), x)
    assert torch.equal(ph.noise(x, _gen(), 0.0, 0.1), x)


def test_hed_round_trip_without_jitter_gives_back_the_image():
    # the OD -> HED -> OD path with alpha=1, beta=0 must be lossless inside (0, 1]
    x = torch.rand(2, 3, 8, 8, generator=_gen(1)) * 0.9 + 0.05
    rgb_from_hed = torch.tensor(ph.RGB_FROM_HED)
    od = -torch.log(x)
    hed = torch.einsum("bchw,cd->bdhw", od, torch.linalg.inv(rgb_from_hed))
    back = torch.exp(-torch.einsum("bdhw,dc->bchw", hed, rgb_from_hed))
    assert torch.allclose(back, x, atol=1e-5)


def test_hed_jitter_changes_rgb_but_not_gray():
    x = torch.rand(4, 3, 8, 8, generator=_gen(1)) * 0.9 + 0.05
    out = ph.hed_jitter(x, _gen(), 0.1)
    assert out.shape == x.shape and not torch.allclose(out, x)
    assert float((out - x).abs().max()) < 0.5  # a jitter, not a new image
    gray = torch.rand(2, 1, 8, 8, generator=_gen(1))
    assert torch.equal(ph.hed_jitter(gray, _gen(), 0.1), gray)


def test_blur_keeps_a_flat_image_flat_and_smooths_an_edge():
    flat = torch.full((1, 1, 16, 16), 0.4)
    assert torch.allclose(ph.blur(flat, _gen(), 1.0, 1.5), flat, atol=1e-6)
    edge = torch.zeros(1, 1, 16, 16)
    edge[..., 8:] = 1.0
    out = ph.blur(edge, _gen(), 1.0, 1.5)
    assert 0 < float(out[0, 0, 5, 7]) < 1


def test_photometric_augmentation_is_seeded():
    norm = {"mean": [0.4, 0.3, 0.5], "std": [0.2, 0.2, 0.25]}
    images = torch.randn(4, 3, 16, 16, generator=_gen(1))
    masks = torch.zeros(4, 16, 16, dtype=torch.int64)
    a, _ = augment_batch(images, masks, generator=_gen(3), norm=norm)
    b, _ = augment_batch(images, masks, generator=_gen(3), norm=norm)
    c, _ = augment_batch(images, masks, generator=_gen(3), settings=AugmentSettings(), norm=None)
    assert torch.equal(a, b) and not torch.allclose(a, c)
