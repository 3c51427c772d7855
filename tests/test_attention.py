"""Plain-NumPy attention (genai_notes.attention): values by hand, finite differences,
masks, stability, and agreement with the autograd engine's fused nodes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from finite_differences import numeric_grad

from genai_notes.attention import (
    attention_backward,
    causal_mask,
    merge_heads,
    padding_mask,
    scaled_dot_product_attention,
    softmax,
    softmax_backward,
    split_heads,
)
from genai_notes.autograd import Tensor, functional, fused

RNG = np.random.default_rng(5)


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-3)))


# -- softmax ----------------------------------------------------------------------------


def test_softmax_by_hand():
    # e^0 : e^ln2 : e^ln5 = 1 : 2 : 5
    np.testing.assert_allclose(
        softmax(np.array([0.0, np.log(2.0), np.log(5.0)])), [1 / 8, 2 / 8, 5 / 8], rtol=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_stable_for_huge_logits(dtype):
    x = np.array([[1e4, 1e4 - np.log(3.0), -1e4], [-1e4, -1e4, -1e4]], dtype=dtype)
    y = softmax(x)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, [[0.75, 0.25, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-3)


def test_softmax_with_minus_inf_and_fully_masked_rows():
    x = np.array([[0.0, -np.inf, 0.0], [-np.inf, -np.inf, -np.inf]])
    np.testing.assert_array_equal(softmax(x), [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])


def test_softmax_along_another_axis():
    x = RNG.standard_normal((3, 4))
    np.testing.assert_allclose(softmax(x, axis=0), softmax(x.T).T, rtol=1e-12)
    np.testing.assert_allclose(softmax(x, axis=0).sum(axis=0), np.ones(4), rtol=1e-12)


def test_softmax_rejects_nan_and_plus_inf():
    with pytest.raises(ValueError, match="x: expected finite values or -inf"):
        softmax(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="x: expected finite values or -inf"):
        softmax(np.array([0.0, np.inf]))


def test_softmax_backward_matches_finite_differences():
    x = RNG.standard_normal((2, 5))
    w = RNG.standard_normal((2, 5))
    numeric = numeric_grad(lambda z: float((softmax(z) * w).sum()), x)
    analytic = softmax_backward(softmax(x), w)
    assert rel_error(analytic, numeric) < 1e-6
    with pytest.raises(ValueError, match="dy: expected the shape of y"):
        softmax_backward(softmax(x), w[:, :3])


# -- masks and heads --------------------------------------------------------------------


def test_causal_and_padding_masks():
    np.testing.assert_array_equal(causal_mask(2), [[True, False], [True, True]])
    mask = padding_mask(np.array([1, 3, 0]), 3)
    assert mask.shape == (3, 1, 3)
    np.testing.assert_array_equal(mask[:, 0], [[1, 0, 0], [1, 1, 1], [0, 0, 0]])
    with pytest.raises(ValueError, match="lengths: expected values in"):
        padding_mask(np.array([4]), 3)
    with pytest.raises(ValueError, match="seq: expected a positive integer"):
        causal_mask(0)


def test_split_and_merge_heads():
    x = np.arange(2 * 3 * 6.0).reshape(2, 3, 6)
    heads = split_heads(x, 3)
    assert heads.shape == (2, 3, 3, 2)
    np.testing.assert_array_equal(heads[1, 2, 0], x[1, 0, 4:6])  # batch 1, head 2, token 0
    np.testing.assert_array_equal(merge_heads(heads), x)
    with pytest.raises(ValueError, match="n_heads: d_model=6 is not divisible by n_heads=4"):
        split_heads(x, 4)
    with pytest.raises(ValueError, match="x: expected a 4-D array"):
        merge_heads(x)


# -- attention by hand ------------------------------------------------------------------


def test_attention_two_tokens_by_hand():
    # d_k = 2, so scores are q·k / √2. Query 0 = (1, 0) scores (2/√2, 0) = (√2, 0);
    # query 1 = (0, 2) scores (0, 4/√2) = (0, 2√2).
    q = np.array([[1.0, 0.0], [0.0, 2.0]])
    k = np.array([[2.0, 0.0], [0.0, 2.0]])
    v = np.array([[1.0, 0.0], [0.0, 10.0]])
    out, w = scaled_dot_product_attention(q, k, v)
    w0 = math.exp(math.sqrt(2)) / (math.exp(math.sqrt(2)) + 1)  # 0.80442...
    w1 = 1 / (1 + math.exp(2 * math.sqrt(2)))  # 0.05581...
    expected_w = np.array([[w0, 1 - w0], [w1, 1 - w1]])
    np.testing.assert_allclose(w, expected_w, rtol=1e-12)
    np.testing.assert_allclose(w, [[0.80442, 0.19558], [0.05581, 0.94419]], atol=1e-5)
    np.testing.assert_allclose(out, [[w0, 10 * (1 - w0)], [w1, 10 * (1 - w1)]], rtol=1e-12)


def test_attention_with_causal_mask_by_hand():
    q = k = np.array([[1.0, 0.0], [0.0, 1.0]])
    v = np.array([[3.0], [5.0]])
    out, w = scaled_dot_product_attention(q, k, v, mask=causal_mask(2))
    # token 0 sees only itself; token 1 sees scores (0, 1/√2)
    p = 1 / (1 + math.exp(1 / math.sqrt(2)))
    np.testing.assert_allclose(w, [[1.0, 0.0], [p, 1 - p]], rtol=1e-12)
    np.testing.assert_allclose(out, [[3.0], [3 * p + 5 * (1 - p)]], rtol=1e-12)


def test_temperature_flattens_or_sharpens():
    q = np.array([[1.0, 0.0]])
    k = np.array([[1.0, 0.0], [0.0, 1.0]])
    v = np.eye(2)
    _, w_hot = scaled_dot_product_attention(q, k, v, temperature=100.0)
    _, w_cold = scaled_dot_product_attention(q, k, v, temperature=0.01)
    np.testing.assert_allclose(w_hot, [[0.5, 0.5]], atol=0.01)
    np.testing.assert_allclose(w_cold, [[1.0, 0.0]], atol=1e-12)


def test_fully_masked_query_gives_zero_weights_and_output():
    q = RNG.standard_normal((2, 3, 4))
    k = RNG.standard_normal((2, 5, 4))
    v = RNG.standard_normal((2, 5, 6))
    mask = padding_mask(np.array([0, 5]), 5)  # batch 0: no real key at all
    out, w = scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.isfinite(out).all() and np.isfinite(w).all()
    np.testing.assert_array_equal(w[0], 0.0)
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_allclose(w[1].sum(axis=-1), 1.0, rtol=1e-12)
    dq, dk, dv = attention_backward(q, k, v, w, np.ones_like(out))
    np.testing.assert_array_equal(dq[0], 0.0)
    assert np.isfinite(dq).all() and np.isfinite(dk).all() and np.isfinite(dv).all()


def reference_attention(q, k, v, mask=None, temperature=1.0):
    """A slow, obviously correct version: explicit loops and a max-shifted softmax."""
    out = np.zeros((*q.shape[:-1], v.shape[-1]))
    weights = np.zeros((*q.shape[:-1], k.shape[-2]))
    for b in np.ndindex(q.shape[:-2]):
        for i in range(q.shape[-2]):
            s = np.array([q[b][i] @ k[b][j] for j in range(k.shape[-2])])
            s = s / (math.sqrt(q.shape[-1]) * temperature)
            if mask is not None:
                s = np.where(
                    np.broadcast_to(mask, (*q.shape[:-2], q.shape[-2], k.shape[-2]))[b][i],
                    s,
                    -np.inf,
                )
            if np.isneginf(s).all():
                continue
            e = np.exp(s - s.max())
            weights[b][i] = e / e.sum()
            out[b][i] = weights[b][i] @ v[b]
    return out, weights


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_attention_matches_slow_reference(scale):
    # scale 30 makes the Cauchy-Schwarz shift very loose: exercises the exact-max fallback.
    q = RNG.standard_normal((2, 3, 4, 8)) * scale
    k = RNG.standard_normal((2, 3, 6, 8)) * scale
    v = RNG.standard_normal((2, 3, 6, 5))
    mask = RNG.random((2, 1, 4, 6)) > 0.3
    mask[0, 0, 1] = False  # one fully masked query
    out, w = scaled_dot_product_attention(q, k, v, mask=mask, temperature=0.7)
    ref_out, ref_w = reference_attention(q, k, v, mask, 0.7)
    np.testing.assert_allclose(w, ref_w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out, ref_out, rtol=1e-10, atol=1e-12)


def test_attention_in_float32_with_huge_scores():
    q = (RNG.standard_normal((4, 8)) * 100).astype(np.float32)
    k = (RNG.standard_normal((6, 8)) * 100).astype(np.float32)
    v = RNG.standard_normal((6, 3)).astype(np.float32)
    out, w = scaled_dot_product_attention(q, k, v)
    assert out.dtype == np.float32 and np.isfinite(out).all()
    ref_out, ref_w = reference_attention(q.astype(np.float64), k.astype(np.float64), v)
    np.testing.assert_allclose(w, ref_w, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_whose_exponentials_underflow_are_recomputed(dtype):
    # Every score of query 0 is about -200: exp underflows to 0 unless shifted by the max.
    q = np.array([[10.0, 0.0], [0.1, 0.2]], dtype=dtype)
    k = np.array([[-30.0, 0.0], [-29.0, 1.0]], dtype=dtype)
    v = np.array([[1.0], [2.0]], dtype=dtype)
    out, w = scaled_dot_product_attention(q, k, v)
    gap = 10.0 / math.sqrt(2.0)  # score difference between the two keys for query 0
    p0 = 1.0 / (1.0 + math.exp(gap))
    np.testing.assert_allclose(w[0], [p0, 1 - p0], rtol=1e-5)
    np.testing.assert_allclose(out[0], [p0 + 2 * (1 - p0)], rtol=1e-5)
    ref_out, ref_w = reference_attention(q.astype(np.float64), k.astype(np.float64), v)
    np.testing.assert_allclose(w, ref_w, rtol=1e-5)


def test_attention_broadcasts_batch_axes():
    q = RNG.standard_normal((2, 3, 4))
    k = RNG.standard_normal((5, 4))  # shared by both batch entries
    v = RNG.standard_normal((5, 2))
    out, _ = scaled_dot_product_attention(q, k, v)
    for b in range(2):
        np.testing.assert_allclose(out[b], scaled_dot_product_attention(q[b], k, v)[0])


# -- backward ---------------------------------------------------------------------------


@pytest.mark.parametrize("masked", [None, "causal", "padding"])
def test_attention_backward_matches_finite_differences(masked):
    q = RNG.standard_normal((2, 4, 3))
    k = RNG.standard_normal((2, 4, 3))
    v = RNG.standard_normal((2, 4, 2))
    d_out = RNG.standard_normal((2, 4, 2))
    mask = {None: None, "causal": causal_mask(4), "padding": padding_mask(np.array([4, 2]), 4)}[
        masked
    ]

    def loss(qq, kk, vv):
        return float((scaled_dot_product_attention(qq, kk, vv, mask, 1.3)[0] * d_out).sum())

    out, w = scaled_dot_product_attention(q, k, v, mask, 1.3)
    dq, dk, dv = attention_backward(q, k, v, w, d_out, temperature=1.3)
    worst = max(
        rel_error(dq, numeric_grad(lambda x: loss(x, k, v), q)),
        rel_error(dk, numeric_grad(lambda x: loss(q, x, v), k)),
        rel_error(dv, numeric_grad(lambda x: loss(q, k, x), v)),
    )
    assert worst < 1e-6, worst


def test_attention_backward_sums_over_broadcast_batch_axes():
    q = RNG.standard_normal((2, 3, 4))
    k = RNG.standard_normal((5, 4))
    v = RNG.standard_normal((5, 2))
    d_out = RNG.standard_normal((2, 3, 2))
    _, w = scaled_dot_product_attention(q, k, v)
    _, dk, dv = attention_backward(q, k, v, w, d_out)
    numeric = numeric_grad(
        lambda x: float((scaled_dot_product_attention(q, x, v)[0] * d_out).sum()), k
    )
    assert dk.shape == k.shape and dv.shape == v.shape
    assert rel_error(dk, numeric) < 1e-6


# -- agreement with the autograd engine --------------------------------------------------


def test_fused_node_and_pure_function_agree():
    q = RNG.standard_normal((2, 2, 5, 4)).astype(np.float32)
    k = RNG.standard_normal((2, 2, 5, 4)).astype(np.float32)
    v = RNG.standard_normal((2, 2, 5, 3)).astype(np.float32)
    mask = causal_mask(5) & padding_mask(np.array([5, 3]), 5)[:, None]
    pure, _ = scaled_dot_product_attention(q, k, v, mask)
    fused = functional.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), mask)
    np.testing.assert_allclose(fused.data, pure, atol=1e-6)


def test_multi_head_node_agrees_with_pure_function_per_head():
    batch, seq, n_heads, d_model = 3, 6, 2, 8
    x = RNG.standard_normal((batch, seq, d_model)).astype(np.float32)
    kv = RNG.standard_normal((batch, seq, 2 * d_model)).astype(np.float32)
    pad = padding_mask(np.array([6, 4, 1]), seq)  # (batch, 1, seq)
    node = fused.multi_head_attention(Tensor(x), Tensor(kv), n_heads, mask=pad, causal=True)
    mask = (causal_mask(seq) & pad)[:, None]  # (batch, 1, seq, seq)
    out, _ = scaled_dot_product_attention(
        split_heads(x, n_heads),
        split_heads(kv[..., :d_model], n_heads),
        split_heads(kv[..., d_model:], n_heads),
        mask,
    )
    np.testing.assert_allclose(node.data, merge_heads(out), atol=1e-6)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.ones((2, 3)), np.ones((4, 2)), np.ones((4, 1))), "k: expected d_k=3"),
        ((np.ones((2, 3)), np.ones((4, 3)), np.ones((5, 1))), "v: expected n_k=4"),
        ((np.ones(3), np.ones((4, 3)), np.ones((4, 1))), "q: expected a float array"),
        ((np.ones((2, 2, 3)), np.ones((3, 4, 3)), np.ones((3, 4, 1))), "k: the batch axes"),
    ],
)
def test_attention_bad_shapes(args, match):
    with pytest.raises(ValueError, match=match):
        scaled_dot_product_attention(*args)


def test_attention_bad_mask_and_temperature():
    q = np.ones((2, 3))
    with pytest.raises(ValueError, match="mask: expected a shape broadcastable"):
        scaled_dot_product_attention(q, q, q, mask=np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="mask: expected a shape broadcastable"):
        scaled_dot_product_attention(q, q, q, mask=np.ones((4, 2, 2), bool))  # would enlarge
    with pytest.raises(TypeError, match="mask: expected a bool array"):
        scaled_dot_product_attention(q, q, q, mask=np.ones((2, 2)))
    with pytest.raises(ValueError, match="temperature: expected a number > 0"):
        scaled_dot_product_attention(q, q, q, temperature=0.0)
