"""Exercises for chapter 5, "Attention": a stable softmax, scaled dot-product attention, the
causal mask and the multi-head reshape, written by hand.

The reference solutions are written for reading, with plain loops where a loop says more than a
NumPy idiom; :mod:`genai_notes.attention` computes the same things vectorised, and
``tests/test_exercises_ch05.py`` checks that they agree. Each ``diagnose`` rule recognises one
typical mistake, either by recomputing what that mistake returns on the test cases (see
:func:`genai_notes.exercises.core.mistake`) or from a property every right answer has, such as
rows of weights that sum to 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genai_notes.exercises.core import Question, mistake

_rng = np.random.default_rng(5)


def _quietly(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a deliberately wrong version with floating-point warnings off: its overflow is the
    mistake being recognised, not something to print."""

    def run(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            return function(*args)

    run.__name__ = function.__name__
    return run


# ---------------------------------------------------------------------------------------------
# Reference solutions


def _stable_softmax(z):
    z = np.asarray(z, dtype=float)
    # Softmax is unchanged when a row is shifted, so shift each row's largest logit to 0:
    # every exp is then at most 1 and cannot overflow.
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _attention(q, k, v, mask=None):
    d_k = q.shape[-1]
    scores = q @ k.T / np.sqrt(d_k)  # (n_q, n_k): scores[i, j] = q[i]·k[j] / √d_k
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)  # a blocked key gets exp(-inf) = 0
    weights = _stable_softmax(scores)  # each row sums to 1
    return weights @ v, weights  # (n_q, d_v), (n_q, n_k)


def _causal_mask(seq):
    mask = np.zeros((seq, seq), dtype=bool)
    for i in range(seq):  # row i is the query at position i
        for j in range(i + 1):  # it may see keys 0..i: the past and itself
            mask[i, j] = True
    return mask


def _split_heads(x, n_heads):
    batch, seq, d_model = x.shape
    d_head = d_model // n_heads
    out = np.zeros((batch, n_heads, seq, d_head), dtype=x.dtype)
    for h in range(n_heads):  # head h owns a contiguous block of d_head channels
        out[:, h] = x[:, :, h * d_head : (h + 1) * d_head]
    return out


def _merge_heads(x):
    batch, n_heads, seq, d_head = x.shape
    out = np.zeros((batch, seq, n_heads * d_head), dtype=x.dtype)
    for h in range(n_heads):  # put head h's block back where split_heads took it from
        out[:, :, h * d_head : (h + 1) * d_head] = x[:, h]
    return out


# ---------------------------------------------------------------------------------------------
# Typical mistakes, recognised by what they return


def _rows_do_not_sum_to_one(weights: Any) -> str | None:
    """The property every row of attention weights (or softmax output) has."""
    rows = np.asarray(weights, dtype=float)
    rows = rows.reshape(-1, rows.shape[-1])
    sums = rows.sum(axis=-1)
    if np.isnan(sums).any():
        return None  # a NaN has its own message
    bad = np.flatnonzero(~np.isclose(sums, 1.0))
    if bad.size == 0:
        return None
    return (
        f"row {bad[0]} does not sum to 1 (it sums to {sums[bad[0]]:.4g}); softmax must "
        "normalise each row, along the last axis"
    )


def _weights_rows_do_not_sum_to_one(output: Any) -> str | None:
    return _rows_do_not_sum_to_one(output[1])


@_quietly
def _naive_softmax(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=-1, keepdims=True)


@_quietly
def _softmax_global_max(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_columns(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _attention_variant(scale: Callable[[int], float], transpose=False, blocked_score=None):
    """Attention with one thing done wrong: the scale, the order of q and k, or masking."""

    @_quietly
    def attention(q, k, v, mask=None):
        scores = (k @ q.T if transpose else q @ k.T) / scale(q.shape[-1])
        if mask is not None:
            if blocked_score == "inverted":
                scores = np.where(mask, -np.inf, scores)
            elif blocked_score == "zero":
                scores = scores * mask
            else:
                scores = np.where(mask, scores, -np.inf)
        weights = _stable_softmax(scores)
        return weights @ v, weights

    return attention


def _split_without_transpose(x, n_heads):
    batch, seq, d_model = x.shape
    return x.reshape(batch, n_heads, seq, d_model // n_heads)


def _split_interleaved(x, n_heads):
    batch, seq, d_model = x.shape
    return x.reshape(batch, seq, d_model // n_heads, n_heads).transpose(0, 3, 1, 2)


def _split_wrong_transpose(x, n_heads):
    batch, seq, d_model = x.shape
    return x.reshape(batch, seq, n_heads, d_model // n_heads).transpose(0, 2, 3, 1)


def _split_heads_first(x, n_heads):
    batch, seq, d_model = x.shape
    return x.reshape(batch, seq, n_heads, d_model // n_heads).transpose(2, 0, 1, 3)


def _merge_without_transpose(x):
    batch, n_heads, seq, d_head = x.shape
    return x.reshape(batch, seq, n_heads * d_head)


def _merge_interleaved(x):
    batch, n_heads, seq, d_head = x.shape
    return x.transpose(0, 2, 3, 1).reshape(batch, seq, n_heads * d_head)


# ---------------------------------------------------------------------------------------------
# Test cases (small, so that the checker can print them in full)

_SOFTMAX_CASES = [
    (np.array([1.0, 2.0, 3.0]),),
    (_rng.normal(size=(3, 4)).round(2),),
    (np.array([[1e4, 1e4 - np.log(3.0), -1e4], [-1e4, -1e4, -1e4]]),),
    (np.array([[1000.0, 0.0], [0.0, 0.0]]),),
]

_Q = _rng.normal(size=(3, 4)).round(2)
_K = _rng.normal(size=(3, 4)).round(2)
_V = _rng.normal(size=(3, 2)).round(2)
_ATTENTION_CASES = [
    (_Q, _K, _V),  # square scores, so a transposed score matrix still has the right shape
    (_Q[:2], _K, _V),
    (_Q, _K, _V, np.array([[True, True, False], [True, False, True], [False, True, True]])),
    (_Q, _K, _V, _causal_mask(3)),
]
# k @ q.T has the right shape only when n_q == n_k; on the other case it cannot even run.
_SQUARE_ATTENTION_CASES = [case for case in _ATTENTION_CASES if case[0].shape[0] == 3]

_MASK_CASES = [(4,), (6,), (1,)]  # seq = 1 last: there several mistakes give the same answer

_SPLIT_CASES = [
    (np.arange(24.0).reshape(1, 3, 8), 2),
    (np.arange(48.0).reshape(2, 4, 6), 3),
    (_rng.normal(size=(2, 5, 4)).round(2), 4),
]

_MERGE_CASES = [
    (np.arange(24.0).reshape(1, 2, 3, 4),),
    (np.arange(48.0).reshape(2, 3, 4, 2),),
    (_rng.normal(size=(1, 4, 2, 3)).round(2),),
]

# ---------------------------------------------------------------------------------------------
# The questions

q1 = Question(
    "q1",
    "Write stable_softmax(z): the softmax of each row of z (along the last axis), computed so "
    "that logits as large as ±1e4 give the right answer instead of NaN.",
    kind="function",
    reference=_stable_softmax,
    cases=_SOFTMAX_CASES,
    hints=[
        "softmax(z) equals softmax(z - c) for any constant c added to a whole row; pick c = the "
        "row's maximum, z.max(axis=-1, keepdims=True).",
        "keepdims=True keeps the maximum as a column, so it broadcasts against every row; then "
        "divide by e.sum(axis=-1, keepdims=True).",
    ],
    diagnose=[
        mistake(
            _naive_softmax,
            _SOFTMAX_CASES,
            _stable_softmax,
            "exp overflowed (e^10000 is inf in float64, and inf / inf is NaN): subtract each "
            "row's maximum before calling exp",
        ),
        mistake(
            _softmax_global_max,
            _SOFTMAX_CASES,
            _stable_softmax,
            "you subtracted the maximum of the whole array; subtract each row's own maximum "
            "(z.max(axis=-1, keepdims=True)), or a row far below it underflows to 0 / 0",
        ),
        mistake(
            _softmax_columns,
            _SOFTMAX_CASES,
            _stable_softmax,
            "you normalised the columns (axis=0); normalise each row, along the last axis",
        ),
        _rows_do_not_sum_to_one,
    ],
)

q2 = Question(
    "q2",
    "Write attention(q, k, v, mask=None) for 2-D arrays q (n_q, d_k), k (n_k, d_k), v (n_k, d_v) "
    "and an optional boolean mask (n_q, n_k) that is True where attention is allowed. Return "
    "the pair (out, weights): weights = softmax(q kᵀ / √d_k) with blocked scores set to -inf "
    "first, and out = weights @ v.",
    kind="function",
    reference=_attention,
    cases=_ATTENTION_CASES,
    hints=[
        "scores = q @ k.T / np.sqrt(q.shape[-1]) has one row per query and one column per key.",
        "np.where(mask, scores, -np.inf) blocks the keys where the mask is False; then use your "
        "stable_softmax on the rows.",
    ],
    diagnose=[
        mistake(
            _attention_variant(lambda d: 1.0),
            _ATTENTION_CASES,
            _attention,
            "the scores were not divided by √d_k; without it their spread grows with d_k and "
            "the softmax saturates",
        ),
        mistake(
            _attention_variant(lambda d: d),
            _ATTENTION_CASES,
            _attention,
            "divide the scores by √d_k (np.sqrt(d_k)), not by d_k",
        ),
        mistake(
            _attention_variant(np.sqrt, transpose=True),
            _SQUARE_ATTENTION_CASES,
            _attention,
            "scores[i, j] must be q[i]·k[j], one row per query: use q @ k.T, not k @ q.T",
        ),
        mistake(
            _attention_variant(np.sqrt, blocked_score="inverted"),
            _ATTENTION_CASES,
            _attention,
            "the mask is inverted: it is True where attention is allowed, so block the "
            "entries where it is False",
        ),
        mistake(
            _attention_variant(np.sqrt, blocked_score="zero"),
            _ATTENTION_CASES,
            _attention,
            "multiplying a score by 0 does not block it, because exp(0) = 1: set blocked "
            "scores to -inf",
        ),
        _weights_rows_do_not_sum_to_one,
    ],
)

q3 = Question(
    "q3",
    "Write make_causal_mask(seq): a (seq, seq) boolean array that is True where query i "
    "(row) may attend to key j (column), that is for j <= i.",
    kind="function",
    reference=_causal_mask,
    cases=_MASK_CASES,
    hints=[
        "Row i is the token at position i; it may look at positions 0, 1, ..., i and no further.",
        "np.tril(np.ones((seq, seq), dtype=bool)) keeps the diagonal and everything below it.",
    ],
    diagnose=[
        mistake(
            lambda seq: ~_causal_mask(seq),
            _MASK_CASES,
            _causal_mask,
            "the mask is inverted: True must mean allowed (the past and the token itself), "
            "False blocked (the future)",
        ),
        mistake(
            lambda seq: _causal_mask(seq).T,
            _MASK_CASES,
            _causal_mask,
            "this lets each query see the future: row i may see columns 0..i, the part on and "
            "below the diagonal",
        ),
        mistake(
            lambda seq: np.tril(np.ones((seq, seq), dtype=bool), k=-1),
            _MASK_CASES,
            _causal_mask,
            "a token may attend to itself: keep the diagonal True",
        ),
    ],
)

q4 = Question(
    "q4",
    "Write split_into_heads(x, n_heads): reshape x of shape (batch, seq, d_model) into "
    "(batch, n_heads, seq, d_head), d_head = d_model // n_heads, where head h gets channels "
    "h*d_head to (h+1)*d_head - 1 of every token.",
    kind="function",
    reference=_split_heads,
    cases=_SPLIT_CASES,
    hints=[
        "First x.reshape(batch, seq, n_heads, d_head): the last axis of each token is cut into "
        "n_heads blocks.",
        "Then move the head axis in front of seq with .transpose(0, 2, 1, 3).",
    ],
    diagnose=[
        mistake(
            _split_without_transpose,
            _SPLIT_CASES,
            _split_heads,
            "reshaping straight to (batch, n_heads, seq, d_head) mixes channels of different "
            "tokens; reshape to (batch, seq, n_heads, d_head) first, then transpose(0, 2, 1, 3)",
        ),
        mistake(
            _split_interleaved,
            _SPLIT_CASES,
            _split_heads,
            "head h must own the contiguous channels h*d_head to (h+1)*d_head - 1, not every "
            "n_heads-th channel: reshape to (batch, seq, n_heads, d_head)",
        ),
        mistake(
            _split_wrong_transpose,
            _SPLIT_CASES,
            _split_heads,
            "wrong transpose: the axes came out as (batch, n_heads, d_head, seq); use "
            "transpose(0, 2, 1, 3) to get (batch, n_heads, seq, d_head)",
        ),
        mistake(
            _split_heads_first,
            _SPLIT_CASES,
            _split_heads,
            "wrong transpose: the batch axis must stay first, giving (batch, n_heads, seq, "
            "d_head); use transpose(0, 2, 1, 3)",
        ),
    ],
)

q5 = Question(
    "q5",
    "Write merge_from_heads(x), the inverse of split_into_heads: (batch, n_heads, seq, d_head) "
    "back to (batch, seq, n_heads * d_head), head 0's channels first.",
    kind="function",
    reference=_merge_heads,
    cases=_MERGE_CASES,
    hints=[
        "Undo the steps in reverse order: first transpose(0, 2, 1, 3) to (batch, seq, n_heads, "
        "d_head), then reshape.",
        "merge_from_heads(split_into_heads(x, n)) must give x back exactly.",
    ],
    diagnose=[
        mistake(
            _merge_without_transpose,
            _MERGE_CASES,
            _merge_heads,
            "transpose back to (batch, seq, n_heads, d_head) before you reshape; reshaping "
            "directly mixes the tokens of different heads",
        ),
        mistake(
            _merge_interleaved,
            _MERGE_CASES,
            _merge_heads,
            "the heads' channels came out interleaved; concatenate whole heads, head 0's "
            "d_head channels first: transpose(0, 2, 1, 3)",
        ),
    ],
)
