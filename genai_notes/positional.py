"""Positional encodings: telling attention where each token is (chapter 4).

Self-attention treats its input as a set: shuffle the tokens and the outputs shuffle the same
way. Three ways to give it positions are implemented here.

**Sinusoidal** (Vaswani et al., 2017). Position ``p`` gets the vector

    PE[p, 2i]   = sin(p ω_i),   PE[p, 2i+1] = cos(p ω_i),   ω_i = base^(-2i / d_model)

so dimensions come in (sin, cos) pairs, **interleaved**: even dimensions hold sines, odd ones
cosines, pair ``i`` turning at frequency ``ω_i`` (from 1 radian per position down to about
``1/base``). Because ``sin`` and ``cos`` of ``p + k`` are fixed combinations of those of ``p``,
``PE[p + k] = M_k PE[p]`` for a block-diagonal rotation ``M_k`` that depends on ``k`` only
(:func:`relative_rotation`).

**Learned absolute** (GPT-2 style). A ``(max_seq, d_model)`` table with one trained row per
position (:class:`LearnedPositions`). It cannot encode a position beyond its last row.

**Rotary** (RoPE; Su et al., 2021). Instead of adding anything, rotate each query and key
vector by an angle proportional to its position, pair by pair (:func:`apply_rope`). We pair
**adjacent dimensions** ``(2i, 2i+1)``, as the RoFormer paper does and as the sinusoidal layout
above does; some libraries pair dimension ``i`` with ``i + d_head/2`` instead, which is the
same method with the features permuted. Then ``rope(q, m) · rope(k, n)`` depends on ``m - n``
only.

>>> sinusoidal_encoding(2, 4).round(4)
array([[0.    , 1.    , 0.    , 1.    ],
       [0.8415, 0.5403, 0.01  , 1.    ]])
"""

from __future__ import annotations

import numpy as np

from genai_notes._checks import (
    check_array,
    check_int,
    check_positive_int,
    check_real,
    check_rng,
    check_shape,
)

__all__ = [
    "sinusoidal_frequencies",
    "sinusoidal_at",
    "sinusoidal_encoding",
    "relative_rotation",
    "LearnedPositions",
    "rope_rotation_matrix",
    "apply_rope",
    "rope_backward",
]

DEFAULT_BASE = 10000.0  # the base of the 2017 paper, also used by RoFormer


def _check_even(d: int, name: str) -> int:
    d = check_positive_int(d, name)
    if d % 2:
        raise ValueError(
            f"{name}: expected an even number (dimensions come in sin/cos or rotation pairs), "
            f"got {d}"
        )
    return d


def sinusoidal_frequencies(d_model: int, base: float = DEFAULT_BASE) -> np.ndarray:
    """``(d_model // 2,)`` angular frequencies ``ω_i = base^(-2i/d_model)``, radians per position.

    >>> sinusoidal_frequencies(4, base=100.0)
    array([1. , 0.1])
    """
    d_model = _check_even(d_model, "d_model")
    base = check_real(base, "base", low=1.0, low_inclusive=False)
    return base ** (-np.arange(0, d_model, 2) / d_model)


def sinusoidal_at(positions: object, d_model: int, base: float = DEFAULT_BASE) -> np.ndarray:
    """Sinusoidal encodings of arbitrary (even non-integer) positions ``(...)``: ``(..., d_model)``.

    Layout: ``out[..., 2i] = sin(p ω_i)`` and ``out[..., 2i+1] = cos(p ω_i)``.
    """
    positions = check_array(positions, "positions", dtype_kind="fiu").astype(float)
    angles = positions[..., None] * sinusoidal_frequencies(d_model, base)  # (..., d_model/2)
    out = np.empty(positions.shape + (d_model,))
    out[..., 0::2] = np.sin(angles)
    out[..., 1::2] = np.cos(angles)
    return out


def sinusoidal_encoding(
    seq: int, d_model: int, base: float = DEFAULT_BASE, offset: int = 0
) -> np.ndarray:
    """The ``(seq, d_model)`` encodings of positions ``offset, ..., offset + seq - 1``.

    >>> sinusoidal_encoding(3, 5)
    Traceback (most recent call last):
    ...
    ValueError: d_model: expected an even number (dimensions come in sin/cos or rotation pairs), got 5
    """
    seq = check_positive_int(seq, "seq")
    offset = check_int(offset, "offset", minimum=0)
    return sinusoidal_at(np.arange(offset, offset + seq), d_model, base)


def relative_rotation(k: float, d_model: int, base: float = DEFAULT_BASE) -> np.ndarray:
    """The ``(d_model, d_model)`` matrix ``M_k`` with ``PE[p + k] = M_k @ PE[p]`` for every p.

    From ``sin(a + b) = sin a cos b + cos a sin b`` and ``cos(a + b) = cos a cos b - sin a sin b``
    with ``a = p ω_i`` and ``b = k ω_i``: each (sin, cos) pair is multiplied by the 2x2 block
    ``[[cos kω_i, sin kω_i], [-sin kω_i, cos kω_i]]``, a rotation by the angle ``k ω_i``.
    Nothing in ``M_k`` depends on ``p``.

    >>> p, k = 7, 3
    >>> bool(np.allclose(relative_rotation(k, 8) @ sinusoidal_at(p, 8), sinusoidal_at(p + k, 8)))
    True
    """
    k = check_real(k, "k")
    angles = k * sinusoidal_frequencies(d_model, base)  # (d_model/2,)
    cos, sin = np.cos(angles), np.sin(angles)
    m = np.zeros((d_model, d_model))
    even, odd = np.arange(0, d_model, 2), np.arange(1, d_model, 2)
    m[even, even], m[even, odd] = cos, sin
    m[odd, even], m[odd, odd] = -sin, cos
    return m


class LearnedPositions:
    """A learned absolute position table: ``weight (max_seq, d_model)``, one row per position.

    Rows start as normal draws with standard deviation ``scale`` (GPT-2 used 0.01) and are
    trained like any embedding. A position at or beyond ``max_seq`` has no row, so longer
    sequences are refused.

    >>> table = LearnedPositions(max_seq=8, d_model=4, seed=0)
    >>> table(5).shape
    (5, 4)
    >>> table(10)
    Traceback (most recent call last):
    ...
    ValueError: seq: positions 0 to 9 were requested, but the learned table has rows for positions 0 to 7 only (max_seq=8)
    """

    def __init__(
        self, max_seq: int, d_model: int, seed: int | np.random.Generator = 0, scale: float = 0.02
    ):
        max_seq = check_positive_int(max_seq, "max_seq")
        d_model = check_positive_int(d_model, "d_model")
        scale = check_real(scale, "scale", low=0.0)
        self.weight: np.ndarray = check_rng(seed).normal(0.0, scale, size=(max_seq, d_model))

    @property
    def max_seq(self) -> int:
        return self.weight.shape[0]

    def _rows(self, seq: int, offset: int) -> slice:
        seq = check_positive_int(seq, "seq")
        offset = check_int(offset, "offset", minimum=0)
        if offset + seq > self.max_seq:
            raise ValueError(
                f"seq: positions {offset} to {offset + seq - 1} were requested, but the learned "
                f"table has rows for positions 0 to {self.max_seq - 1} only "
                f"(max_seq={self.max_seq})"
            )
        return slice(offset, offset + seq)

    def __call__(self, seq: int, offset: int = 0) -> np.ndarray:
        """The ``(seq, d_model)`` rows for positions ``offset .. offset + seq - 1``."""
        return self.weight[self._rows(seq, offset)]

    def backward(self, grad_out: object, offset: int = 0) -> np.ndarray:
        """Gradient of ``weight``, ``(max_seq, d_model)``, from ``grad_out (..., seq, d_model)``,
        the gradient with respect to the output of ``self(seq, offset)`` (leading axes, such as
        a batch, are summed because every sequence reads the same rows)."""
        grad_out = check_array(grad_out, "grad_out", ndim=(2, 3, 4), dtype_kind="f")
        rows = self._rows(grad_out.shape[-2], offset)
        check_shape(grad_out, "grad_out", (*grad_out.shape[:-1], self.weight.shape[1]))
        grad = np.zeros_like(self.weight)
        grad[rows] = grad_out.reshape(-1, *grad_out.shape[-2:]).sum(axis=0)
        return grad


def _positions(seq: int, positions: object | None, offset: int) -> np.ndarray:
    if positions is None:
        offset = check_int(offset, "offset", minimum=0)
        return np.arange(offset, offset + seq, dtype=float)
    if offset != 0:
        raise ValueError("offset: give either positions or offset, not both")
    positions = check_array(positions, "positions", ndim=1, dtype_kind="fiu").astype(float)
    check_shape(positions, "positions", (seq,))
    return positions


def rope_rotation_matrix(position: float, d_head: int, base: float = DEFAULT_BASE) -> np.ndarray:
    """The ``(d_head, d_head)`` block-diagonal rotation RoPE applies at ``position``.

    Pair ``i`` (dimensions 2i and 2i+1) is rotated by ``position * ω_i`` with the usual
    counter-clockwise block ``[[cos, -sin], [sin, cos]]``. For teaching and testing;
    :func:`apply_rope` does the same without building the matrix.
    """
    angles = check_real(position, "position") * sinusoidal_frequencies(d_head, base)
    cos, sin = np.cos(angles), np.sin(angles)
    r = np.zeros((d_head, d_head))
    even, odd = np.arange(0, d_head, 2), np.arange(1, d_head, 2)
    r[even, even], r[even, odd] = cos, -sin
    r[odd, even], r[odd, odd] = sin, cos
    return r


def _rotate_pairs(x: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotate the (even, odd) pairs of ``x (..., seq, d)`` by ``angles (seq, d/2)``."""
    cos, sin = np.cos(angles), np.sin(angles)  # (seq, d/2), broadcast over leading axes
    even, odd = x[..., 0::2], x[..., 1::2]  # (..., seq, d/2)
    out = np.empty(x.shape, dtype=np.result_type(x, np.float32))
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def apply_rope(
    x: object, positions: object | None = None, offset: int = 0, base: float = DEFAULT_BASE
) -> np.ndarray:
    """Rotary position embedding of queries or keys ``x: (..., seq, d_head)``, same shape out.

    Row ``t`` of ``x`` is rotated as position ``positions[t]`` (default ``offset + t``; use
    ``offset`` for the new tokens of a sequence whose first ``offset`` tokens came earlier).
    Dimensions ``2i`` and ``2i+1`` form pair ``i``, rotated by ``position * ω_i``.
    Rotations keep lengths, and ``apply_rope(q, [m]) · apply_rope(k, [n])`` depends on
    ``m - n`` only.

    >>> q = np.array([[1.0, 0.0]])
    >>> apply_rope(q, positions=[np.pi / 2]).round(6) + 0.0  # a quarter turn
    array([[0., 1.]])
    """
    x = check_array(x, "x", ndim=(2, 3, 4, 5), dtype_kind="f")
    d_head = _check_even(x.shape[-1], "x.shape[-1] (d_head)")
    pos = _positions(x.shape[-2], positions, offset)
    return _rotate_pairs(x, pos[:, None] * sinusoidal_frequencies(d_head, base))


def rope_backward(
    grad_out: object, positions: object | None = None, offset: int = 0, base: float = DEFAULT_BASE
) -> np.ndarray:
    """Gradient through :func:`apply_rope`. RoPE multiplies each pair by a rotation ``R``, so
    the gradient is multiplied by ``Rᵀ``, the rotation by the opposite angle."""
    grad_out = check_array(grad_out, "grad_out", ndim=(2, 3, 4, 5), dtype_kind="f")
    d_head = _check_even(grad_out.shape[-1], "grad_out.shape[-1] (d_head)")
    pos = _positions(grad_out.shape[-2], positions, offset)
    return _rotate_pairs(grad_out, -pos[:, None] * sinusoidal_frequencies(d_head, base))
