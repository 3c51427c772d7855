"""Gradient checking: compare backward's gradients with central finite differences.

For a function ``f`` of tensors we reduce its output to a scalar ``L = Σ f(x) ⊙ R`` with a
fixed random ``R`` (so every output entry matters), then for each input entry compute
``(L(x + eps) − L(x − eps)) / (2 eps)`` in float64 and compare with ``dL/dx`` from
:meth:`Tensor.backward`.

>>> report = gradcheck(lambda x: (x * x).sum(), [np.array([1.0, -2.0])])
>>> report.passed, report.max_rel_error < 1e-8
(True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genai_notes._checks import check_array, check_real
from genai_notes.autograd.tensor import Tensor

__all__ = ["GradcheckReport", "gradcheck"]


@dataclass
class GradcheckReport:
    """Outcome of :func:`gradcheck`.

    max_rel_error: the worst ``|analytic − numeric| / max(|analytic|, |numeric|, floor)``
    over all input entries; worst_input / worst_index: where it occurred;
    analytic / numeric: the two values there; passed: ``max_rel_error < tol``.
    """

    max_rel_error: float
    worst_input: int
    worst_index: tuple[int, ...]
    analytic: float
    numeric: float
    passed: bool

    def __str__(self) -> str:
        status = "ok" if self.passed else "FAILED"
        return (
            f"gradcheck {status}: worst relative error {self.max_rel_error:.2e} at input "
            f"{self.worst_input} index {self.worst_index} (analytic {self.analytic:.8g}, "
            f"numeric {self.numeric:.8g})"
        )


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    tol: float = 1e-6,
    floor: float = 1e-3,
    seed: int = 0,
) -> GradcheckReport:
    """Check ``fn``'s backward rules at ``inputs`` (arrays, converted to float64 tensors).

    ``fn(*tensors)`` must return a Tensor built only from its arguments (non-differentiable
    arguments such as masks or targets are captured by the closure). ``floor`` makes the
    comparison absolute for gradients smaller than it: central differences carry an
    absolute round-off error of about ``1e-16 · |L| / eps``.
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a function of tensors, got {type(fn).__name__}")
    eps = check_real(eps, "eps", low=0.0, low_inclusive=False)
    arrays = [check_array(x, f"inputs[{i}]").astype(np.float64) for i, x in enumerate(inputs)]
    if not arrays:
        raise ValueError("inputs: expected at least one array, got none")
    tensors = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"fn: expected it to return a Tensor, got {type(out).__name__}")
    if out.dtype != np.float64:
        raise TypeError(f"fn: returned {out.dtype}; every operation must keep float64")
    weights = np.random.default_rng(seed).standard_normal(out.shape)

    def scalar(values: list[np.ndarray]) -> float:
        result = fn(*[Tensor(v, dtype=np.float64) for v in values])
        return float(np.sum(result.data * weights))

    (out * weights).sum().backward()
    worst = GradcheckReport(0.0, 0, (), 0.0, 0.0, True)
    for i, (array, tensor) in enumerate(zip(arrays, tensors)):
        analytic = np.zeros_like(array) if tensor.grad is None else tensor.grad
        for index in np.ndindex(array.shape):
            original = array[index]
            array[index] = original + eps
            plus = scalar(arrays)
            array[index] = original - eps
            minus = scalar(arrays)
            array[index] = original
            numeric = (plus - minus) / (2.0 * eps)
            a = float(analytic[index])
            error = abs(a - numeric) / max(abs(a), abs(numeric), floor)
            if error >= worst.max_rel_error:
                worst = GradcheckReport(error, i, tuple(int(j) for j in index), a, numeric, True)
    worst.passed = worst.max_rel_error < tol
    return worst
