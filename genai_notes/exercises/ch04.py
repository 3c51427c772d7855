"""Exercises for chapter 4, "Positional encoding": sinusoidal encodings, the shift rotation and
RoPE, built by hand.

The reference solutions are written for reading, with plain loops; the package's
:mod:`genai_notes.positional` computes the same things vectorised, and the tests check that
they agree.
"""

from __future__ import annotations

import numpy as np

from genai_notes.exercises.core import Question

_rng = np.random.default_rng(4)


def _sinusoidal(seq, d_model):
    pe = np.zeros((seq, d_model))
    for p in range(seq):
        for i in range(d_model // 2):
            angle = p / 10000 ** (2 * i / d_model)
            pe[p, 2 * i] = np.sin(angle)  # even dimensions: sine
            pe[p, 2 * i + 1] = np.cos(angle)  # odd dimensions: cosine
    return pe


def _shift_matrix(k, d_model):
    m = np.zeros((d_model, d_model))
    for i in range(d_model // 2):
        angle = k / 10000 ** (2 * i / d_model)
        # new sin = sin·cos(angle) + cos·sin(angle);  new cos = cos·cos(angle) - sin·sin(angle)
        m[2 * i, 2 * i], m[2 * i, 2 * i + 1] = np.cos(angle), np.sin(angle)
        m[2 * i + 1, 2 * i], m[2 * i + 1, 2 * i + 1] = -np.sin(angle), np.cos(angle)
    return m


def _rope_vector(x, position):
    out = np.zeros(len(x))
    d = len(x)
    for i in range(d // 2):
        angle = position / 10000 ** (2 * i / d)
        first, second = x[2 * i], x[2 * i + 1]
        out[2 * i] = first * np.cos(angle) - second * np.sin(angle)
        out[2 * i + 1] = first * np.sin(angle) + second * np.cos(angle)
    return out


def _rope_scores(q, k):
    seq = q.shape[0]
    scores = np.zeros((seq, seq))
    for m in range(seq):
        for n in range(seq):
            scores[m, n] = _rope_vector(q[m], m) @ _rope_vector(k[n], n)
    return scores


def _bounded_by_one(pe):
    pe = np.asarray(pe, dtype=float)
    if np.abs(pe).max() > 1 + 1e-9:
        return "every entry is a sine or a cosine, so it must lie between -1 and 1"
    return None


q1 = Question(
    "q1",
    "Write sinusoidal(seq, d_model): the (seq, d_model) matrix with PE[p, 2i] = "
    "sin(p / 10000^(2i/d_model)) and PE[p, 2i+1] = cos(p / 10000^(2i/d_model)).",
    kind="function",
    reference=_sinusoidal,
    cases=[(1, 2), (3, 4), (10, 16)],
    hints=[
        "Loop over positions p and pairs i = 0 .. d_model/2 - 1; pair i fills columns 2i and 2i+1.",
        "Row 0 must be [0, 1, 0, 1, ...]: sin 0 = 0 and cos 0 = 1.",
    ],
    diagnose=[_bounded_by_one],
)

q2 = Question(
    "q2",
    "Write shift_matrix(k, d_model): the (d_model, d_model) matrix M_k with "
    "M_k @ PE[p] == PE[p + k] for every position p.",
    kind="function",
    reference=_shift_matrix,
    cases=[(1, 2), (3, 4), (-2, 8)],
    hints=[
        "Use sin(a + b) = sin a cos b + cos a sin b and cos(a + b) = cos a cos b - sin a sin b, "
        "with a = p·ω_i and b = k·ω_i.",
        "The matrix is block diagonal: one 2x2 block per (sin, cos) pair; no p appears in it.",
    ],
)

q3 = Question(
    "q3",
    "Write rope_vector(x, position) for a (d,) vector: rotate each pair (x[2i], x[2i+1]) "
    "counter-clockwise by the angle position / 10000^(2i/d).",
    kind="function",
    reference=_rope_vector,
    cases=[
        (np.array([1.0, 0.0]), 1),
        (np.array([1.0, 2.0, 3.0, 4.0]), 5),
        (_rng.normal(size=8).round(2), 12),
    ],
    hints=[
        "A counter-clockwise rotation by θ maps (u, v) to (u cos θ - v sin θ, u sin θ + v cos θ).",
        "At position 0 nothing changes.",
    ],
)

q4 = Question(
    "q4",
    "Write rope_scores(q, k): q and k are (seq, d). Rotate row m of q and row n of k as positions "
    "m and n, and return the (seq, seq) matrix of dot products.",
    kind="function",
    reference=_rope_scores,
    cases=[(_rng.normal(size=(3, 4)).round(2), _rng.normal(size=(3, 4)).round(2))],
    hints=[
        "Reuse rope_vector from the previous exercise.",
        "If q and k have the same row everywhere, each diagonal of the result is constant.",
    ],
)
