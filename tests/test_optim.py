"""Optimisers, clipping and the learning-rate schedule, against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genai_notes.autograd import Tensor
from genai_notes.nn import SGD, AdamW, clip_grad_norm, warmup_cosine_lr


def param(values, grad) -> Tensor:
    p = Tensor(values, requires_grad=True, dtype=np.float64)
    p.grad = np.array(grad, dtype=np.float64)
    return p


def test_adamw_two_steps_by_hand():
    # lr 0.1, betas (0.9, 0.999), eps 1e-8, weight decay 0.1, constant gradient g.
    # Step 1: m = 0.1 g, v = 0.001 g², bias-corrected m̂ = g, v̂ = g², so the Adam step is
    # lr · g / (|g| + eps) ≈ 0.1 · sign(g); decay first multiplies W by 1 - 0.1·0.1 = 0.99.
    # Step 2: m = 0.19 g, v = 0.001999 g²; corrected again to g and g²: same step.
    w = param([[1.0, -2.0]], [[0.5, -0.25]])
    b = param([3.0], [0.2])
    opt = AdamW([w, b], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
    opt.step()
    step = lambda g: 0.1 * abs(g) / (abs(g) + 1e-8) * math.copysign(1, g)  # noqa: E731
    np.testing.assert_allclose(w.data, [[0.99 - step(0.5), -1.98 - step(-0.25)]], rtol=1e-12)
    np.testing.assert_allclose(b.data, [3.0 - step(0.2)], rtol=1e-12)  # 1-D: no decay
    opt.step()
    np.testing.assert_allclose(
        w.data, [[(0.99 - 0.1) * 0.99 - 0.1, (-1.98 + 0.1) * 0.99 + 0.1]], rtol=1e-7
    )
    np.testing.assert_allclose(b.data, [2.8], rtol=1e-7)
    np.testing.assert_allclose(opt.m[0], 0.19 * w.grad, rtol=1e-12)
    np.testing.assert_allclose(opt.v[0], 0.001999 * w.grad**2, rtol=1e-12)


def test_adamw_decays_only_matrices_by_default():
    w = param(np.ones((2, 2)), np.zeros((2, 2)))
    gain = param(np.ones(2), np.zeros(2))
    opt = AdamW([w, gain], lr=0.5, weight_decay=0.2)
    opt.step()  # zero gradient: only decay can move a parameter
    np.testing.assert_allclose(w.data, 0.9)
    np.testing.assert_array_equal(gain.data, 1.0)
    assert opt.decayed == [True, False]
    custom = AdamW([w, gain], lr=0.5, weight_decay=0.2, decay=lambda p: p.ndim == 1)
    assert custom.decayed == [False, True]


def test_adamw_skips_parameters_without_gradient():
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    AdamW([w], lr=0.1).step()
    np.testing.assert_array_equal(w.data, 1.0)


def test_adamw_keeps_float32():
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    w.grad = np.full((2, 2), 0.3, dtype=np.float32)
    opt = AdamW([w], lr=1e-3)
    opt.step()
    assert w.data.dtype == np.float32 and opt.m[0].dtype == np.float32


def test_sgd_with_momentum_by_hand():
    p = param([1.0], [2.0])
    opt = SGD([p], lr=0.1, momentum=0.5)
    opt.step()  # buf = 2, p = 1 - 0.2
    opt.step()  # buf = 0.5·2 + 2 = 3, p = 0.8 - 0.3
    np.testing.assert_allclose(p.data, [0.5], rtol=1e-12)


def test_optimizer_zero_grad():
    p = param([1.0], [2.0])
    opt = SGD([p], lr=0.1)
    opt.zero_grad()
    assert p.grad is None


def test_clip_grad_norm_by_hand():
    a = param([0.0, 0.0], [3.0, 0.0])
    b = param([[0.0]], [[4.0]])
    assert clip_grad_norm([a, b], 10.0) == pytest.approx(5.0)
    np.testing.assert_array_equal(a.grad, [3.0, 0.0])  # under the limit: unchanged
    assert clip_grad_norm([a, b], 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad, [0.6, 0.0])
    np.testing.assert_allclose(b.grad, [[0.8]])
    norm = math.sqrt(float((a.grad**2).sum() + (b.grad**2).sum()))
    assert norm == pytest.approx(1.0)


def test_warmup_cosine_by_hand():
    kw = {"max_lr": 6e-4, "warmup_steps": 10, "total_steps": 110, "min_lr": 6e-5}
    assert warmup_cosine_lr(0, **kw) == pytest.approx(6e-5)  # 6e-4 · 1/10
    assert warmup_cosine_lr(4, **kw) == pytest.approx(3e-4)  # 6e-4 · 5/10
    assert warmup_cosine_lr(9, **kw) == pytest.approx(6e-4)  # last warm-up step
    assert warmup_cosine_lr(10, **kw) == pytest.approx(6e-4)  # cos(0) = 1: the peak
    assert warmup_cosine_lr(60, **kw) == pytest.approx(3.3e-4)  # midpoint: (max + min) / 2
    # a quarter of the way: min + (max - min)(1 + cos(π/4)) / 2
    quarter = 6e-5 + 0.5 * 5.4e-4 * (1 + math.sqrt(0.5))
    assert warmup_cosine_lr(35, **kw) == pytest.approx(quarter)
    assert warmup_cosine_lr(110, **kw) == pytest.approx(6e-5)  # the end
    assert warmup_cosine_lr(500, **kw) == pytest.approx(6e-5)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: warmup_cosine_lr(0, 1.0, 10, 10), ValueError, "total_steps: expected more"),
        (lambda: warmup_cosine_lr(-1, 1.0, 1, 10), ValueError, "step: expected a non-negative"),
        (lambda: warmup_cosine_lr(0, 1.0, 1, 10, min_lr=2.0), ValueError, "min_lr:"),
        (lambda: AdamW([], lr=0.1), ValueError, "params: expected at least one"),
        (lambda: AdamW([Tensor([1.0])], lr=0.1), TypeError, "params: item 0"),
        (lambda: AdamW([Tensor([1.0], requires_grad=True)], lr=-1.0), ValueError, "lr:"),
        (lambda: AdamW([Tensor([1.0], requires_grad=True)], betas=(0.9,)), ValueError, "betas:"),
        (
            lambda: SGD([Tensor([1.0], requires_grad=True)], 0.1, momentum=2.0),
            ValueError,
            "momentum:",
        ),
        (lambda: clip_grad_norm([], 0.0), ValueError, "max_norm: expected a number > 0"),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _adamw_reference(p, g, m, v, t, lr, b1, b2, eps, wd, decayed):
    """PyTorch's AdamW algorithm, one step, in float64 (written out from its documentation)."""
    if decayed:
        p = p * (1 - lr * wd)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def test_adamw_flat_buffers_follow_the_reference_algorithm():
    rng = np.random.default_rng(5)
    shapes = [(3, 4), (5,), (2, 3, 2), (4,)]
    params = [Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    ref = [p.data.astype(np.float64) for p in params]
    ref_m = [np.zeros(s) for s in shapes]
    ref_v = [np.zeros(s) for s in shapes]
    opt = AdamW(params, lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.3)
    for t in range(1, 4):
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        for i, g in enumerate(grads):
            ref[i], ref_m[i], ref_v[i] = _adamw_reference(
                ref[i], g.astype(np.float64), ref_m[i], ref_v[i], t,
                0.05, 0.8, 0.95, 1e-6, 0.3, len(shapes[i]) >= 2,
            )  # fmt: skip
    for p, r, m, m_ref in zip(params, ref, opt.m, ref_m):
        assert p.data.dtype == np.float32 and p.data.shape == r.shape
        np.testing.assert_allclose(p.data, r, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(m, m_ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(("dtype", "rtol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_fused_adamw_equals_the_plain_loop(dtype, rtol):
    rng = np.random.default_rng(6)
    shapes = [(64, 33), (33,), (7, 5, 3)]
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(5)]
    results = []
    for fused in (True, False):
        params = [Tensor(a.copy(), requires_grad=True, dtype=dtype) for a in start]
        opt = AdamW(params, lr=0.01, weight_decay=0.1, fused=fused)
        assert (opt._flat is not None) == fused
        for step_grads in grads:
            for p, g in zip(params, step_grads):
                p.grad = g
            opt.step()
        results.append([p.data.copy() for p in params])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-3)


def test_adamw_updates_values_loaded_after_it_was_built():
    w = Tensor(np.zeros((2, 2)), requires_grad=True)
    opt = AdamW([w], lr=0.1, weight_decay=0.0, fused=True)
    w.data = np.full((2, 2), 5.0, dtype=np.float32)  # e.g. Module.load_state_dict
    w.grad = np.ones((2, 2), dtype=np.float32)
    opt.step()  # first Adam step moves each entry by lr against the gradient's sign
    np.testing.assert_allclose(w.data, 4.9, rtol=1e-6)
    assert np.shares_memory(w.data, opt.m[0]) is False and w.data.base is not None


def test_adamw_flat_mode_skips_a_parameter_without_gradient():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones((2, 2)), requires_grad=True)
    opt = AdamW([a, b], lr=0.1, weight_decay=0.0, fused=True)
    b.grad = np.ones((2, 2), dtype=np.float32)
    opt.step()
    np.testing.assert_array_equal(a.data, 1.0)
    np.testing.assert_allclose(b.data, 0.9, rtol=1e-6)
    a.grad = np.ones(3, dtype=np.float32)
    opt.step()  # step t = 2 for both: b moves by lr again, a (m = 0.1, v = 0.001) by less
    a_step = 0.1 * (0.1 / (1 - 0.9**2)) / math.sqrt(0.001 / (1 - 0.999**2))
    np.testing.assert_allclose(a.data, 1.0 - a_step, rtol=1e-6)
    np.testing.assert_allclose(b.data, 0.8, rtol=1e-5)
