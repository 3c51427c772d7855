"""The 2-D toy distributions: exact densities against closed forms, samplers against densities."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from genai_notes import data
from genai_notes.data.toy2d import MAX_SAMPLES, GaussianRing, Spiral, TwoMoons, assign_to_centres

DISTRIBUTIONS = {
    "ring": GaussianRing(),
    "ring3-wide": GaussianRing(n_modes=3, radius=1.0, std=0.3),
    "moons": TwoMoons(),
    "moons-thin": TwoMoons(std=0.05),
    "spiral": Spiral(),
    "spiral-short": Spiral(turns=0.75, radius=1.0, std=0.07),
}


def _grid(dist, margin: float, spacing: float):
    """Midpoints of a square grid covering the centres plus ``margin`` on every side."""
    low = dist.centres.min(axis=0) - margin
    high = dist.centres.max(axis=0) + margin
    n = np.ceil((high - low) / spacing).astype(int)  # cells per axis
    xs = low[0] + (np.arange(n[0]) + 0.5) * spacing
    ys = low[1] + (np.arange(n[1]) + 0.5) * spacing
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    return np.stack([gx.ravel(), gy.ravel()], axis=1), (n[0], n[1])


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_density_integrates_to_one(name):
    # Midpoint rule with spacing σ/4 over the centres ± 10σ. For a Gaussian the rule's error is
    # about 2 exp(-2π² (σ/h)²) = 2 exp(-32π²), and the mass outside the box is below e^-50, so
    # the sum should equal 1 to rounding (measured: within 7e-16); 1e-12 leaves room.
    dist = DISTRIBUTIONS[name]
    points, _ = _grid(dist, margin=10 * dist.std, spacing=dist.std / 4)
    integral = dist.density(points).sum() * (dist.std / 4) ** 2
    assert abs(integral - 1.0) < 1e-12


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_log_density_equals_the_plain_mixture_formula(name):
    dist = DISTRIBUTIONS[name]
    x = dist.sample(300, seed=1) * 1.3  # some points off the data, too
    diff = x[:, None, :] - dist.centres[None, :, :]  # (n, K, 2)
    plain = np.exp(-np.square(diff).sum(-1) / (2 * dist.std**2)).mean(1) / (2 * np.pi * dist.std**2)
    np.testing.assert_allclose(dist.density(x), plain, rtol=1e-12, atol=1e-300)


def test_ring_density_at_a_mode_and_far_away_by_hand():
    ring = GaussianRing()  # 8 modes, radius 2, std 0.1: neighbours 1.53 apart, e^-117 apart
    at_mode = 1 / (8 * 2 * math.pi * 0.01)
    assert ring.density(ring.mode_centres[:1])[0] == pytest.approx(at_mode, rel=1e-12)
    # 18 away from mode 0 along the x axis; every other mode is farther still
    far = -(18**2) / (2 * 0.01) - math.log(8 * 2 * math.pi * 0.01)
    assert ring.log_density([[20.0, 0.0]])[0] == pytest.approx(far, rel=1e-12)


def test_points_too_far_for_float64_get_log_density_minus_infinity_without_warnings():
    ring = GaussianRing()
    out = ring.log_density([[1e200, 0.0], [0.0, -1e300], [3.0, 0.0]])
    assert out[0] == -np.inf and out[1] == -np.inf and np.isfinite(out[2])


def _scaled_bessel_i0(z: float) -> float:
    """e^-z I_0(z) from its power series Σ (z/2)^(2k) / (k!)², summed in logs (z <= 1000)."""
    logs = [2 * k * math.log(z / 2) - 2 * math.lgamma(k + 1) - z for k in range(2000)]
    return math.fsum(math.exp(t) for t in logs)


@pytest.mark.parametrize("std", [0.05, 0.04])
def test_moon_spine_has_the_density_of_a_continuous_half_circle(std):
    # A half circle of radius 1 carrying probability 1/2 has the same density per unit angle as
    # a full circle carrying 1, whose density on the circle is e^-z I_0(z) / (2πσ²), z = 1/σ².
    # Away from the ends and from the other moon, the discrete centres must give that value.
    # The other moon's tip comes within 0.5 of this stretch, adding e^(-0.25 / 2σ²): e^-50 at
    # σ = 0.05 (at the default σ = 0.1 it would add e^-12.5, visible at 1e-10).
    moons = TwoMoons(std=std)
    t = np.linspace(np.pi / 3, 2 * np.pi / 3, 101)
    spine = np.stack([np.cos(t), np.sin(t)], axis=1) - [0.5, 0.25]
    continuous = _scaled_bessel_i0(1 / std**2) / (2 * np.pi * std**2)
    np.testing.assert_allclose(moons.density(spine), continuous, rtol=1e-10)


def _moons_moments_by_hand(std: float, per_moon: int):
    # With t_j = (j + 1/2) π / K: Σ cos t_j = 0, Σ cos 2t_j = 0, Σ sin 2t_j = 0 and
    # (1/K) Σ sin t_j = 1 / (K sin(π / 2K)) =: s. Upper (c, s), lower (1 - c, 1/2 - s).
    s = 1 / (per_moon * math.sin(math.pi / (2 * per_moon)))
    var_x = 0.75 + std**2  # E[x²] = (1/2 + 3/2)/2 = 1, E[x] = 1/2
    var_y = (0.5 + 0.75 - s) / 2 - 0.25**2 + std**2
    cov_xy = (0.5 - s) / 2 - 0.5 * 0.25
    return np.zeros(2), np.array([[var_x, cov_xy], [cov_xy, var_y]])


def _spiral_moments_by_quadrature(spiral: Spiral, n: int = 200_001):
    """Mean and covariance of the noise-free spiral traced at uniform speed, plus the noise."""
    theta0, theta1 = spiral.angles
    theta = np.linspace(theta0, theta1, n)
    b = spiral.radius / theta1
    curve = b * theta[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)  # (n, 2)
    w = b * np.sqrt(1 + theta**2)  # speed |dγ/dθ|
    w = w * np.r_[0.5, np.ones(n - 2), 0.5]  # trapezoid weights
    mean = (w[:, None] * curve).sum(0) / w.sum()
    c = curve - mean
    return mean, (w[:, None] * c).T @ c / w.sum() + spiral.std**2 * np.eye(2)


@pytest.mark.parametrize(
    "dist, mean, cov",
    [
        (GaussianRing(), np.zeros(2), (2.0**2 / 2 + 0.01) * np.eye(2)),
        (GaussianRing(n_modes=3, radius=1.0, std=0.3), np.zeros(2), (0.5 + 0.09) * np.eye(2)),
        (GaussianRing(n_modes=2, radius=1.0, std=0.5), np.zeros(2), np.diag([1.25, 0.25])),
        (GaussianRing(n_modes=1, radius=3.0, std=0.5), np.array([3.0, 0.0]), 0.25 * np.eye(2)),
        (TwoMoons(), *_moons_moments_by_hand(0.1, TwoMoons().per_moon)),
        (TwoMoons(std=0.3), *_moons_moments_by_hand(0.3, TwoMoons(std=0.3).per_moon)),
    ],
)
def test_exact_mean_and_covariance_match_closed_forms(dist, mean, cov):
    np.testing.assert_allclose(dist.mean, mean, atol=1e-12)
    np.testing.assert_allclose(dist.covariance, cov, atol=1e-12)


def test_spiral_moments_match_the_continuous_curve():
    # The centres are the midpoint rule for the uniform-speed curve, so its moments agree to
    # O(h²) with h = σ/2: about 1e-4 here.
    spiral = Spiral()
    mean, cov = _spiral_moments_by_quadrature(spiral)
    np.testing.assert_allclose(spiral.mean, mean, atol=1e-3)
    np.testing.assert_allclose(spiral.covariance, cov, atol=1e-3)


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_sample_moments_agree_with_the_exact_ones(name):
    dist = DISTRIBUTIONS[name]
    n = 100_000
    x = dist.sample(n, seed=7)
    # Standard errors: sqrt(var / n) for the mean; sqrt((E[x_i² x_j²] - cov²) / n) for cov.
    se_mean = np.sqrt(np.diag(dist.covariance) / n)
    assert np.all(np.abs(x.mean(0) - dist.mean) < 5 * se_mean)
    c = x - dist.mean
    products = c[:, :, None] * c[:, None, :]  # (n, 2, 2)
    se_cov = products.std(0) / np.sqrt(n)
    assert np.all(np.abs(products.mean(0) - dist.covariance) < 5 * se_cov)


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_noise_is_isotropic_gaussian_and_components_uniform(name):
    dist = DISTRIBUTIONS[name]
    n = 100_000
    x, k = dist.sample_with_components(n, seed=5)
    z = (x - dist.centres[k]) / dist.std  # should be N(0, I)
    # standard errors: 1/√n for the mean and the correlation, √(2/n) for the variance
    assert np.all(np.abs(z.mean(0)) < 5 / np.sqrt(n))
    assert np.all(np.abs(z.var(0) - 1) < 5 * np.sqrt(2 / n))
    assert abs(np.mean(z[:, 0] * z[:, 1])) < 5 / np.sqrt(n)
    # |z|² is chi-square with 2 degrees of freedom: P(|z| <= 3) = 1 - e^-4.5
    inside = np.mean(np.square(z).sum(1) <= 9)
    p = 1 - math.exp(-4.5)
    assert abs(inside - p) < 5 * math.sqrt(p * (1 - p) / n)
    counts = np.bincount(k, minlength=len(dist.centres))
    expected = n / len(dist.centres)
    stat = np.sum((counts - expected) ** 2 / expected)
    assert stat < _chi_square_0999(len(dist.centres) - 1)


def test_spiral_centres_are_evenly_spaced_in_arc_length():
    spiral = Spiral()
    c = spiral.centres
    chords = np.linalg.norm(np.diff(c, axis=0), axis=1)
    # Chords of equal arcs h differ from h by about h³/(24 R²) <= 4e-4 h at R >= 0.5.
    np.testing.assert_allclose(chords, spiral.arc_length / len(c), rtol=1e-3)
    assert chords.max() <= spiral.std / 2
    # The curve's length by brute force, without the closed form in the module.
    theta = np.linspace(*spiral.angles, 400_001)
    b = spiral.radius / spiral.angles[1]
    pts = b * theta[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    assert spiral.arc_length == pytest.approx(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())
    # first and last centres sit half a step inside the ends, at radius 0.5 and 2
    radii = np.linalg.norm(c[[0, -1]], axis=1)
    np.testing.assert_allclose(radii, [0.5, 2.0], atol=spiral.std / 2)


def _chi_square_0999(df: int) -> float:
    """The 0.999 quantile of chi-square(df), by the Wilson–Hilferty cube-root approximation."""
    z = 3.0902
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def _chi_square(dist, samples: np.ndarray, bins: int = 24, sub: int = 8) -> tuple[float, int]:
    """Pearson's statistic of a (bins × bins) histogram against the exact bin probabilities.

    Bin probabilities come from the density by a midpoint rule with ``sub``² points per bin.
    Bins expecting fewer than 5 counts, and everything outside the box, are pooled.
    """
    low = dist.centres.min(0) - 4 * dist.std
    high = dist.centres.max(0) + 4 * dist.std
    width = (high - low) / bins
    axes = [low[i] + (np.arange(bins * sub) + 0.5) * width[i] / sub for i in range(2)]
    gx, gy = np.meshgrid(*axes, indexing="ij")
    dens = dist.density(np.stack([gx.ravel(), gy.ravel()], axis=1))
    cell = dens.reshape(bins, sub, bins, sub).sum(axis=(1, 3)) * np.prod(width) / sub**2
    edges = [low[i] + np.arange(bins + 1) * width[i] for i in range(2)]
    counts, _, _ = np.histogram2d(samples[:, 0], samples[:, 1], bins=edges)
    n = len(samples)
    expected, observed = n * cell.ravel(), counts.ravel()
    keep = expected >= 5
    exp = np.r_[expected[keep], n - expected[keep].sum()]
    obs = np.r_[observed[keep], n - observed[keep].sum()]
    return float(np.sum((obs - exp) ** 2 / exp)), len(exp) - 1


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_sample_histogram_matches_the_density(name):
    dist = DISTRIBUTIONS[name]
    stat, df = _chi_square(dist, dist.sample(20_000, seed=11))
    assert df > 50
    assert stat < _chi_square_0999(df)


@pytest.mark.parametrize(
    "truth, other",
    [
        (GaussianRing(), GaussianRing(radius=2.05)),
        (TwoMoons(), TwoMoons(std=0.115)),
        (Spiral(), Spiral(turns=1.55)),
    ],
)
def test_the_histogram_test_rejects_a_slightly_different_distribution(truth, other):
    stat, df = _chi_square(truth, other.sample(20_000, seed=11))
    assert stat > 2 * _chi_square_0999(df)


def test_same_seed_same_samples_and_generators_are_accepted():
    moons = TwoMoons()
    assert np.array_equal(moons.sample(50, seed=3), moons.sample(50, seed=3))
    assert not np.array_equal(moons.sample(50, seed=3), moons.sample(50, seed=4))
    rng = np.random.default_rng(3)
    first, second = moons.sample(50, rng), moons.sample(50, rng)
    assert np.array_equal(first, moons.sample(50, seed=3)) and not np.array_equal(first, second)
    x = moons.sample(0)
    assert x.shape == (0, 2) and x.dtype == np.float64
    assert moons.log_density(np.zeros((0, 2))).shape == (0,)


def test_sample_with_components_reports_the_gaussian_each_point_came_from():
    ring = GaussianRing()
    x, k = ring.sample_with_components(5000, seed=2)
    assert np.array_equal(x, ring.sample(5000, seed=2))
    # the nearest mode is 7.7 σ from the boundary between modes: all assignments agree
    assert np.array_equal(ring.assign(x), k)
    assert np.bincount(k, minlength=8).min() > 500


def test_assign_returns_minus_one_beyond_the_radius():
    ring = GaussianRing()
    x = np.array([[0.0, 0.0], [2.25, 0.0], [2.35, 0.0], [0.0, -2.0]])
    assert ring.assign(x, radius=0.3).tolist() == [-1, 0, -1, 6]
    assert ring.assign(x).tolist() == [0, 0, 0, 6]  # a tie (the origin) goes to mode 0
    assert assign_to_centres(np.zeros((0, 3)), np.ones((2, 3))).shape == (0,)


def test_the_package_exports_the_distributions():
    assert data.GaussianRing is GaussianRing and data.TwoMoons is TwoMoons
    assert data.Spiral is Spiral and data.assign_to_centres is assign_to_centres


def test_distributions_are_frozen_and_centres_read_only():
    ring = GaussianRing()
    with pytest.raises(dataclasses.FrozenInstanceError):
        ring.std = 0.2
    with pytest.raises(ValueError, match="read-only"):
        ring.centres[0, 0] = 5.0
    assert GaussianRing(std=1) == GaussianRing(std=1.0) and isinstance(
        GaussianRing(std=1).std, float
    )


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: GaussianRing(n_modes=0), ValueError, "n_modes: expected a positive integer"),
        (lambda: GaussianRing(n_modes=2.5), TypeError, "n_modes: expected a positive integer"),
        (lambda: GaussianRing(n_modes=10**5), ValueError, "n_modes: expected at most 10000"),
        (lambda: GaussianRing(std=0.0), ValueError, "std: expected a number >= 1e-06"),
        (lambda: GaussianRing(std=1e7), ValueError, "std: expected a number <= 1000000.0"),
        (lambda: GaussianRing(radius=-1.0), ValueError, "radius: expected a number >= 0.0"),
        (lambda: GaussianRing(radius="2"), TypeError, "radius: expected a real number"),
        (lambda: TwoMoons(std=0.001), ValueError, "std: expected a number >= 0.01"),
        (lambda: TwoMoons(std=float("nan")), ValueError, "std: expected a finite number"),
        (lambda: Spiral(turns=0.0), ValueError, "turns: expected a number > 0.0"),
        (lambda: Spiral(turns=6.0), ValueError, "turns: expected a number <= 5.0"),
        (lambda: Spiral(turns=5.0, radius=1e4), ValueError, "std: expected at least"),
        (lambda: GaussianRing().sample(-1), ValueError, "n: expected a non-negative integer"),
        (lambda: GaussianRing().sample(3.0), TypeError, "n: expected a non-negative integer"),
        (lambda: GaussianRing().sample(MAX_SAMPLES + 1), ValueError, "n: expected at most"),
        (lambda: GaussianRing().sample(10**18), ValueError, "n: expected at most"),
        (lambda: GaussianRing().sample(3, seed=-1), ValueError, "seed: expected a non-negative"),
        (lambda: GaussianRing().sample(3, seed=None), TypeError, "seed: expected an integer seed"),
        (lambda: GaussianRing().log_density([1.0, 2.0]), ValueError, "x: expected a 2-D array"),
        (lambda: GaussianRing().log_density([[1.0, 2.0, 3.0]]), ValueError, r"x: expected shape"),
        (lambda: GaussianRing().log_density([[np.nan, 0.0]]), ValueError, "x: expected finite"),
        (lambda: GaussianRing().log_density([["a", "b"]]), TypeError, "x: expected float"),
        (lambda: GaussianRing().assign([[0.0, 0.0]], radius=-1), ValueError, "radius: expected"),
        (lambda: assign_to_centres([[0.0]], np.zeros((0, 1))), ValueError, "centres: expected at"),
        (lambda: assign_to_centres([[0.0]], [[0.0, 1.0]]), ValueError, "x: expected shape"),
    ],
)
def test_bad_arguments_are_named_in_the_error(make, error, message):
    with pytest.raises(error, match=message):
        make()


_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.lists(st.integers(0, 3), max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(["ring", "moons", "spiral"]), a=_ANY, b=_ANY)
def test_any_constructor_arguments_give_a_distribution_or_our_errors(kind, a, b):
    try:
        if kind == "ring":
            GaussianRing(n_modes=a, std=b)
        elif kind == "moons":
            TwoMoons(std=a)
        else:
            Spiral(turns=a, std=b)
    except (ValueError, TypeError) as exc:
        assert str(exc).split(":")[0] in ("n_modes", "std", "turns")


@settings(max_examples=150, deadline=None)
@given(n=_ANY, seed=_ANY)
def test_any_sample_arguments_give_samples_or_our_errors(n, seed):
    try:
        small = isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_SAMPLES
        x = TwoMoons().sample(n % 100 if small else n, seed)
    except (ValueError, TypeError) as exc:
        assert str(exc).split(":")[0] in ("n", "seed")
    else:
        assert x.ndim == 2 and x.shape[1] == 2 and np.all(np.isfinite(x))


@settings(max_examples=200, deadline=None)
@given(
    x=hnp.arrays(
        dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, "U2"]),
        shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
    )
)
def test_any_array_gives_densities_or_our_errors(x):
    for call in (GaussianRing().log_density, GaussianRing().assign):
        try:
            out = call(x)
        except (ValueError, TypeError) as exc:
            assert str(exc).startswith("x:")
        else:
            assert out.shape == (x.shape[0],) and not np.any(np.isnan(out))
