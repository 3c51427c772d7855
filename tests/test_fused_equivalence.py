"""Every speed kernel equals the plain version a chapter teaches.

The attention kernels against :mod:`genai_notes.attention` (float64, to 1e-6, on random and
adversarial inputs), GELU and cross-entropy against the engine's plain nodes, the fused block
and GPT against the plain ones (values and gradients), and a causal mask whose queries are
fewer than its keys, as with a KV cache.
"""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes import attention
from genai_notes.autograd import Tensor, fused, gelu
from genai_notes.autograd import functional as F
from genai_notes.gpt import GPT, GPTConfig
from genai_notes.nn import Block, FusedBlock, MultiHeadAttention

RNG = np.random.default_rng(2024)


def _scores_case(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """q, k, v (batch 2, 5 queries, 7 keys, d_k 4, d_v 3) and a mask, chosen to hit every
    branch of the kernel."""
    q = RNG.standard_normal((2, 5, 4))
    k = RNG.standard_normal((2, 7, 4))
    v = RNG.standard_normal((2, 7, 3))
    mask = None
    if name == "large scores":  # above 60: the kernel shifts by the row maximum
        q *= 40.0
    elif name == "underflowing rows":  # every exp of these rows is below 1e-30
        q[0, 1] = -50.0 * k[0].mean(axis=0) / np.linalg.norm(k[0].mean(axis=0)) ** 2
        q[0, 1] *= 8.0
        k[0] = k[0].mean(axis=0) + 0.01 * RNG.standard_normal((7, 4))
    elif name == "fully masked row":
        mask = RNG.random((2, 5, 7)) < 0.6
        mask[1, 3] = False  # query 3 of sequence 1 may see nothing
    elif name == "fewer queries than keys (causal, as with a KV cache)":
        mask = np.tril(np.ones((5, 7), dtype=bool), k=2)
    return q, k, v, mask


CASES = [
    "random",
    "large scores",
    "underflowing rows",
    "fully masked row",
    "fewer queries than keys (causal, as with a KV cache)",
]


@pytest.mark.parametrize("case", CASES)
def test_attention_kernels_equal_the_teaching_functions(case):
    q, k, v, mask = _scores_case(case)
    out, weights = attention.scaled_dot_product_attention(q, k, v, mask, temperature=1.3)
    scale = 1.0 / (np.sqrt(4) * 1.3)
    f_out, exp_scores, inv_sums, (q_scaled, v_c) = fused.forward_kernel(q, k, v, mask, scale)
    np.testing.assert_allclose(f_out, out, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(exp_scores * inv_sums, weights, rtol=1e-6, atol=1e-12)
    d_out = RNG.standard_normal(out.shape)
    want = attention.attention_backward(q, k, v, weights, d_out, temperature=1.3)
    got = fused.backward_kernel(q, k, v_c, exp_scores, inv_sums, d_out, f_out, scale)
    for name, a, b in zip("qkv", got, want):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12, err_msg=f"d{name}")
    if case == "large scores":  # the case really reaches the shifted branch
        assert (q_scaled @ k.swapaxes(-1, -2)).max() > 60
    if case == "underflowing rows":  # the case really underflows, or it tests nothing
        raw = np.exp(q_scaled @ k.swapaxes(-1, -2))
        assert raw.sum(axis=-1).min() < 1e-30
    if case == "fully masked row":
        assert np.all(weights[1, 3] == 0) and np.all(out[1, 3] == 0)


def test_attention_kernel_broadcasts_batch_axes_like_the_teaching_function():
    q = RNG.standard_normal((2, 3, 5, 4))
    k = RNG.standard_normal((1, 3, 6, 4))  # shared across the batch
    v = RNG.standard_normal((1, 3, 6, 2))
    out, weights = attention.scaled_dot_product_attention(q, k, v)
    f_out, exp_scores, inv_sums, (_, v_c) = fused.forward_kernel(q, k, v, None, 0.5)
    np.testing.assert_allclose(f_out, out, rtol=1e-6)
    d_out = RNG.standard_normal(out.shape)
    want = attention.attention_backward(q, k, v, weights, d_out)
    got = fused.backward_kernel(q, k, v_c, exp_scores, inv_sums, d_out, f_out, 0.5)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_node_equals_the_plain_module(causal):
    """The fused multi-head node against MultiHeadAttention's plain forward, with fewer
    queries than keys: the causal offset must put query i at position n_k - n_q + i."""
    mha = MultiHeadAttention(8, 2, causal=causal, rng=1).astype(np.float64)
    x = Tensor(RNG.standard_normal((2, 2, 8)), dtype=np.float64)  # 2 queries
    memory = Tensor(RNG.standard_normal((2, 5, 8)), dtype=np.float64)  # 5 keys
    plain = mha(x, memory=memory)
    w, b = mha.in_proj.weight, mha.in_proj.bias
    q = F.linear(x, w[:, :8], b[:8])
    kv = F.linear(memory, w[:, 8:], b[8:])
    heads = fused.multi_head_attention(q, kv, 2, causal=causal)
    np.testing.assert_allclose(mha.out_proj(heads).data, plain.data, rtol=1e-9, atol=1e-12)
    if causal:  # query 0 sees keys 0..3, not key 4: changing key 4 leaves it alone
        memory.data[:, 4] += 1.0
        again = mha(x, memory=memory).data
        np.testing.assert_allclose(again[:, 0], plain.data[:, 0], rtol=1e-12)
        assert not np.allclose(again[:, 1], plain.data[:, 1])


def test_gelu_kernel_equals_the_plain_gelu_and_its_derivative():
    x = np.concatenate([RNG.standard_normal(200) * 4, [-1e20, -30.0, 0.0, 30.0, 1e20]])
    t = Tensor(x, requires_grad=True, dtype=np.float64)
    y = gelu(t)
    y.backward(np.ones_like(x))
    out, deriv = fused.gelu_kernel(x.copy(), need_grad=True)
    np.testing.assert_allclose(out, y.data, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(deriv, t.grad, rtol=1e-12, atol=1e-15)
    assert np.isfinite(t.grad).all() and np.isfinite(deriv).all()  # no inf · 0 at |x| = 1e20
    assert t.grad[-1] == 1.0 and t.grad[-5] == 0.0


@pytest.mark.parametrize("scale", [1.0, 100.0])  # 100: logits beyond ±60, the shifted path
def test_fast_cross_entropy_equals_the_plain_one(scale):
    logits = RNG.standard_normal((3, 4, 6)) * scale
    targets = RNG.integers(0, 6, (3, 4))
    targets[0, 0] = -1
    results = []
    for fn in (F.cross_entropy, fused.cross_entropy):
        z = Tensor(logits, requires_grad=True, dtype=np.float64)
        loss = fn(z, targets, ignore_index=-1)
        loss.backward()
        results.append((loss.item(), z.grad))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("cross_attention", [False, True])
def test_fused_block_equals_the_plain_block(cross_attention):
    kwargs = {"causal": True, "cross_attention": cross_attention, "rng": 5}
    plain = Block(8, 2, **kwargs).astype(np.float64)
    fast = FusedBlock(8, 2, **kwargs).astype(np.float64)
    x_plain = Tensor(RNG.standard_normal((2, 4, 8)), requires_grad=True, dtype=np.float64)
    x_fast = Tensor(x_plain.data.copy(), requires_grad=True, dtype=np.float64)
    memory = Tensor(RNG.standard_normal((2, 3, 8)), dtype=np.float64) if cross_attention else None
    pad = attention.padding_mask(np.array([4, 2]), 4)
    y_plain, y_fast = plain(x_plain, mask=pad, memory=memory), fast(x_fast, mask=pad, memory=memory)
    np.testing.assert_allclose(y_fast.data, y_plain.data, rtol=1e-10, atol=1e-12)
    upstream = RNG.standard_normal(y_plain.shape)
    y_plain.backward(upstream)
    y_fast.backward(upstream)
    np.testing.assert_allclose(x_fast.grad, x_plain.grad, rtol=1e-9, atol=1e-12)
    for (name, a), (_, b) in zip(plain.named_parameters(), fast.named_parameters()):
        np.testing.assert_allclose(b.grad, a.grad, rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("tie_weights", [False, True])
def test_fused_gpt_equals_the_plain_gpt(tie_weights):
    config = GPTConfig(vocab_size=11, block_size=6, n_layers=2, n_heads=2, d_model=8)
    config.tie_weights = tie_weights
    plain = GPT(config).astype(np.float64)
    fast = GPT(GPTConfig(**{**config.__dict__, "fused": True})).astype(np.float64)
    assert isinstance(fast.blocks[0], FusedBlock) and type(plain.blocks[0]) is Block
    idx = RNG.integers(0, 11, (3, 6))
    targets = RNG.integers(0, 11, (3, 6))
    np.testing.assert_allclose(fast(idx).data, plain(idx).data, rtol=1e-10, atol=1e-12)
    losses = []
    for model in (plain, fast):
        loss = model.loss(idx, targets)
        loss.backward()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(losses[1], rel=1e-12)
    for (name, a), (_, b) in zip(plain.named_parameters(), fast.named_parameters()):
        np.testing.assert_allclose(b.grad, a.grad, rtol=1e-8, atol=1e-12, err_msg=name)
