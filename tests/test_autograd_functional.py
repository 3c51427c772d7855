"""Fused nodes: hand-computed values, float64 finite-difference checks, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genai_notes.attention import causal_mask, padding_mask
from genai_notes.autograd import Tensor, fused, gradcheck
from genai_notes.autograd import functional as F

RNG = np.random.default_rng(99)


def rand(*shape: int, scale: float = 1.0) -> np.ndarray:
    return RNG.standard_normal(shape) * scale


TARGETS_2D = np.array([0, 3, 1, 3, 2])
TARGETS_3D = np.array([[1, 0, 3], [2, 2, -100]])  # one padded position
PAD = padding_mask(np.array([4, 2]), 4)  # (2, 1, 4)

CASES = [
    ("linear", lambda x, w, b: F.linear(x, w, b), [rand(2, 3, 4), rand(4, 5), rand(5)]),
    ("linear no bias", lambda x, w: F.linear(x, w), [rand(3, 4), rand(4, 2)]),
    (
        "linear_gelu",
        lambda x, w, b: fused.linear_gelu(x, w, b),
        [rand(2, 3, 4), rand(4, 5), rand(5)],
    ),
    ("softmax", lambda x: F.softmax(x), [rand(3, 5)]),
    ("softmax axis 0", lambda x: F.softmax(x, axis=0), [rand(3, 5)]),
    ("log_softmax", lambda x: F.log_softmax(x), [rand(3, 5)]),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, w, b), [rand(2, 3, 6), rand(6), rand(6)]),
    ("cross_entropy", lambda z: F.cross_entropy(z, TARGETS_2D), [rand(5, 4)]),
    (
        "cross_entropy 3d ignore_index",
        lambda z: F.cross_entropy(z, TARGETS_3D, ignore_index=-100),
        [rand(2, 3, 4)],
    ),
    (
        "attention",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, temperature=0.8),
        [rand(2, 4, 3), rand(2, 5, 3), rand(2, 5, 2)],
    ),
    (
        "attention causal",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, causal_mask(4)),
        [rand(2, 4, 3), rand(2, 4, 3), rand(2, 4, 2)],
    ),
    (
        "attention padding",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, PAD),
        [rand(2, 3, 3), rand(2, 4, 3), rand(2, 4, 2)],
    ),
    (
        "multi-head self causal+padding",
        lambda q, kv: fused.multi_head_attention(q, kv, 2, mask=PAD, causal=True),
        [rand(2, 4, 4), rand(2, 4, 8)],
    ),
    (
        "multi-head cross",
        lambda q, kv: fused.multi_head_attention(q, kv, 2, mask=PAD),
        [rand(2, 3, 4), rand(2, 4, 8)],
    ),
]


@pytest.mark.parametrize(("name", "fn", "inputs"), CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn, inputs):
    report = gradcheck(fn, inputs)
    assert report.passed, f"{name}: {report}"


def test_worst_case_over_fused_ops(capsys):
    reports = {name: gradcheck(fn, inputs) for name, fn, inputs in CASES}
    name, worst = max(reports.items(), key=lambda item: item[1].max_rel_error)
    with capsys.disabled():
        print(f"\nworst gradcheck over {len(reports)} fused ops: {name}: {worst}")
    assert worst.max_rel_error < 1e-6


def test_multi_head_attention_in_several_cache_blocks(monkeypatch):
    # Force one sequence per block so the blocked forward/backward loop runs several times.
    inputs = [rand(3, 4, 4), rand(3, 4, 8)]
    mask = padding_mask(np.array([4, 1, 3]), 4)

    def fn(q, kv):
        return fused.multi_head_attention(q, kv, 2, mask=mask, causal=True)

    whole = fn(Tensor(inputs[0]), Tensor(inputs[1])).data
    monkeypatch.setattr(fused.attention, "_ATTENTION_BLOCK", 1)
    np.testing.assert_allclose(fn(Tensor(inputs[0]), Tensor(inputs[1])).data, whole, rtol=1e-6)
    report = gradcheck(fn, inputs)
    assert report.passed, str(report)


def test_layer_norm_output_statistics():
    x = Tensor(rand(4, 7, 16, scale=5.0) + 3.0)
    ones, zeros = Tensor(np.ones(16)), Tensor(np.zeros(16))
    y = F.layer_norm(x, ones, zeros).data
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=-1), 1.0, rtol=1e-3)  # eps shrinks it slightly
    # gain and bias act per feature afterwards
    gain, bias = rand(16), rand(16)
    z = F.layer_norm(x, Tensor(gain), Tensor(bias)).data
    np.testing.assert_allclose(z, y * gain + bias, rtol=1e-4, atol=1e-5)


def test_layer_norm_by_hand():
    # row (1, 3): mean 2, variance 1 -> (-1, 1) / sqrt(1 + eps)
    y = F.layer_norm(
        Tensor([[1.0, 3.0]], dtype=np.float64),
        Tensor([1.0, 2.0], dtype=np.float64),
        Tensor([0.0, 0.5], dtype=np.float64),
        eps=1e-5,
    )
    s = 1 / math.sqrt(1 + 1e-5)
    np.testing.assert_allclose(y.data, [[-s, 2 * s + 0.5]], rtol=1e-12)


def test_cross_entropy_by_hand():
    # row 0: logits (0, ln 3) target 1: p = 3/4 -> -ln(3/4)
    # row 1: logits (ln 2, 0) target 1: p = 1/3 -> -ln(1/3)
    logits = Tensor(
        [[0.0, math.log(3.0)], [math.log(2.0), 0.0]], requires_grad=True, dtype=np.float64
    )
    loss = F.cross_entropy(logits, np.array([1, 1]))
    expected = (-math.log(3 / 4) - math.log(1 / 3)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()
    # d/dlogits = (softmax - one_hot) / 2
    np.testing.assert_allclose(logits.grad, [[0.125, -0.125], [1 / 3, -1 / 3]], rtol=1e-12)


def test_cross_entropy_ignore_index_averages_over_real_tokens_only():
    logits = rand(2, 3, 5)
    targets = np.array([[1, 4, -1], [-1, -1, 0]])
    loss = F.cross_entropy(Tensor(logits, dtype=np.float64), targets, ignore_index=-1).item()
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -(log_p[0, 0, 1] + log_p[0, 1, 4] + log_p[1, 2, 0]) / 3
    assert loss == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = Tensor([[1e4, 0.0, -1e4]])
    assert F.cross_entropy(logits, np.array([0])).item() == pytest.approx(0.0, abs=1e-6)
    assert F.cross_entropy(logits, np.array([1])).item() == pytest.approx(1e4, rel=1e-6)


def test_log_softmax_by_hand():
    out = F.log_softmax(Tensor([0.0, math.log(3.0)], dtype=np.float64)).data
    np.testing.assert_allclose(out, [math.log(1 / 4), math.log(3 / 4)], rtol=1e-12)


def test_softmax_node_rows_sum_to_one():
    y = F.softmax(Tensor(rand(4, 6, scale=10.0))).data
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: F.cross_entropy(Tensor(rand(3, 4)), np.array([0.0, 1.0, 2.0])),
            TypeError,
            "targets: expected integer",
        ),
        (
            lambda: F.cross_entropy(Tensor(rand(3, 4)), np.array([0, 1, 4])),
            ValueError,
            r"targets: expected class ids in \[0, 4\)",
        ),
        (
            lambda: F.cross_entropy(Tensor(rand(3, 4)), np.array([0, 1])),
            ValueError,
            r"targets: expected shape \(3,\)",
        ),
        (
            lambda: F.cross_entropy(Tensor(rand(2, 4)), np.array([-1, -1]), ignore_index=-1),
            ValueError,
            "targets: every target equals ignore_index",
        ),
        (
            lambda: F.cross_entropy(Tensor(rand(4)), np.array(1)),
            ValueError,
            "logits: expected shape",
        ),
        (
            lambda: F.linear(Tensor(rand(2, 3)), Tensor(rand(4, 5))),
            ValueError,
            "x: expected a last axis of size d_in=4",
        ),
        (
            lambda: F.linear(Tensor(rand(2, 4)), Tensor(rand(4, 5)), Tensor(rand(4))),
            ValueError,
            r"bias: expected shape \(5,\)",
        ),
        (
            lambda: F.layer_norm(Tensor(rand(2, 4)), Tensor(rand(3)), Tensor(rand(4))),
            ValueError,
            "weight: expected shape",
        ),
        (
            lambda: fused.multi_head_attention(Tensor(rand(1, 2, 6)), Tensor(rand(1, 2, 12)), 4),
            ValueError,
            "n_heads: d_model=6 is not divisible by n_heads=4",
        ),
        (
            lambda: fused.multi_head_attention(Tensor(rand(1, 2, 4)), Tensor(rand(1, 2, 4)), 2),
            ValueError,
            r"kv: expected shape \(1, n_k, 8\)",
        ),
        (
            lambda: fused.multi_head_attention(
                Tensor(rand(1, 2, 4)), Tensor(rand(1, 2, 8)), 2, mask=np.ones((3, 2, 2), bool)
            ),
            ValueError,
            "mask: expected a shape broadcastable",
        ),
        (
            lambda: F.scaled_dot_product_attention(
                Tensor(rand(2, 3)), Tensor(rand(4, 2)), Tensor(rand(4, 2))
            ),
            ValueError,
            "k: expected d_k=3",
        ),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
