"""Exercises for chapter 12, "VAEs, GANs and diffusion": the reparameterised sample, the
Gaussian KL term of the ELBO, the GAN's two losses, a draw from q(x_t | x_0) for a given
schedule, and the symmetric InfoNCE loss of a similarity matrix.

Each question keeps together its reference solution (named as the learner's function is
named, since ``solution()`` prints it), its test cases, its typical mistakes and its hints.
:mod:`genai_notes.vae`, :mod:`genai_notes.gan`, :mod:`genai_notes.diffusion` and
:mod:`genai_notes.contrastive` compute the same things on the autograd engine, and
``tests/test_exercises_ch12.py`` checks that they agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genai_notes.exercises.core import Mistake, Question, bind

_rng = np.random.default_rng(12)


def _named(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    function.__name__ = name
    return function


def _softplus(x):
    return np.logaddexp(0.0, x)


# --- Exercise 1: reparameterise -----------------------------------------------------------


def reparameterise(mu, log_var, eps):
    # mu, log_var, eps: (batch, d_latent); eps is standard normal noise
    sigma = np.exp(0.5 * log_var)  # the standard deviation, from the log-variance
    return mu + sigma * eps


_REPARAM_CASES = [
    (np.array([[0.5, -1.0]]), np.array([[0.8, -0.6]]), np.array([[1.2, -0.7]])),
    (_rng.normal(size=(3, 2)).round(2), _rng.normal(size=(3, 2)).round(2),
     _rng.normal(size=(3, 2)).round(2)),
]  # fmt: skip

q1 = Question(
    "Write reparameterise(mu, log_var, eps): the reparameterised sample z = μ + σ ⊙ ε of the "
    "encoder's Gaussian, where the encoder outputs μ and log σ² (log_var), and eps is standard "
    "normal noise of the same shape (batch, d_latent).",
    kind="function",
    reference=reparameterise,
    cases=_REPARAM_CASES,
    hints=[
        "log_var is log σ², the log of the variance. What is σ in terms of it?",
        "σ = exp(log_var / 2); then scale the noise by σ and shift it by μ.",
    ],
    mistakes=[
        Mistake(
            _named("variance", lambda mu, log_var, eps: mu + np.exp(log_var) * eps),
            "exp(log_var) is the variance σ², not the standard deviation: the noise is scaled "
            "by σ = exp(log_var / 2)",
        ),
        Mistake(
            _named("log_var_as_sigma", lambda mu, log_var, eps: mu + log_var * eps),
            "log_var is log σ², not σ: exponentiate half of it to get the standard deviation",
        ),
        Mistake(
            _named("no_mean", lambda mu, log_var, eps: np.exp(0.5 * log_var) * eps),
            "the sample is centred on μ: add mu to the scaled noise",
        ),
        Mistake(
            _named("sqrt_log_var", lambda mu, log_var, eps: mu + np.sqrt(np.abs(log_var)) * eps),
            "the square root of log σ² is not σ; σ = exp(log_var / 2)",
        ),
    ],
    locate=lambda case, path: f"example {path[0]}, latent coordinate {path[1]}",
)


# --- Exercise 2: gaussian_kl --------------------------------------------------------------


def gaussian_kl(mu, log_var):
    # KL(N(mu, diag sigma^2) || N(0, I)) for each example: (batch, d_latent) -> (batch,)
    per_coordinate = mu**2 + np.exp(log_var) - 1.0 - log_var
    return 0.5 * per_coordinate.sum(axis=1)


_KL_CASES = [
    (np.array([[0.0, 0.0]]), np.array([[0.0, 0.0]])),
    (np.array([[1.0, -0.5, 0.2]]), np.array([[0.3, -1.0, 0.0]])),
    (_rng.normal(size=(3, 2)).round(2), _rng.normal(size=(3, 2)).round(2)),
]

q2 = Question(
    "Write gaussian_kl(mu, log_var): the KL divergence KL(N(μ, diag σ²) ‖ N(0, I)) of each "
    "example, summed over the latent coordinates, for mu and log_var of shape "
    "(batch, d_latent). Return shape (batch,).",
    kind="function",
    reference=gaussian_kl,
    cases=_KL_CASES,
    hints=[
        "Per coordinate the KL is ½ (μ² + σ² − 1 − log σ²); σ² = exp(log_var).",
        "Sum over axis 1 (the latent coordinates), keeping one number per example.",
    ],
    mistakes=[
        Mistake(
            _named("no_half", lambda mu, log_var: (mu**2 + np.exp(log_var) - 1 - log_var).sum(1)),
            "the KL has a factor ½ in front: ½ Σ (μ² + σ² − 1 − log σ²)",
        ),
        Mistake(
            _named("mean", lambda mu, log_var: 0.5 * (mu**2 + np.exp(log_var) - 1 - log_var).mean(1)),
            "the coordinates are independent, so their KLs add: sum over the latent "
            "coordinates, do not average",
        ),
        Mistake(
            _named("plus_log", lambda mu, log_var: 0.5 * (mu**2 + np.exp(log_var) - 1 + log_var).sum(1)),
            "the log-variance enters with a minus sign, ½ (μ² + σ² − 1 − log σ²); with a plus "
            "sign the KL of the prior with itself would not be 0 for σ ≠ 1",
        ),
        Mistake(
            _named("sigma_not_var",
                   lambda mu, log_var: 0.5 * (mu**2 + np.exp(0.5 * log_var) - 1 - log_var).sum(1)),
            "the formula needs the variance σ² = exp(log_var), not σ = exp(log_var / 2)",
        ),
        Mistake(
            _named("no_minus_one", lambda mu, log_var: 0.5 * (mu**2 + np.exp(log_var) - log_var).sum(1)),
            "the − 1 per coordinate is missing: the KL of the prior with itself must be 0",
        ),
    ],
    locate=lambda case, path: f"example {path[0]}" if path else None,
)  # fmt: skip


# --- Exercise 3: gan_losses ---------------------------------------------------------------


def gan_losses(real_logits, fake_logits):
    # logits of the discriminator: (n_real,) on data, (n_fake,) on the generator's samples
    # -log D(x) = softplus(-logit), -log(1 - D(x)) = softplus(logit)
    d_loss = np.logaddexp(0, -real_logits).mean() + np.logaddexp(0, fake_logits).mean()
    g_loss = np.logaddexp(0, -fake_logits).mean()  # non-saturating: -log D(G(u))
    return d_loss, g_loss


_GAN_CASES = [
    (np.array([2.0, 1.0, 0.5]), np.array([-3.0, -1.0])),
    (np.array([0.3, -0.4]), np.array([1.5, -2.5, 0.0, 4.0])),
]

q3 = Question(
    "Write gan_losses(real_logits, fake_logits): the discriminator's logits ℓ on real data and "
    "on generated samples, with D = sigmoid(ℓ). Return (d_loss, g_loss): the discriminator's "
    "cross-entropy E[−log D(x)] + E[−log(1 − D(G(u)))], and the generator's non-saturating "
    "loss E[−log D(G(u))], each a mean over its samples.",
    kind="function",
    reference=gan_losses,
    cases=_GAN_CASES,
    hints=[
        "−log sigmoid(ℓ) = log(1 + e^−ℓ) = np.logaddexp(0, −ℓ), and "
        "−log(1 − sigmoid(ℓ)) = np.logaddexp(0, ℓ).",
        "The discriminator labels real samples 1 and fakes 0; the generator wants its fakes "
        "labelled 1.",
    ],
    mistakes=[
        Mistake(
            _named("saturating", lambda r, f: (
                _softplus(-r).mean() + _softplus(f).mean(), -_softplus(f).mean())),
            "that generator loss is the saturating one, E log(1 − D(G(u))); use "
            "E[−log D(G(u))], whose gradient stays large while D rejects the fakes",
        ),
        Mistake(
            _named("minimax_sign", lambda r, f: (
                _softplus(-r).mean() + _softplus(f).mean(),
                -(_softplus(-r).mean() + _softplus(f).mean()))),
            "the generator's loss is not minus the discriminator's: it reads only the fakes, "
            "E[−log D(G(u))]",
        ),
        Mistake(
            _named("labels_swapped", lambda r, f: (
                _softplus(r).mean() + _softplus(-f).mean(), _softplus(-f).mean())),
            "the discriminator's labels are swapped: real samples get label 1, so their term "
            "is −log D(x) = softplus(−ℓ), and fakes get −log(1 − D) = softplus(ℓ)",
        ),
        Mistake(
            _named("pooled_mean", lambda r, f: (
                np.concatenate([_softplus(-r), _softplus(f)]).mean(), _softplus(-f).mean())),
            "take the mean of each term over its own samples, then add the two means; one "
            "mean over the pooled samples weights them by the batch sizes",
        ),
    ],
    locate=lambda case, path: ("d_loss", "g_loss")[path[0]] if path else None,
)  # fmt: skip


# --- Exercise 4: noisy_sample -------------------------------------------------------------


def noisy_sample(x0, t, eps, betas):
    # x0, eps: (n, d); t: the step, 1..T; betas: (T,), betas[s - 1] is beta_s
    alpha_bar = np.prod(1.0 - betas[:t])  # alpha_1 * ... * alpha_t
    return np.sqrt(alpha_bar) * x0 + np.sqrt(1.0 - alpha_bar) * eps


_BETAS = np.array([0.1, 0.2, 0.3, 0.4])
_NOISE_CASES = [
    (np.array([[1.0, -2.0]]), 1, np.array([[0.5, 0.5]]), _BETAS),
    (np.array([[1.0, -2.0], [0.0, 3.0]]), 3, np.array([[0.5, -1.0], [2.0, 0.1]]), _BETAS),
    (np.array([[2.0]]), 4, np.array([[-1.0]]), _BETAS),
]


def _alpha_bar_variant(x0, t, eps, betas, alpha_bar):
    return np.sqrt(alpha_bar) * x0 + np.sqrt(1.0 - alpha_bar) * eps


q4 = Question(
    "Write noisy_sample(x0, t, eps, betas): the draw x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε from "
    "q(x_t | x_0), for the schedule betas (shape (T,), betas[s − 1] = β_s), a step t in 1..T, "
    "data x0 and standard normal noise eps of shape (n, d). ᾱ_t = (1 − β_1) ⋯ (1 − β_t).",
    kind="function",
    reference=noisy_sample,
    cases=_NOISE_CASES,
    hints=[
        "ᾱ_t is a product over the first t steps: np.prod(1 - betas[:t]).",
        "The data is scaled by the square root of ᾱ_t and the noise by the square root of "
        "1 − ᾱ_t, so the variances add up to 1 for unit-variance data.",
    ],
    mistakes=[
        Mistake(
            _named("one_step", lambda x0, t, eps, betas: _alpha_bar_variant(
                x0, t, eps, betas, 1 - betas[t - 1])),
            "that is one step's α_t = 1 − β_t; q(x_t | x_0) composes t steps, so use the "
            "product ᾱ_t = (1 − β_1) ⋯ (1 − β_t)",
        ),
        Mistake(
            _named("sum_of_betas", lambda x0, t, eps, betas: _alpha_bar_variant(
                x0, t, eps, betas, 1 - betas[:t].sum())),
            "the steps multiply, they do not add: ᾱ_t is the product of the (1 − β_s), not "
            "1 − Σ β_s",
        ),
        Mistake(
            _named("off_by_one", lambda x0, t, eps, betas: _alpha_bar_variant(
                x0, t, eps, betas, np.prod(1 - betas[: t - 1]))),
            "ᾱ_t includes step t itself: multiply the first t factors, betas[:t]",
        ),
        Mistake(
            _named("no_sqrt", lambda x0, t, eps, betas: np.prod(1 - betas[:t]) * x0
                   + (1 - np.prod(1 - betas[:t])) * eps),
            "ᾱ_t and 1 − ᾱ_t are variances; the data and the noise are scaled by their square "
            "roots",
        ),
        Mistake(
            _named("swapped", lambda x0, t, eps, betas: np.sqrt(1 - np.prod(1 - betas[:t])) * x0
                   + np.sqrt(np.prod(1 - betas[:t])) * eps),
            "the weights are swapped: the data keeps √ᾱ_t, which shrinks as t grows, and the "
            "noise gets √(1 − ᾱ_t)",
        ),
    ],
    locate=lambda case, path: f"point {path[0]}, coordinate {path[1]}",
)  # fmt: skip


# --- Exercise 5: infonce ------------------------------------------------------------------


def infonce(similarity, temperature):
    # similarity: (n, n), entry [i, j] = image i . caption j; pairs (i, i) match
    logits = similarity / temperature
    n = len(logits)
    log_rows = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)  # image -> caption
    log_cols = logits - np.logaddexp.reduce(logits, axis=0, keepdims=True)  # caption -> image
    diagonal = np.arange(n)
    return -0.5 * (log_rows[diagonal, diagonal].mean() + log_cols[diagonal, diagonal].mean())


def _rows_only(similarity, temperature):
    z = similarity / temperature
    return -(np.diag(z) - np.logaddexp.reduce(z, axis=1)).mean()


def _cols_only(similarity, temperature):
    z = similarity / temperature
    return -(np.diag(z) - np.logaddexp.reduce(z, axis=0)).mean()


_INFONCE_CASES = [
    (np.array([[0.9, 0.1, -0.2], [0.3, 0.8, 0.0], [0.5, -0.1, 0.7]]), 0.5),
    (np.array([[1.0, 0.2, 0.6], [-0.4, 0.5, 0.1], [0.0, 0.9, 0.3]]), 0.1),
]

q5 = Question(
    "Write infonce(similarity, temperature): the symmetric InfoNCE loss of an (n, n) matrix "
    "whose entry [i, j] is the similarity of image i and caption j, the matching pairs on the "
    "diagonal. Divide by the temperature, then average the cross-entropy of each row "
    "(image → its caption) and of each column (caption → its image).",
    kind="function",
    reference=infonce,
    cases=_INFONCE_CASES,
    hints=[
        "Row i's loss is −log softmax(row i)[i]; column j's is −log softmax(column j)[j].",
        "The result is ½ (mean over rows + mean over columns). np.logaddexp.reduce(z, axis=1) "
        "is a stable log Σ exp over a row.",
    ],
    mistakes=[
        Mistake(
            _named("rows_only", _rows_only),
            "that is only the image → caption direction (the rows); InfoNCE here is "
            "symmetric: average it with the caption → image direction (the columns)",
        ),
        Mistake(
            _named("cols_only", _cols_only),
            "that is only the caption → image direction (the columns); average it with the "
            "rows' cross-entropy too",
        ),
        Mistake(
            _named("no_temperature", lambda s, tau: infonce(s, 1.0)),
            "divide the similarities by the temperature before the softmax",
        ),
        Mistake(
            _named("times_temperature", lambda s, tau: infonce(s * tau * tau, tau)),
            "the similarities are divided by the temperature, not multiplied",
        ),
        Mistake(
            _named("summed", lambda s, tau: 0.5 * len(s) * (_rows_only(s, tau) + _cols_only(s, tau))),
            "average the cross-entropy over the n pairs; a sum grows with the batch size",
        ),
    ],
)  # fmt: skip

bind(globals())
