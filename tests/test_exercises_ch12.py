"""Chapter 12 exercises: the references agree with the package's models (another route: the
autograd engine's versions in vae, gan, diffusion and contrastive); then each typical
mistake, written as a learner would write it, gets its own diagnosis, and right answers
written differently pass."""

from __future__ import annotations

import numpy as np

from genai_notes.autograd import Tensor
from genai_notes.contrastive import symmetric_infonce
from genai_notes.diffusion import NoiseSchedule, q_sample
from genai_notes.exercises import ch12
from genai_notes.gan import discriminator_loss, generator_loss
from genai_notes.vae import gaussian_kl, reparameterise

RNG = np.random.default_rng(2)


def _t(a):
    return Tensor(np.asarray(a, dtype=np.float64), dtype=np.float64)


def test_references_match_the_package():
    mu, lv, eps = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    np.testing.assert_allclose(ch12.reparameterise(mu, lv, eps),
                               reparameterise(_t(mu), _t(lv), eps).data, rtol=1e-13)  # fmt: skip
    np.testing.assert_allclose(ch12.gaussian_kl(mu, lv), gaussian_kl(mu, lv).data, rtol=1e-13)
    real, fake = RNG.normal(size=5), RNG.normal(size=3)
    d, g = ch12.gan_losses(real, fake)
    np.testing.assert_allclose(d, discriminator_loss(_t(real), _t(fake)).item(), rtol=1e-13)
    np.testing.assert_allclose(g, generator_loss(_t(fake)).item(), rtol=1e-13)
    betas = np.array([0.05, 0.1, 0.2, 0.3])
    schedule = NoiseSchedule(np.concatenate([[0.0], betas]))
    x0, e = RNG.normal(size=(3, 2)), RNG.normal(size=(3, 2))
    for t in (1, 2, 4):
        np.testing.assert_allclose(ch12.noisy_sample(x0, t, e, betas),
                                   q_sample(x0, t, e, schedule), rtol=1e-13)  # fmt: skip
    s = RNG.normal(size=(4, 4))
    np.testing.assert_allclose(ch12.infonce(s, 0.3),
                               symmetric_infonce(_t(s), 0.3).item(), rtol=1e-12)  # fmt: skip


def test_every_reference_passes_its_own_check():
    for q in (ch12.q1, ch12.q2, ch12.q3, ch12.q4, ch12.q5):
        assert q.evaluate(q.reference).correct


def _message(question, answer):
    with np.errstate(all="ignore"):
        feedback = question.evaluate(answer)
    assert feedback.status == "incorrect", feedback
    return feedback.message


def test_reparameterise_mistakes():
    assert "is the variance" in _message(ch12.q1, lambda mu, lv, eps: mu + eps * np.exp(lv))
    assert "log_var is log σ², not σ" in _message(ch12.q1, lambda mu, lv, eps: eps * lv + mu)
    assert "add mu" in _message(ch12.q1, lambda mu, lv, eps: eps * np.sqrt(np.exp(lv)))
    assert "square root of log σ²" in _message(
        ch12.q1, lambda mu, lv, eps: mu + np.abs(lv) ** 0.5 * eps
    )
    assert ch12.q1.evaluate(lambda mu, lv, eps: mu + np.sqrt(np.exp(lv)) * eps).correct


def test_gaussian_kl_mistakes():
    def kl(half=0.5, reduce=np.sum, sign=-1.0, var=lambda lv: np.exp(lv), one=1.0):
        return lambda mu, lv: half * reduce(mu * mu + var(lv) - one + sign * lv, axis=1)

    assert "factor ½" in _message(ch12.q2, kl(half=1.0))
    assert "do not average" in _message(ch12.q2, kl(reduce=np.mean))
    assert "minus sign" in _message(ch12.q2, kl(sign=1.0))
    assert "not σ = exp" in _message(ch12.q2, kl(var=lambda lv: np.exp(lv / 2)))
    assert "− 1 per coordinate" in _message(ch12.q2, kl(one=0.0))
    assert ch12.q2.evaluate(
        lambda mu, lv: sum(0.5 * (mu[:, j] ** 2 + np.exp(lv[:, j]) - 1 - lv[:, j])
                           for j in range(mu.shape[1]))
    ).correct  # fmt: skip


def _log_sigmoid(x):
    return -np.log1p(np.exp(-x))


def test_gan_loss_mistakes():
    def d_loss(r, f):
        return -_log_sigmoid(r).mean() - np.log(1 - 1 / (1 + np.exp(-f))).mean()

    assert "saturating one" in _message(
        ch12.q3, lambda r, f: (d_loss(r, f), np.log(1 - 1 / (1 + np.exp(-f))).mean())
    )
    assert "not minus the discriminator's" in _message(
        ch12.q3, lambda r, f: (d_loss(r, f), -d_loss(r, f))
    )
    assert "labels are swapped" in _message(
        ch12.q3,
        lambda r, f: (-_log_sigmoid(-r).mean() - _log_sigmoid(f).mean(), -_log_sigmoid(f).mean()),
    )
    assert "pooled samples" in _message(
        ch12.q3,
        lambda r, f: (
            np.mean(np.concatenate([-_log_sigmoid(r), -_log_sigmoid(-f)])),
            -_log_sigmoid(f).mean(),
        ),
    )
    assert ch12.q3.evaluate(lambda r, f: (d_loss(r, f), -_log_sigmoid(f).mean())).correct


def test_noisy_sample_mistakes():
    def sample(ab_of):
        def noisy_sample(x0, t, eps, betas):
            ab = ab_of(betas, t)
            return ab**0.5 * x0 + (1 - ab) ** 0.5 * eps

        return noisy_sample

    assert "one step's" in _message(ch12.q4, sample(lambda b, t: 1 - b[t - 1]))
    assert "do not add" in _message(ch12.q4, sample(lambda b, t: 1 - np.sum(b[:t])))
    assert "includes step t" in _message(ch12.q4, sample(lambda b, t: np.prod(1 - b[: t - 1])))
    assert "square roots" in _message(
        ch12.q4,
        lambda x0, t, eps, b: np.cumprod(1 - b)[t - 1] * x0 + (1 - np.cumprod(1 - b)[t - 1]) * eps,
    )
    assert "swapped" in _message(
        ch12.q4,
        lambda x0, t, eps, b: (
            np.sqrt(1 - np.cumprod(1 - b)[t - 1]) * x0 + np.sqrt(np.cumprod(1 - b)[t - 1]) * eps
        ),
    )
    assert ch12.q4.evaluate(sample(lambda b, t: np.cumprod(1 - b)[t - 1])).correct


def _ce(z):
    # cross-entropy of each row with the diagonal target
    z = z - z.max(axis=1, keepdims=True)
    return -(np.diag(z) - np.log(np.exp(z).sum(axis=1)))


def test_infonce_mistakes():
    assert "only the image → caption" in _message(ch12.q5, lambda s, tau: _ce(s / tau).mean())
    assert "only the caption → image" in _message(ch12.q5, lambda s, tau: _ce(s.T / tau).mean())
    assert "divide the similarities" in _message(
        ch12.q5, lambda s, tau: (_ce(s).mean() + _ce(s.T).mean()) / 2
    )
    assert "not multiplied" in _message(
        ch12.q5, lambda s, tau: (_ce(s * tau).mean() + _ce(s.T * tau).mean()) / 2
    )
    assert "average the cross-entropy" in _message(
        ch12.q5, lambda s, tau: (_ce(s / tau).sum() + _ce(s.T / tau).sum()) / 2
    )
    assert ch12.q5.evaluate(
        lambda s, tau: (_ce(s / tau).mean() + _ce(s.T / tau).mean()) / 2
    ).correct
