"""Chapter 5 exercises: the references agree with an independent route, and mistakes are named.

The references in ``genai_notes.exercises.ch05`` are written for reading. They are checked
against values worked out by hand, against ``genai_notes.attention`` (which computes the same
things another way: an unshifted exponential bounded by Cauchy-Schwarz, masking by
multiplication after ``exp``, a reshape-and-transpose view for the heads), and against slow
index-by-index definitions. Then every typical mistake gets its own message.
"""

import math

import numpy as np
import pytest

from genai_notes.attention import (
    causal_mask,
    merge_heads,
    scaled_dot_product_attention,
    softmax,
    split_heads,
)
from genai_notes.exercises import ch05

RNG = np.random.default_rng(0)


# --- references agree with hand-worked values and with the package ---------------------------


def test_softmax_reference_by_hand():
    # e^0 : e^ln2 : e^ln5 = 1 : 2 : 5
    np.testing.assert_allclose(
        ch05.stable_softmax(np.array([0.0, np.log(2.0), np.log(5.0)])), [1 / 8, 2 / 8, 5 / 8]
    )
    # e^-ln3 = 1/3, so the first row is 3/4 : 1/4 : 0 however large the logits are
    huge = np.array([[1e4, 1e4 - np.log(3.0), -1e4], [-1e4, -1e4, -1e4]])
    np.testing.assert_allclose(
        ch05.stable_softmax(huge), [[0.75, 0.25, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-12
    )


@pytest.mark.parametrize("scale", [1.0, 30.0, 1e3])
def test_softmax_reference_matches_the_package(scale):
    z = RNG.normal(size=(4, 7)) * scale
    np.testing.assert_allclose(ch05.stable_softmax(z), softmax(z), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(ch05.stable_softmax(z).sum(axis=-1), 1.0, rtol=1e-12)


def test_attention_reference_two_tokens_by_hand():
    # d_k = 2: query 0 = (1, 0) scores (2, 0)/√2 = (√2, 0); query 1 = (0, 2) scores (0, 2√2).
    q = np.array([[1.0, 0.0], [0.0, 2.0]])
    k = np.array([[2.0, 0.0], [0.0, 2.0]])
    v = np.array([[1.0, 0.0], [0.0, 10.0]])
    out, weights = ch05.q2.reference(q, k, v)
    w0 = math.exp(math.sqrt(2)) / (math.exp(math.sqrt(2)) + 1)
    w1 = 1 / (1 + math.exp(2 * math.sqrt(2)))
    np.testing.assert_allclose(weights, [[w0, 1 - w0], [w1, 1 - w1]], rtol=1e-12)
    np.testing.assert_allclose(out, [[w0, 10 * (1 - w0)], [w1, 10 * (1 - w1)]], rtol=1e-12)
    # with a causal mask, query 0 sees only key 0
    out, weights = ch05.q2.reference(q, k, v, causal_mask(2))
    np.testing.assert_allclose(weights, [[1.0, 0.0], [w1, 1 - w1]], rtol=1e-12)


@pytest.mark.parametrize("masked", [False, True])
def test_attention_reference_matches_the_package(masked):
    q = RNG.normal(size=(5, 6))
    k = RNG.normal(size=(7, 6))
    v = RNG.normal(size=(7, 3))
    mask = (RNG.random((5, 7)) < 0.6) | np.eye(5, 7, dtype=bool) if masked else None
    for ours, theirs in zip(
        ch05.q2.reference(q, k, v, mask), scaled_dot_product_attention(q, k, v, mask)
    ):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("seq", [1, 2, 7])
def test_causal_mask_reference(seq):
    mask = ch05.q3.reference(seq)
    assert mask.dtype == bool and mask.shape == (seq, seq)
    for i in range(seq):
        for j in range(seq):
            assert mask[i, j] == (j <= i)
    np.testing.assert_array_equal(mask, causal_mask(seq))


@pytest.mark.parametrize(("shape", "n_heads"), [((2, 3, 8), 2), ((1, 5, 6), 3), ((2, 4, 4), 1)])
def test_split_and_merge_references(shape, n_heads):
    x = RNG.normal(size=shape)
    heads = ch05.q4.reference(x, n_heads)
    batch, seq, d_model = shape
    d_head = d_model // n_heads
    assert heads.shape == (batch, n_heads, seq, d_head)
    for b, h, t, c in np.ndindex(heads.shape):  # the definition, one entry at a time
        assert heads[b, h, t, c] == x[b, t, h * d_head + c]
    np.testing.assert_array_equal(heads, split_heads(x, n_heads))
    np.testing.assert_array_equal(ch05.q5.reference(heads), x)
    np.testing.assert_array_equal(ch05.q5.reference(heads), merge_heads(heads))


# --- typical mistakes get specific feedback ---------------------------------------------------


def _message(question, answer):
    with np.errstate(all="ignore"):  # the naive answers overflow on purpose
        feedback = question.evaluate(answer)
    assert feedback.status == "incorrect", feedback
    return feedback.message


def test_softmax_mistakes():
    def naive(z):
        e = np.exp(np.asarray(z, dtype=float))
        return e / e.sum(axis=-1, keepdims=True)

    assert "subtract each row's maximum" in _message(ch05.q1, naive)

    def global_max(z):
        e = np.exp(z - np.max(z))
        return e / e.sum(axis=-1, keepdims=True)

    assert "subtract each row's own maximum" in _message(ch05.q1, global_max)

    def columns(z):
        e = np.exp(z - np.max(z, axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    assert "you normalised the columns" in _message(ch05.q1, columns)

    def unnormalised(z):
        return np.exp(z - np.max(z, axis=-1, keepdims=True))

    message = _message(ch05.q1, unnormalised)
    assert "row 0 does not sum to 1 (it sums to" in message


def _attention_with(score_fn, blocked=-np.inf):
    def attention(q, k, v, mask=None):
        scores = score_fn(q, k)
        if mask is not None:
            scores = np.where(mask, scores, blocked)
        weights = ch05.stable_softmax(scores)
        return weights @ v, weights

    return attention


def test_attention_mistakes():
    unscaled = _attention_with(lambda q, k: q @ k.T)
    assert "not divided by √d_k" in _message(ch05.q2, unscaled)

    by_d = _attention_with(lambda q, k: q @ k.T / q.shape[-1])
    assert "not by d_k" in _message(ch05.q2, by_d)

    def transposed(q, k, v, mask=None):
        weights = ch05.stable_softmax(k @ q.T / np.sqrt(q.shape[-1]))
        return weights @ v, weights

    assert "use q @ k.T, not k @ q.T" in _message(ch05.q2, transposed)

    def inverted(q, k, v, mask=None):
        return ch05.q2.reference(q, k, v, None if mask is None else ~mask)

    assert "the mask is inverted" in _message(ch05.q2, inverted)

    def zero_for_blocked(q, k, v, mask=None):
        scores = q @ k.T / np.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores * mask
        weights = ch05.stable_softmax(scores)
        return weights @ v, weights

    assert "set blocked scores to -inf" in _message(ch05.q2, zero_for_blocked)

    def masked_after_softmax(q, k, v, mask=None):
        weights = ch05.stable_softmax(q @ k.T / np.sqrt(q.shape[-1]))
        if mask is not None:
            weights = weights * mask
        return weights @ v, weights

    assert "does not sum to 1" in _message(ch05.q2, masked_after_softmax)

    def only_the_output(q, k, v, mask=None):
        return ch05.q2.reference(q, k, v, mask)[0]

    assert "expected a tuple" in _message(ch05.q2, only_the_output)


def test_causal_mask_mistakes():
    def inverted(seq):
        return np.triu(np.ones((seq, seq), dtype=bool), k=1)

    assert "the mask is inverted" in _message(ch05.q3, inverted)

    def future(seq):
        return np.triu(np.ones((seq, seq), dtype=bool))

    assert "see the future" in _message(ch05.q3, future)

    def without_diagonal(seq):
        return np.tril(np.ones((seq, seq), dtype=bool), k=-1)

    assert "keep the diagonal True" in _message(ch05.q3, without_diagonal)


def test_split_heads_mistakes():
    def no_transpose(x, n_heads):
        b, s, d = x.shape
        return x.reshape(b, n_heads, s, d // n_heads)

    assert "reshape to (batch, seq, n_heads, d_head) first" in _message(ch05.q4, no_transpose)

    def interleaved(x, n_heads):
        b, s, d = x.shape
        return np.stack([x[:, :, h::n_heads] for h in range(n_heads)], axis=1)

    assert "not every n_heads-th channel" in _message(ch05.q4, interleaved)

    def seq_and_d_head_swapped(x, n_heads):
        b, s, d = x.shape
        return x.reshape(b, s, n_heads, d // n_heads).transpose(0, 2, 3, 1)

    message = _message(ch05.q4, seq_and_d_head_swapped)
    assert "expected shape (1, 2, 3, 4), got (1, 2, 4, 3)" in message
    assert "wrong transpose" in message

    def heads_first(x, n_heads):
        b, s, d = x.shape
        return x.reshape(b, s, n_heads, d // n_heads).transpose(2, 0, 1, 3)

    assert "the batch axis must stay first" in _message(ch05.q4, heads_first)


def test_merge_heads_mistakes():
    def no_transpose(x):
        b, h, s, d = x.shape
        return x.reshape(b, s, h * d)

    assert "transpose back to (batch, seq, n_heads, d_head)" in _message(ch05.q5, no_transpose)

    def interleaved(x):
        b, h, s, d = x.shape
        return x.transpose(0, 2, 3, 1).reshape(b, s, h * d)

    assert "interleaved" in _message(ch05.q5, interleaved)


def test_a_right_answer_written_differently_passes():
    def vectorised_mask(seq):
        return np.arange(seq)[:, None] >= np.arange(seq)[None, :]

    assert ch05.q3.evaluate(vectorised_mask).correct

    def attention_by_loops(q, k, v, mask=None):
        weights = np.zeros((q.shape[0], k.shape[0]))
        for i in range(q.shape[0]):
            s = np.array([q[i] @ k[j] for j in range(k.shape[0])]) / math.sqrt(q.shape[1])
            if mask is not None:
                s[~mask[i]] = -np.inf
            e = np.exp(s - s.max())
            weights[i] = e / e.sum()
        return weights @ v, weights

    assert ch05.q2.evaluate(attention_by_loops).correct


# --- the mistakes the issue lists, written as a learner would ----------------------------------


def test_returning_weights_and_out_swapped_is_named_not_called_unnormalised():
    def swapped(q, k, v, mask=None):
        out, weights = ch05.attention(q, k, v, mask)
        return weights, out

    message = _message(ch05.q2, swapped)
    assert "you returned (weights, out)" in message
    assert "does not sum to 1" not in message


def test_a_transposed_mask_is_named():
    def transposed_mask(q, k, v, mask=None):
        scores = q @ k.T / np.sqrt(q.shape[-1])
        if mask is not None:
            scores[~mask.T] = -np.inf
        weights = ch05.stable_softmax(scores)
        return weights @ v, weights

    message = _message(ch05.q2, transposed_mask)
    assert "the mask is transposed" in message


def test_a_mask_added_to_the_scores_is_named():
    def added(q, k, v, mask=None):
        scores = q @ k.T / np.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores + mask
        weights = ch05.stable_softmax(scores)
        return weights @ v, weights

    assert "adding the boolean mask only shifts" in _message(ch05.q2, added)


def test_scaling_by_the_value_width_is_named():
    by_d_v = _attention_with(lambda q, k: q @ k.T / np.sqrt(2))  # d_v = 2 in every case
    assert "not by √d_v" in _message(ch05.q2, by_d_v)


@pytest.mark.parametrize("dtype", [float, int, np.float32])
def test_a_numeric_causal_mask_is_rejected_with_the_reason(dtype):
    def numeric_mask(seq):
        return np.tril(np.ones((seq, seq), dtype=dtype))

    message = _message(ch05.q3, numeric_mask)
    assert "expected a boolean array (True/False)" in message
    assert "a mask must be boolean" in message


def test_a_causal_mask_shifted_into_the_future_is_named():
    def shifted(seq):
        return np.arange(seq)[None, :] <= np.arange(seq)[:, None] + 1

    assert "one token into the future" in _message(ch05.q3, shifted)


def test_positions_are_named_as_queries_and_keys():
    unscaled = _attention_with(lambda q, k: q @ k.T)
    assert "the output of query" in _message(ch05.q2, unscaled)
    assert "query 0, key 1" in _message(ch05.q3, lambda seq: np.ones((seq, seq), dtype=bool))


# --- exercise 6: attention over (batch, heads, seq, d), with a fully masked query --------------


def _heads(*shape):
    return RNG.normal(size=shape)


def test_batched_reference_matches_the_package_with_broadcast_masks():
    q, k, v = _heads(2, 3, 4, 5), _heads(2, 3, 6, 5), _heads(2, 3, 6, 2)
    padding = np.ones((2, 1, 1, 6), dtype=bool)
    padding[1, ..., 4:] = False  # batch 1 has two pad keys
    for mask in [None, np.tril(np.ones((4, 6), dtype=bool), k=2), padding]:
        for ours, theirs in zip(
            ch05.q6.reference(q, k, v, mask), scaled_dot_product_attention(q, k, v, mask)
        ):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_batched_reference_gives_a_fully_masked_query_zeros_and_others_one_head_at_a_time():
    q, k, v = _heads(2, 2, 3, 4), _heads(2, 2, 5, 4), _heads(2, 2, 5, 3)
    mask = RNG.random((2, 1, 3, 5)) < 0.6
    mask[1, 0, 2] = False  # batch 1, query 2 may see nothing, in every head
    mask[0, 0, :, 0] = True  # every other query sees at least key 0
    mask[1, 0, :2, 0] = True
    out, weights = ch05.q6.reference(q, k, v, mask)
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(weights[1, :, 2], 0.0)
    np.testing.assert_array_equal(out[1, :, 2], 0.0)
    for b in range(2):  # every other query, one head at a time, through the 2-D reference
        for h in range(2):
            rows = [i for i in range(3) if mask[b, 0, i].any()]
            o, w = ch05.q2.reference(q[b, h, rows], k[b, h], v[b, h], mask[b, 0, rows])
            np.testing.assert_allclose(out[b, h, rows], o, rtol=1e-12)
            np.testing.assert_allclose(weights[b, h, rows], w, rtol=1e-12)


def test_batched_mistakes_written_as_a_learner_would():
    def dot_t(q, k, v, mask=None):
        return ch05.q2.reference(q, k, v, mask)  # the 2-D answer, k.T and all

    assert "k.T reverses every axis" in _message(ch05.q6, dot_t)

    def split_transpose(q, k, v, mask=None):
        scores = q @ k.transpose(0, 2, 1, 3) / np.sqrt(q.shape[-1])
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        row_max = scores.max(axis=-1, keepdims=True)
        e = np.exp(scores - np.where(np.isfinite(row_max), row_max, 0.0))
        weights = e / np.maximum(e.sum(axis=-1, keepdims=True), 1e-300)
        return weights @ v, weights

    assert "swaps the heads and the tokens" in _message(ch05.q6, split_transpose)

    def by_heads(q, k, v, mask=None):
        return ch05.q6.reference(q * np.sqrt(q.shape[-1] / q.shape[1]), k, v, mask)

    assert "q.shape[1] is the number of heads" in _message(ch05.q6, by_heads)

    def nan_row(q, k, v, mask=None):
        scores = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        weights = ch05.stable_softmax(scores)  # exercise 1's softmax: NaN on a blocked row
        return weights @ v, weights

    message = _message(ch05.q6, nan_row)
    assert "your array contains NaN, first at the output of batch 1, head 0, query 0" in message
    assert "came out as NaN" in message

    def finite_fill(q, k, v, mask=None):
        scores = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            scores = np.where(mask, scores, -1e9)
        weights = ch05.stable_softmax(scores)
        return weights @ v, weights

    assert "-1e9 is not -inf" in _message(ch05.q6, finite_fill)


def test_batched_unnormalised_weights_are_named_by_batch_head_and_query():
    def unnormalised(q, k, v, mask=None):
        out, weights = ch05.q6.reference(q, k, v, mask)
        return out, 2 * weights

    assert "the weights of batch 0, head 0, query 0 sum to 2, not 1" in _message(
        ch05.q6, unnormalised
    )

    def blocked_row_not_zero(q, k, v, mask=None):
        out, weights = ch05.q6.reference(q, k, v, mask)
        if mask is not None:
            full = np.broadcast_to(mask, weights.shape)
            weights = np.where(full.any(axis=-1, keepdims=True), weights, 0.5)
        return out, weights

    assert "may see no key (its mask row is all False)" in _message(ch05.q6, blocked_row_not_zero)


def test_a_batched_answer_by_loops_passes():
    def by_loops(q, k, v, mask=None):
        batch, n_heads, n_q, _ = q.shape
        full = np.ones((batch, n_heads, n_q, k.shape[-2]), dtype=bool)
        if mask is not None:
            full = np.broadcast_to(mask, full.shape)
        weights = np.zeros(full.shape)
        for b, h, i in np.ndindex(batch, n_heads, n_q):
            if full[b, h, i].any():
                s = k[b, h] @ q[b, h, i] / math.sqrt(q.shape[-1])
                s = np.where(full[b, h, i], s, -np.inf)
                e = np.exp(s - s.max())
                weights[b, h, i] = e / e.sum()
        return weights @ v, weights

    assert ch05.q6.evaluate(by_loops).correct
