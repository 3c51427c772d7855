"""A generative adversarial network (GAN): a generator against a discriminator.

Chapter 12 trains it on the ring of 8 Gaussians (:class:`genai_notes.data.GaussianRing`) and
measures mode collapse as a curve: modes covered over training.

**The game** (Goodfellow et al., 2014). The generator ``G`` maps noise ``u ~ N(0, I)`` to a
sample ``G(u)``; the discriminator ``D`` maps a sample to a logit ``ℓ``, with
``D(x) = σ(ℓ(x))`` its probability that ``x`` is real. ``D`` minimises the cross-entropy of
telling real (label 1) from generated (label 0)::

    L_D = E_x[−log D(x)] + E_u[−log(1 − D(G(u)))] = E softplus(−ℓ_real) + E softplus(ℓ_fake)

**The generator's loss, and why not the saturating one.** The minimax game has ``G``
minimise ``E log(1 − D(G(u))) = −E softplus(ℓ_fake)`` (the *saturating* loss). Its gradient
with respect to a fake's logit is ``−σ(ℓ)``: early in training ``D`` rejects the fakes
easily, ``ℓ`` is very negative, ``σ(ℓ) ≈ 0``, and ``G`` learns almost nothing exactly when it
is worst. The *non-saturating* loss ``E[−log D(G(u))] = E softplus(−ℓ_fake)`` has the same
fixed point and gradient ``−(1 − σ(ℓ)) ≈ −1`` there: strong when ``G`` is bad. We use it.

**Alternating updates.** Each step makes one AdamW step on ``D`` (with ``G`` fixed; the fakes
are constants) and then one on ``G`` (through a fresh pass of ``D``, whose parameters are not
updated then).

**Mode collapse and one mitigation: packing** (PacGAN, Lin et al., 2018). A generator that
puts all its samples on a few modes can fool a discriminator that judges one sample at a
time, since each sample looks real. With ``pack = m`` the discriminator judges ``m`` samples
at once, concatenated into one input of ``m · d`` numbers, all real or all generated. A
collapsed generator's packs hold near-duplicates, which real packs rarely do, so ``D`` can
tell them apart and pushes ``G`` to spread out. ``pack = 1`` is the plain GAN.

>>> gan = GAN(GANConfig(d_data=2, d_noise=2, d_hidden=8), rng=0)
>>> gan.sample(3, seed=0).shape
(3, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genai_notes._checks import (
    check_array,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_rng,
    check_shape,
    describe,
)
from genai_notes.autograd import Tensor, no_grad
from genai_notes.autograd.shape_ops import reshape
from genai_notes.nn import AdamW, Module
from genai_notes.vae import MLP, softplus

__all__ = [
    "discriminator_loss",
    "generator_loss",
    "GANConfig",
    "GAN",
    "GANHistory",
    "train_gan",
]


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """``E softplus(−ℓ_real) + E softplus(ℓ_fake)``: the cross-entropy of real-vs-generated.

    real_logits: ``(n_real,)`` or ``(n_real, 1)``; fake_logits likewise. A scalar Tensor in
    nats; ``2 log 2 ≈ 1.386`` when ``D`` says ½ to everything.

    >>> zero = Tensor([0.0], dtype=np.float64)
    >>> round(discriminator_loss(zero, zero).item(), 4)
    1.3863
    """
    for name, t in (("real_logits", real_logits), ("fake_logits", fake_logits)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {describe(t)}")
    return softplus(-1.0 * real_logits).mean() + softplus(fake_logits).mean()


def generator_loss(fake_logits: Tensor, saturating: bool = False) -> Tensor:
    """The generator's loss on the discriminator's logits for its samples.

    Non-saturating (the default): ``E[−log D(G(u))] = E softplus(−ℓ)``, gradient
    ``−(1 − σ(ℓ))`` per logit. Saturating (the minimax form, ``saturating=True``):
    ``E log(1 − D(G(u))) = −E softplus(ℓ)``, gradient ``−σ(ℓ)``, near 0 where ``D`` rejects.

    >>> l = Tensor([-5.0], dtype=np.float64)
    >>> round(generator_loss(l).item(), 4), round(generator_loss(l, saturating=True).item(), 4)
    (5.0067, -0.0067)
    """
    if not isinstance(fake_logits, Tensor):
        raise TypeError(f"fake_logits: expected a Tensor, got {describe(fake_logits)}")
    if not isinstance(saturating, bool):
        raise TypeError(f"saturating: expected True or False, got {describe(saturating)}")
    if saturating:
        return -1.0 * softplus(fake_logits).mean()
    return softplus(-1.0 * fake_logits).mean()


@dataclass
class GANConfig:
    d_data: int = 2  # numbers per sample
    d_noise: int = 2  # numbers of noise the generator reads
    d_hidden: int = 64  # width of every hidden layer, in both networks
    n_hidden: int = 2  # hidden layers in each network
    pack: int = 1  # samples the discriminator judges at once (PacGAN); 1 is the plain GAN

    def __post_init__(self) -> None:
        for name in ("d_data", "d_noise", "d_hidden", "n_hidden", "pack"):
            setattr(self, name, check_positive_int(getattr(self, name), name))


class GAN(Module):
    """A generator MLP ``(batch, d_noise) -> (batch, d_data)`` and a discriminator MLP
    ``(batch / pack, pack · d_data) -> (batch / pack, 1)`` logits."""

    def __init__(self, config: GANConfig, *, rng: Any) -> None:
        if not isinstance(config, GANConfig):
            raise TypeError(f"config: expected a GANConfig, got {describe(config)}")
        self.config = c = config
        generator = check_rng(rng, "rng")
        hidden = [c.d_hidden] * c.n_hidden
        self.generator = MLP([c.d_noise, *hidden, c.d_data], rng=generator)
        self.discriminator = MLP([c.pack * c.d_data, *hidden, 1], rng=generator)

    @property
    def dtype(self) -> np.dtype:
        return self.generator.layers[0].weight.dtype

    def generate(self, noise: Any) -> Tensor:
        """noise: ``(batch, d_noise)`` -> samples ``(batch, d_data)`` (a Tensor, with a graph)."""
        u = noise if isinstance(noise, Tensor) else Tensor(noise, dtype=self.dtype)
        check_shape(u.data, "noise", (None, self.config.d_noise))
        return self.generator(u)

    def discriminate(self, x: Any) -> Tensor:
        """x: ``(batch, d_data)`` with batch a multiple of ``pack`` -> logits ``(batch / pack,)``.

        Rows ``pack·k`` to ``pack·k + pack − 1`` form pack ``k``.
        """
        t = x if isinstance(x, Tensor) else Tensor(x, dtype=self.dtype)
        check_shape(t.data, "x", (None, self.config.d_data))
        m = self.config.pack
        if t.shape[0] % m:
            raise ValueError(
                f"x: expected a batch that is a multiple of pack={m}, got {t.shape[0]}"
            )
        packed = reshape(t, (t.shape[0] // m, m * self.config.d_data))
        return reshape(self.discriminator(packed), (t.shape[0] // m,))

    def sample(self, n: int, seed: Any = 0) -> np.ndarray:
        """``n`` samples ``G(u)`` with fresh noise, as a float64 array ``(n, d_data)``."""
        n = check_positive_int(n, "n")
        u = check_rng(seed).standard_normal((n, self.config.d_noise))
        with no_grad():
            return self.generate(u).data.astype(np.float64)


@dataclass
class GANHistory:
    """What :func:`train_gan` records."""

    d_loss: list[float] = field(default_factory=list)  # L_D at every step
    g_loss: list[float] = field(default_factory=list)  # the generator's loss at every step
    steps: list[int] = field(default_factory=list)  # steps after which samples were kept
    samples: list[np.ndarray] = field(default_factory=list)  # (n_record, d_data) each


def train_gan(
    model: GAN,
    sample_real: Callable[[int, np.random.Generator], np.ndarray],
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    saturating: bool = False,
    record_every: int = 0,
    n_record: int = 1000,
) -> GANHistory:
    """Alternating updates: one AdamW step on the discriminator, then one on the generator.

    sample_real(n, rng) returns ``n`` real samples ``(n, d_data)``. ``batch_size`` must be a
    multiple of ``pack``. Every ``record_every`` steps (0: never) the generator's samples for
    ``n_record`` fixed noise vectors are kept, to measure modes covered over training.
    Adam's β₁ is 0.5, the usual choice for GANs.
    """
    if not isinstance(model, GAN):
        raise TypeError(f"model: expected a GAN, got {describe(model)}")
    if not callable(sample_real):
        raise TypeError(f"sample_real: expected a function (n, rng), got {describe(sample_real)}")
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size % model.config.pack:
        raise ValueError(
            f"batch_size: expected a multiple of pack={model.config.pack}, got {batch_size}"
        )
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    record_every = check_nonnegative_int(record_every, "record_every")
    n_record = check_positive_int(n_record, "n_record")
    rng = check_rng(seed)
    fixed_noise = rng.standard_normal((n_record, model.config.d_noise))  # drawn even if unused
    opt_d = AdamW(model.discriminator.parameters(), lr=lr, betas=(0.5, 0.999), weight_decay=0.0)
    opt_g = AdamW(model.generator.parameters(), lr=lr, betas=(0.5, 0.999), weight_decay=0.0)
    history = GANHistory()
    d_noise = model.config.d_noise
    for step in range(1, steps + 1):
        real = check_shape(check_array(sample_real(batch_size, rng), "sample_real(n, rng)"),
                           "sample_real(n, rng)", (batch_size, model.config.d_data))  # fmt: skip
        with no_grad():  # the discriminator's step treats the fakes as constants
            fake = model.generate(rng.standard_normal((batch_size, d_noise))).data
        d_loss = discriminator_loss(model.discriminate(real), model.discriminate(fake))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = generator_loss(
            model.discriminate(model.generate(rng.standard_normal((batch_size, d_noise)))),
            saturating=saturating,
        )
        opt_g.zero_grad()
        opt_d.zero_grad()
        g_loss.backward()  # reaches D's parameters too; only the generator is stepped
        opt_g.step()
        history.d_loss.append(d_loss.item())
        history.g_loss.append(g_loss.item())
        if record_every and (step % record_every == 0 or step == steps):
            history.steps.append(step)
            with no_grad():
                history.samples.append(model.generate(fixed_noise).data.astype(np.float64))
    return history
