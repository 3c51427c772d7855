"""Exercises for chapter 4, "Positional encoding": sinusoidal encodings, the shift rotation and
RoPE, built by hand.

Each question keeps together its reference solution (named as the learner's function is
named, since ``solution()`` prints it), its test cases, its typical mistakes and its hints. The
references are plain loops written for reading; :mod:`genai_notes.positional` computes the same
things vectorised, and the tests check that they agree.

Two rotations appear, and they turn opposite ways. The shift matrix acts on the chapter's
(sin, cos) pairs, where adding k to the position turns each pair *clockwise*; RoPE turns each
(x[2i], x[2i+1]) pair *counter-clockwise*. Mixing them up is the likeliest mistake, so each
question names it.
"""

from __future__ import annotations

import numpy as np

from genai_notes.exercises.core import Mistake, Question, bind

_rng = np.random.default_rng(4)


def _frequency(i, d, exponent="2i/d"):
    """The angular frequency of pair i: 1 / 10000^(2i/d), or a mistaken exponent."""
    power = {"2i/d": 2 * i / d, "i/d": i / d}[exponent]
    return 1.0 / 10000**power


# --- Exercise 1: sinusoidal ---------------------------------------------------------------


def sinusoidal(seq, d_model):
    pe = np.zeros((seq, d_model))
    for p in range(seq):
        for i in range(d_model // 2):
            angle = p / 10000 ** (2 * i / d_model)
            pe[p, 2 * i] = np.sin(angle)  # even dimensions: sine
            pe[p, 2 * i + 1] = np.cos(angle)  # odd dimensions: cosine
    return pe


def _sinusoidal_variant(layout="interleaved", exponent="2i/d", first=np.sin, second=np.cos):
    def encoding(seq, d_model):
        half = d_model // 2
        angles = np.array(
            [[p * _frequency(i, d_model, exponent) for i in range(half)] for p in range(seq)]
        )
        pe = np.zeros((seq, d_model))
        if layout == "halves":
            pe[:, :half], pe[:, half:] = first(angles), second(angles)
        else:
            pe[:, 0::2], pe[:, 1::2] = first(angles), second(angles)
        return pe

    encoding.__name__ = f"sinusoidal_{layout}_{exponent.replace('/', '_')}_{first.__name__}"
    return encoding


def _sinusoidal_column_exponent(seq, d_model):
    pe = np.zeros((seq, d_model))
    for p in range(seq):
        for j in range(d_model):
            angle = p / 10000 ** (j / d_model)  # each column its own frequency
            pe[p, j] = np.sin(angle) if j % 2 == 0 else np.cos(angle)
    return pe


def _bounded_by_one(pe, case):
    pe = np.asarray(pe, dtype=float)
    if np.abs(pe).max() > 1 + 1e-9:
        return "every entry is a sine or a cosine, so it must lie between -1 and 1"
    return None


_POSITION_AND_DIMENSION = "position {0}, dimension {1}".format

q1 = Question(
    "Write sinusoidal(seq, d_model): the (seq, d_model) matrix with PE[p, 2i] = "
    "sin(p / 10000^(2i/d_model)) and PE[p, 2i+1] = cos(p / 10000^(2i/d_model)).",
    kind="function",
    reference=sinusoidal,
    cases=[(1, 2), (3, 4), (10, 16)],
    hints=[
        "Loop over positions p and pairs i = 0 .. d_model/2 - 1; pair i fills columns 2i and 2i+1.",
        "Row 0 must be [0, 1, 0, 1, ...]: sin 0 = 0 and cos 0 = 1.",
    ],
    mistakes=[
        Mistake(
            _sinusoidal_variant(layout="halves"),
            "sines and cosines are interleaved: pair i fills column 2i with the sine and column "
            "2i+1 with the cosine, not all sines first and all cosines after them",
        ),
        Mistake(
            _sinusoidal_variant(exponent="i/d"),
            "the exponent is 2i/d_model, where i counts pairs: pair i has the frequency "
            "1 / 10000^(2i/d_model), not 1 / 10000^(i/d_model)",
        ),
        Mistake(
            _sinusoidal_column_exponent,
            "both columns of a pair share one frequency: columns 2i and 2i+1 both use "
            "10000^(2i/d_model), not the column number j in 10000^(j/d_model)",
        ),
        Mistake(
            _sinusoidal_variant(first=np.cos, second=np.sin),
            "sine and cosine are swapped: the sine goes in the even columns 2i, the cosine in "
            "the odd columns 2i+1",
        ),
    ],
    diagnose=[_bounded_by_one],
    locate=lambda case, path: _POSITION_AND_DIMENSION(*path),
)


# --- Exercise 2: shift_matrix -------------------------------------------------------------


def shift_matrix(k, d_model):
    m = np.zeros((d_model, d_model))
    for i in range(d_model // 2):
        angle = k / 10000 ** (2 * i / d_model)
        # new sin = sin·cos(angle) + cos·sin(angle);  new cos = cos·cos(angle) - sin·sin(angle)
        m[2 * i, 2 * i], m[2 * i, 2 * i + 1] = np.cos(angle), np.sin(angle)
        m[2 * i + 1, 2 * i], m[2 * i + 1, 2 * i + 1] = -np.sin(angle), np.cos(angle)
    return m


def _shift_variant(sign=1.0, exponent="2i/d"):
    def matrix(k, d_model):
        m = np.zeros((d_model, d_model))
        for i in range(d_model // 2):
            angle = k * _frequency(i, d_model, exponent)
            c, s = np.cos(angle), sign * np.sin(angle)
            m[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [[c, s], [-s, c]]
        return m

    matrix.__name__ = f"shift_matrix_sign_{sign:+.0f}_{exponent.replace('/', '_')}"
    return matrix


q2 = Question(
    "Write shift_matrix(k, d_model): the (d_model, d_model) matrix M_k with "
    "M_k @ PE[p] == PE[p + k] for every position p.",
    kind="function",
    reference=shift_matrix,
    cases=[(1, 2), (3, 4), (-2, 8)],
    hints=[
        "Use sin(a + b) = sin a cos b + cos a sin b and cos(a + b) = cos a cos b - sin a sin b, "
        "with a = p·ω_i and b = k·ω_i.",
        "The matrix is block diagonal: one 2x2 block per (sin, cos) pair; no p appears in it.",
    ],
    mistakes=[
        Mistake(
            _shift_variant(sign=-1.0),
            "the rotation turns the wrong way: the pairs here are (sin, cos), so the block is "
            "[[cos b, sin b], [-sin b, cos b]], which turns clockwise in the (sin, cos) plane; "
            "the counter-clockwise block is RoPE's, and here it shifts by -k",
        ),
        Mistake(
            _shift_variant(exponent="i/d"),
            "the exponent is 2i/d_model, where i counts pairs: the angle of pair i is "
            "k / 10000^(2i/d_model)",
        ),
    ],
    locate=lambda case, path: f"row {path[0]}, column {path[1]}",
)


# --- Exercise 3: rope_vector --------------------------------------------------------------


def rope_vector(x, position):
    out = np.zeros(len(x))
    d = len(x)
    for i in range(d // 2):
        angle = position / 10000 ** (2 * i / d)
        first, second = x[2 * i], x[2 * i + 1]
        out[2 * i] = first * np.cos(angle) - second * np.sin(angle)
        out[2 * i + 1] = first * np.sin(angle) + second * np.cos(angle)
    return out


def _rope_variant(sign=1.0, exponent="2i/d", pairing="neighbours"):
    def rope(x, position):
        d = len(x)
        out = np.zeros(d)
        for i in range(d // 2):
            angle = sign * position * _frequency(i, d, exponent)
            a, b = (2 * i, 2 * i + 1) if pairing == "neighbours" else (i, i + d // 2)
            out[a] = x[a] * np.cos(angle) - x[b] * np.sin(angle)
            out[b] = x[a] * np.sin(angle) + x[b] * np.cos(angle)
        return out

    rope.__name__ = f"rope_sign_{sign:+.0f}_{exponent.replace('/', '_')}_{pairing}"
    return rope


q3 = Question(
    "Write rope_vector(x, position) for a (d,) vector: rotate each pair (x[2i], x[2i+1]) "
    "counter-clockwise by the angle position / 10000^(2i/d).",
    kind="function",
    reference=rope_vector,
    cases=[
        (np.array([1.0, 0.0]), 1),
        (np.array([1.0, 2.0, 3.0, 4.0]), 5),
        (_rng.normal(size=8).round(2), 12),
    ],
    hints=[
        "A counter-clockwise rotation by θ maps (u, v) to (u cos θ - v sin θ, u sin θ + v cos θ).",
        "At position 0 nothing changes.",
    ],
    mistakes=[
        Mistake(
            _rope_variant(sign=-1.0),
            "RoPE turns each pair counter-clockwise, (u cos θ - v sin θ, u sin θ + v cos θ); "
            "yours turns clockwise, like the shift matrix of the (sin, cos) pairs",
        ),
        Mistake(
            _rope_variant(pairing="halves"),
            "pair i is the neighbours (x[2i], x[2i+1]), not (x[i], x[i + d/2]) from the two "
            "halves of the vector",
        ),
        Mistake(
            _rope_variant(exponent="i/d"),
            "the exponent is 2i/d, where i counts pairs: the angle of pair i is "
            "position / 10000^(2i/d)",
        ),
    ],
    locate=lambda case, path: f"dimension {path[0]}",
)


# --- Exercise 4: rope_scores --------------------------------------------------------------


def rope_scores(q, k):
    seq = q.shape[0]
    scores = np.zeros((seq, seq))
    for m in range(seq):
        for n in range(seq):
            scores[m, n] = rope_vector(q[m], m) @ rope_vector(k[n], n)
    return scores


def _scores_rotating_only_q(q, k):
    rotated = np.stack([rope_vector(row, m) for m, row in enumerate(q)])
    return rotated @ k.T


def _scores_without_rotation(q, k):
    return q @ k.T


def _scores_transposed(q, k):
    return rope_scores(q, k).T


q4 = Question(
    "Write rope_scores(q, k): q and k are (seq, d). Rotate row m of q and row n of k as positions "
    "m and n, and return the (seq, seq) matrix of dot products.",
    kind="function",
    reference=rope_scores,
    cases=[(_rng.normal(size=(3, 4)).round(2), _rng.normal(size=(3, 4)).round(2))],
    hints=[
        "Reuse rope_vector from the previous exercise.",
        "If q and k have the same row everywhere, each diagonal of the result is constant.",
    ],
    mistakes=[
        Mistake(
            _scores_rotating_only_q,
            "rotate the keys too: row n of k is rotated as position n",
        ),
        Mistake(
            _scores_without_rotation,
            "the rows were not rotated: rotate row m of q as position m and row n of k as "
            "position n before the dot products",
        ),
        Mistake(
            _scores_transposed,
            "scores[m, n] is (rotated q[m]) · (rotated k[n]): queries are the rows, keys the "
            "columns",
        ),
    ],
    locate=lambda case, path: f"query position {path[0]}, key position {path[1]}",
)

bind(globals())
