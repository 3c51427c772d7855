"""The DDPM: the schedule's products by hand, the closed-form q(x_t | x_0) against iterated
noising, the sinusoidal time embedding, the noise predictor's gradient in float64, and the
ancestral sampler run with the exact noise predictor of Gaussian data, whose samples must
come out with the data's mean and variance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genai_notes.autograd import Tensor, gradcheck
from genai_notes.data import GaussianRing
from genai_notes.diffusion import (
    NoisePredictor,
    NoiseSchedule,
    ancestral_sample,
    ddpm_loss,
    noise_step_by_step,
    q_sample,
    time_embedding,
    train_ddpm,
)

RNG = np.random.default_rng(7)


def test_schedule_by_hand():
    s = NoiseSchedule(np.array([0.0, 0.1, 0.2, 0.5]))
    assert s.n_steps == 3
    np.testing.assert_allclose(s.alphas, [1.0, 0.9, 0.8, 0.5])
    np.testing.assert_allclose(s.alpha_bar, [1.0, 0.9, 0.72, 0.36])
    lin = NoiseSchedule.linear(5, 0.1, 0.5)
    np.testing.assert_allclose(lin.betas, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5])


def test_closed_form_matches_iterated_noising():
    s = NoiseSchedule.linear(20, 0.01, 0.3)
    x0 = np.full((200_000, 1), 1.5)
    path = noise_step_by_step(x0, s, seed=0)  # (21, n, 1)
    assert path.shape == (21, 200_000, 1)
    np.testing.assert_array_equal(path[0], x0)
    direct = q_sample(x0, np.full(len(x0), 0), np.zeros_like(x0), s)
    np.testing.assert_array_equal(direct, x0)
    for t in (1, 5, 20):
        ab = s.alpha_bar[t]
        iterated = path[t, :, 0]
        # mean √ᾱ x0, variance 1 − ᾱ; both to Monte-Carlo precision (n = 200k)
        assert iterated.mean() == pytest.approx(math.sqrt(ab) * 1.5, abs=0.01)
        assert iterated.var() == pytest.approx(1 - ab, rel=0.02)
        onestep = q_sample(x0, t, RNG.standard_normal(x0.shape), s)[:, 0]
        assert onestep.mean() == pytest.approx(iterated.mean(), abs=0.015)
        assert onestep.var() == pytest.approx(iterated.var(), rel=0.03)


def test_q_sample_by_hand_with_per_row_steps():
    s = NoiseSchedule(np.array([0.0, 0.75, 0.5]))  # ᾱ = 1, 0.25, 0.125
    x0, eps = np.array([[2.0], [2.0]]), np.array([[1.0], [1.0]])
    expected = [[0.5 * 2 + math.sqrt(0.75)], [math.sqrt(0.125) * 2 + math.sqrt(0.875)]]
    np.testing.assert_allclose(q_sample(x0, np.array([1, 2]), eps, s), expected, rtol=1e-14)


def test_time_embedding_by_hand():
    e = time_embedding(np.array([0, 3]), 4, max_period=100.0)  # ω = 1, 0.1
    np.testing.assert_allclose(e[1], [math.sin(3), math.sin(0.3), math.cos(3), math.cos(0.3)])
    np.testing.assert_allclose(e[0], [0, 0, 1, 1])


def test_noise_predictor_gradient_in_float64():
    model = NoisePredictor(2, d_hidden=6, n_hidden=2, d_time=4, rng=0).astype(np.float64)
    t = np.array([1, 4, 9])
    report = gradcheck(lambda x: model(x, t), [RNG.normal(size=(3, 2))])
    assert report.passed, report
    layer = model.time_layers[1]

    def by_time_weight(w):
        layer.weight = w
        return model(np.ones((3, 2)), t)

    report = gradcheck(by_time_weight, [layer.weight.data.copy()])
    assert report.passed, report


def test_the_prediction_depends_on_the_step():
    model = NoisePredictor(2, d_hidden=8, rng=0)
    x = np.zeros((2, 2))
    out = model(x, np.array([1, 50])).data
    assert not np.allclose(out[0], out[1])


class _ExactNoisePredictor:
    """E[ε | x_t] for data N(m, v) in 1-D: x_t = √ᾱ x0 + √(1 − ᾱ) ε is Gaussian with
    Cov(ε, x_t) = √(1 − ᾱ) and Var(x_t) = ᾱ v + 1 − ᾱ."""

    d_data = 1

    def __init__(self, schedule, m, v):
        self.ab, self.m, self.v = schedule.alpha_bar, m, v

    def __call__(self, x, t):
        ab = self.ab[t][:, None]
        eps = np.sqrt(1 - ab) * (x - np.sqrt(ab) * self.m) / (ab * self.v + 1 - ab)
        return Tensor(eps, dtype=np.float64)


def test_ancestral_sampling_with_the_exact_predictor_recovers_gaussian_data():
    s = NoiseSchedule.linear(200, 1e-4, 0.08)
    assert s.alpha_bar[-1] < 1e-3
    m, v = 1.0, 0.25
    path = ancestral_sample(_ExactNoisePredictor(s, m, v), s, 40_000, seed=0, return_path=True)
    assert path.shape == (201, 40_000, 1)
    x = path[0, :, 0]
    assert x.mean() == pytest.approx(m, abs=0.02)
    assert x.var() == pytest.approx(v, rel=0.05)
    assert path[-1, :, 0].var() == pytest.approx(1.0, rel=0.05)  # starts from N(0, 1)
    again = ancestral_sample(_ExactNoisePredictor(s, m, v), s, 40_000, seed=0)
    np.testing.assert_array_equal(again, path[0])


def test_training_lowers_the_loss_below_the_untrained_level():
    ring = GaussianRing()
    data = ring.sample(2000, seed=0)
    s = NoiseSchedule.linear(50, 1e-3, 0.3)
    model = NoisePredictor(2, d_hidden=32, n_hidden=2, rng=0)
    history = train_ddpm(model, data, s, steps=300, batch_size=64, lr=3e-3, seed=0)
    # predicting ε = 0 would cost E‖ε‖² = 2; a trained model does better
    assert np.mean(history.loss[-50:]) < 1.2
    value = ddpm_loss(model, data[:256], s, rng=1).item()
    assert value < 1.4


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="betas"):
        NoiseSchedule(np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="betas"):
        NoiseSchedule(np.array([0.0, 1.0]))
    s = NoiseSchedule.linear(4)
    with pytest.raises(ValueError, match="t: expected steps in"):
        q_sample(np.zeros((2, 1)), 5, np.zeros((2, 1)), s)
    with pytest.raises(ValueError, match="eps"):
        q_sample(np.zeros((2, 1)), 1, np.zeros((2, 2)), s)
    with pytest.raises(ValueError, match="d_embed"):
        time_embedding(np.array([1]), 3)
    with pytest.raises(TypeError, match="schedule"):
        q_sample(np.zeros((1, 1)), 0, np.zeros((1, 1)), [0.0, 0.1])
    with pytest.raises(ValueError, match="t: expected shape"):
        NoisePredictor(2, rng=0)(np.zeros((3, 2)), np.array([1, 2]))
