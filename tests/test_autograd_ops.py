"""Finite-difference checks (float64) for every basic op, and their bad-input errors."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes.autograd import (
    Tensor,
    concatenate,
    dropout,
    embedding,
    gelu,
    gradcheck,
    masked_fill,
    matmul,
    split,
)
from genai_notes.autograd.shape_ops import scatter_add_rows

RNG = np.random.default_rng(1234)


def rand(*shape: int, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    return RNG.uniform(low, high, shape)


def away_from_zero(*shape: int) -> np.ndarray:
    """Values with |x| >= 0.2 (ReLU is not differentiable at 0)."""
    x = rand(*shape)
    return np.where(x >= 0, x + 0.2, x - 0.2)


W32, W22 = rand(3, 2), rand(2, 2)  # constants must stay fixed across evaluations

# (name, function of tensors, input arrays)
CASES = [
    ("add", lambda a, b: a + b, [rand(3, 4), rand(3, 4)]),
    ("add broadcast row", lambda a, b: a + b, [rand(2, 3, 4), rand(4)]),
    ("add broadcast keepdim", lambda a, b: a + b, [rand(2, 3, 4), rand(2, 1, 4)]),
    ("add scalar", lambda a: 2.5 + a, [rand(3)]),
    ("sub broadcast", lambda a, b: a - b, [rand(3, 1), rand(1, 4)]),
    ("rsub", lambda a: 1.0 - a, [rand(3)]),
    ("mul broadcast", lambda a, b: a * b, [rand(2, 3, 4), rand(3, 1)]),
    ("mul same tensor", lambda a: a * a, [rand(5)]),
    ("div", lambda a, b: a / b, [rand(3, 4), rand(4, low=0.5, high=2.0)]),
    ("rdiv", lambda a: 2.0 / a, [rand(3, low=0.5, high=2.0)]),
    ("neg", lambda a: -a, [rand(3)]),
    ("pow", lambda a: a**3.0, [rand(4)]),
    ("pow fractional", lambda a: a**0.5, [rand(4, low=0.5, high=2.0)]),
    ("matmul 2d", lambda a, b: a @ b, [rand(3, 4), rand(4, 5)]),
    ("matmul batch", lambda a, b: a @ b, [rand(2, 3, 4), rand(2, 4, 2)]),
    ("matmul batch broadcast", lambda a, b: a @ b, [rand(2, 2, 3, 4), rand(4, 2)]),
    ("matmul batch broadcast b", lambda a, b: a @ b, [rand(3, 4), rand(2, 4, 2)]),
    ("matmul vector", lambda a, b: a @ b, [rand(3, 4), rand(4)]),
    ("vector matmul", lambda a, b: a @ b, [rand(4), rand(4, 3)]),
    ("sum all", lambda a: a.sum(), [rand(3, 4)]),
    ("sum axis", lambda a: a.sum(axis=1), [rand(2, 3, 4)]),
    ("sum axes keepdims", lambda a: a.sum(axis=(0, 2), keepdims=True), [rand(2, 3, 4)]),
    ("mean axis", lambda a: a.mean(axis=-1), [rand(2, 3, 4)]),
    ("mean all", lambda a: a.mean(), [rand(2, 3)]),
    ("reshape", lambda a: a.reshape(4, 6) * np.arange(24.0).reshape(4, 6), [rand(2, 3, 4)]),
    ("transpose", lambda a: a.transpose(2, 0, 1) @ W32, [rand(2, 3, 4)]),
    ("T", lambda a: a.T @ W22, [rand(2, 3)]),
    ("getitem slice", lambda a: a[1:, ::2], [rand(3, 4)]),
    ("getitem int", lambda a: a[1], [rand(3, 4)]),
    ("getitem repeated", lambda a: a[np.array([0, 2, 0, 0])], [rand(3, 4)]),
    ("embedding repeated", lambda w: embedding(w, np.array([[1, 1, 3], [0, 1, 1]])), [rand(4, 3)]),
    ("concatenate", lambda a, b: concatenate([a, b], axis=1), [rand(2, 3), rand(2, 2)]),
    (
        "split",
        lambda a: split(a, [1, 3], axis=1)[1] * 2.0 + split(a, 2, axis=0)[0].sum(),
        [rand(2, 4)],
    ),
    ("exp", lambda a: a.exp(), [rand(3, 4)]),
    ("log", lambda a: a.log(), [rand(3, 4, low=0.5, high=3.0)]),
    ("tanh", lambda a: a.tanh(), [rand(3, 4, low=-2.0, high=2.0)]),
    ("relu", lambda a: a.relu(), [away_from_zero(3, 4)]),
    ("gelu", lambda a: gelu(a), [rand(3, 4, low=-3.0, high=3.0)]),
    (
        "masked_fill",
        lambda a: masked_fill(a, np.array([True, False, True, False]), -5.0),
        [rand(3, 4)],
    ),
    ("dropout fixed mask", lambda a: dropout(a, 0.3, rng=7), [rand(4, 5)]),
    (
        "composite",
        lambda a, b: ((a @ b).tanh() * a.sum(axis=1, keepdims=True)).mean(),
        [rand(3, 4), rand(4, 4)],
    ),
]


@pytest.mark.parametrize(("name", "fn", "inputs"), CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn, inputs):
    report = gradcheck(fn, inputs)
    assert report.passed, f"{name}: {report}"


def test_worst_case_over_all_ops(capsys):
    reports = {name: gradcheck(fn, inputs) for name, fn, inputs in CASES}
    name, worst = max(reports.items(), key=lambda item: item[1].max_rel_error)
    with capsys.disabled():
        print(f"\nworst gradcheck over {len(reports)} basic ops: {name}: {worst}")
    assert worst.max_rel_error < 1e-6


def test_gradcheck_catches_a_wrong_backward():
    def bad_square(x: Tensor) -> Tensor:
        return Tensor._node(x.data**2, (x,), lambda g: (g * x.data,), "bad")  # missing 2·

    report = gradcheck(bad_square, [rand(3)])
    assert not report.passed
    assert report.max_rel_error > 0.3


def test_gelu_matches_the_tanh_formula_and_is_close_to_exact_gelu():
    from math import erf

    x = np.linspace(-4, 4, 81)
    c = np.sqrt(2 / np.pi)
    expected = 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x**3)))
    got = gelu(Tensor(x, dtype=np.float64)).data
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    exact = np.array([0.5 * v * (1 + erf(v / np.sqrt(2))) for v in x])
    assert np.max(np.abs(got - exact)) < 1e-3


def test_gelu_chunked_kernel_on_a_large_array():
    # Larger than one cache block, so several blocks (and a short last one) are used.
    x = Tensor(RNG.standard_normal(70_001), requires_grad=True, dtype=np.float64)
    y = gelu(x)
    c = np.sqrt(2 / np.pi)
    t = np.tanh(c * (x.data + 0.044715 * x.data**3))
    np.testing.assert_allclose(y.data, 0.5 * x.data * (1 + t), rtol=1e-12)
    y.sum().backward()
    deriv = 0.5 * (1 + t) + 0.5 * x.data * (1 - t**2) * c * (1 + 3 * 0.044715 * x.data**2)
    np.testing.assert_allclose(x.grad, deriv, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("n_rows", [7, 6000])  # one-hot product; sort and reduceat
def test_scatter_add_rows_matches_add_at(n_rows):
    ids = RNG.integers(0, n_rows, 50)
    ids[:5] = ids[5]  # repeated ids
    rows = RNG.standard_normal((50, 3))
    expected = np.zeros((n_rows, 3))
    np.add.at(expected, ids, rows)
    np.testing.assert_allclose(scatter_add_rows(ids, rows, n_rows), expected, rtol=1e-12)


def test_dropout_statistics_and_identity_in_eval():
    x = Tensor(np.ones((200, 100)))
    y = dropout(x, 0.25, rng=0).data
    assert abs((y == 0).mean() - 0.25) < 0.01
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.75], rtol=1e-6)
    assert dropout(x, 0.25, rng=0, training=False) is x


def test_float32_stays_float32():
    a = Tensor(rand(3, 4), requires_grad=True)
    out = ((a * 0.5 + 1.0) / 3.0 - np.float32(2.0)) @ Tensor(rand(4, 2))
    out = gelu(out.tanh()).exp().mean()
    assert out.dtype == np.float32
    out.backward()
    assert a.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 2))), "matmul: inner dimensions"),
        (lambda: Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((3, 4, 2))), "matmul: batch axes"),
        (lambda: matmul(Tensor(1.0), Tensor(np.ones(2))), "matmul: expected arrays of rank"),
        (lambda: Tensor(np.ones((2, 3))) + Tensor(np.ones((4,))), "add: shapes"),
        (lambda: Tensor(np.ones(2)) * Tensor(np.ones(2), dtype=np.float64), "different dtypes"),
        (lambda: Tensor(np.ones(2)) * "a", "mul: expected a Tensor, number or array"),
        (lambda: Tensor(np.ones(6)).reshape(4, 2), "shape: cannot reshape"),
        (lambda: Tensor(np.ones((2, 3))).transpose(0, 0), "axes: expected a permutation"),
        (lambda: Tensor(np.ones(3))[5], "index:"),
        (lambda: Tensor(np.zeros(3)).log(), "log: expected positive"),
        (lambda: Tensor(np.ones(3)).sum(axis=2), "axis: expected integers"),
        (lambda: embedding(Tensor(np.ones((4, 2))), np.array([4])), "ids: expected token ids"),
        (lambda: embedding(Tensor(np.ones((4, 2))), np.array([0.5])), "ids: expected integer"),
        (lambda: concatenate([Tensor(np.ones((2, 2))), Tensor(np.ones((3, 3)))]), "tensors:"),
        (lambda: split(Tensor(np.ones((2, 5))), 2), "sections:"),
        (lambda: masked_fill(Tensor(np.ones(3)), np.ones(3), 0.0), "mask: expected bool"),
        (lambda: masked_fill(Tensor(np.ones(3)), np.ones((2, 3), bool), 0.0), "mask: shape"),
        (lambda: dropout(Tensor(np.ones(3)), 1.5, rng=0), "p: expected a number <= 1"),
        (lambda: dropout(Tensor(np.ones(3)), 1.0, rng=0), "p: expected a probability below 1"),
        (lambda: Tensor(["a"]), "data: expected an array-like of numbers"),
        (lambda: Tensor([1.0], dtype=np.int32), "dtype: expected float32 or float64"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises((ValueError, TypeError, IndexError), match=match):
        call()
