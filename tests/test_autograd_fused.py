"""Fused transformer nodes: each equals the composition of the plain ops it replaces, and
passes a float64 finite-difference check."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes.attention import causal_mask, merge_heads, padding_mask, split_heads
from genai_notes.autograd import Tensor, fused, gelu, gradcheck
from genai_notes.autograd import functional as F

RNG = np.random.default_rng(2024)


def rand(*shape: int, scale: float = 1.0) -> np.ndarray:
    return RNG.standard_normal(shape) * scale


def t64(array: np.ndarray) -> Tensor:
    return Tensor(array, requires_grad=True, dtype=np.float64)


CASES = [
    (
        "layer_norm_linear",
        lambda x, g, b, w, c: fused.layer_norm_linear(x, g, b, w, c),
        [rand(2, 3, 5), rand(5), rand(5), rand(5, 4), rand(4)],
    ),
    (
        "layer_norm_linear no bias",
        lambda x, g, b, w: fused.layer_norm_linear(x, g, b, w),
        [rand(3, 5), rand(5), rand(5), rand(5, 2)],
    ),
    (
        "layer_norm_linear gelu",
        lambda x, g, b, w, c: fused.layer_norm_linear(x, g, b, w, c, gelu=True),
        [rand(2, 3, 5), rand(5), rand(5), rand(5, 6), rand(6)],
    ),
    (
        "linear_gelu",
        lambda x, w, b: fused.linear_gelu(x, w, b),
        [rand(2, 3, 4), rand(4, 5), rand(5)],
    ),
    (
        "multi-head packed self-attention",
        lambda qkv: fused.multi_head_attention(qkv, None, 2, causal=True),
        [rand(2, 4, 12)],
    ),
]


@pytest.mark.parametrize(("name", "fn", "inputs"), CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn, inputs):
    report = gradcheck(fn, inputs)
    assert report.passed, f"{name}: {report}"


def test_layer_norm_linear_equals_layer_norm_then_linear():
    x, g, b, w, c = (t64(a) for a in (rand(2, 3, 6), rand(6), rand(6), rand(6, 4), rand(4)))
    weights = rand(2, 3, 4)
    fused_out = fused.layer_norm_linear(x, g, b, w, c, eps=1e-4)
    (fused_out * weights).sum().backward()
    grads = [t.grad.copy() for t in (x, g, b, w, c)]
    for t in (x, g, b, w, c):
        t.zero_grad()
    plain = F.linear(F.layer_norm(x, g, b, eps=1e-4), w, c)
    (plain * weights).sum().backward()
    np.testing.assert_allclose(fused_out.data, plain.data, rtol=1e-12, atol=1e-12)
    for got, t in zip(grads, (x, g, b, w, c)):
        np.testing.assert_allclose(got, t.grad, rtol=1e-10, atol=1e-12)


def test_layer_norm_linear_gelu_equals_composition():
    x, g, b, w, c = (t64(a) for a in (rand(4, 6), rand(6), rand(6), rand(6, 8), rand(8)))
    got = fused.layer_norm_linear(x, g, b, w, c, gelu=True).data
    expected = gelu(F.linear(F.layer_norm(x, g, b), w, c)).data
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert fused.linear_gelu(x, w, c).data == pytest.approx(gelu(F.linear(x, w, c)).data)


def test_packed_and_separate_projections_agree():
    d_model, n_heads = 8, 2
    qkv = rand(2, 5, 3 * d_model).astype(np.float32)
    mask = padding_mask(np.array([5, 3]), 5)
    packed = fused.multi_head_attention(Tensor(qkv), None, n_heads, mask=mask, causal=True)
    separate = fused.multi_head_attention(
        Tensor(qkv[..., :d_model]), Tensor(qkv[..., d_model:]), n_heads, mask=mask, causal=True
    )
    np.testing.assert_allclose(packed.data, separate.data, rtol=1e-6, atol=1e-7)
    # and the generic single-node attention on explicitly split heads
    heads = [split_heads(qkv[..., i * d_model : (i + 1) * d_model], n_heads) for i in range(3)]
    full = (causal_mask(5) & mask)[:, None]  # (batch, 1, seq, seq)
    out = F.scaled_dot_product_attention(*(Tensor(h) for h in heads), mask=full)
    np.testing.assert_allclose(packed.data, merge_heads(out.data), rtol=1e-6, atol=1e-6)


def test_float32_attention_with_huge_masked_keys_stays_accurate():
    # Huge (masked) keys make the Cauchy-Schwarz bound useless: the exact-maximum path runs.
    q = rand(2, 3, 8)
    kv = rand(2, 6, 16)
    kv[1, 3:] = 300.0
    mask = padding_mask(np.array([6, 3]), 6)
    got = fused.multi_head_attention(Tensor(q), Tensor(kv), 2, mask=mask).data
    ref = fused.multi_head_attention(
        Tensor(q, dtype=np.float64), Tensor(kv, dtype=np.float64), 2, mask=mask
    ).data
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    assert np.isfinite(got).all()


def test_fused_nodes_reject_bad_shapes():
    x = Tensor(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"norm_weight: expected shape \(4,\)"):
        fused.layer_norm_linear(x, Tensor(np.ones(3)), Tensor(np.ones(4)), Tensor(np.ones((4, 2))))
    with pytest.raises(ValueError, match="x: expected a last axis of size d_in=5"):
        fused.layer_norm_linear(x, Tensor(np.ones(4)), Tensor(np.ones(4)), Tensor(np.ones((5, 2))))
    with pytest.raises(ValueError, match="q: expected packed"):
        fused.multi_head_attention(Tensor(np.ones((1, 2, 8))), None, 2)


def test_linear_residual_equals_linear_plus_residual():
    x, w, b, r = (t64(a) for a in (rand(2, 3, 4), rand(4, 5), rand(5), rand(2, 3, 5)))
    got = fused.linear_residual(x, w, b, r)
    np.testing.assert_allclose(got.data, (F.linear(x, w, b) + r).data, rtol=1e-12)
    report = gradcheck(
        lambda *t: fused.linear_residual(*t), [rand(2, 4), rand(4, 3), rand(3), rand(2, 3)]
    )
    assert report.passed, str(report)
    with pytest.raises(ValueError, match=r"residual: expected shape \(2, 3, 5\)"):
        fused.linear_residual(x, w, b, t64(rand(2, 3, 4)))


def test_fused_block_with_dropout_equals_the_plain_block_with_the_same_masks():
    from genai_notes.nn import Block, FusedBlock

    x = Tensor(rand(2, 5, 8))
    plain = Block(8, 2, dropout=0.5, causal=True, rng=0)  # same seed: same weights, same
    fast = FusedBlock(8, 2, dropout=0.5, causal=True, rng=0)  # dropout generators
    np.testing.assert_allclose(fast(x).data, plain(x).data, rtol=1e-5, atol=1e-6)
