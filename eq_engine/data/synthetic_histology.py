"""Histology-like synthetic fields: H&E-style kidney cortex with graded glomeruli.

The field is packed with tubules (a ring of purple nuclei in pink epithelium around a pale lumen)
separated by thin interstitium, and holds round glomeruli. Each glomerulus, from outside in, has
a thin Bowman's capsule, a white Bowman's space of varying width (a crescent, as in sections) and
a lobulated tuft: dense pink-purple matrix with many nuclei and white capillary lumens. The open
lumen fraction of the tuft falls linearly with the endotheliosis grade (0 -> ~30 %, 3 -> ~2 %,
small per-glomerulus jitter); capillaries that closed are filled with pale swollen endothelium.
The glomerulus label covers capsule, Bowman's space and tuft, as real annotations do.

Colours come from a Beer-Lambert mix of a haematoxylin and an eosin optical density, so colour
deconvolution (``skimage.color.rgb2hed``) separates them roughly as in real H&E.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from eq_engine.errors import ConfigError

__all__ = ["GRADE_LEVELS", "HistologySample", "make_histology_field", "open_fraction_for_grade"]

GRADE_LEVELS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
_HEM = np.array([0.43, 0.53, 0.26], np.float32)  # OD of unit haematoxylin: purple-blue
_EOS = np.array([0.036, 0.23, 0.127], np.float32)  # OD of unit eosin: pink
_GLASS = np.array([0.01, 0.015, 0.012], np.float32)


@dataclass(frozen=True)
class HistologySample:
    """A synthetic field. ``labels``: glomerulus instances 1..n (0 background); ``grades``:
    label -> endotheliosis grade; ``tuft``: the tuft part of each glomerulus under the same label
    (ground truth for tuft finding); ``open_fraction``: label -> rendered open lumen fraction of
    the tuft; ``touches_border``: labels placed so that the field edge cuts them."""

    image: np.ndarray
    labels: np.ndarray
    grades: dict[int, float]
    tuft: np.ndarray | None = None
    open_fraction: dict[int, float] = field(default_factory=dict)
    touches_border: tuple[int, ...] = ()


def open_fraction_for_grade(grade: float) -> float:
    """Expected open lumen fraction of the tuft at ``grade`` (0 -> 0.30, 3 -> 0.02)."""
    return 0.02 + 0.28 * (1.0 - float(np.clip(grade, 0.0, 3.0)) / 3.0)


@dataclass(frozen=True)
class _Glom:
    y: float
    x: float
    radius: float
    grade: float
    border: bool


def _smooth_noise(rng, shape, sigma) -> np.ndarray:
    f = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma)
    f -= f.mean()
    return f / (f.std() + 1e-3)


def _check(size: int, n_glomeruli: int, grades, n_border: int) -> list[float] | None:
    if int(size) < 64:
        raise ConfigError(f"size={size!r} is too small for a histology field; "
                          "use >= 64 (512 typical)")
    if int(n_glomeruli) < 0:
        raise ConfigError(f"n_glomeruli={n_glomeruli!r} must be >= 0")
    if not 0 <= int(n_border) <= int(n_glomeruli):
        raise ConfigError(f"n_border={n_border!r} must be between 0 and n_glomeruli={n_glomeruli}")
    if grades is None:
        return None
    grades = [float(g) for g in grades]
    if len(grades) != n_glomeruli:
        raise ConfigError(f"grades has {len(grades)} values but n_glomeruli={n_glomeruli}; "
                          "give one grade per glomerulus")
    bad = [g for g in grades if not 0.0 <= g <= 3.0]
    if bad:
        raise ConfigError(f"grades {bad} are outside 0..3; endotheliosis grades run from 0 to 3")
    return grades


def _place_glomeruli(rng, size: int, grades: list[float], n_border: int) -> list[_Glom]:
    """Non-overlapping glomeruli: the first ones inside the field, the last ``n_border`` cut."""
    placed: list[_Glom] = []
    n = len(grades)
    for i, grade in enumerate(grades):
        border = i >= n - n_border
        for _ in range(500):
            r = size * rng.uniform(0.06, 0.115)
            if border:
                edge = rng.integers(4)
                along, depth = rng.uniform(r, size - r), rng.uniform(-0.35 * r, 0.5 * r)
                y, x = [(depth, along), (size - 1 - depth, along), (along, depth),
                        (along, size - 1 - depth)][edge]
            else:
                y, x = rng.uniform(r + 3, size - r - 3, 2)
            if all(np.hypot(y - g.y, x - g.x) > r + g.radius + 8 for g in placed):
                placed.append(_Glom(y, x, r, grade, border))
                break
        else:
            raise ConfigError(f"cannot fit {n} glomeruli without overlap in a {size}px field; "
                              "use a larger size or fewer glomeruli")
    return placed


def _glomerulus_parts(rng, g: _Glom, size: int):
    """Window slices and boolean (outer, capsule, tuft) masks of one glomerulus."""
    half = int(np.ceil(g.radius * 1.1)) + 2
    y0, x0 = int(g.y) - half, int(g.x) - half
    ys = slice(max(y0, 0), min(y0 + 2 * half, size))
    xs = slice(max(x0, 0), min(x0 + 2 * half, size))
    yy, xx = np.mgrid[ys, xs].astype(np.float32)
    rho, theta = np.hypot(yy - g.y, xx - g.x), np.arctan2(yy - g.y, xx - g.x)
    ph = rng.uniform(0, 2 * np.pi, 6)
    r_out = g.radius * (1 + 0.04 * np.sin(2 * theta + ph[0]) + 0.025 * np.sin(3 * theta + ph[1]))
    cap = max(1.5, 0.035 * g.radius)
    rim = g.radius * rng.uniform(0.05, 0.09) * (1 + 0.6 * np.cos(theta - ph[2]))
    r_tuft = (r_out - cap - np.maximum(rim, 2.5 * size / 512)) * (
        1 + 0.045 * np.sin(5 * theta + ph[3]) + 0.03 * np.sin(7 * theta + ph[4]) - 0.03)
    return (ys, xs), rho <= r_out, (rho <= r_out) & (rho > r_out - cap), rho <= r_tuft


def _random_points(rng, allowed: np.ndarray, spacing: float) -> np.ndarray:
    """Boolean map of roughly Poisson-disk points inside ``allowed`` (random-priority NMS)."""
    prio = rng.random(allowed.shape).astype(np.float32)
    prio[~allowed] = -1.0
    r = max(1, int(round(spacing / 2)))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    peak = ndimage.maximum_filter(prio, footprint=yy**2 + xx**2 <= r * r)
    return (prio == peak) & allowed


def _lumens(rng, g: _Glom, tuft: np.ndarray, scale: float):
    """(open lumens, closed capillaries filled by swollen endothelium, open fraction)."""
    target = float(np.clip(open_fraction_for_grade(g.grade) + rng.normal(0, 0.008), 0.004, 0.6))
    healthy = float(np.clip(open_fraction_for_grade(0.0) + rng.normal(0, 0.008), target, 0.6))
    allowed = ndimage.binary_erosion(tuft, iterations=max(1, int(round(2 * scale))))
    potential = _smooth_noise(rng, tuft.shape, max(1.0, 0.045 * g.radius))
    values = np.sort(potential[allowed])[::-1]
    area = int(tuft.sum())
    if values.size == 0 or area == 0:
        return np.zeros_like(tuft), np.zeros_like(tuft), 0.0
    n_open = min(int(round(target * area)), values.size - 1)
    n_healthy = min(int(round(healthy * area)), values.size - 1)
    open_ = allowed & (potential > values[n_open]) if n_open > 0 else np.zeros_like(tuft)
    closed = allowed & (potential > values[n_healthy]) & ~open_
    return open_, closed, float(open_.sum()) / area


def _tubules(rng, size: int, keep_out: np.ndarray, scale: float):
    """(epithelium mask, lumen mask, nucleus-centre candidates band) of packed tubules."""
    from scipy.spatial import cKDTree

    step = 2 * 27 * scale
    n = int(np.ceil(size / step)) + 1
    gy, gx = np.mgrid[0:n, 0:n].astype(np.float32) * step
    centres = np.stack([gy.ravel(), gx.ravel()], 1) + rng.uniform(-0.3, 0.3, (n * n, 2)) * step
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    warp = [6 * scale * _smooth_noise(rng, (size, size), 10 * scale) for _ in "yx"]
    pts = np.stack([(yy + warp[0]).ravel(), (xx + warp[1]).ravel()], 1)
    cell = cKDTree(centres).query(pts)[1].reshape(size, size).astype(np.int32) + 1
    cell[keep_out] = 0
    edge = np.zeros((size, size), bool)
    edge[:-1] |= cell[:-1] != cell[1:]
    edge[:, :-1] |= cell[:, :-1] != cell[:, 1:]
    edge |= cell == 0
    depth = ndimage.distance_transform_edt(~edge)
    depth_max = ndimage.maximum(depth, cell, np.arange(n * n + 1))
    rel = depth / np.maximum(np.asarray(depth_max)[cell], 1.0)
    gap = 1.5 * scale + 1.5 * (rng.random(n * n + 1)[cell] > 0.6)
    lumen_frac = rng.uniform(0.12, 0.32, n * n + 1)[cell]
    rel_noisy = rel + 0.06 * _smooth_noise(rng, (size, size), 2 * scale)
    body = (depth > gap) & (cell > 0)
    lumen = body & (rel_noisy > 1 - lumen_frac)
    band = (body & ~lumen & (rel_noisy < 1 - lumen_frac - 0.1) & (depth > gap + 2.5 * scale)
            & (depth < gap + 5 * scale))
    return body & ~lumen, lumen, band


def _draw_grades(rng, n: int) -> list[float]:
    return [float(g) for g in rng.choice(GRADE_LEVELS, size=n)]


def _glomeruli_layer(rng, gloms: list[_Glom], size: int, scale: float):
    """Label maps and stain-region masks of all glomeruli."""
    labels = np.zeros((size, size), np.int32)
    tuft = np.zeros((size, size), np.int32)
    parts = {k: np.zeros((size, size), bool) for k in ("capsule", "space", "open", "closed")}
    fractions: dict[int, float] = {}
    for i, g in enumerate(gloms, start=1):
        win, outer, capsule, tuft_g = _glomerulus_parts(rng, g, size)
        open_, closed, fractions[i] = _lumens(rng, g, tuft_g, scale)
        labels[win][outer] = i
        tuft[win][tuft_g] = i
        parts["capsule"][win] |= capsule
        parts["space"][win] |= outer & ~capsule & ~tuft_g
        parts["open"][win] |= open_
        parts["closed"][win] |= closed
    return labels, tuft, parts, fractions


def _nuclei(rng, centres: np.ndarray, scale: float, size: int):
    """(haematoxylin density map, nucleus mask) of round nuclei at ``centres``."""
    radius = np.where(centres, rng.uniform(2.2, 3.3, (size, size)) * scale, 0).astype(np.float32)
    dist, idx = ndimage.distance_transform_edt(~centres, return_indices=True)
    r = radius[idx[0], idx[1]]
    stretch = 1 + 0.25 * _smooth_noise(rng, (size, size), 3 * scale)
    inside = (dist * stretch.clip(0.7, 1.4)) <= r
    strength = rng.uniform(0.6, 0.95, (size, size)).astype(np.float32)[idx[0], idx[1]]
    chromatin = 1 + 0.2 * _smooth_noise(rng, (size, size), 0.8)
    return np.where(inside, strength * chromatin, 0.0).astype(np.float32), inside


def _stain_maps(rng, size: int, scale: float, tub, labels, tuft, parts):
    """Eosin and haematoxylin densities before nuclei and white spaces."""
    epi, tub_lumen, _ = tub
    eos = np.full((size, size), 0.22, np.float32)
    hem = np.full((size, size), 0.03, np.float32)
    eos[epi] = (0.62 + 0.12 * _smooth_noise(rng, (size, size), 25 * scale))[epi]
    eos[tub_lumen] = 0.10
    in_glom = labels > 0
    eos[in_glom], hem[in_glom] = 0.25, 0.03
    matrix = (tuft > 0) & ~parts["open"] & ~parts["closed"]
    eos[matrix], hem[matrix] = 0.78, 0.28
    eos[parts["closed"]], hem[parts["closed"]] = 0.68, 0.2
    eos[parts["capsule"]], hem[parts["capsule"]] = 0.7, 0.25
    eos *= 1 + 0.12 * _smooth_noise(rng, (size, size), 1.2)
    return eos, hem


def make_histology_field(size: int = 512, *, n_glomeruli: int = 4, grades=None, seed: int = 0,
                         n_border: int = 0) -> HistologySample:
    """H&E-like RGB field with glomeruli graded for endotheliosis.

    ``grades=None`` draws each glomerulus's grade from :data:`GRADE_LEVELS`; a sequence sets them
    in label order. Glomeruli (diameter 12-23 % of ``size``) never overlap and lie inside the
    field, except the last ``n_border`` of them, which the field edge cuts. Deterministic for a
    given ``seed``.
    """
    grades = _check(size, n_glomeruli, grades, n_border)
    rng = np.random.default_rng(seed)
    grades = grades if grades is not None else _draw_grades(rng, n_glomeruli)
    scale = size / 512
    gloms = _place_glomeruli(rng, size, grades, n_border)
    labels, tuft, parts, fractions = _glomeruli_layer(rng, gloms, size, scale)
    keep_out = ndimage.binary_dilation(labels > 0, iterations=max(2, int(4 * scale)))
    tub = _tubules(rng, size, keep_out, scale)
    eos, hem = _stain_maps(rng, size, scale, tub, labels, tuft, parts)
    tuft_free = (tuft > 0) & ~ndimage.binary_dilation(parts["open"], iterations=2)
    centres = (_random_points(rng, tub[2], 13 * scale)
               | _random_points(rng, tuft_free, 8 * scale)
               | (_random_points(rng, keep_out & ~(labels > 0), 14 * scale))
               | (_random_points(rng, ~keep_out & ~tub[0] & ~tub[1], 45 * scale)))
    nuc_h, nuc = _nuclei(rng, centres, scale, size)
    hem = np.where(nuc, nuc_h, hem)
    eos = np.where(nuc, np.maximum(eos, 0.3), eos)
    white = parts["open"] | parts["space"]
    eos[white], hem[white] = 0.03, 0.0
    od = hem[..., None] * _HEM + eos[..., None] * _EOS + _GLASS
    rgb = 255.0 * np.power(10.0, -ndimage.gaussian_filter(od, (0.8, 0.8, 0)))
    rgb += rng.normal(0, 3.0, rgb.shape)
    image = np.clip(rgb, 0, 255).round().astype(np.uint8)
    return HistologySample(
        image=image, labels=labels, grades={i: g.grade for i, g in enumerate(gloms, start=1)},
        tuft=tuft, open_fraction=fractions,
        touches_border=tuple(i for i, g in enumerate(gloms, start=1) if g.border))
