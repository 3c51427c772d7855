"""The yardstick: energy distance and MMD against closed forms, and mode coverage on the ring."""

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from genai_notes.data import GaussianRing
from genai_notes.sample_quality import (
    energy_distance,
    high_quality_fraction,
    median_bandwidth,
    mmd_squared,
    mode_counts,
    modes_covered,
)


def _energy_closed_form(m1, s1, m2, s2):
    """Energy distance between N(m1, s1²) and N(m2, s2²) in 1-D.

    X - Y ~ N(δ, s²) with s² = s1² + s2², and E|N(δ, s²)| = s √(2/π) e^(-δ²/2s²) + δ erf(δ/(s√2));
    E|X - X'| = 2 s1 / √π.
    """
    delta, s = m2 - m1, math.hypot(s1, s2)
    e_xy = s * math.sqrt(2 / math.pi) * math.exp(-(delta**2) / (2 * s * s))
    e_xy += delta * math.erf(delta / (s * math.sqrt(2)))
    return 2 * e_xy - 2 * s1 / math.sqrt(math.pi) - 2 * s2 / math.sqrt(math.pi)


def _mmd_closed_form(m1, s1, m2, s2, h):
    """MMD² with kernel exp(-|a-b|²/2h²) between N(m1, s1²) and N(m2, s2²) in 1-D.

    E k(X, Y) = h / √(h² + s1² + s2²) · exp(-δ² / (2 (h² + s1² + s2²))).
    """

    def mean_kernel(a, b, delta):
        v = h * h + a * a + b * b
        return h / math.sqrt(v) * math.exp(-delta * delta / (2 * v))

    return mean_kernel(s1, s1, 0) + mean_kernel(s2, s2, 0) - 2 * mean_kernel(s1, s2, m2 - m1)


def _normals(seed, n, mean=0.0, std=1.0, d=1):
    return mean + std * np.random.default_rng(seed).standard_normal((n, d))


def _slow_energy(x, y, unbiased):
    def mean_dist(a, b, within):
        d = np.sqrt(np.square(a[:, None, :] - b[None, :, :]).sum(-1))  # (n, m)
        if within and unbiased:
            return d.sum() / (len(a) * (len(a) - 1))
        return d.mean()

    return 2 * mean_dist(x, y, False) - mean_dist(x, x, True) - mean_dist(y, y, True)


def _slow_mmd(x, y, h, unbiased):
    def mean_k(a, b, within):
        k = np.exp(-np.square(a[:, None, :] - b[None, :, :]).sum(-1) / (2 * h * h))
        if within and unbiased:
            return (k.sum() - len(a)) / (len(a) * (len(a) - 1))
        return k.mean()

    return mean_k(x, x, True) + mean_k(y, y, True) - 2 * mean_k(x, y, False)


@pytest.mark.parametrize("unbiased", [True, False])
def test_both_metrics_equal_a_slow_direct_computation(unbiased):
    x, y = _normals(0, 50, d=3), _normals(1, 37, mean=0.5, d=3)
    assert energy_distance(x, y, unbiased=unbiased) == pytest.approx(
        _slow_energy(x, y, unbiased), rel=1e-9
    )
    assert mmd_squared(x, y, bandwidth=1.3, unbiased=unbiased) == pytest.approx(
        _slow_mmd(x, y, 1.3, unbiased), rel=1e-10
    )


@pytest.mark.parametrize("m1, s1, m2, s2", [(0.0, 1.0, 1.0, 1.5), (0.0, 1.0, 0.0, 2.0)])
def test_energy_distance_of_two_normals_matches_the_closed_form(m1, s1, m2, s2):
    # Eight independent estimates at n = m = 2000. Their spread gives the standard error of
    # their mean (measured: one estimate's sd is 0.034 for the first pair).
    truth = _energy_closed_form(m1, s1, m2, s2)
    est = [
        energy_distance(_normals(2 * k, 2000, m1, s1), _normals(2 * k + 1, 2000, m2, s2))
        for k in range(8)
    ]
    sd = np.std(est, ddof=1)
    assert sd < 0.06
    assert abs(np.mean(est) - truth) < 4 * sd / math.sqrt(8)


def test_mmd_of_two_normals_matches_the_closed_form():
    h = 1.0
    truth = _mmd_closed_form(0.0, 1.0, 1.0, 1.5, h)  # 0.1413
    est = [
        mmd_squared(_normals(2 * k, 2000), _normals(2 * k + 1, 2000, 1.0, 1.5), bandwidth=h)
        for k in range(8)
    ]
    sd = np.std(est, ddof=1)
    assert sd < 0.03  # measured 0.009 over 40 seeds, 0.018 over these 8
    assert abs(np.mean(est) - truth) < 4 * sd / math.sqrt(8)


def test_same_distribution_gives_zero_within_the_monte_carlo_error():
    # For equal distributions the U-statistic is degenerate: its sd falls like 1/n. Measured
    # over 40 seeds at n = m = 2000 (1-D standard normals): 0.0012 (energy), 0.00043 (MMD).
    x, z = _normals(0, 2000), _normals(1, 2000)
    assert abs(energy_distance(x, z)) < 5 * 0.0012
    assert abs(mmd_squared(x, z, bandwidth=1.0)) < 5 * 0.00043


def test_the_biased_estimator_exceeds_the_unbiased_one_by_the_within_set_terms():
    # V = U (n - 1)/n for each within-set mean, so biased - unbiased = E|X-X'|/n + E|Y-Y'|/m
    # up to the U-statistic's error; for standard normals E|X - X'| = 2/√π.
    n, m = 1500, 2500
    x, y = _normals(3, n), _normals(4, m)
    gap = energy_distance(x, y, unbiased=False) - energy_distance(x, y)
    assert gap == pytest.approx(2 / math.sqrt(math.pi) * (1 / n + 1 / m), rel=0.03)
    # the MMD: each within-set mean moves towards k(x, x) = 1 by (1 - E k)/n
    h = 1.0
    ek = h / math.sqrt(h * h + 2)  # E k(X, X') for standard normals
    gap = mmd_squared(x, y, h, unbiased=False) - mmd_squared(x, y, h)
    assert gap == pytest.approx((1 - ek) * (1 / n + 1 / m), rel=0.03)


def test_identical_sets_give_zero_with_the_biased_estimator():
    # Across the two arguments a point's distance to its copy comes out near 3e-8 instead of
    # 0 (cancellation in |a|² + |b|² - 2 a·b), so the energy is 0 only to about 1e-10 here.
    x = _normals(5, 700, mean=3.0, d=4)
    assert abs(energy_distance(x, x, unbiased=False)) < 1e-9
    assert abs(mmd_squared(x, x, unbiased=False)) < 1e-12
    # the unbiased estimator leaves out each point's pair with itself, so it goes negative
    assert energy_distance(x, x) < 0 and mmd_squared(x, x) < 0


def test_hand_worked_values():
    x, y = [[0.0], [1.0]], [[3.0], [5.0]]
    # cross mean (3 + 5 + 2 + 4)/4 = 3.5; within means 1 and 2 (pairs) or 1/2 and 1 (all)
    assert energy_distance(x, y) == pytest.approx(4.0, abs=1e-12)
    assert energy_distance(x, y, unbiased=False) == pytest.approx(5.5, abs=1e-12)
    # MMD², h = 1: within e^-1/2 and e^-2 (pairs), cross (e^-4.5 + e^-12.5 + e^-2 + e^-8)/4
    cross = (math.exp(-4.5) + math.exp(-12.5) + math.exp(-2) + math.exp(-8)) / 4
    by_hand = math.exp(-0.5) + math.exp(-2) - 2 * cross
    assert mmd_squared(x, y, bandwidth=1.0) == pytest.approx(by_hand, abs=1e-12)


def test_energy_scales_with_the_data_and_ignores_shifts_at_any_magnitude():
    x, y = _normals(6, 300, d=2), _normals(7, 200, mean=0.3, d=2)
    base = energy_distance(x, y)
    for a in (1e-200, 1e-3, 1e5, 1e200):
        assert energy_distance(a * x, a * y) == pytest.approx(a * base, rel=1e-9)
    assert energy_distance(x + 1e6, y + 1e6) == pytest.approx(base, rel=1e-6)
    h = 0.8
    base = mmd_squared(x, y, bandwidth=h)
    for a in (1e-200, 1e200):
        assert mmd_squared(a * x, a * y, bandwidth=a * h) == pytest.approx(base, rel=1e-9)


@pytest.mark.parametrize("block_size", [1, 7, 64, 5000])
def test_block_size_does_not_change_the_result(block_size):
    x, y = _normals(8, 301, d=3), _normals(9, 150, mean=0.2, d=3)
    for unbiased in (True, False):
        assert energy_distance(x, y, unbiased, block_size) == pytest.approx(
            energy_distance(x, y, unbiased), rel=1e-11
        )
        assert mmd_squared(x, y, 1.0, unbiased, block_size) == pytest.approx(
            mmd_squared(x, y, 1.0, unbiased), rel=1e-12
        )


def test_memory_stays_bounded_for_large_sets():
    # A whole 6000 × 6000 float64 matrix would take 288 MB; blocks of 512² take 2 MB.
    x, y = _normals(10, 6000, d=2), _normals(11, 6000, d=2)
    tracemalloc.start()
    energy_distance(x, y, block_size=512)
    mmd_squared(x, y, bandwidth=1.0, block_size=512)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 16 * 2**20


def test_median_bandwidth_of_a_standard_normal():
    # |X - X'| ~ |N(0, 2)|, whose median is √2 Φ^-1(3/4) = √2 · 0.674490 = 0.953873
    assert median_bandwidth(_normals(12, 5000)) == pytest.approx(0.953873, rel=0.03)


def test_the_default_bandwidth_is_the_median_heuristic_of_x_only():
    x, y = _normals(13, 400, d=2), _normals(14, 300, std=3.0, d=2)
    h = median_bandwidth(x)
    assert mmd_squared(x, y) == mmd_squared(x, y, bandwidth=h)
    assert median_bandwidth(y) > 2 * h  # y's own heuristic would be a different kernel


def test_median_bandwidth_uses_evenly_spaced_points():
    x = _normals(15, 3001)
    assert median_bandwidth(x, max_points=4) == median_bandwidth(x[[0, 1000, 2000, 3000]])
    with pytest.raises(ValueError, match="x: at least half of the pairs"):
        median_bandwidth(np.ones((5, 2)))


def test_modes_covered_counts_only_the_modes_with_samples():
    ring = GaussianRing()
    x, k = ring.sample_with_components(4000, seed=0)
    only_three = x[np.isin(k, [1, 4, 6])]
    radius = 3 * ring.std
    assert modes_covered(only_three, ring.mode_centres, radius) == 3
    assert modes_covered(x, ring.mode_centres, radius) == 8
    counts = mode_counts(only_three, ring.mode_centres, radius)
    assert counts.shape == (8,) and np.flatnonzero(counts).tolist() == [1, 4, 6]
    assert counts.sum() <= len(only_three)
    one_extra = np.vstack([only_three, ring.mode_centres[[0]]])  # a single sample at mode 0
    assert modes_covered(one_extra, ring.mode_centres, radius) == 4
    assert modes_covered(one_extra, ring.mode_centres, radius, min_samples=2) == 3
    assert modes_covered(np.zeros((0, 2)), ring.mode_centres, radius) == 0


def test_high_quality_fraction_of_true_samples_is_the_rayleigh_probability():
    ring = GaussianRing()
    n = 20_000
    x = ring.sample(n, seed=1)
    p = 1 - math.exp(-4.5)  # P(|N(0, σ² I)| <= 3σ) in 2-D
    assert abs(high_quality_fraction(x, ring.mode_centres, 3 * ring.std) - p) < 4 * math.sqrt(
        p * (1 - p) / n
    )
    junk = np.vstack([x[:500], np.zeros((500, 2))])  # the origin is 2 away from every mode
    fraction = high_quality_fraction(junk, ring.mode_centres, 3 * ring.std)
    assert 0.49 < fraction <= 0.5


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: energy_distance([[0.0]], [[1.0], [2.0]]), ValueError, "x: expected at least 2"),
        (lambda: energy_distance([[0.0]], [[1.0]], unbiased=False), None, None),
        (lambda: energy_distance([[0.0], [1.0]], [[1.0, 2.0]]), ValueError, "y: expected shape"),
        (lambda: energy_distance([0.0, 1.0], [[1.0]]), ValueError, "x: expected a 2-D array"),
        (lambda: energy_distance([[0.0], [np.nan]], [[1.0]]), ValueError, "x: expected finite"),
        (lambda: energy_distance(np.zeros((3, 0)), np.zeros((3, 0))), ValueError, "x: expected"),
        (lambda: energy_distance([[0], [1]], [["a"], ["b"]]), TypeError, "y: expected float"),
        (lambda: energy_distance([[0], [1]], [[0], [1]], unbiased=1), TypeError, "unbiased:"),
        (lambda: energy_distance([[0], [1]], [[0], [1]], block_size=0), ValueError, "block_size"),
        (lambda: mmd_squared([[0], [1]], [[0], [1]], bandwidth=0.0), ValueError, "bandwidth:"),
        (lambda: mmd_squared([[0], [1]], [[0], [1]], bandwidth=-1.0), ValueError, "bandwidth:"),
        (lambda: mmd_squared([[0], [1]], [[0], [1]], bandwidth="1"), TypeError, "bandwidth:"),
        (lambda: mmd_squared([[0], [0]], [[0], [1]]), ValueError, "x: at least half"),
        (lambda: median_bandwidth([[0.0]]), ValueError, "x: expected at least 2"),
        (lambda: median_bandwidth([[0.0], [1.0]], max_points=1), ValueError, "max_points:"),
        (lambda: modes_covered([[0.0, 0.0]], [[0.0, 0.0]], radius=0.0), ValueError, "radius:"),
        (lambda: modes_covered([[0.0, 0.0]], [[0.0]], radius=1.0), ValueError, "samples: expected"),
        (
            lambda: modes_covered([[0.0]], np.zeros((0, 1)), radius=1.0),
            ValueError,
            "centres: expec",
        ),
        (lambda: modes_covered([[0.0]], [[0.0]], 1.0, min_samples=0), ValueError, "min_samples"),
        (lambda: high_quality_fraction(np.zeros((0, 2)), [[0, 0]], 1.0), ValueError, "samples:"),
    ],
)
def test_bad_arguments_are_named_in_the_error(call, error, message):
    if error is None:
        assert call() == 2.0  # one point each is fine for the biased estimator
        return
    with pytest.raises(error, match=message):
        call()


_ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.int64, np.bool_, np.complex128, "U1"]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(), st.text(max_size=2)
)


@settings(max_examples=200, deadline=None)
@given(x=_ARRAYS, y=_ARRAYS, unbiased=st.one_of(st.booleans(), _SCALARS), h=_SCALARS)
def test_any_inputs_give_a_number_or_our_errors(x, y, unbiased, h):
    for call in (
        lambda: energy_distance(x, y, unbiased),
        lambda: mmd_squared(x, y, h, unbiased),
        lambda: median_bandwidth(x),
    ):
        try:
            value = call()
        except (ValueError, TypeError) as exc:
            assert str(exc).split(":")[0] in ("x", "y", "unbiased", "bandwidth")
        else:
            assert not math.isnan(value)  # inf only when distances exceed float64


@settings(max_examples=200, deadline=None)
@given(samples=_ARRAYS, centres=_ARRAYS, radius=_SCALARS, least=_SCALARS)
def test_any_mode_inputs_give_counts_or_our_errors(samples, centres, radius, least):
    try:
        covered = modes_covered(samples, centres, radius, least)
    except (ValueError, TypeError) as exc:
        assert str(exc).split(":")[0] in ("samples", "centres", "radius", "min_samples")
    else:
        assert 0 <= covered <= len(centres)
