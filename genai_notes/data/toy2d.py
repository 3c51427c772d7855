"""Two-dimensional toy distributions with exact densities: a ring of Gaussians, two moons, a spiral.

Chapter 12 trains a VAE, a GAN and a diffusion model on these. Because the true density is
known exactly, a model's samples can be judged against the truth, not only against other
samples.

All three are the same kind of object: an equal-weight mixture of ``K`` isotropic Gaussians
that share one standard deviation ``σ`` (``std``, in the same units as the points):

.. math::

    p(x) = \\frac{1}{K} \\sum_{k=1}^{K} \\mathcal{N}(x;\\, c_k, σ^2 I), \\qquad
    \\log p(x) = \\operatorname{logsumexp}_k \\Big(-\\frac{|x - c_k|^2}{2σ^2}\\Big)
                 - \\log K - \\log(2πσ^2).

They differ only in where the centres ``c_k`` sit:

* :class:`GaussianRing`: ``n_modes`` centres evenly spaced on a circle; each one is a mode.
* :class:`TwoMoons`: centres evenly spaced along two interleaved half circles.
* :class:`Spiral`: centres evenly spaced *in arc length* along an Archimedean spiral.

For the two curves the spacing ``h`` between neighbouring centres is at most ``σ/2``, so each
is a curve blurred by noise. By Poisson summation, a row of Gaussians with spacing ``h`` along
a straight line has a density that is constant along the line up to a relative ripple of
``2 exp(-2π²σ²/h²)``, below ``1e-33`` at ``h = σ/2``: no model or figure can tell it from a
continuous curve. Defining the curves this way, rather than by a continuous arc parameter,
makes the density exact and closed-form, and makes the sampler draw from exactly that density
(pick ``k`` uniformly, add ``σ·N(0, I)``).

>>> ring = GaussianRing()
>>> ring.sample(3, seed=0).shape
(3, 2)
>>> float(np.round(ring.log_density(ring.mode_centres[:1])[0], 4))
0.6879
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from genai_notes._checks import (
    check_array,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_rng,
    check_shape,
)

__all__ = [
    "MAX_SAMPLES",
    "GaussianRing",
    "TwoMoons",
    "Spiral",
    "assign_to_centres",
]

MAX_SAMPLES = 10_000_000  # the most points one call may draw: 160 MB of float64 (n, 2)
MIN_STD = 0.01  # the curves need about 2 L / σ centres (L: arc length), so σ has a floor
MAX_SIZE = 1e6  # the largest radius or std: squares of lengths stay far from overflow
MAX_MODES = 10_000  # the most Gaussians a ring may have
_BLOCK = 1 << 18  # elements of one (rows, K) block of distances: 2 MB, so memory stays bounded


def _check_points(x: Any, name: str = "x") -> np.ndarray:
    """``x`` as a float64 array of shape ``(n, 2)``, with finite values."""
    points = check_array(x, name, ndim=2, dtype_kind="fiu")
    return check_shape(points, name, (None, 2)).astype(np.float64)


def _check_sample_size(n: Any) -> int:
    n = check_nonnegative_int(n, "n")
    if n > MAX_SAMPLES:
        raise ValueError(f"n: expected at most {MAX_SAMPLES} samples, got {n}")
    return n


def _row_blocks(n_rows: int, n_cols: int) -> list[slice]:
    """Row ranges of an ``(n_rows, n_cols)`` array in blocks of at most ``_BLOCK`` elements."""
    step = max(1, _BLOCK // max(1, n_cols))
    return [slice(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def _squared_distances(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``|x_i - c_k|²`` for every pair: x (n, d), centres (K, d) -> (n, K).

    Summed coordinate by coordinate instead of ``|x|² + |c|² - 2 x·c``: there is no cancellation
    near a centre, and a far point's square overflows to ``inf`` (its density is 0), never NaN.
    """
    out = np.zeros((x.shape[0], centres.shape[0]))
    with np.errstate(over="ignore"):
        for j in range(x.shape[1]):  # d is 2 here: two passes over (n, K)
            out += np.square(x[:, j : j + 1] - centres[None, :, j])
    return out


def assign_to_centres(x: Any, centres: Any, radius: float | None = None) -> np.ndarray:
    """The index of the nearest centre for each point, or -1 if it is farther than ``radius``.

    x: (n, d) points.  centres: (K, d).  radius: a distance in the points' units, or ``None``
    for no limit. Returns (n,) int64 in ``[-1, K)``. Ties go to the lower index.

    >>> assign_to_centres([[0.1, 0.0], [2.9, 0.0], [9.0, 9.0]], [[0.0, 0.0], [3.0, 0.0]], radius=1.0)
    array([ 0,  1, -1])
    """
    points = check_array(x, "x", ndim=2, dtype_kind="fiu").astype(np.float64)
    means = check_array(centres, "centres", ndim=2, dtype_kind="fiu").astype(np.float64)
    if means.shape[0] == 0:
        raise ValueError("centres: expected at least one centre, got shape (0, d)")
    check_shape(points, "x", (None, means.shape[1]))
    limit = math.inf if radius is None else check_real(radius, "radius", low=0.0)
    out = np.empty(points.shape[0], dtype=np.int64)
    for rows in _row_blocks(points.shape[0], means.shape[0]):
        d2 = _squared_distances(points[rows], means)  # (rows, K)
        nearest = d2.argmin(axis=1)  # (rows,)
        far = d2[np.arange(d2.shape[0]), nearest] > limit * limit
        out[rows] = np.where(far, -1, nearest)
    return out


class _IsotropicMixture:
    """What the three distributions share: ``K`` centres, one ``std``, equal weights.

    A subclass is a frozen dataclass with a ``std`` field and a ``_make_centres`` method.
    """

    std: float

    def _make_centres(self) -> np.ndarray:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @functools.cached_property
    def centres(self) -> np.ndarray:
        """The mixture's centres, (K, 2) float64, read-only."""
        c = np.ascontiguousarray(self._make_centres(), dtype=np.float64)
        c.setflags(write=False)
        return c

    def sample_with_components(self, n: int, seed: Any = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points and the index of the Gaussian each came from.

        Returns (x: (n, 2) float64, component: (n,) int64 in ``[0, K)``).
        """
        n = _check_sample_size(n)
        rng = check_rng(seed)
        k = rng.integers(self.centres.shape[0], size=n)  # (n,)
        x = self.centres[k] + self.std * rng.standard_normal((n, 2))  # (n, 2)
        return x, k

    def sample(self, n: int, seed: Any = 0) -> np.ndarray:
        """``n`` independent points, (n, 2) float64. ``seed``: an int or a numpy Generator."""
        return self.sample_with_components(n, seed)[0]

    def log_density(self, x: Any) -> np.ndarray:
        """Exact ``log p(x)`` for each row of x (n, 2); returns (n,) float64.

        Computed as a log-sum-exp with the nearest centre factored out, so it stays accurate
        far from the data (a point 100 σ away gets about -5000, not -inf).
        """
        points = _check_points(x)
        var = self.std**2
        K = self.centres.shape[0]
        out = np.empty(points.shape[0])
        for rows in _row_blocks(points.shape[0], K):
            d2 = _squared_distances(points[rows], self.centres)  # (rows, K)
            nearest = d2.min(axis=1)  # (rows,)
            far = ~np.isfinite(nearest)  # the square overflowed: the density is 0 in float64
            nearest[far], d2[far] = 0.0, 0.0  # placeholders, overwritten by -inf below
            with np.errstate(over="ignore"):  # an overflow here also means a factor of 0
                rest = np.exp(-(d2 - nearest[:, None]) / (2 * var)).sum(axis=1)  # (rows,) >= 1
                log_p = np.log(rest) - nearest / (2 * var)
            log_p[far] = -np.inf
            out[rows] = log_p
        out -= math.log(K) + math.log(2 * math.pi * var)
        return out

    def density(self, x: Any) -> np.ndarray:
        """``p(x)`` for each row of x (n, 2); returns (n,) float64 (per unit area)."""
        return np.exp(self.log_density(x))

    @property
    def mean(self) -> np.ndarray:
        """The exact mean, (2,): the average of the centres."""
        return self.centres.mean(axis=0)

    @property
    def covariance(self) -> np.ndarray:
        """The exact covariance, (2, 2): the centres' spread plus ``std² I``."""
        c = self.centres - self.mean  # (K, 2)
        return c.T @ c / c.shape[0] + self.std**2 * np.eye(2)


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)  # a frozen dataclass normalises its fields this way


@dataclass(frozen=True)
class GaussianRing(_IsotropicMixture):
    """``n_modes`` equal Gaussians on a circle: the classic test of mode collapse.

    Mode ``k`` sits at angle ``2πk / n_modes``, so mode 0 is at ``(radius, 0)``. For
    ``n_modes >= 3`` the mean is 0 and the covariance is ``(radius²/2 + std²) I``.

    >>> ring = GaussianRing(n_modes=4, radius=1.0)
    >>> ring.mode_centres.round(6) + 0.0
    array([[ 1.,  0.],
           [ 0.,  1.],
           [-1.,  0.],
           [ 0., -1.]])
    >>> ring.assign([[0.9, 0.1], [0.0, 0.0]], radius=0.3)
    array([ 0, -1])
    """

    n_modes: int = 8  # how many Gaussians, at most 10000
    radius: float = 2.0  # distance of each centre from the origin, in [0, 1e6]
    std: float = 0.1  # standard deviation of each Gaussian, per coordinate, in [1e-6, 1e6]

    def __post_init__(self) -> None:
        _set(self, "n_modes", check_positive_int(self.n_modes, "n_modes"))
        if self.n_modes > MAX_MODES:
            raise ValueError(f"n_modes: expected at most {MAX_MODES}, got {self.n_modes}")
        _set(self, "radius", check_real(self.radius, "radius", low=0.0, high=MAX_SIZE))
        _set(self, "std", check_real(self.std, "std", low=1e-6, high=MAX_SIZE))

    def _make_centres(self) -> np.ndarray:
        angle = 2 * np.pi * np.arange(self.n_modes) / self.n_modes  # (K,)
        return self.radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)

    @property
    def mode_centres(self) -> np.ndarray:
        """The modes, (n_modes, 2): the same array as ``centres``."""
        return self.centres

    def assign(self, x: Any, radius: float | None = None) -> np.ndarray:
        """The mode nearest each point of x (n, 2), or -1 beyond ``radius``; returns (n,) int64.

        A common choice is ``radius = 3 * std``: a sample of mode k lies within it with
        probability ``1 - exp(-9/2) ≈ 0.989``.
        """
        return assign_to_centres(x, self.centres, radius)


def _check_curve_std(std: Any) -> float:
    return check_real(std, "std", low=MIN_STD, high=MAX_SIZE)


@dataclass(frozen=True)
class TwoMoons(_IsotropicMixture):
    """Two interleaved half circles of radius 1, blurred by Gaussian noise.

    Before centring, the upper moon is ``(cos t, sin t)`` and the lower moon
    ``(1 - cos t, 1/2 - sin t)`` for ``t`` in ``[0, π]``; both are shifted by ``(-1/2, -1/4)``
    so that the mean is exactly 0. Each moon carries ``ceil(2π / std)`` centres at the
    midpoints ``t_j = (j + 1/2) π / K``, so neighbours are at most ``std / 2`` apart.
    ``std >= 0.01``.

    >>> moons = TwoMoons()
    >>> moons.centres.shape, moons.mean.round(12) + 0.0
    ((126, 2), array([0., 0.]))
    """

    std: float = 0.1  # standard deviation of the noise, per coordinate, in [0.01, 1e6]

    def __post_init__(self) -> None:
        _set(self, "std", _check_curve_std(self.std))

    @property
    def per_moon(self) -> int:
        """Centres on each moon."""
        return math.ceil(2 * math.pi / self.std)

    def _make_centres(self) -> np.ndarray:
        t = (np.arange(self.per_moon) + 0.5) * np.pi / self.per_moon  # (K/2,)
        upper = np.stack([np.cos(t), np.sin(t)], axis=1)  # (K/2, 2)
        lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
        return np.concatenate([upper, lower]) - np.array([0.5, 0.25])


@dataclass(frozen=True)
class Spiral(_IsotropicMixture):
    """An Archimedean spiral ``r = radius · θ / θ_end``, blurred by Gaussian noise.

    The angle runs from ``θ_0 = π`` (half a turn, so the centre is not crowded) to
    ``θ_end = π + 2π · turns``; the point at angle θ is ``r (cos θ, sin θ)``. Neighbouring arms
    are ``2π · radius / θ_end`` apart. The centres are evenly spaced in arc length, at most
    ``std / 2`` apart, so the noise-free curve is traced at a uniform speed.

    >>> spiral = Spiral()
    >>> spiral.centres.shape, round(spiral.arc_length, 4)
    ((238, 2), 11.8904)
    """

    turns: float = 1.5  # how many turns the spiral makes, in (0, 5]
    radius: float = 2.0  # the outer radius, at θ_end, in (0, 1e6]
    std: float = 0.1  # standard deviation of the noise, per coordinate, in [0.01, 1e6]

    def __post_init__(self) -> None:
        _set(self, "turns", check_real(self.turns, "turns", low=0.0, high=5.0, low_inclusive=False))
        radius = check_real(self.radius, "radius", low=0.0, high=MAX_SIZE, low_inclusive=False)
        _set(self, "radius", radius)
        _set(self, "std", _check_curve_std(self.std))
        if self.arc_length / (self.std / 2) > 200_000:
            raise ValueError(
                f"std: expected at least {self.arc_length / 100_000:.3g} for a spiral this long "
                f"(at most 200000 centres), got {self.std}"
            )

    @property
    def angles(self) -> tuple[float, float]:
        """``(θ_0, θ_end)``, in radians."""
        return math.pi, math.pi + 2 * math.pi * self.turns

    def _arc(self, theta: np.ndarray | float) -> np.ndarray:
        """Arc length from θ = 0 to ``theta`` of ``r = b θ``: ``b/2 (θ√(1+θ²) + asinh θ)``."""
        b = self.radius / self.angles[1]
        return b / 2 * (theta * np.sqrt(1 + np.square(theta)) + np.arcsinh(theta))

    @property
    def arc_length(self) -> float:
        """Length of the noise-free curve from θ_0 to θ_end."""
        theta0, theta1 = self.angles
        return float(self._arc(theta1) - self._arc(theta0))

    def _make_centres(self) -> np.ndarray:
        theta0, theta1 = self.angles
        b = self.radius / theta1
        K = math.ceil(self.arc_length / (self.std / 2))
        target = self._arc(theta0) + (np.arange(K) + 0.5) * self.arc_length / K  # (K,)
        # Newton's method on the convex, increasing arc(θ) - target, started above the root
        # (arc(θ) >= b θ² / 2, so θ <= sqrt(2 target / b)): the iterates fall monotonically.
        theta = np.minimum(np.sqrt(2 * target / b), theta1)
        for _ in range(60):
            step = (self._arc(theta) - target) / (b * np.sqrt(1 + np.square(theta)))
            theta = theta - step
            if np.max(np.abs(step)) < 1e-13:
                break
        r = b * theta
        return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
