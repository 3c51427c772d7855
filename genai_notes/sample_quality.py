"""One yardstick for generative models: how far a model's samples are from held-out data.

Chapter 12 trains a VAE, a GAN and a diffusion model on the same 2-D data and compares them
here. Two distances between sample sets ``x: (n, d)`` and ``y: (m, d)``, both zero exactly when
the two distributions are equal:

* the **energy distance** (Székely and Rizzo's form, whose square root is a metric)
  ``E = 2 E|X - Y| - E|X - X'| - E|Y - Y'|``, with ``|·|`` the Euclidean length; it is in the
  data's units and needs no tuning;
* the **maximum mean discrepancy** with a Gaussian kernel ``k(a, b) = exp(-|a - b|² / 2h²)``:
  ``MMD² = E k(X, X') + E k(Y, Y') - 2 E k(X, Y)``. The bandwidth ``h`` defaults to the
  *median heuristic on the first argument only* (the median distance between its points), so
  several models compared with the same held-out ``x`` are measured with the same kernel.

**Estimators.** The within-set means ``E|X - X'|`` and ``E k(X, X')`` are averaged over pairs
of *different* points (``n (n - 1)`` of them) by default: the U-statistic, which is unbiased,
so its mean over repeated samples is the true value, and for equal distributions it scatters
around 0 and can be slightly negative. ``unbiased=False`` averages over all ``n²`` pairs, the
point with itself included (the V-statistic): never negative, exactly 0 for identical sets, but
biased upwards by about ``E|X - X'| / n + E|Y - Y'| / m`` (energy).

The pairwise matrices are never held whole: they are summed block by block (``block_size``
rows and columns at a time, computed with ``@``), so memory stays near ``block_size² · 8``
bytes (8 MB at the default) for any ``n`` and ``m``.

For the ring of Gaussians (:class:`genai_notes.data.GaussianRing`), :func:`modes_covered` counts
the modes that received samples and :func:`high_quality_fraction` the share of samples that
landed near some mode. A common radius is 3 σ: a true sample of a mode lies within it with
probability ``1 - e^-4.5 ≈ 0.989``.

>>> x = np.array([[0.0], [1.0]]); y = np.array([[3.0], [5.0]])
>>> round(energy_distance(x, y), 12), round(energy_distance(x, y, unbiased=False), 12)
(4.0, 5.5)
>>> round(mmd_squared(x, x, bandwidth=1.0, unbiased=False), 12)
0.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from genai_notes._checks import check_array, check_positive_int, check_real, check_shape
from genai_notes.data.toy2d import assign_to_centres
from genai_notes.embeddings.similarity import euclidean_distance

__all__ = [
    "energy_distance",
    "mmd_squared",
    "median_bandwidth",
    "mode_counts",
    "modes_covered",
    "high_quality_fraction",
]


def _check_samples(value: Any, name: str, d: int | None = None, minimum: int = 1) -> np.ndarray:
    """``value`` as a float64 (n, d) array with finite values and at least ``minimum`` rows."""
    arr = check_array(value, name, ndim=2, dtype_kind="fiu").astype(np.float64)
    if arr.shape[1] == 0:
        raise ValueError(f"{name}: expected points of dimension >= 1, got shape {arr.shape}")
    if d is not None:
        check_shape(arr, name, (None, d))
    if arr.shape[0] < minimum:
        raise ValueError(f"{name}: expected at least {minimum} points, got shape {arr.shape}")
    return arr


def _to_unit_box(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Shift and scale both sets together so every coordinate lies in [-2, 2].

    Returns (x', y', s) with ``x = s x' + shift``. Distances scale by ``s``; the shift, which
    distances ignore, removes most of the cancellation in ``|a|² + |b|² - 2 a·b``; and the
    scale keeps those squares from overflowing for data of any magnitude.
    """
    s = float(max(np.abs(x).max(), np.abs(y).max()))
    if s == 0.0:
        return x, y, 1.0
    x, y = x / s, y / s
    shift = (x.sum(0) + y.sum(0)) / (len(x) + len(y))  # (d,)
    return x - shift, y - shift, s


def _pair_sum(
    a: np.ndarray, b: np.ndarray | None, fn: Callable[[np.ndarray], np.ndarray], block: int
) -> float:
    """``Σ_ij fn(|a_i - b_j|²)`` over all pairs, one block of the (n, m) matrix at a time.

    ``|a - b|² = |a|² + |b|² - 2 a·b``: the block is one ``@`` and three in-place updates of a
    single (rows, cols) buffer, which ``fn`` then overwrites in place too. (Building the block
    with :func:`~genai_notes.embeddings.similarity.euclidean_distance`, which allocates several
    temporaries, was 3.5 times slower here.) The price of the shortcut is cancellation: after
    the shift to the unit box a squared distance carries an error near ``1e-16``, so a
    distance near 0 is only good to about ``3e-8`` (in units of the data's largest coordinate)
    and the energy distance to about ``1e-9`` relative. That is far below any Monte-Carlo
    error.

    With ``b = None`` the sum runs over pairs within ``a``: only blocks on or above the diagonal
    are computed, since the matrix is symmetric, and each point's distance to itself is set
    to exactly 0.
    """
    same = b is None
    other = a if same else b
    a_sq, o_sq = np.square(a).sum(1), np.square(other).sum(1)  # (n,), (m,)
    total = 0.0
    for i in range(0, len(a), block):
        for j in range(i if same else 0, len(other), block):
            g = a[i : i + block] @ other[j : j + block].T  # (rows, cols)
            g *= -2.0
            g += a_sq[i : i + block, None]
            g += o_sq[None, j : j + block]
            np.maximum(g, 0.0, out=g)  # rounding can leave -1e-16 for (nearly) equal points
            if same and i == j:
                np.fill_diagonal(g, 0.0)  # each point with itself: exactly 0, not ~1e-16
            weight = 2.0 if same and j > i else 1.0  # an off-diagonal block stands for two
            total += weight * float(fn(g).sum())
    return total


def _checked_pair(x: Any, y: Any, unbiased: Any, block_size: Any) -> tuple:
    if not isinstance(unbiased, bool):
        raise TypeError(f"unbiased: expected True or False, got {unbiased!r}")
    least = 2 if unbiased else 1
    x = _check_samples(x, "x", minimum=least)
    y = _check_samples(y, "y", d=x.shape[1], minimum=least)
    return x, y, check_positive_int(block_size, "block_size")


def _within_mean(total: float, n: int, diagonal: float, unbiased: bool) -> float:
    """Mean over pairs of one set from the sum over all n² pairs (``diagonal``: each i = j term)."""
    return (total - n * diagonal) / (n * (n - 1)) if unbiased else total / (n * n)


def energy_distance(x: Any, y: Any, unbiased: bool = True, block_size: int = 1024) -> float:
    """``2 E|X - Y| - E|X - X'| - E|Y - Y'|`` from samples x (n, d) and y (m, d).

    In the units of the data (it scales with them). ``unbiased=True`` (the default) averages
    the within-set terms over pairs of distinct points and needs n, m >= 2; ``False`` averages
    over all pairs (see the module docstring). Returns a float.

    >>> energy_distance([[0.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 1.0]], unbiased=False)
    0.0
    """
    x, y, block = _checked_pair(x, y, unbiased, block_size)
    x, y, scale = _to_unit_box(x, y)
    n, m = len(x), len(y)

    def length(d2: np.ndarray) -> np.ndarray:
        return np.sqrt(d2, out=d2)

    xy = _pair_sum(x, y, length, block) / (n * m)
    xx = _within_mean(_pair_sum(x, None, length, block), n, 0.0, unbiased)
    yy = _within_mean(_pair_sum(y, None, length, block), m, 0.0, unbiased)
    return (2 * xy - xx - yy) * scale


def median_bandwidth(x: Any, max_points: int = 1000) -> float:
    """The median heuristic: the median distance between two different points of x (n, d).

    Uses at most ``max_points`` points, evenly spaced through x by index (no randomness), so
    the cost stays at ``max_points²`` distances. For a 1-D standard normal it is
    ``√2 · 0.6745 ≈ 0.954`` (the median of ``|N(0, 2)|``).

    >>> median_bandwidth([[0.0], [1.0], [3.0]])  # distances 1, 2, 3
    2.0
    """
    points = _check_samples(x, "x", minimum=2)
    keep = check_positive_int(max_points, "max_points")
    if keep < 2:
        raise ValueError(f"max_points: expected an integer >= 2, got {keep}")
    if len(points) > keep:
        points = points[np.linspace(0, len(points) - 1, keep).round().astype(np.int64)]
    unit, _, scale = _to_unit_box(points, points)
    dist = euclidean_distance(unit, unit)  # (k, k)
    median = float(np.median(dist[np.triu_indices(len(unit), k=1)])) * scale
    if median == 0.0:
        raise ValueError(
            "x: at least half of the pairs of points are identical, so the median heuristic "
            "gives bandwidth 0; pass a bandwidth explicitly"
        )
    return median


def mmd_squared(
    x: Any,
    y: Any,
    bandwidth: float | None = None,
    unbiased: bool = True,
    block_size: int = 1024,
) -> float:
    """Squared MMD between samples x (n, d) and y (m, d), Gaussian kernel of bandwidth h.

    ``k(a, b) = exp(-|a - b|² / (2 h²))``, h in the data's units; ``bandwidth=None`` uses
    :func:`median_bandwidth` of **x alone**. Dimensionless, in [-2, 2] for the unbiased
    estimator (the default; n, m >= 2) and in [0, 2] for ``unbiased=False``. Returns a float.

    >>> x = [[0.0], [1.0]]
    >>> round(mmd_squared(x, [[0.0], [1.0]], unbiased=False), 12), mmd_squared(x, x) < 0
    (0.0, True)
    """
    x, y, block = _checked_pair(x, y, unbiased, block_size)
    h = median_bandwidth(x) if bandwidth is None else check_real(bandwidth, "bandwidth", low=0.0)
    if h == 0.0:
        raise ValueError("bandwidth: expected a number > 0.0, got 0.0")
    x, y, scale = _to_unit_box(x, y)
    # h in unit-box units; clipping it to [1e-150, 1e150] changes no kernel value that float64
    # can tell from 0 or 1 (unit-box distances lie below 4 √d), and keeps h'² finite.
    h_unit = math.exp(min(max(math.log(h) - math.log(scale), -345.0), 345.0))
    n, m = len(x), len(y)

    def kernel(d2: np.ndarray) -> np.ndarray:
        d2 *= -0.5 / (h_unit * h_unit)
        return np.exp(d2, out=d2)

    xy = _pair_sum(x, y, kernel, block) / (n * m)
    xx = _within_mean(_pair_sum(x, None, kernel, block), n, 1.0, unbiased)
    yy = _within_mean(_pair_sum(y, None, kernel, block), m, 1.0, unbiased)
    return xx + yy - 2 * xy


def _checked_modes(samples: Any, centres: Any, radius: Any) -> tuple[np.ndarray, int]:
    means = _check_samples(centres, "centres")
    points = _check_samples(samples, "samples", d=means.shape[1], minimum=0)
    radius = check_real(radius, "radius", low=0.0, low_inclusive=False)
    return assign_to_centres(points, means, radius), means.shape[0]


def mode_counts(samples: Any, centres: Any, radius: float) -> np.ndarray:
    """How many samples (n, d) lie within ``radius`` of each centre (K, d), nearest first.

    A sample counts for its nearest centre only, and only if it is within ``radius`` (a
    distance in the data's units). Returns (K,) int64.

    >>> mode_counts([[0.0, 0.1], [0.0, -0.1], [5.0, 0.0]], [[0.0, 0.0], [1.0, 0.0]], radius=0.3)
    array([2, 0])
    """
    nearest, K = _checked_modes(samples, centres, radius)
    return np.bincount(nearest[nearest >= 0], minlength=K)


def modes_covered(samples: Any, centres: Any, radius: float, min_samples: int = 1) -> int:
    """How many centres (K, d) have at least ``min_samples`` samples (n, d) within ``radius``.

    >>> from genai_notes.data import GaussianRing
    >>> ring = GaussianRing()
    >>> modes_covered(ring.sample(1000, seed=0), ring.mode_centres, radius=3 * ring.std)
    8
    """
    least = check_positive_int(min_samples, "min_samples")
    return int(np.sum(mode_counts(samples, centres, radius) >= least))


def high_quality_fraction(samples: Any, centres: Any, radius: float) -> float:
    """The share of samples (n, d), n >= 1, within ``radius`` of some centre (K, d); in [0, 1].

    >>> high_quality_fraction([[0.0, 0.1], [3.0, 3.0]], [[0.0, 0.0]], radius=0.3)
    0.5
    """
    nearest, _ = _checked_modes(samples, centres, radius)
    if nearest.size == 0:
        raise ValueError("samples: expected at least 1 point, got shape (0, d)")
    return float(np.mean(nearest >= 0))
