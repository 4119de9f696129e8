"""EM-like synthetic stacks: mitochondria among membranes that a plain threshold cannot separate.

A slice shows textured cytoplasm split into cells by dark curvy membranes, with ER-like dark
squiggles, small vesicles (dark rings) and dark blobs that are not mitochondria. Mitochondria are
elongated, slightly bent bodies with a dark double membrane and cristae (dark stripes across the
short axis); their matrix intensity overlaps the cytoplasm's. Mitochondria, cells and vesicles
drift slightly from slice to slice so the stack is consistent along Z. Sizes are in pixels (EM is
used at full resolution); object counts scale with the slice area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from eq_engine.errors import ConfigError

__all__ = ["make_em_stack"]

_CYTO = 150.0  # mean cytoplasm grey level
_VESICLES_PER_PX = 24 / 256**2
_BLOBS_PER_PX = 12 / 256**2
_CELLS_PER_PX = 15 / 256**2


@dataclass(frozen=True)
class _Mito:
    y: float
    x: float
    vy: float  # drift per slice
    vx: float
    angle: float
    spin: float  # angle change per slice
    a: float  # half-length
    b: float  # half-width
    bend: float
    period: float  # cristae spacing
    phase: float
    matrix: float  # matrix grey-level offset from the cytoplasm
    z0: float  # slice where it is widest
    zr: float  # half-extent along Z, in slices


def _check(n_slices: int, size: int) -> None:
    if int(n_slices) < 1:
        raise ConfigError(f"n_slices={n_slices!r} must be >= 1")
    if int(size) < 32:
        raise ConfigError(f"size={size!r} is too small for EM-like objects; "
                          "use >= 32 (256 typical)")


def _smooth_noise(rng, shape, sigma, *, amplitude=1.0) -> np.ndarray:
    """Gaussian-filtered white noise rescaled to unit standard deviation times ``amplitude``."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma,
                                    mode="wrap")
    field -= field.mean()
    return field * (amplitude / (field.std() + 1e-3))


def _ellipse_local(m: _Mito, z: int):
    """Boolean mito body in a local window, and the window's (y0, x0) and local (u, v) coords."""
    t = 1.0 - ((z - m.z0) / m.zr) ** 2
    if t <= 0.05:
        return None
    scale = np.sqrt(t)
    a, b = m.a * (0.6 + 0.4 * scale), m.b * (0.75 + 0.25 * scale)
    cy, cx, ang = m.y + m.vy * z, m.x + m.vx * z, m.angle + m.spin * z
    half = int(np.ceil(a + abs(m.bend) * a + 5))
    y0, x0 = int(round(cy)) - half, int(round(cx)) - half
    yy, xx = np.mgrid[y0:y0 + 2 * half + 1, x0:x0 + 2 * half + 1].astype(np.float32)
    dy, dx = yy - cy, xx - cx
    u = dx * np.cos(ang) + dy * np.sin(ang)
    v = -dx * np.sin(ang) + dy * np.cos(ang) - m.bend * u**2 / a
    theta = np.arctan2(v / b, u / a)
    r = np.sqrt((u / a) ** 2 + (v / b) ** 2) * (1 + 0.05 * np.sin(3 * theta + m.phase))
    return r <= 1.0, (y0, x0), u, v


def _paste(dest: np.ndarray, patch: np.ndarray, origin, *, op) -> None:
    """Combine ``patch`` into ``dest`` at ``origin`` with ``op`` (clipped at the edges)."""
    y0, x0 = origin
    h, w = patch.shape
    ys, xs = max(y0, 0), max(x0, 0)
    ye, xe = min(y0 + h, dest.shape[0]), min(x0 + w, dest.shape[1])
    if ys >= ye or xs >= xe:
        return
    sub = patch[ys - y0:ye - y0, xs - x0:xe - x0]
    dest[ys:ye, xs:xe] = op(dest[ys:ye, xs:xe], sub)


def _draw_mitos(rng, n_slices: int, size: int) -> list[_Mito]:
    """Non-overlapping mitochondria (4 px gap on every slice) up to a drawn area fraction."""
    target = rng.uniform(0.06, 0.10) * n_slices * size * size
    occupied = np.zeros((n_slices, size, size), dtype=bool)
    mitos: list[_Mito] = []
    covered = 0
    for _ in range(400):
        if covered >= target:
            break
        m = _random_mito(rng, n_slices, size)
        bodies = [(z, b) for z in range(n_slices) if (b := _ellipse_local(m, z)) is not None]
        if not bodies:
            continue
        area = sum(_visible_area(b[0], b[1], size) for _, b in bodies)
        if mitos and covered + area > 0.14 * n_slices * size * size:
            continue  # small fields: stay within a realistic fraction
        grown = [(z, ndimage.binary_dilation(b[0], iterations=4), b[1]) for z, b in bodies]
        if any(_overlaps(occupied[z], g, o) for z, g, o in grown):
            continue
        for z, g, o in grown:
            _paste(occupied[z], g, o, op=np.logical_or)
        covered += area
        mitos.append(m)
    return mitos


def _random_mito(rng, n_slices: int, size: int) -> _Mito:
    a = rng.uniform(11, 30)
    long_z = rng.random() < 0.75
    return _Mito(
        y=rng.uniform(0, size), x=rng.uniform(0, size), vy=rng.normal(0, 0.8),
        vx=rng.normal(0, 0.8), angle=rng.uniform(0, np.pi), spin=rng.normal(0, 0.03),
        a=a, b=rng.uniform(6.0, min(11.0, 0.7 * a)), bend=rng.normal(0, 0.12),
        period=rng.uniform(4.5, 7.0), phase=rng.uniform(0, 2 * np.pi),
        matrix=rng.uniform(-14, 12), z0=rng.uniform(-1, n_slices),
        zr=rng.uniform(n_slices + 2, 3 * n_slices + 4) if long_z else rng.uniform(2.5, 5),
    )


def _visible_area(body: np.ndarray, origin, size: int) -> int:
    probe = np.zeros((size, size), bool)
    _paste(probe, body, origin, op=np.logical_or)
    return int(probe.sum())


def _overlaps(plane: np.ndarray, patch: np.ndarray, origin) -> bool:
    probe = np.zeros_like(plane)
    _paste(probe, patch, origin, op=np.logical_or)
    return bool((probe & plane).any())


def _render_mito(m: _Mito, z: int, crista_noise: np.ndarray):
    """(body mask, grey-level offset patch, origin) of one mitochondrion on slice ``z``."""
    local = _ellipse_local(m, z)
    if local is None:
        return None
    body, origin, u, v = local
    d = ndimage.distance_transform_edt(np.pad(body, 1))[1:-1, 1:-1]
    membrane = np.exp(-((d - 1.0) ** 2) / 0.6) + 0.8 * np.exp(-((d - 2.9) ** 2) / 0.6)
    stripes = np.cos(2 * np.pi * (u + 1.2 * np.sin(0.35 * v + m.phase)) / m.period + m.phase)
    h, w = body.shape
    ny, nx = crista_noise.shape
    gaps = crista_noise[(np.arange(h)[:, None] + origin[0]) % ny,
                        (np.arange(w)[None, :] + origin[1]) % nx]
    cristae = np.clip((stripes - 0.45) / 0.55, 0, 1) * (d > 3.8) * (gaps > -0.4)
    offset = m.matrix - 85.0 * np.clip(membrane, 0, 1) - 55.0 * cristae
    return body, np.where(body, offset, 0.0).astype(np.float32), origin


def _cell_membranes(rng, n_slices: int, size: int):
    """(darkness in [0, 1], per-pixel cell brightness offset), both (Z, Y, X)."""
    from scipy.spatial import cKDTree

    n_cells = max(2, rng.poisson(_CELLS_PER_PX * size * size))
    seeds = rng.uniform(0, size, (n_cells, 2))
    drift = rng.normal(0, 0.7, (n_cells, 2))
    brightness = rng.normal(0, 10, n_cells).astype(np.float32)
    warp = [_smooth_noise(rng, (n_slices, size, size), (2, 14, 14), amplitude=7) for _ in "yx"]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dark = np.empty((n_slices, size, size), np.float32)
    offset = np.empty_like(dark)
    for z in range(n_slices):
        pts = np.stack([(yy + warp[0][z]).ravel(), (xx + warp[1][z]).ravel()], axis=1)
        _, nearest = cKDTree(seeds + drift * z).query(pts)
        cell = nearest.reshape(size, size)
        edge = np.zeros((size, size), bool)
        edge[:-1] |= cell[:-1] != cell[1:]
        edge[:, :-1] |= cell[:, :-1] != cell[:, 1:]
        d = ndimage.distance_transform_edt(~edge)
        dark[z] = np.exp(-(d**2) / (2 * 1.1**2))
        offset[z] = brightness[cell]
    return dark, offset


def _er_lines(rng, n_slices: int, size: int) -> np.ndarray:
    """Fragments of thin dark squiggles (ER-like): the zero set of a smooth random field."""
    f = _smooth_noise(rng, (n_slices, size, size), (1.2, 4.5, 4.5))
    gy, gx = np.gradient(f, axis=(1, 2))
    dist = np.abs(f) / (np.hypot(gy, gx) + 1e-3)
    keep = _smooth_noise(rng, (n_slices, size, size), (2, 16, 16)) > 0.5
    return (np.exp(-(dist**2) / (2 * 0.7**2)) * keep).astype(np.float32)


def _round_objects(rng, n_slices: int, size: int, free: np.ndarray):
    """Grey-level offsets (Z, Y, X) of vesicles (dark rings) and dark blobs away from mitos."""
    out = np.zeros((n_slices, size, size), np.float32)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    n_ves = rng.poisson(_VESICLES_PER_PX * size * size)
    n_blob = rng.poisson(_BLOBS_PER_PX * size * size)
    for i in range(n_ves + n_blob):
        y, x = rng.uniform(0, size, 2)
        vesicle = i < n_ves
        r = rng.uniform(3, 7) if vesicle else rng.uniform(3, 9)
        if free[int(y), int(x)] < r + 3:
            continue
        stretch = 1.0 if vesicle else rng.uniform(1.0, 2.2)
        ang, vy, vx = rng.uniform(0, np.pi), *rng.normal(0, 0.6, 2)
        level = rng.uniform(-100, -65)
        for z in range(n_slices):
            dy, dx = yy - (y + vy * z), xx - (x + vx * z)
            u = (dx * np.cos(ang) + dy * np.sin(ang)) / stretch
            v = -dx * np.sin(ang) + dy * np.cos(ang)
            dist = np.hypot(u, v)
            if vesicle:
                out[z] += 75 * np.exp(-((dist - r) ** 2) / (2 * 0.7**2)) * -1
                out[z] += 10 * (dist < r - 1)
            else:
                out[z] += level / (1 + np.exp((dist - r) / 0.8))
    return out


def _mito_layer(mitos: list[_Mito], rng, n_slices: int, size: int):
    """Mitochondrion mask and grey-level offsets (Z, Y, X)."""
    mask = np.zeros((n_slices, size, size), bool)
    offset = np.zeros((n_slices, size, size), np.float32)
    crista_noise = _smooth_noise(rng, (size, size), 3.0)
    for m in mitos:
        for z in range(n_slices):
            rendered = _render_mito(m, z, crista_noise)
            if rendered is None:
                continue
            body, patch, origin = rendered
            _paste(mask[z], body, origin, op=np.logical_or)
            _paste(offset[z], patch, origin, op=np.add)
    return mask, offset


def make_em_stack(n_slices: int = 4, size: int = 256, *, seed: int = 0):
    """EM-like grey stack and its mitochondria mask.

    Returns ``(image, mask)``: ``image`` uint8 (Z, Y, X), ``mask`` bool (Z, Y, X). Deterministic
    for a given ``seed``. Mitochondria cover roughly 4-15% of the pixels, and no global intensity
    threshold (either polarity) reaches Dice 0.6 against the mask.
    """
    _check(n_slices, size)
    rng = np.random.default_rng(seed)
    shape = (n_slices, size, size)
    mitos = _draw_mitos(rng, n_slices, size)
    mask, mito_offset = _mito_layer(mitos, rng, n_slices, size)
    free = ndimage.distance_transform_edt(~mask.any(axis=0))
    texture = (_smooth_noise(rng, shape, (0.8, 1.2, 1.2), amplitude=9)
               + _smooth_noise(rng, shape, (1.0, 4.0, 4.0), amplitude=6))
    light = _smooth_noise(rng, (1, size, size), (0, size / 5, size / 5), amplitude=8)
    membranes, cell_offset = _cell_membranes(rng, n_slices, size)
    near_mito = ndimage.binary_dilation(mask, np.ones((1, 5, 5), bool))
    membranes[near_mito] = 0.0
    clutter = -60 * _er_lines(rng, n_slices, size)
    clutter[near_mito] = 0.0
    clutter += _round_objects(rng, n_slices, size, free)
    cyto = _CYTO + light + cell_offset + texture
    image = np.where(mask, _CYTO + light + 0.7 * texture + mito_offset,
                     cyto - 100 * membranes + clutter)
    image = ndimage.gaussian_filter(image, (0, 0.7, 0.7))
    image += rng.normal(0, 7, shape).astype(np.float32)
    return np.clip(image, 0, 255).round().astype(np.uint8), mask
