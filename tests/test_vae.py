"""The VAE: the closed-form KL against Monte Carlo, the likelihoods against their densities,
the reparameterised sample and every loss term against finite differences in float64, and
a short training run that lowers the negative ELBO on glyphs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genai_notes.autograd import Tensor, gradcheck
from genai_notes.data.glyphs import draw_glyphs
from genai_notes.vae import (
    MLP,
    VAE,
    VAEConfig,
    bernoulli_nll,
    gaussian_kl,
    gaussian_nll,
    reparameterise,
    sigmoid,
    softplus,
    train_vae,
)

RNG = np.random.default_rng(12)


def _t(a):
    return Tensor(np.asarray(a, dtype=np.float64), dtype=np.float64)


def test_softplus_by_hand_and_far_out():
    x = np.array([-800.0, -1.0, 0.0, 2.0, 800.0])
    expected = [0.0, math.log1p(math.exp(-1.0)), math.log(2.0), 2.0 + math.log1p(math.exp(-2.0)),
                800.0]  # fmt: skip
    np.testing.assert_allclose(softplus(_t(x)).data, expected, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(sigmoid(np.array([-1.0, 3.0])), 1 / (1 + np.exp([1.0, -3.0])))


def test_softplus_gradient_is_the_sigmoid():
    report = gradcheck(lambda x: softplus(x), [RNG.normal(size=(3, 4)) * 3])
    assert report.passed, report


def test_kl_closed_form_matches_monte_carlo():
    mu = np.array([[0.5, -1.0, 0.0]])
    log_var = np.array([[0.0, -1.0, 0.7]])
    closed = gaussian_kl(mu, log_var).data[0]
    # Monte Carlo: E_q[log q(z) - log p(z)] with z ~ q, from 400k draws
    sd = np.exp(0.5 * log_var)
    z = mu + sd * np.random.default_rng(0).standard_normal((400_000, 3))
    log_q = -0.5 * (((z - mu) / sd) ** 2 + log_var + math.log(2 * math.pi)).sum(1)
    log_p = -0.5 * (z**2 + math.log(2 * math.pi)).sum(1)
    terms = log_q - log_p
    stderr = terms.std() / math.sqrt(terms.size)
    assert abs(terms.mean() - closed) < 4 * stderr
    # and by hand: ½ Σ (μ² + σ² − 1 − log σ²)
    by_hand = 0.5 * ((0.25 + 1 - 1 - 0) + (1 + math.exp(-1) - 1 + 1) + (math.exp(0.7) - 1 - 0.7))
    assert closed == pytest.approx(by_hand, rel=1e-12)


def test_kl_is_zero_only_at_the_prior():
    assert gaussian_kl(np.zeros((2, 3)), np.zeros((2, 3))).data.tolist() == [0.0, 0.0]
    assert (gaussian_kl(RNG.normal(size=(5, 2)), RNG.normal(size=(5, 2))).data > 0).all()


def test_kl_gradient():
    report = gradcheck(gaussian_kl, [RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))])
    assert report.passed, report


def test_reparameterised_sample_value_and_distribution():
    z = reparameterise(_t([[1.0, -2.0]]), _t([[math.log(9.0), 0.0]]), np.array([[0.5, -1.0]]))
    np.testing.assert_allclose(z.data, [[1.0 + 3.0 * 0.5, -2.0 - 1.0]], rtol=1e-14)
    eps = np.random.default_rng(1).standard_normal((200_000, 1))
    draws = reparameterise(_t(np.full((200_000, 1), 3.0)), _t(np.full((200_000, 1), -2.0)), eps)
    assert draws.data.mean() == pytest.approx(3.0, abs=0.01)
    assert draws.data.var() == pytest.approx(math.exp(-2.0), rel=0.02)


def test_reparameterised_sample_gradient_by_finite_differences():
    eps = RNG.normal(size=(3, 2))
    report = gradcheck(lambda m, lv: reparameterise(m, lv, eps),
                       [RNG.normal(size=(3, 2)), RNG.normal(size=(3, 2))])  # fmt: skip
    assert report.passed, report
    # and the closed form: dz/dμ = 1, dz/dlog σ² = ½ σ ε
    mu, lv = _t(np.zeros((3, 2))), _t(np.full((3, 2), 0.4))
    mu.requires_grad = lv.requires_grad = True
    reparameterise(mu, lv, eps).sum().backward()
    np.testing.assert_allclose(mu.grad, np.ones((3, 2)))
    np.testing.assert_allclose(lv.grad, 0.5 * math.exp(0.2) * eps, rtol=1e-12)


def test_bernoulli_nll_is_minus_log_of_the_bernoulli_probability():
    logits = RNG.normal(size=(2, 5))
    x = (RNG.random((2, 5)) < 0.5).astype(float)
    p = 1 / (1 + np.exp(-logits))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(1)
    np.testing.assert_allclose(bernoulli_nll(_t(logits), x).data, expected, rtol=1e-12)
    report = gradcheck(lambda lg: bernoulli_nll(lg, x), [logits])
    assert report.passed, report


def test_gaussian_nll_is_minus_the_log_density():
    mean, log_var, x = RNG.normal(size=(3, 2)), RNG.normal(size=2), RNG.normal(size=(3, 2))
    var = np.exp(log_var)
    expected = -np.log(np.exp(-((x - mean) ** 2) / (2 * var)) / np.sqrt(2 * np.pi * var)).sum(1)
    np.testing.assert_allclose(gaussian_nll(_t(mean), _t(log_var), x).data, expected, rtol=1e-12)
    report = gradcheck(lambda m, lv: gaussian_nll(m, lv, x), [mean, log_var])
    assert report.passed, report


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_whole_vae_loss_gradient_in_float64(likelihood):
    config = VAEConfig(d_data=4, d_hidden=5, d_latent=2, n_hidden=1, likelihood=likelihood)
    vae = VAE(config, rng=3).astype(np.float64)
    x = RNG.random((3, 4))
    layer = vae.encoder.layers[0]

    def loss_of(w_enc, w_dec):
        layer.weight, vae.decoder.layers[-1].weight = w_enc, w_dec
        return vae.loss(x, rng=7)  # the same ε on every call

    w0, w1 = layer.weight.data.copy(), vae.decoder.layers[-1].weight.data.copy()
    report = gradcheck(loss_of, [w0, w1])
    assert report.passed, report


def test_encode_decode_shapes_and_samples():
    vae = VAE(VAEConfig(d_data=6, d_hidden=8, d_latent=3), rng=0)
    mu, log_var = vae.encode(np.zeros((4, 6)))
    assert mu.shape == log_var.shape == (4, 3)
    assert vae.decode(np.zeros((2, 3))).shape == (2, 6)
    s = vae.sample(5, seed=1)
    assert s.shape == (5, 6) and set(np.unique(s)) <= {0.0, 1.0}
    m = vae.sample(5, seed=1, noise=False)
    assert ((m > 0) & (m < 1)).all()
    np.testing.assert_array_equal(vae.sample(5, seed=1), s)
    assert vae.reconstruct(np.zeros((2, 6))).shape == (2, 6)
    g = VAE(VAEConfig(d_data=2, d_hidden=8, likelihood="gaussian"), rng=0)
    assert g.sample(4, seed=0).shape == (4, 2)


def test_training_lowers_the_negative_elbo_on_glyphs():
    x = draw_glyphs(300, seed=0).images.reshape(300, -1)
    vae = VAE(VAEConfig(d_hidden=32, n_hidden=1), rng=0)
    history = train_vae(vae, x, steps=150, batch_size=32, lr=3e-3, seed=0)
    assert len(history.recon) == len(history.kl) == 150
    assert np.mean(history.loss[-20:]) < 0.7 * np.mean(history.loss[:5])
    assert min(history.kl) >= 0


def test_mlp_is_linear_relu_linear():
    mlp = MLP([2, 3, 1], rng=0).astype(np.float64)
    x = RNG.normal(size=(4, 2))
    w1, b1 = mlp.layers[0].weight.data, mlp.layers[0].bias.data
    w2, b2 = mlp.layers[1].weight.data, mlp.layers[1].bias.data
    np.testing.assert_allclose(mlp(_t(x)).data, np.maximum(x @ w1 + b1, 0) @ w2 + b2)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="likelihood"):
        VAEConfig(likelihood="poisson")
    with pytest.raises(TypeError, match="config"):
        VAE({"d_data": 3}, rng=0)
    vae = VAE(VAEConfig(d_data=4, d_hidden=4), rng=0)
    with pytest.raises(ValueError, match="x: expected shape"):
        vae.encode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="x: expected values in"):
        bernoulli_nll(_t(np.zeros((1, 2))), [[2.0, 0.0]])
    with pytest.raises(ValueError, match="eps"):
        reparameterise(_t(np.zeros((1, 2))), _t(np.zeros((1, 2))), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="log_var"):
        gaussian_kl(np.zeros((1, 2)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="sizes"):
        MLP([3], rng=0)
    with pytest.raises(ValueError, match="data: expected shape"):
        train_vae(vae, np.zeros((3, 5)), steps=1)
