"""A variational autoencoder (VAE): an encoder to a Gaussian over codes, a decoder back to data.

Chapter 12 trains it on the glyphs of :mod:`genai_notes.data.glyphs` (with a Bernoulli
likelihood) and on the 2-D toy data of :mod:`genai_notes.data.toy2d` (with a Gaussian one).

The model (Kingma and Welling, 2014). A code ``z`` of ``d_latent`` numbers has the prior
``p(z) = N(0, I)``; the decoder maps it to the parameters of ``p(x | z)``. The encoder maps a
data vector ``x`` to ``q(z | x) = N(μ(x), diag σ²(x))``, outputting ``μ`` and ``log σ²`` (a
log, so any real output is a valid variance). Training minimises the negative ELBO,

.. math::

    -\\mathrm{ELBO}(x) = \\underbrace{\\mathbb{E}_{q(z|x)}[-\\log p(x \\mid z)]}_{\\text{recon}}
        + \\underbrace{\\mathrm{KL}(q(z \\mid x) \\,\\|\\, p(z))}_{\\text{kl}}
        \\;\\ge\\; -\\log p(x),

the reconstruction term estimated with one sample ``z = μ + σ ⊙ ε``, ``ε ~ N(0, I)`` (the
reparameterisation trick: the randomness sits in ``ε``, so gradients reach ``μ`` and ``σ``),
and the KL term in closed form, ``½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²)``.

The two likelihoods, per data vector, in nats:

* ``"bernoulli"``: the decoder outputs logits ``ℓ`` and ``p(x | z) = Π_i p_i^x_i (1 −
  p_i)^(1 − x_i)`` with ``p = sigmoid(ℓ)``, so ``−log p(x | z) = Σ_i softplus(ℓ_i) − x_i ℓ_i``.
  Glyph pixels are grey levels in [0, 1], not 0 or 1; the same formula is then the binary
  cross-entropy with soft targets, no longer a normalised density over grey levels.
* ``"gaussian"``: the decoder outputs a mean ``m``, with one learned log-variance per data
  coordinate (``log_var_x``, shared by every ``z``):
  ``−log p(x | z) = ½ Σ_i ((x_i − m_i)² / s_i² + log s_i² + log 2π)``.

The MLP and :func:`softplus` defined here are reused by :mod:`genai_notes.gan`,
:mod:`genai_notes.diffusion` and :mod:`genai_notes.contrastive`.

>>> vae = VAE(VAEConfig(d_data=4, d_hidden=8, d_latent=2), rng=0)
>>> x = np.array([[0.0, 1.0, 1.0, 0.0]])
>>> recon, kl = vae.elbo_terms(x, rng=0)
>>> recon.shape, kl.shape, bool(kl.item() >= 0)
((), (), True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genai_notes._checks import (
    check_array,
    check_positive_int,
    check_real,
    check_rng,
    check_shape,
    check_str,
    describe,
)
from genai_notes.autograd import Tensor, exp, no_grad, relu
from genai_notes.autograd.shape_ops import split
from genai_notes.nn import AdamW, Linear, Module, Parameter

__all__ = [
    "softplus",
    "sigmoid",
    "MLP",
    "gaussian_kl",
    "reparameterise",
    "bernoulli_nll",
    "gaussian_nll",
    "VAEConfig",
    "VAE",
    "VAEHistory",
    "train_vae",
]

LIKELIHOODS = ("bernoulli", "gaussian")
LOG_2PI = math.log(2 * math.pi)


def softplus(x: Tensor) -> Tensor:
    """``softplus(x) = log(1 + e^x)``, any shape, computed as ``logaddexp(0, x)`` (no overflow).

    Its derivative is the logistic sigmoid, ``dx = g · σ(x)``. ``softplus(-ℓ) = −log σ(ℓ)``
    is the cross-entropy of a logit ``ℓ`` with the label 1, and ``softplus(ℓ)`` with the
    label 0.

    >>> softplus(Tensor([-30.0, 0.0, 30.0], dtype=np.float64)).data.round(4)
    array([ 0.    ,  0.6931, 30.    ])
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"x: expected a Tensor, got {describe(x)}")
    out = np.logaddexp(0.0, x.data).astype(x.dtype, copy=False)
    slope = (0.5 * np.tanh(0.5 * x.data) + 0.5).astype(x.dtype, copy=False)  # σ(x)
    return Tensor._node(out, (x,), lambda g: (g * slope,), "softplus")


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + e^-x)`` on an array, as ``(tanh(x/2) + 1) / 2``.

    >>> sigmoid(np.array([0.0, 100.0]))
    array([0.5, 1. ])
    """
    return 0.5 * np.tanh(0.5 * np.asarray(x, dtype=float)) + 0.5


class MLP(Module):
    """Linear layers with ReLU between them (none after the last): sizes ``(d_in, ..., d_out)``.

    x: ``(batch, d_in)`` -> ``(batch, d_out)``.

    >>> MLP([3, 5, 2], rng=0)(Tensor(np.ones((4, 3)))).shape
    (4, 2)
    """

    def __init__(self, sizes: Sequence[int], *, rng: Any) -> None:
        sizes = [check_positive_int(s, "sizes") for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"sizes: expected at least (d_in, d_out), got {sizes}")
        generator = check_rng(rng, "rng")
        self.layers = [Linear(a, b, rng=generator) for a, b in zip(sizes[:-1], sizes[1:])]

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers[:-1]:
            x = relu(layer(x))
        return self.layers[-1](x)


def _as_tensor(x: Any, name: str, dtype: Any = np.float64) -> Tensor:
    """A Tensor as is; an array as a Tensor of ``dtype`` (float64 unless said)."""
    if isinstance(x, Tensor):
        return x
    return Tensor(check_array(x, name, dtype_kind="fiu"), dtype=dtype)


def gaussian_kl(mu: Any, log_var: Any) -> Tensor:
    """``KL(N(μ, diag σ²) ‖ N(0, I))`` for each row, summed over the last axis, in nats.

    mu, log_var: ``(batch, d_latent)`` (Tensors, or arrays, taken as float64). Returns
    ``(batch,)``:
    ``½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²)``, which is 0 exactly when ``μ = 0`` and ``σ = 1``.

    >>> gaussian_kl(np.array([[1.0, 0.0]]), np.array([[0.0, 0.0]])).data
    array([0.5])
    """
    mu = _as_tensor(mu, "mu")
    log_var = _as_tensor(log_var, "log_var", mu.dtype)
    if mu.shape != log_var.shape:
        raise ValueError(f"log_var: expected the shape of mu {mu.shape}, got {log_var.shape}")
    return 0.5 * (mu * mu + exp(log_var) - 1.0 - log_var).sum(axis=-1)


def reparameterise(mu: Tensor, log_var: Tensor, eps: Any) -> Tensor:
    """The reparameterised sample ``z = μ + σ ⊙ ε`` with ``σ = exp(½ log σ²)``.

    mu, log_var: ``(batch, d_latent)`` Tensors; eps: standard normal noise of the same shape
    (an array, drawn by the caller). Gradients flow to ``mu`` and ``log_var``:
    ``∂z/∂μ = 1`` and ``∂z/∂ log σ² = ½ σ ε``.

    >>> z = reparameterise(Tensor([[1.0]]), Tensor([[np.log(4.0)]]), np.array([[0.5]]))
    >>> z.data   # 1 + 2 · 0.5
    array([[2.]], dtype=float32)
    """
    mu = _as_tensor(mu, "mu")
    log_var = _as_tensor(log_var, "log_var", mu.dtype)
    noise = check_shape(check_array(eps, "eps", dtype_kind="fiu"), "eps", mu.shape)
    if log_var.shape != mu.shape:
        raise ValueError(f"log_var: expected the shape of mu {mu.shape}, got {log_var.shape}")
    return mu + exp(0.5 * log_var) * noise.astype(mu.dtype)


def bernoulli_nll(logits: Tensor, x: Any) -> Tensor:
    """``−log p(x | z)`` for each row under independent Bernoullis with these logits, in nats.

    logits: ``(batch, d_data)`` Tensor; x: ``(batch, d_data)`` values in [0, 1].
    Returns ``(batch,)``: ``Σ_i softplus(ℓ_i) − x_i ℓ_i``.

    >>> bernoulli_nll(Tensor([[0.0, 0.0]], dtype=np.float64), [[1.0, 0.0]]).data.round(4)
    array([1.3863])
    """
    target = check_shape(check_array(x, "x", dtype_kind="fiu"), "x", logits.shape)
    if target.size and (target.min() < 0 or target.max() > 1):
        raise ValueError(f"x: expected values in [0, 1], got {describe(target)}")
    target = target.astype(logits.dtype)
    return (softplus(logits) - logits * target).sum(axis=-1)


def gaussian_nll(mean: Tensor, log_var: Tensor, x: Any) -> Tensor:
    """``−log N(x; mean, diag exp(log_var))`` for each row, in nats.

    mean: ``(batch, d_data)``; log_var: broadcastable to it (one per coordinate here);
    x: ``(batch, d_data)``. Returns ``(batch,)``.

    >>> gaussian_nll(Tensor([[0.0]], dtype=np.float64), Tensor([0.0], dtype=np.float64),
    ...              [[0.0]]).data.round(4)   # ½ log 2π
    array([0.9189])
    """
    target = check_shape(check_array(x, "x", dtype_kind="fiu"), "x", mean.shape)
    diff = mean - target.astype(mean.dtype)
    return 0.5 * (diff * diff * exp(-1.0 * log_var) + log_var + LOG_2PI).sum(axis=-1)


@dataclass
class VAEConfig:
    d_data: int = 256  # numbers per data vector: 16 × 16 glyph pixels, or 2 for a point
    d_hidden: int = 256  # width of the encoder's and the decoder's hidden layers
    d_latent: int = 2  # numbers per code z; 2 lets us draw the latent space as a map
    n_hidden: int = 2  # hidden layers in the encoder and in the decoder
    likelihood: str = "bernoulli"  # p(x | z): "bernoulli" (logits) or "gaussian" (mean)

    def __post_init__(self) -> None:
        for name in ("d_data", "d_hidden", "d_latent", "n_hidden"):
            setattr(self, name, check_positive_int(getattr(self, name), name))
        check_str(self.likelihood, "likelihood")
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood: expected one of {LIKELIHOODS}, got {self.likelihood!r}")


class VAE(Module):
    """Encoder MLP to ``(μ, log σ²)``, decoder MLP from ``z`` to the likelihood's parameters.

    x: ``(batch, d_data)``; codes: ``(batch, d_latent)``.
    """

    def __init__(self, config: VAEConfig, *, rng: Any) -> None:
        if not isinstance(config, VAEConfig):
            raise TypeError(f"config: expected a VAEConfig, got {describe(config)}")
        self.config = c = config
        generator = check_rng(rng, "rng")
        hidden = [c.d_hidden] * c.n_hidden
        self.encoder = MLP([c.d_data, *hidden, 2 * c.d_latent], rng=generator)
        self.decoder = MLP([c.d_latent, *hidden, c.d_data], rng=generator)
        if c.likelihood == "gaussian":
            self.log_var_x = Parameter(np.zeros(c.d_data))  # log s² per data coordinate

    def _input(self, x: Any) -> Tensor:
        t = _as_tensor(x, "x", self.encoder.layers[0].weight.dtype)
        check_shape(t.data, "x", (None, self.config.d_data))
        return t

    def encode(self, x: Any) -> tuple[Tensor, Tensor]:
        """x: ``(batch, d_data)`` -> ``(mu, log_var)``, each ``(batch, d_latent)``."""
        mu, log_var = split(self.encoder(self._input(x)), 2, axis=-1)
        return mu, log_var

    def decode(self, z: Any) -> Tensor:
        """z: ``(batch, d_latent)`` -> logits (Bernoulli) or means (Gaussian), ``(batch, d_data)``."""
        z = _as_tensor(z, "z", self.encoder.layers[0].weight.dtype)
        check_shape(z.data, "z", (None, self.config.d_latent))
        return self.decoder(z)

    def elbo_terms(self, x: Any, rng: Any) -> tuple[Tensor, Tensor]:
        """The two terms of the negative ELBO, each averaged over the batch, in nats.

        Returns ``(recon, kl)``: one-sample estimate of ``E_q[−log p(x | z)]`` and the
        closed-form ``KL(q(z | x) ‖ N(0, I))``. ``rng`` draws ``ε``.
        """
        x_t = self._input(x)
        mu, log_var = self.encode(x_t)
        eps = check_rng(rng, "rng").standard_normal(mu.shape)
        out = self.decode(reparameterise(mu, log_var, eps))
        if self.config.likelihood == "bernoulli":
            recon = bernoulli_nll(out, x_t.data)
        else:
            recon = gaussian_nll(out, self.log_var_x, x_t.data)
        return recon.mean(), gaussian_kl(mu, log_var).mean()

    def loss(self, x: Any, rng: Any) -> Tensor:
        """The negative ELBO averaged over the batch: ``recon + kl`` (a scalar Tensor)."""
        recon, kl = self.elbo_terms(x, rng)
        return recon + kl

    def mean_output(self, z: Any) -> np.ndarray:
        """The decoder's mean ``E[x | z]`` for codes z ``(n, d_latent)``: pixel probabilities
        (Bernoulli) or the Gaussian mean. Returns ``(n, d_data)``, without a graph."""
        with no_grad():
            out = self.decode(z).data.astype(np.float64)
        return sigmoid(out) if self.config.likelihood == "bernoulli" else out

    def reconstruct(self, x: Any) -> np.ndarray:
        """``E[x | z = μ(x)]``: decode each input's mean code. Returns ``(batch, d_data)``."""
        with no_grad():
            mu, _ = self.encode(x)
        return self.mean_output(mu.data)

    def sample(self, n: int, seed: Any = 0, noise: bool = True) -> np.ndarray:
        """``n`` new data vectors: ``z ~ N(0, I)``, decoded. Returns ``(n, d_data)``.

        ``noise=True`` draws from ``p(x | z)`` (Gaussian: the mean plus ``s ⊙ N(0, I)``;
        Bernoulli: 0 or 1 per pixel); ``False`` returns the decoder's mean.
        """
        n = check_positive_int(n, "n")
        rng = check_rng(seed)
        z = rng.standard_normal((n, self.config.d_latent))
        mean = self.mean_output(z)
        if not noise:
            return mean
        if self.config.likelihood == "gaussian":
            std = np.exp(0.5 * self.log_var_x.data.astype(np.float64))
            return mean + std * rng.standard_normal(mean.shape)
        return (rng.random(mean.shape) < mean).astype(np.float64)


@dataclass
class VAEHistory:
    """What :func:`train_vae` records at every step (batch means, nats per data vector)."""

    recon: list[float] = field(default_factory=list)  # reconstruction term
    kl: list[float] = field(default_factory=list)  # KL term

    @property
    def loss(self) -> list[float]:
        """The negative ELBO, recon + kl."""
        return [r + k for r, k in zip(self.recon, self.kl)]


def train_vae(
    model: VAE, data: Any, steps: int, batch_size: int = 128, lr: float = 1e-3, seed: int = 0
) -> VAEHistory:
    """Minimise the negative ELBO with AdamW on random mini-batches of ``data`` (n, d_data).

    One generator, seeded by ``seed``, draws the batches and the noise ``ε``, so a run is
    reproducible. Returns the per-step :class:`VAEHistory`.
    """
    if not isinstance(model, VAE):
        raise TypeError(f"model: expected a VAE, got {describe(model)}")
    x = check_shape(check_array(data, "data", ndim=2, dtype_kind="fiu"), "data",
                    (None, model.config.d_data))  # fmt: skip
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    rng = check_rng(seed)
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    history = VAEHistory()
    model.train()
    for _ in range(steps):
        batch = x[rng.integers(len(x), size=batch_size)]
        recon, kl = model.elbo_terms(batch, rng)
        optimizer.zero_grad()
        (recon + kl).backward()
        optimizer.step()
        history.recon.append(recon.item())
        history.kl.append(kl.item())
    return history
