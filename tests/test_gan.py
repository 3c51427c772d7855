"""The GAN: both losses against their formulas, the two generator losses' gradients in closed
form (why the saturating one stalls), packing against concatenation by hand, the alternating
updates (each step moves only its own network), and short training runs on the ring."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes.autograd import Tensor, gradcheck
from genai_notes.data import GaussianRing
from genai_notes.gan import GAN, GANConfig, discriminator_loss, generator_loss, train_gan

RNG = np.random.default_rng(5)


def _t(a, grad=False):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, dtype=np.float64)


def _sig(x):
    return 1 / (1 + np.exp(-x))


def test_discriminator_loss_is_the_cross_entropy_of_real_against_fake():
    real, fake = RNG.normal(size=6), RNG.normal(size=4)
    expected = -np.log(_sig(real)).mean() - np.log(1 - _sig(fake)).mean()
    assert discriminator_loss(_t(real), _t(fake)).item() == pytest.approx(expected, rel=1e-12)
    report = gradcheck(discriminator_loss, [real, fake])
    assert report.passed, report


@pytest.mark.parametrize("saturating", [False, True])
def test_generator_losses_and_their_gradients(saturating):
    fake = np.array([-8.0, -2.0, 0.0, 3.0])
    value = generator_loss(_t(fake), saturating=saturating).item()
    if saturating:  # E log(1 - D(G(u)))
        assert value == pytest.approx(np.log(1 - _sig(fake)).mean(), rel=1e-12)
    else:  # E -log D(G(u))
        assert value == pytest.approx(-np.log(_sig(fake)).mean(), rel=1e-12)
    logits = _t(fake, grad=True)
    generator_loss(logits, saturating=saturating).backward()
    closed = -_sig(fake) if saturating else -(1 - _sig(fake))
    np.testing.assert_allclose(logits.grad, closed / fake.size, rtol=1e-12)
    report = gradcheck(lambda x: generator_loss(x, saturating=saturating), [fake])
    assert report.passed, report


def test_the_saturating_loss_stalls_where_the_discriminator_rejects():
    rejected = _t([-8.0], grad=True)
    generator_loss(rejected, saturating=True).backward()
    saturating = abs(rejected.grad[0])
    rejected = _t([-8.0], grad=True)
    generator_loss(rejected).backward()
    assert saturating < 1e-3 < 0.99 < abs(rejected.grad[0])


def test_packing_concatenates_consecutive_samples():
    gan = GAN(GANConfig(d_data=2, d_hidden=4, n_hidden=1, pack=3), rng=0).astype(np.float64)
    x = RNG.normal(size=(6, 2))
    w1, b1 = gan.discriminator.layers[0].weight.data, gan.discriminator.layers[0].bias.data
    w2, b2 = gan.discriminator.layers[1].weight.data, gan.discriminator.layers[1].bias.data
    packs = np.stack([np.concatenate(x[0:3]), np.concatenate(x[3:6])])  # (2, 6)
    by_hand = (np.maximum(packs @ w1 + b1, 0) @ w2 + b2)[:, 0]
    np.testing.assert_allclose(gan.discriminate(_t(x)).data, by_hand, rtol=1e-12)
    with pytest.raises(ValueError, match="multiple of pack=3"):
        gan.discriminate(_t(x[:4]))


def test_generator_gradient_through_the_discriminator():
    gan = GAN(GANConfig(d_data=2, d_noise=2, d_hidden=4, n_hidden=1, pack=2), rng=1)
    gan.astype(np.float64)
    u = RNG.normal(size=(4, 2))
    layer = gan.generator.layers[0]

    def loss_of(w):
        layer.weight = w
        return generator_loss(gan.discriminate(gan.generate(_t(u))))

    report = gradcheck(loss_of, [layer.weight.data.copy()])
    assert report.passed, report


def test_each_update_moves_only_its_own_network(monkeypatch):
    """Run one step of train_gan and check which parameters each optimiser step changed."""
    from genai_notes import gan as gan_module

    model = GAN(GANConfig(d_hidden=8, n_hidden=1), rng=0)
    d_before = [p.data.copy() for p in model.discriminator.parameters()]
    g_before = [p.data.copy() for p in model.generator.parameters()]
    seen = []
    original = gan_module.AdamW.step

    def step(self):
        seen.append([p is q for p, q in zip(self.params, model.generator.parameters())])
        original(self)

    monkeypatch.setattr(gan_module.AdamW, "step", step)
    ring = GaussianRing()
    train_gan(model, lambda n, rng: ring.sample(n, seed=rng), steps=1, batch_size=16)
    assert len(seen) == 2  # one step for D, then one for G
    assert not any(seen[0]) and all(seen[1])
    assert all((p.data != b).any() for p, b in zip(model.discriminator.parameters(), d_before))
    assert all((p.data != b).any() for p, b in zip(model.generator.parameters(), g_before))


def test_training_records_samples_and_moves_towards_the_ring():
    ring = GaussianRing()
    model = GAN(GANConfig(d_hidden=32), rng=0)
    history = train_gan(model, lambda n, rng: ring.sample(n, seed=rng), steps=300,
                        batch_size=64, lr=2e-3, seed=0, record_every=100, n_record=50)  # fmt: skip
    assert history.steps == [100, 200, 300] and len(history.d_loss) == 300
    assert all(s.shape == (50, 2) for s in history.samples)
    radius = np.linalg.norm(history.samples[-1], axis=1)
    assert abs(np.median(radius) - ring.radius) < 0.5  # from about 0 at the start
    again = train_gan(GAN(GANConfig(d_hidden=32), rng=0), lambda n, rng: ring.sample(n, seed=rng),
                      steps=300, batch_size=64, lr=2e-3, seed=0, n_record=50)  # fmt: skip
    assert again.d_loss == history.d_loss  # seeded, so reproducible


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="pack"):
        GANConfig(pack=0)
    model = GAN(GANConfig(pack=4), rng=0)
    with pytest.raises(ValueError, match="batch_size"):
        train_gan(model, lambda n, rng: np.zeros((n, 2)), steps=1, batch_size=10)
    with pytest.raises(ValueError, match="sample_real"):
        train_gan(model, lambda n, rng: np.zeros((n, 3)), steps=1, batch_size=8)
    with pytest.raises(TypeError, match="saturating"):
        generator_loss(_t([0.0]), saturating="yes")
    with pytest.raises(TypeError, match="real_logits"):
        discriminator_loss(np.zeros(2), _t([0.0]))
    with pytest.raises(ValueError, match="noise"):
        model.generate(np.zeros((2, 3)))
