"""Exercises for chapter 5, "Attention": a stable softmax, scaled dot-product attention, the
causal mask, the multi-head reshape, and attention over a batch of heads, written by hand.

Each question keeps together its reference solution (named as the learner's function is
named, since ``solution()`` prints it, and calling only the learner's earlier functions), its
test cases, its typical mistakes and its hints. :mod:`genai_notes.attention` computes the same
things vectorised, and ``tests/test_exercises_ch05.py`` checks that they agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genai_notes.exercises.core import Mistake, Question, bind

_rng = np.random.default_rng(5)


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


def _named(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    function.__name__ = name
    return function


# --- Exercise 1: stable_softmax -----------------------------------------------------------


def stable_softmax(z):
    z = np.asarray(z, dtype=float)
    # Softmax is unchanged when a row is shifted, so shift each row's largest logit to 0:
    # every exp is then at most 1 and cannot overflow.
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _naive_softmax(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_global_max(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_columns(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _softmax_place(case, path):
    return f"row {path[0]}, entry {path[1]}" if len(path) == 2 else f"entry {path[0]}"


q1 = Question(
    "Write stable_softmax(z): the softmax of each row of z (along the last axis), computed so "
    "that logits as large as ±1e4 give the right answer instead of NaN.",
    kind="function",
    reference=stable_softmax,
    cases=[
        (np.array([1.0, 2.0, 3.0]),),
        (_rng.normal(size=(3, 4)).round(2),),
        (np.array([[1e4, 1e4 - np.log(3.0), -1e4], [-1e4, -1e4, -1e4]]),),
        (np.array([[1000.0, 0.0], [0.0, 0.0]]),),
    ],
    hints=[
        "softmax(z) equals softmax(z - c) for any constant c added to a whole row; pick c = the "
        "row's maximum, z.max(axis=-1, keepdims=True).",
        "keepdims=True keeps the maximum as a column, so it broadcasts against every row; then "
        "divide by e.sum(axis=-1, keepdims=True).",
    ],
    mistakes=[
        Mistake(
            _naive_softmax,
            "exp overflowed (e^10000 is inf in float64, and inf / inf is NaN): subtract each "
            "row's maximum before calling exp",
        ),
        Mistake(
            _softmax_global_max,
            "you subtracted the maximum of the whole array; subtract each row's own maximum "
            "(z.max(axis=-1, keepdims=True)), or a row far below it underflows to 0 / 0",
        ),
        Mistake(
            _softmax_columns,
            "you normalised the columns (axis=0); normalise each row, along the last axis",
        ),
    ],
    diagnose=[lambda output, case: _rows_do_not_sum_to_one(output)],
    locate=_softmax_place,
)


# --- Exercise 2: attention ----------------------------------------------------------------


def attention(q, k, v, mask=None):
    d_k = q.shape[-1]
    scores = q @ k.T / np.sqrt(d_k)  # (n_q, n_k): scores[i, j] = q[i]·k[j] / √d_k
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)  # a blocked key gets exp(-inf) = 0
    weights = stable_softmax(scores)  # each row sums to 1
    return weights @ v, weights  # (n_q, d_v), (n_q, n_k)


def _scale_by(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
    scales = {
        "sqrt_d_k": lambda q, v: np.sqrt(q.shape[-1]),
        "one": lambda q, v: 1.0,
        "d_k": lambda q, v: q.shape[-1],
        "sqrt_d_v": lambda q, v: np.sqrt(v.shape[-1]),
    }
    return scales[name]


def _attention_variant(scale=None, transpose=False, masking="where", swap=False):
    """Attention with one thing done wrong: the scale, the order of q and k, the masking, or
    the order of the two results."""

    scale = scale or _scale_by("sqrt_d_k")

    def wrong(q, k, v, mask=None):
        scores = (k @ q.T if transpose else q @ k.T) / scale(q, v)
        if mask is not None and masking != "ignored":
            if masking == "inverted":
                scores = np.where(mask, -np.inf, scores)
            elif masking == "zero":
                scores = scores * mask
            elif masking == "transposed":
                scores = np.where(mask.T, scores, -np.inf)
            elif masking == "added":
                scores = scores + mask
            else:
                scores = np.where(mask, scores, -np.inf)
        weights = stable_softmax(scores)
        return (weights, weights @ v) if swap else (weights @ v, weights)

    return wrong


def _weights_rows_do_not_sum_to_one(output: Any, case: tuple) -> str | None:
    return _rows_do_not_sum_to_one(output[1])


def _attention_place(case, path):
    if len(path) != 3:
        return None
    item, row, column = path
    if item == 0:
        return f"the output of query {row}, channel {column}"
    return f"the weight of query {row} on key {column}"


_Q = _rng.normal(size=(3, 4)).round(2)
_K = _rng.normal(size=(3, 4)).round(2)
_V = _rng.normal(size=(3, 2)).round(2)  # d_v = 2 differs from d_k = 4
_ATTENTION_CASES = [
    (_Q, _K, _V),  # square scores, so a transposed score matrix still has the right shape
    (_Q[:2], _K, _V),
    # a mask that is not symmetric, so a transposed mask is a different mask
    (_Q, _K, _V, np.array([[True, False, True], [True, True, False], [False, True, True]])),
    (_Q, _K, _V, np.tril(np.ones((3, 3), dtype=bool))),
]
# k @ q.T has the right shape only when n_q == n_k; on the other case it cannot even run.
_SQUARE_ATTENTION_CASES = [case for case in _ATTENTION_CASES if case[0].shape[0] == 3]

q2 = Question(
    "Write attention(q, k, v, mask=None) for 2-D arrays q (n_q, d_k), k (n_k, d_k), v (n_k, d_v) "
    "and an optional boolean mask (n_q, n_k) that is True where attention is allowed. Return "
    "the pair (out, weights): weights = softmax(q kᵀ / √d_k) with blocked scores set to -inf "
    "first, and out = weights @ v.",
    kind="function",
    reference=attention,
    cases=_ATTENTION_CASES,
    hints=[
        "scores = q @ k.T / np.sqrt(q.shape[-1]) has one row per query and one column per key.",
        "np.where(mask, scores, -np.inf) blocks the keys where the mask is False; then use your "
        "stable_softmax on the rows.",
    ],
    mistakes=[
        Mistake(
            _named("swapped", _attention_variant(swap=True)),
            "you returned (weights, out); return them the other way round, (out, weights): "
            "the output first",
        ),
        Mistake(
            _named("unscaled", _attention_variant(scale=_scale_by("one"))),
            "the scores were not divided by √d_k; without it their spread grows with d_k and "
            "the softmax saturates",
        ),
        Mistake(
            _named("by_d_k", _attention_variant(scale=_scale_by("d_k"))),
            "divide the scores by √d_k (np.sqrt(d_k)), not by d_k",
        ),
        Mistake(
            _named("by_sqrt_d_v", _attention_variant(scale=_scale_by("sqrt_d_v"))),
            "divide by √d_k, the width of the queries and keys (q.shape[-1]), not by √d_v, "
            "the width of the values",
        ),
        Mistake(
            _named("k_times_q", _attention_variant(transpose=True)),
            "scores[i, j] must be q[i]·k[j], one row per query: use q @ k.T, not k @ q.T",
            cases=_SQUARE_ATTENTION_CASES,
        ),
        Mistake(
            _named("inverted_mask", _attention_variant(masking="inverted")),
            "the mask is inverted: it is True where attention is allowed, so block the "
            "entries where it is False",
        ),
        Mistake(
            _named("ignored_mask", _attention_variant(masking="ignored")),
            "the mask was ignored: set the scores of the blocked keys (where the mask is False) "
            "to -inf before the softmax",
        ),
        Mistake(
            _named("zero_mask", _attention_variant(masking="zero")),
            "multiplying a score by 0 does not block it, because exp(0) = 1: set blocked "
            "scores to -inf",
        ),
        Mistake(
            _named("transposed_mask", _attention_variant(masking="transposed")),
            "the mask is transposed: mask[i, j] says whether query i (row) may see key j "
            "(column), the same layout as the scores, so use it as it is, not mask.T",
        ),
        Mistake(
            _named("added_mask", _attention_variant(masking="added")),
            "adding the boolean mask only shifts the allowed scores up by 1; it blocks "
            "nothing: set the blocked scores to -inf with np.where(mask, scores, -np.inf)",
        ),
    ],
    diagnose=[_weights_rows_do_not_sum_to_one],
    locate=_attention_place,
)


# --- Exercise 3: make_causal_mask ---------------------------------------------------------


def make_causal_mask(seq):
    mask = np.zeros((seq, seq), dtype=bool)
    for i in range(seq):  # row i is the query at position i
        for j in range(i + 1):  # it may see keys 0..i: the past and itself
            mask[i, j] = True
    return mask


q3 = Question(
    "Write make_causal_mask(seq): a (seq, seq) boolean array that is True where query i "
    "(row) may attend to key j (column), that is for j <= i.",
    kind="function",
    reference=make_causal_mask,
    cases=[(4,), (6,), (1,)],  # seq = 1 last: there several mistakes give the same answer
    hints=[
        "Row i is the token at position i; it may look at positions 0, 1, ..., i and no further.",
        "np.tril(np.ones((seq, seq), dtype=bool)) keeps the diagonal and everything below it.",
    ],
    mistakes=[
        Mistake(
            _named("float_mask", lambda seq: np.tril(np.ones((seq, seq)))),
            "a mask must be boolean: np.tril(np.ones((seq, seq))) holds the numbers 0.0 and "
            "1.0, and np.where and ~ do not treat numbers as True and False; build it with "
            "dtype=bool, np.tril(np.ones((seq, seq), dtype=bool))",
        ),
        Mistake(
            _named("inverted", lambda seq: ~make_causal_mask(seq)),
            "the mask is inverted: True must mean allowed (the past and the token itself), "
            "False blocked (the future)",
        ),
        Mistake(
            _named("upper", lambda seq: make_causal_mask(seq).T),
            "this lets each query see the future: row i may see columns 0..i, the part on and "
            "below the diagonal",
        ),
        Mistake(
            _named("shifted_up", lambda seq: np.tril(np.ones((seq, seq), dtype=bool), k=1)),
            "the mask is shifted by one: it lets query i see key i + 1, one token into the "
            "future; keep the diagonal and what is below it, np.tril(..., k=0)",
        ),
        Mistake(
            _named("no_diagonal", lambda seq: np.tril(np.ones((seq, seq), dtype=bool), k=-1)),
            "a token may attend to itself: keep the diagonal True",
        ),
    ],
    locate=lambda case, path: f"query {path[0]}, key {path[1]}",
)


# --- Exercise 4: split_into_heads ---------------------------------------------------------


def split_into_heads(x, n_heads):
    batch, seq, d_model = x.shape
    d_head = d_model // n_heads
    out = np.zeros((batch, n_heads, seq, d_head), dtype=x.dtype)
    for h in range(n_heads):  # head h owns a contiguous block of d_head channels
        out[:, h] = x[:, :, h * d_head : (h + 1) * d_head]
    return out


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


q4 = Question(
    "Write split_into_heads(x, n_heads): reshape x of shape (batch, seq, d_model) into "
    "(batch, n_heads, seq, d_head), d_head = d_model // n_heads, where head h gets channels "
    "h*d_head to (h+1)*d_head - 1 of every token.",
    kind="function",
    reference=split_into_heads,
    cases=[
        (np.arange(24.0).reshape(1, 3, 8), 2),
        (np.arange(48.0).reshape(2, 4, 6), 3),
        (_rng.normal(size=(2, 5, 4)).round(2), 4),
    ],
    hints=[
        "First x.reshape(batch, seq, n_heads, d_head): the last axis of each token is cut into "
        "n_heads blocks.",
        "Then move the head axis in front of seq with .transpose(0, 2, 1, 3).",
    ],
    mistakes=[
        Mistake(
            _split_without_transpose,
            "reshaping straight to (batch, n_heads, seq, d_head) mixes channels of different "
            "tokens; reshape to (batch, seq, n_heads, d_head) first, then transpose(0, 2, 1, 3)",
        ),
        Mistake(
            _split_interleaved,
            "head h must own the contiguous channels h*d_head to (h+1)*d_head - 1, not every "
            "n_heads-th channel: reshape to (batch, seq, n_heads, d_head)",
        ),
        Mistake(
            _split_wrong_transpose,
            "wrong transpose: the axes came out as (batch, n_heads, d_head, seq); use "
            "transpose(0, 2, 1, 3) to get (batch, n_heads, seq, d_head)",
        ),
        Mistake(
            _split_heads_first,
            "wrong transpose: the batch axis must stay first, giving (batch, n_heads, seq, "
            "d_head); use transpose(0, 2, 1, 3)",
        ),
    ],
    locate=lambda case, path: (
        f"batch {path[0]}, head {path[1]}, token {path[2]}, channel {path[3]}"
    ),
)


# --- Exercise 5: merge_from_heads ---------------------------------------------------------


def merge_from_heads(x):
    batch, n_heads, seq, d_head = x.shape
    out = np.zeros((batch, seq, n_heads * d_head), dtype=x.dtype)
    for h in range(n_heads):  # put head h's block back where split_into_heads took it from
        out[:, :, h * d_head : (h + 1) * d_head] = x[:, h]
    return out


def _merge_without_transpose(x):
    batch, n_heads, seq, d_head = x.shape
    return x.reshape(batch, seq, n_heads * d_head)


def _merge_interleaved(x):
    batch, n_heads, seq, d_head = x.shape
    return x.transpose(0, 2, 3, 1).reshape(batch, seq, n_heads * d_head)


q5 = Question(
    "Write merge_from_heads(x), the inverse of split_into_heads: (batch, n_heads, seq, d_head) "
    "back to (batch, seq, n_heads * d_head), head 0's channels first.",
    kind="function",
    reference=merge_from_heads,
    cases=[
        (np.arange(24.0).reshape(1, 2, 3, 4),),
        (np.arange(48.0).reshape(2, 3, 4, 2),),
        (_rng.normal(size=(1, 4, 2, 3)).round(2),),
    ],
    hints=[
        "Undo the steps in reverse order: first transpose(0, 2, 1, 3) to (batch, seq, n_heads, "
        "d_head), then reshape.",
        "merge_from_heads(split_into_heads(x, n)) must give x back exactly.",
    ],
    mistakes=[
        Mistake(
            _merge_without_transpose,
            "transpose back to (batch, seq, n_heads, d_head) before you reshape; reshaping "
            "directly mixes the tokens of different heads",
        ),
        Mistake(
            _merge_interleaved,
            "the heads' channels came out interleaved; concatenate whole heads, head 0's "
            "d_head channels first: transpose(0, 2, 1, 3)",
        ),
    ],
    locate=lambda case, path: f"batch {path[0]}, token {path[1]}, channel {path[2]}",
)

# --- Exercise 6: batched_attention ----------------------------------------------------------


def batched_attention(q, k, v, mask=None):
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])  # (batch, n_heads, n_q, n_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)  # mask broadcasts over batch and heads
    row_max = scores.max(axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)  # a fully masked row: max is -inf
    e = np.exp(scores - row_max)  # a blocked key gets exp(-inf) = 0
    total = e.sum(axis=-1, keepdims=True)
    weights = e / np.where(total == 0, 1.0, total)  # a fully masked row stays all 0
    return weights @ v, weights  # (batch, n_heads, n_q, d_v), (batch, n_heads, n_q, n_k)


def _safe_softmax(scores):
    """The reference's softmax: a fully masked row gives zeros (used by the mistakes below,
    each of which gets exactly one other thing wrong)."""
    row_max = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(row_max), row_max, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total == 0, 1.0, total)


def _batched_variant(keys="swapaxes", scale="d_k", blocked="safe"):
    """Batched attention with one thing done wrong: how k is transposed, the width the
    scores are divided by, or what a fully masked query gets."""

    def wrong(q, k, v, mask=None):
        k_t = {
            "swapaxes": lambda: k.swapaxes(-1, -2),
            "dot_T": lambda: k.T,  # reverses every axis of a 4-D array
            "split_transpose": lambda: k.transpose(0, 2, 1, 3),
        }[keys]()
        width = q.shape[-1] if scale == "d_k" else q.shape[1]
        scores = q @ k_t / np.sqrt(width)
        if mask is not None:
            scores = np.where(mask, scores, -1e9 if blocked == "finite" else -np.inf)
        if blocked == "nan":  # the plain shift by the row maximum: -inf - (-inf) = NaN
            e = np.exp(scores - scores.max(axis=-1, keepdims=True))
            weights = e / e.sum(axis=-1, keepdims=True)
        else:
            weights = _safe_softmax(scores)
        return weights @ v, weights

    return wrong


def _batched_rows(output: Any, case: tuple) -> str | None:
    """Rows that may see a key sum to 1; a fully masked row is all 0."""
    weights = np.asarray(output[1], dtype=float)
    q, k = case[0], case[1]
    shape = (*q.shape[:-1], k.shape[-2])
    if weights.shape != shape:
        return None
    mask = np.ones(shape, dtype=bool) if len(case) < 4 else np.broadcast_to(case[3], shape)
    sums = weights.sum(axis=-1)
    if np.isnan(sums).any():
        return None  # a NaN has its own message
    expected = mask.any(axis=-1).astype(float)
    bad = np.argwhere(~np.isclose(sums, expected))
    if bad.size == 0:
        return None
    b, h, i = (int(n) for n in bad[0])
    if expected[b, h, i] == 0:
        return (
            f"batch {b}, head {h}, query {i} may see no key (its mask row is all False), so "
            f"its weights must all be 0; they sum to {sums[b, h, i]:.4g}"
        )
    return (
        f"the weights of batch {b}, head {h}, query {i} sum to {sums[b, h, i]:.4g}, not 1: "
        "normalise each query's row, along the last axis"
    )


def _batched_place(case, path):
    if len(path) != 5:
        return None
    item, b, h, i, j = path
    if item == 0:
        return f"the output of batch {b}, head {h}, query {i}, channel {j}"
    return f"the weight of batch {b}, head {h}, query {i} on key {j}"


def _batched_case(batch, n_heads, n_q, n_k, d_k, d_v, mask=None):
    arrays = tuple(
        _rng.normal(size=(batch, n_heads, n, d)).round(2)
        for n, d in ((n_q, d_k), (n_k, d_k), (n_k, d_v))
    )
    return arrays if mask is None else (*arrays, mask)


# Query 0 of batch 1 may see no key at all: every head must give it zero weights and output.
_PADDED = np.ones((2, 1, 3, 5), dtype=bool)
_PADDED[0, 0] = np.tril(np.ones((3, 5), dtype=bool), k=2)  # causal, queries = last 3 keys
_PADDED[1, 0, 0] = False
_PADDED[1, 0, 1:, 3:] = False
_BATCHED_CASES = [
    # every axis of length 2, so that k.T and k.transpose(0, 2, 1, 3) still run here
    _batched_case(2, 2, 2, 2, 2, 2, np.array([[True, False], [True, True]])),
    # n_heads = 3 differs from d_k = 5; one causal (n_q, n_k) mask shared by every head
    _batched_case(2, 3, 4, 4, 5, 2, np.tril(np.ones((4, 4), dtype=bool))),
    # a (batch, 1, n_q, n_k) mask with a fully masked query, shared by the heads
    _batched_case(2, 2, 3, 5, 4, 3, _PADDED),
    _batched_case(1, 2, 3, 3, 4, 2),
]
_SQUARE_BATCHED_CASES = _BATCHED_CASES[:1]

q6 = Question(
    "Write batched_attention(q, k, v, mask=None) for q (batch, n_heads, n_q, d_k), k (batch, "
    "n_heads, n_k, d_k), v (batch, n_heads, n_k, d_v) and an optional boolean mask that "
    "broadcasts to (batch, n_heads, n_q, n_k). Return (out, weights) as in exercise 2; a query "
    "whose every key is masked gets all-zero weights and a zero output.",
    kind="function",
    reference=batched_attention,
    cases=_BATCHED_CASES,
    hints=[
        "On a 4-D array .T reverses every axis. Swap only the last two: "
        "q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1]) gives (batch, n_heads, n_q, n_k).",
        "For a fully masked row the row maximum is -inf, and -inf - (-inf) is NaN: use 0 "
        "instead of a maximum that is -inf, and divide by 1 where a row's total is 0.",
    ],
    mistakes=[
        Mistake(
            _named("dot_T", _batched_variant(keys="dot_T")),
            "on a 4-D array k.T reverses every axis, so (batch, n_heads, n_k, d_k) becomes "
            "(d_k, n_k, n_heads, batch); swap only the last two: k.swapaxes(-1, -2)",
            cases=_SQUARE_BATCHED_CASES,
        ),
        Mistake(
            _named("split_transpose", _batched_variant(keys="split_transpose")),
            "k.transpose(0, 2, 1, 3) swaps the heads and the tokens (the split's transpose); "
            "the scores need d_k and n_k swapped, the last two axes: k.swapaxes(-1, -2)",
            cases=_SQUARE_BATCHED_CASES,
        ),
        Mistake(
            _named("by_n_heads", _batched_variant(scale="n_heads")),
            "q.shape[1] is the number of heads in (batch, n_heads, n_q, d_k); divide by the "
            "square root of d_k, the last axis, q.shape[-1]",
        ),
        Mistake(
            _named("nan_when_fully_masked", _batched_variant(blocked="nan")),
            "a query whose every key is masked came out as NaN: its row maximum is -inf, and "
            "-inf - (-inf) is NaN. The chapter's convention is all-zero weights and a zero "
            "output: use 0 where the row maximum is -inf, and divide by 1 where a row's total "
            "is 0",
        ),
        Mistake(
            _named("uniform_when_fully_masked", _batched_variant(blocked="finite")),
            "a query whose every key is masked spread its weight evenly over all the keys: a "
            "large finite score such as -1e9 is not -inf, so a row of them softmaxes to "
            "1/n_k each. Block with -np.inf, and give such a row all-zero weights",
        ),
    ],
    diagnose=[_batched_rows],
    locate=_batched_place,
)

bind(globals())
