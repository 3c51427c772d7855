"""Modules: parameter discovery, state dicts and .npz files, layers, attention masks."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes.attention import padding_mask
from genai_notes.autograd import Tensor, gradcheck
from genai_notes.nn import (
    Block,
    Dropout,
    Embedding,
    FeedForward,
    LayerNorm,
    Linear,
    Module,
    MultiHeadAttention,
)

RNG = np.random.default_rng(3)


class TwoLayer(Module):
    def __init__(self) -> None:
        self.first = Linear(3, 4, rng=0)
        self.layers = [Linear(4, 4, rng=1), LayerNorm(4)]
        self.scale = 2.0  # not a parameter

    def forward(self, x: Tensor) -> Tensor:
        return self.layers[1](self.layers[0](self.first(x))) * self.scale


def test_named_parameters_in_assignment_order():
    names = [name for name, _ in TwoLayer().named_parameters()]
    assert names == [
        "first.weight",
        "first.bias",
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ]
    assert TwoLayer().num_parameters() == (3 * 4 + 4) + (4 * 4 + 4) + 2 * 4


def test_block_parameter_count_by_hand():
    d = 8  # 2 LayerNorms (2·2d) + q (d²+d) + kv (2d²+2d) + out (d²+d) + FFN (4d²+4d + 4d²+d)
    assert Block(d, 2, rng=0).num_parameters() == 4 * d + 12 * d * d + 9 * d
    cross = Block(d, 2, cross_attention=True, rng=0)
    assert cross.num_parameters() == 6 * d + 16 * d * d + 13 * d


def test_state_dict_round_trip_through_npz(tmp_path):
    model, other = TwoLayer(), TwoLayer()
    for p in other.parameters():
        p.data = p.data + 1.0
    x = Tensor(RNG.standard_normal((5, 3)))
    model.save(tmp_path / "weights.npz")
    other.load(tmp_path / "weights.npz")
    np.testing.assert_array_equal(other(x).data, model(x).data)
    state = model.state_dict()
    state["first.bias"][:] = 7.0  # a copy: the model is unchanged
    assert not np.any(model.first.bias.data == 7.0)


def test_load_state_dict_names_bad_keys_and_shapes():
    model = TwoLayer()
    state = model.state_dict()
    del state["first.bias"]
    state["extra.weight"] = np.zeros(2)
    with pytest.raises(
        KeyError,
        match=r"missing keys \['first.bias'\].*unexpected keys "
        r"\['extra.weight'\]",
    ):
        model.load_state_dict(state)
    state = model.state_dict()
    state["layers.0.weight"] = np.zeros((4, 5))
    with pytest.raises(ValueError, match=r"layers.0.weight: expected \(4, 4\), got \(4, 5\)"):
        model.load_state_dict(state)


def test_load_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"first.weight": np.array([object()], dtype=object)})
    with pytest.raises(
        ValueError, match="evil.npz: first.weight: expected real numbers, got dtype object"
    ):
        TwoLayer().load(path)


def test_train_eval_and_dropout():
    model = TwoLayer()
    model.drop = Dropout(0.5, rng=0)
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    x = Tensor(np.ones((4, 4)))
    assert model.drop(x) is x
    model.train()
    assert model.drop.training
    dropped = model.drop(x).data
    assert set(np.unique(dropped)) <= {0.0, 2.0} and (dropped == 0).any()


def test_zero_grad_and_astype():
    model = TwoLayer()
    model(Tensor(np.ones((2, 3)))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.astype(np.float64)
    assert all(p.dtype == np.float64 for p in model.parameters())


def test_linear_and_embedding_initialisation_scales():
    lin = Linear(400, 300, rng=0)
    assert lin.weight.data.std() == pytest.approx(400**-0.5, rel=0.02)
    np.testing.assert_array_equal(lin.bias.data, 0.0)
    emb = Embedding(1000, 64, rng=0)
    assert emb.weight.data.std() == pytest.approx(0.02, rel=0.02)
    assert Linear(3, 2, bias=False, rng=0).bias is None


def test_layer_norm_module_statistics():
    y = LayerNorm(32)(Tensor(RNG.standard_normal((10, 32)) * 4 + 1)).data
    np.testing.assert_allclose(y.mean(-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(-1), 1.0, rtol=1e-3)


def test_same_seed_same_weights_different_seed_different():
    a, b, c = (Block(8, 2, rng=s).state_dict() for s in (0, 0, 1))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["attn.in_proj.weight"], c["attn.in_proj.weight"])


def test_causal_attention_ignores_the_future():
    mha = MultiHeadAttention(8, 2, causal=True, rng=0)
    x = RNG.standard_normal((2, 6, 8))
    changed = x.copy()
    changed[:, 4:] += 5.0  # alter positions 4 and 5
    a, b = mha(Tensor(x)).data, mha(Tensor(changed)).data
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=1e-6, atol=1e-6)
    assert not np.allclose(a[:, 4:], b[:, 4:])


def test_bidirectional_attention_sees_the_future():
    mha = MultiHeadAttention(8, 2, causal=False, rng=0)
    x = RNG.standard_normal((1, 5, 8))
    changed = x.copy()
    changed[:, 4] += 5.0
    assert not np.allclose(mha(Tensor(x)).data[:, 0], mha(Tensor(changed)).data[:, 0])


def test_cross_attention_padding_keys_are_ignored():
    mha = MultiHeadAttention(8, 2, rng=0)
    x = Tensor(RNG.standard_normal((2, 3, 8)))
    memory = RNG.standard_normal((2, 5, 8))
    mask = padding_mask(np.array([5, 2]), 5)
    changed = memory.copy()
    changed[1, 2:] = 100.0  # padding of sequence 1
    a = mha(x, memory=Tensor(memory), mask=mask).data
    b = mha(x, memory=Tensor(changed), mask=mask).data
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert a.shape == (2, 3, 8)


def test_module_gradients_match_finite_differences():
    block = Block(4, 2, cross_attention=True, causal=True, rng=0).astype(np.float64)
    mask = padding_mask(np.array([3, 2]), 3)
    report = gradcheck(
        lambda x, m: block(x, memory=m, memory_mask=mask),
        [RNG.standard_normal((2, 4, 4)), RNG.standard_normal((2, 3, 4))],
    )
    assert report.passed, str(report)
    ffn = FeedForward(4, 8, rng=0).astype(np.float64)
    assert gradcheck(ffn, [RNG.standard_normal((2, 3, 4))]).passed


def test_parameter_gradients_match_finite_differences():
    block = Block(4, 2, causal=True, rng=0).astype(np.float64)
    x = Tensor(RNG.standard_normal((2, 3, 4)), dtype=np.float64)
    weights = RNG.standard_normal((2, 3, 4))
    (block(x) * weights).sum().backward()
    for name, p in block.named_parameters():
        analytic = p.grad.copy()
        numeric = np.zeros_like(p.data)
        for i in np.ndindex(p.shape):
            old = p.data[i]
            p.data[i] = old + 1e-5
            plus = float((block(x).data * weights).sum())
            p.data[i] = old - 1e-5
            minus = float((block(x).data * weights).sum())
            p.data[i] = old
            numeric[i] = (plus - minus) / 2e-5
        scale = np.maximum(np.maximum(np.abs(numeric), np.abs(analytic)), 1e-3)
        err = np.max(np.abs(analytic - numeric) / scale)
        assert err < 1e-6, name


def test_block_memory_rules():
    x = Tensor(np.ones((1, 2, 4)))
    with pytest.raises(ValueError, match="memory: this block has cross-attention"):
        Block(4, 2, cross_attention=True, rng=0)(x)
    with pytest.raises(ValueError, match="memory: this block has no cross-attention"):
        Block(4, 2, rng=0)(x, memory=x)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: MultiHeadAttention(6, 4, rng=0), ValueError, "n_heads: d_model=6"),
        (lambda: Linear(0, 2, rng=0), ValueError, "d_in: expected a positive integer"),
        (lambda: Linear(2, 2, rng=None), TypeError, "rng: expected an integer seed"),
        (lambda: Embedding(4, 2, rng=0)(np.array([5])), ValueError, "ids: expected token ids"),
        (lambda: Dropout(1.5, rng=0), ValueError, "p: expected a number <= 1"),
        (lambda: Block(4, 2, dropout=-0.1, rng=0), ValueError, "dropout: expected a number >= 0"),
        (lambda: LayerNorm(4, eps=0.0), ValueError, "eps: expected a number > 0"),
    ],
)
def test_bad_construction(call, error, match):
    with pytest.raises(error, match=match):
        call()
