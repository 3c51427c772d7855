"""Central finite differences, the tests' independent route to a gradient.

Deliberately the plainest possible loop, one entry at a time, and separate from the package's
``genai_notes.autograd.gradcheck`` so that the tests of the package do not check the package
against itself.
"""

from collections.abc import Callable

import numpy as np


def numeric_grad(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f / d x at ``x`` by central differences (use float64 inputs); ``x`` is restored."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + eps
        plus = f(x)
        x[index] = saved - eps
        minus = f(x)
        x[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad
