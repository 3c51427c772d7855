"""Semantics of Tensor.backward: accumulation, zero_grad, no_grad, errors, deep graphs."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes.autograd import Tensor, is_grad_enabled, no_grad
from genai_notes.autograd.tensor import unbroadcast


def test_backward_by_hand():
    # f = sum(w * x + w²) => df/dw = x + 2w, df/dx = w
    w = Tensor([1.0, -2.0], requires_grad=True)
    x = Tensor([3.0, 4.0], requires_grad=True)
    (w * x + w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [5.0, 0.0])
    np.testing.assert_array_equal(x.grad, [1.0, -2.0])


def test_calling_backward_twice_accumulates():
    w = Tensor([2.0], requires_grad=True)
    loss = (w * w * 3.0).sum()  # d/dw = 6w = 12
    loss.backward()
    np.testing.assert_array_equal(w.grad, [12.0])
    loss.backward()  # the graph is kept, gradients add up
    np.testing.assert_array_equal(w.grad, [24.0])
    w.zero_grad()
    assert w.grad is None
    loss.backward()
    np.testing.assert_array_equal(w.grad, [12.0])


def test_two_losses_accumulate_into_the_same_leaf():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * 2.0).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [2.0 + 2.0, 2.0 + 4.0])


def test_shared_subexpression_gradients_add():
    # y = a + a (the same node twice) -> dy/da = 2
    a = Tensor([1.0, 1.0], requires_grad=True)
    b = a * 3.0
    (b + b).sum().backward()
    np.testing.assert_array_equal(a.grad, [6.0, 6.0])


def test_leaf_grads_are_private_copies():
    # add hands the same gradient array to both parents; mutating one must not touch the other
    a = Tensor([1.0], requires_grad=True)
    b = Tensor([2.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 10.0
    np.testing.assert_array_equal(b.grad, [1.0])


def test_intermediate_gradients_are_released_unless_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    kept = (x * 3.0).retain_grad()
    (h * h + kept).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(kept.grad, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [8.0 * 1 + 3.0, 8.0 * 2 + 3.0])


def test_no_grad_builds_no_graph():
    w = Tensor([1.0], requires_grad=True)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = w * 2.0 + 1.0
    assert is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_restores_state_after_an_exception():
    with pytest.raises(ZeroDivisionError), no_grad():
        raise ZeroDivisionError
    assert is_grad_enabled()


def test_backward_on_non_scalar_needs_a_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    with pytest.raises(RuntimeError, match=r"grad must be given for a non-scalar .* \(2,\)"):
        y.backward()
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 30.0])
    with pytest.raises(ValueError, match=r"grad: expected shape \(2,\), got \(3,\)"):
        y.backward(np.ones(3))


def test_deep_graph_has_no_recursion_limit():
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001**20_000], rtol=1e-3)


def test_constants_do_not_join_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([5.0, 5.0])
    product = x * c
    y = product + np.array([1.0, 1.0])
    assert product._parents == (x, c)
    assert y._parents == (product,)  # the ndarray constant is not a node
    y.sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])


def test_dtypes_default_float32_and_float64_on_request():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float32  # float64 input is converted
    assert Tensor(np.zeros(2), dtype=np.float64).dtype == np.float64
    assert (Tensor([1.0], dtype=np.float64) * 2.0).dtype == np.float64


def test_item_detach_and_repr():
    x = Tensor([[2.5]], requires_grad=True)
    assert x.item() == 2.5
    d = (x * 2.0).detach()
    assert d.is_leaf and not d.requires_grad
    assert "requires_grad=True" in repr(x)
    with pytest.raises(ValueError, match="item: expected a tensor with one element"):
        Tensor([1.0, 2.0]).item()


def test_unbroadcast_by_hand():
    g = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(unbroadcast(g, (3,)), [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(unbroadcast(g, (2, 1)), [[3.0], [12.0]])
    np.testing.assert_array_equal(unbroadcast(g, (1, 1)), [[15.0]])
    np.testing.assert_array_equal(unbroadcast(g, ()), 15.0)
