"""GELU in cache-sized blocks, with its derivative computed in the same passes.

The teaching version is :func:`genai_notes.autograd.ops.gelu`: the formula, then the
derivative from the stored tanh. Here the dozen element-wise passes run on one block of rows
at a time, so each block stays in cache through all of them, and the derivative reuses the
forward's temporaries. ``tests/test_autograd_fused.py`` checks that the two agree.

>>> out, deriv = gelu_kernel(np.array([[-1.0, 0.0, 1.0]]), need_grad=True)
>>> np.round(out, 4), np.round(deriv, 4)
(array([[-0.1588,  0.    ,  0.8412]]), array([[-0.083,  0.5  ,  1.083]]))
"""

from __future__ import annotations

import numpy as np

from genai_notes.autograd.ops import GELU_A, GELU_C

__all__ = ["gelu_kernel"]

_CHUNK = 1 << 16  # elements per block: 256 KB of float32, so the temporaries stay in L2 cache
# x² is capped here: beyond |x| = 20 the tanh is already ±1, and the cap keeps the
# derivative finite (0 · finite) where x² would overflow (inf · 0 = NaN).
_SQUARE_CAP = 400.0


def gelu_kernel(
    z: np.ndarray,
    need_grad: bool,
    bias: np.ndarray | None = None,
    inplace: bool = False,
    deriv_out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """GELU of a C-contiguous array ``z (..., d)`` and, if ``need_grad``, its derivative.

    If ``bias (d,)`` is given it is first added to ``z`` **in place**, and with
    ``inplace=True`` the result overwrites ``z`` too (for callers that own ``z``, such as the
    fused linear-GELU nodes: it saves writing a second ``(n, d)`` array); ``deriv_out``, an
    array of ``z``'s shape, receives the derivative (for callers that fill a larger buffer
    chunk by chunk from several threads). Blocks of 64k elements: smaller ones pay NumPy's
    call overhead (about 1 µs a call) too often, and make two threads contend for the GIL.
    With ``h = (1 + t) / 2`` and ``out = h·x``, the derivative
    ``h + x (1 - t²) c (1 + 3 a x²) / 2`` is rewritten as ``h + out (1 - h)(2c + 6ac x²)``
    (since ``1 - t² = 4 h (1 - h)``), which takes fewer passes.
    """
    # Rows of length d only matter for the bias; otherwise any contiguous blocking will do.
    rows = z.reshape(-1, z.shape[-1] if bias is not None else 1)
    out = rows if inplace else np.empty_like(rows)
    if not need_grad:
        deriv = None
    elif deriv_out is not None:
        deriv = deriv_out.reshape(rows.shape)
    else:
        deriv = np.empty_like(rows)
    step = max(1, _CHUNK // rows.shape[1])
    t_buf = np.empty((min(step, rows.shape[0]), rows.shape[1]), dtype=rows.dtype)
    u_buf = np.empty_like(t_buf)
    for start in range(0, rows.shape[0], step):
        stop = min(start + step, rows.shape[0])
        x, o = rows[start:stop], out[start:stop]
        t, u = t_buf[: stop - start], u_buf[: stop - start]
        if bias is not None:
            x += bias
        np.multiply(x, x, out=u)  # x²
        np.minimum(u, _SQUARE_CAP, out=u)
        np.multiply(u, GELU_A * GELU_C, out=t)
        t += GELU_C
        t *= x  # c (x + a x³)
        np.tanh(t, out=t)
        t *= 0.5
        t += 0.5  # h = (1 + tanh) / 2
        np.multiply(t, x, out=o)  # gelu(x) = h x
        if deriv is not None:
            d = deriv[start:stop]
            u *= 6.0 * GELU_A * GELU_C
            u += 2.0 * GELU_C  # 2c + 6ac x²
            np.subtract(1.0, t, out=d)
            d *= o
            d *= u
            d += t  # h + out (1 - h)(2c + 6ac x²)
    shape = z.shape
    return out.reshape(shape), None if deriv is None else deriv.reshape(shape)
