"""Decoding: the filters against slow per-row references and hand-worked values, beam search
against exhaustive enumeration, the strategies' limits against each other (greedy = beam
width 1 = top_k 1 = temperature -> 0), sampling frequencies against the probabilities, the
stopping rules, and bad inputs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_notes.decoding import (
    Decoded,
    apply_temperature,
    beam_search,
    greedy,
    model_logits,
    next_token_probs,
    repetition_penalty,
    sample,
    top_k_filter,
    top_p_filter,
)
from genai_notes.gpt import GPT, GPTConfig

VOCAB = 5


def hashed_model(vocab: int = VOCAB, seed: int = 0, spread: float = 2.0):
    """A stand-in model whose next-token logits depend on the whole prefix (not only on the
    last token): each position's logits are a row of a random table picked by a hash of
    the prefix up to it. Returns every position's logits (batch, seq, vocab)."""
    table = np.random.default_rng(seed).normal(0.0, spread, (101, vocab))

    def model(ids: np.ndarray) -> np.ndarray:
        weights = 7 ** np.arange(ids.shape[1])  # a different weight for each position
        prefix_hash = np.cumsum(ids * weights, axis=1) % 101  # (batch, seq)
        return table[prefix_hash]

    return model


def softmax_rows(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- the filters ----------------------------------------------------------------------


def slow_top_p(row: np.ndarray, p: float) -> set[int]:
    """The nucleus of one row, by a plain loop: sort by (-probability, id), add tokens until
    the running total reaches p (within 1e-12); the token that crosses p is kept."""
    finite = np.isfinite(row)
    probs = np.zeros(len(row))
    probs[finite] = np.exp(row[finite] - row[finite].max())
    probs /= probs.sum()
    order = sorted(range(len(row)), key=lambda i: (-row[i], i))
    kept, total = set(), 0.0
    for i in order:
        if total >= p - 1e-12 or probs[i] == 0.0:
            break
        kept.add(i)
        total += probs[i]
    return kept or {order[0]}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-3, 3), min_size=1, max_size=8),  # small integers: many ties
    st.floats(0.01, 1.0),
    st.booleans(),
)
def test_top_p_matches_a_slow_reference(values, p, mask_one):
    row = np.array(values, dtype=float) * 0.7
    if mask_one and len(row) > 1:
        row[0] = -np.inf  # a token an earlier filter removed
    kept = np.flatnonzero(np.isfinite(top_p_filter(row[None], p)[0]))
    assert set(kept.tolist()) == slow_top_p(row, p)


def test_top_p_by_hand_crossing_token_and_ties():
    logits = np.log(np.array([[0.5, 0.125, 0.25, 0.125]]))
    kept = lambda p: np.flatnonzero(np.isfinite(top_p_filter(logits, p)[0])).tolist()  # noqa: E731
    assert kept(0.3) == [0]  # 0.5 alone reaches 0.3
    assert kept(0.5) == [0]  # reaches 0.5 exactly: the set is already big enough
    assert kept(0.6) == [0, 2]  # 0.25 crosses 0.6 and is kept
    assert kept(0.8) == [0, 1, 2]  # the tie 0.125/0.125 goes to the lower id, 1
    assert kept(1.0) == [0, 1, 2, 3]
    # kept logits are unchanged, the others -inf
    np.testing.assert_array_equal(top_p_filter(logits, 0.6)[0, [1, 3]], [-np.inf, -np.inf])
    np.testing.assert_array_equal(top_p_filter(logits, 0.6)[0, [0, 2]], logits[0, [0, 2]])


def test_top_p_is_per_row():
    logits = np.log(np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25]]))
    keep = np.isfinite(top_p_filter(logits, 0.7))
    np.testing.assert_array_equal(keep, [[True, False, False], [True, True, False]])


def test_top_k_by_hand_with_ties_and_large_k():
    logits = np.array([[1.0, 3.0, 2.0, 3.0], [0.0, -1.0, -np.inf, 5.0]])
    np.testing.assert_array_equal(
        np.isfinite(top_k_filter(logits, 1)), [[False, True, False, False], [0, 0, 0, 1]]
    )
    np.testing.assert_array_equal(
        np.isfinite(top_k_filter(logits, 3)), [[False, True, True, True], [1, 1, 0, 1]]
    )
    np.testing.assert_array_equal(top_k_filter(logits, 10), logits)  # k >= vocab: all kept


def test_repetition_penalty_by_hand():
    logits = np.array([[2.0, -1.0, 0.5, 0.0], [2.0, -1.0, 0.5, 0.0]])
    generated = np.array([[0, 1, 1], [3, 3, 3]])
    out = repetition_penalty(logits, generated, 2.0)
    # row 0: 2 -> 1 (divided), -1 -> -2 (multiplied, counted once however often repeated)
    np.testing.assert_array_equal(out, [[1.0, -2.0, 0.5, 0.0], [2.0, -1.0, 0.5, 0.0]])
    np.testing.assert_array_equal(repetition_penalty(logits, generated, 1.0), logits)
    np.testing.assert_array_equal(repetition_penalty(logits, generated[:, :0], 3.0), logits)
    # every penalised token's probability falls
    probs, after = softmax_rows(logits), softmax_rows(repetition_penalty(logits, generated, 1.5))
    assert after[0, 0] < probs[0, 0] and after[0, 1] < probs[0, 1]


def test_next_token_probs_order_penalty_temperature_k_p():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    # temperature alone: softmax(logits / T)
    np.testing.assert_allclose(
        next_token_probs(logits, temperature=0.5), softmax_rows(logits / 0.5), rtol=1e-12
    )
    # top-p after temperature: at T=1 the nucleus of 0.75 is {0, 1}; at T=0.25 token 0 alone
    # has 0.5**4 / (0.5**4 + 0.3**4 + ...) > 0.75
    assert np.count_nonzero(next_token_probs(logits, top_p=0.75)) == 2
    assert np.count_nonzero(next_token_probs(logits, temperature=0.25, top_p=0.75)) == 1
    # top-k, then renormalised
    np.testing.assert_allclose(
        next_token_probs(logits, top_k=2), [[0.625, 0.375, 0.0, 0.0]], rtol=1e-12
    )
    # the penalty comes first: token 0 penalised below token 1, then top_k=1 keeps token 1
    probs = next_token_probs(logits, top_k=1, penalty=10.0, generated=np.array([[0]]))
    np.testing.assert_array_equal(probs, [[0.0, 1.0, 0.0, 0.0]])


def test_apply_temperature_is_the_sampling_modules():
    from genai_notes import sampling

    assert apply_temperature is sampling.apply_temperature


# --- the strategies' limits -----------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_equals_beam_width_one_top_k_one_and_tiny_temperature(seed):
    model = hashed_model(seed=seed)
    prompt = np.array([[1], [2], [3]])
    g = greedy(model, prompt, 8, eos_id=0)
    b = beam_search(model, prompt, 8, beam_width=1, eos_id=0)
    k1 = sample(model, prompt, 8, top_k=1, rng=seed, eos_id=0)
    cold = sample(model, prompt, 8, temperature=1e-4, rng=seed, eos_id=0)
    for other in (b, k1, cold):
        np.testing.assert_array_equal(other.ids, g.ids)
        np.testing.assert_array_equal(other.lengths, g.lengths)


def test_greedy_takes_the_argmax_and_the_lowest_id_on_ties():
    table = np.array([[0.0, 1.0, 1.0], [2.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    out = greedy(lambda ids: table[ids], np.array([[0]]), 3)
    assert out.ids.tolist() == [[0, 1, 0, 1]]


def enumerate_best(model, prompt, n_new, eos_id, vocab, alpha):
    """The best continuation under score = log P / n ** alpha, over every sequence of new
    tokens that ends at <eos> or has n_new tokens, by listing them all."""
    best, best_seq = -np.inf, None
    for length in range(1, n_new + 1):
        for tail in itertools.product(range(vocab), repeat=length):
            if eos_id in tail[:-1] or (length < n_new and tail[-1] != eos_id):
                continue
            ids = np.array([list(prompt) + list(tail)])
            logits = model(ids)[0, len(prompt) - 1 : -1]  # predicts each new token
            logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            score = logp[np.arange(length), list(tail)].sum() / length**alpha
            if score > best + 1e-12:
                best, best_seq = score, list(prompt) + list(tail)
    return best, best_seq


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_beam_search_as_wide_as_all_continuations_finds_the_best_sequence(alpha, seed):
    vocab, n_new, eos = 3, 4, 0
    model = hashed_model(vocab, seed=seed, spread=1.5)
    prompt = [1, 2]
    want, want_seq = enumerate_best(model, prompt, n_new, eos, vocab, alpha)
    out = beam_search(
        model, np.array([prompt]), n_new, beam_width=vocab**n_new, alpha=alpha, eos_id=eos
    )
    assert out.scores[0] == pytest.approx(want, abs=1e-9)
    assert out.rows()[0] == want_seq


def test_beam_search_length_normalisation_changes_the_winner():
    # from token 1: <eos> (id 0) at once with p = 0.4, or 2 then <eos> with 0.6 * 0.9 = 0.54
    # ... but alpha=0 prefers 0.4 if the long path is less likely: make it 0.6 * 0.6 = 0.36
    probs = np.array([[1 / 3, 1 / 3, 1 / 3], [0.4, 0.0001, 0.5999], [0.6, 0.0001, 0.3999]])
    model = lambda ids: np.log(probs)[ids]  # noqa: E731
    short = beam_search(model, np.array([[1]]), 2, beam_width=3, alpha=0.0, eos_id=0)
    long = beam_search(model, np.array([[1]]), 2, beam_width=3, alpha=1.0, eos_id=0)
    assert short.rows() == [[1, 0]]  # log 0.4 = -0.92 > log 0.36 = -1.02
    assert long.rows() == [[1, 2, 0]]  # mean per token: -0.51 > -0.92
    assert short.ids.tolist() == [[1, 0, 0]]  # padded with eos_id
    assert long.scores[0] == pytest.approx(math.log(0.5999 * 0.6) / 2)


def test_beam_search_rows_are_independent():
    model = hashed_model(seed=4)
    prompts = np.array([[1, 2], [3, 4], [2, 2]])
    together = beam_search(model, prompts, 5, beam_width=3, alpha=0.7, eos_id=0)
    for row in range(3):
        alone = beam_search(model, prompts[row : row + 1], 5, beam_width=3, alpha=0.7, eos_id=0)
        assert alone.rows()[0] == together.rows()[row]
        assert alone.scores[0] == pytest.approx(together.scores[row])


# --- sampling -------------------------------------------------------------------------

# The 99.9% points of the chi-square distribution with 1 to 4 degrees of freedom.
CHI2_999 = {1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47}


@pytest.mark.parametrize(
    "settings_, kept",
    [
        ({}, [0, 1, 2, 3, 4]),
        ({"temperature": 0.7}, [0, 1, 2, 3, 4]),
        ({"top_k": 3}, [0, 1, 2]),
        ({"top_p": 0.6}, [0, 1]),
        ({"temperature": 1.5, "top_p": 0.7}, [0, 1, 2]),
    ],
)
def test_sampling_frequencies_match_the_probabilities(settings_, kept):
    p = np.array([0.4, 0.25, 0.15, 0.12, 0.08])
    model = lambda ids: np.broadcast_to(np.log(p), ids.shape + (5,))  # noqa: E731
    n = 20_000
    draws = sample(model, np.zeros((n, 1), dtype=int), 1, rng=0, **settings_).ids[:, 1]
    # the expected distribution, by hand: p ** (1/T) on the kept tokens, renormalised
    weights = np.zeros(5)
    weights[kept] = p[kept] ** (1.0 / settings_.get("temperature", 1.0))
    expected = n * weights / weights.sum()
    counts = np.bincount(draws, minlength=5)
    assert counts[expected == 0].sum() == 0  # filtered tokens never appear
    chi2 = (((counts - expected) ** 2)[kept] / expected[kept]).sum()
    assert chi2 < CHI2_999[len(kept) - 1]


def test_sampling_is_seeded_and_rows_differ():
    model = hashed_model(seed=5, spread=0.5)
    prompt = np.ones((4, 1), dtype=int)
    a, b = sample(model, prompt, 10, rng=3), sample(model, prompt, 10, rng=3)
    np.testing.assert_array_equal(a.ids, b.ids)
    assert not np.array_equal(a.ids, sample(model, prompt, 10, rng=4).ids)
    assert len({tuple(r) for r in a.ids.tolist()}) > 1


# --- stopping ---------------------------------------------------------------------------


def counter(vocab: int = 6):
    """Predicts "the previous id plus one" for sure (a stand-in with an obvious answer)."""
    return lambda ids: 10.0 * np.eye(vocab)[(ids + 1) % vocab]


def test_eos_stops_a_row_and_pads_it():
    out = greedy(counter(), np.array([[1], [4], [2]]), 6, eos_id=5)
    # row 0 is the last to finish, after 4 tokens: the loop stops there, not at 6
    assert out.ids.tolist() == [[1, 2, 3, 4, 5], [4, 5, 5, 5, 5], [2, 3, 4, 5, 5]]
    assert out.lengths.tolist() == [5, 2, 4]
    assert out.rows() == [[1, 2, 3, 4, 5], [4, 5], [2, 3, 4, 5]]
    padded = greedy(counter(), np.array([[3]]), 4, eos_id=5, pad_id=0)
    assert padded.ids.tolist() == [[3, 4, 5]]  # every row finished: the loop stops early
    padded = greedy(counter(), np.array([[3], [0]]), 4, eos_id=5, pad_id=0)
    assert padded.ids.tolist() == [[3, 4, 5, 0, 0], [0, 1, 2, 3, 4]]


def test_stop_strings_through_decode():
    letters = "abcdef"
    decode = lambda ids: "".join(letters[i] for i in ids)  # noqa: E731
    out = greedy(counter(), np.array([[0], [2]]), 5, stop=["cd"], decode=decode, pad_id=5)
    # the generated text of row 0 is "bcd..." and stops once it contains "cd";
    # row 1 generates "def..." and never does, so it runs to max_new_tokens
    assert out.rows() == [[0, 1, 2, 3], [2, 3, 4, 5, 0, 1]]
    assert out.ids[0].tolist() == [0, 1, 2, 3, 5, 5]
    # the prompt does not count: "cd" in the prompt alone does not stop
    out = greedy(counter(), np.array([[2, 3]]), 2, stop="cd", decode=decode)
    assert out.lengths.tolist() == [4]


def test_max_new_tokens_zero_and_decoded_type():
    out = sample(hashed_model(), np.array([[1, 2]]), 0, rng=0)
    assert isinstance(out, Decoded) and out.ids.tolist() == [[1, 2]]
    assert out.lengths.tolist() == [2]


def test_repetition_penalty_breaks_a_greedy_loop():
    # a model that, after 1, prefers 2 and after 2, prefers 1: greedy loops 1 2 1 2 ...
    table = np.array([[0, 0, 0, 0], [0, 0, 3, 2], [0, 3, 0, 2], [0, 2, 1, 0]], dtype=float)
    model = lambda ids: table[ids]  # noqa: E731
    assert greedy(model, np.array([[1]]), 4).rows() == [[1, 2, 1, 2, 1]]
    penalised = greedy(model, np.array([[1]]), 4, penalty=2.0).rows()[0]
    # 2 (3 > 2), then 1 (3 > 2), then the penalised 2 scores 1.5 < 2: token 3
    assert penalised[:4] == [1, 2, 1, 3]


# --- any model: a GPT, and an encoder-decoder's decoder -----------------------------


def copying_decoder(source: np.ndarray):
    """A stand-in for an encoder-decoder's decoder: it copies its source sentence (the
    encoder output, bound in a closure; one row per row of ids) token by token, then says
    <eos> = 0. It returns the last position's logits only, which decoding allows."""

    def decoder(ids: np.ndarray) -> np.ndarray:
        t = ids.shape[1] - 1  # tokens generated so far (ids start with <bos> = 5)
        nxt = source[:, t] if t < source.shape[1] else np.zeros(len(ids), dtype=int)
        logits = np.zeros((len(ids), 1, 6))
        logits[np.arange(len(ids)), 0, nxt] = 5.0
        return logits

    return decoder


def test_an_encoder_decoder_stand_in_decodes_batched():
    source = np.array([[3, 1, 4], [2, 2, 0]])  # each row has its own source sentence
    out = greedy(copying_decoder(source), np.full((2, 1), 5), 6, eos_id=0)
    assert out.rows() == [[5, 3, 1, 4, 0], [5, 2, 2, 0]]
    # beam search asks for batch * beam_width rows, the beams of each row side by side:
    # the encoder output is repeated to match
    width = 3
    beams = beam_search(
        copying_decoder(np.repeat(source, width, axis=0)),
        np.full((2, 1), 5), 6, beam_width=width, eos_id=0,
    )  # fmt: skip
    assert beams.rows() == out.rows()


def test_strategies_accept_a_gpt_through_model_logits():
    model = GPT(GPTConfig(vocab_size=7, block_size=6, n_layers=1, n_heads=2, d_model=8, seed=1))
    prompt = np.array([[1, 2], [3, 4]])
    want = model.generate(prompt, 9, top_k=1, rng=0)  # crosses block_size: the window slides
    for use_cache in (False, True):
        got = greedy(model_logits(model, use_cache=use_cache), prompt, 9)
        np.testing.assert_array_equal(got.ids, want)
    a = sample(model_logits(model), prompt, 9, rng=2, temperature=0.8, top_p=0.9)
    b = sample(model_logits(model, use_cache=True), prompt, 9, rng=2, temperature=0.8, top_p=0.9)
    np.testing.assert_array_equal(a.ids, b.ids)
    c = beam_search(model_logits(model), prompt, 4, beam_width=3, alpha=1.0)
    d = beam_search(model_logits(model, use_cache=True), prompt, 4, beam_width=3, alpha=1.0)
    np.testing.assert_array_equal(c.ids, d.ids)


# --- bad inputs -------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0, exclude_min=True)))
def test_top_p_refuses_p_outside_zero_one(p):
    with pytest.raises(ValueError, match="p: expected"):
        top_p_filter(np.zeros((1, 3)), p)


@settings(max_examples=30, deadline=None)
@given(st.integers(max_value=0))
def test_top_k_refuses_k_below_one(k):
    with pytest.raises(ValueError, match="k: expected a positive integer"):
        top_k_filter(np.zeros((1, 3)), k)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: top_k_filter(np.zeros(3), 1), ValueError, "logits: expected a 2-D array"),
        (lambda: top_k_filter(np.zeros((1, 3)), 1.5), TypeError, "k: expected a positive"),
        (lambda: top_k_filter(np.zeros((1, 3)), True), TypeError, "k: expected a positive"),
        (lambda: top_p_filter(np.zeros((2, 2, 2)), 0.5), ValueError, "logits: expected a 2-D"),
        (lambda: top_p_filter([[0.0, np.nan]], 0.5), ValueError, "logits: expected real"),
        (lambda: top_p_filter([[0.0, np.inf]], 0.5), ValueError, "logits: expected real"),
        (lambda: top_p_filter([[-np.inf, -np.inf]], 0.5), ValueError, "row 0 has no token"),
        (lambda: top_p_filter(np.zeros((1, 3)), "0.5"), TypeError, "p: expected a real"),
        (lambda: top_k_filter([["a", "b"]], 1), TypeError, "logits: expected"),
        (lambda: repetition_penalty(np.zeros((1, 3)), [[0]], 0.5), ValueError, "penalty"),
        (lambda: repetition_penalty(np.zeros((2, 3)), [[0]], 2.0), ValueError, "generated"),
        (lambda: repetition_penalty(np.zeros((1, 3)), [[3]], 2.0), ValueError, "generated"),
        (lambda: next_token_probs(np.zeros((1, 3)), penalty=2.0), ValueError, "generated"),
        (lambda: next_token_probs(np.zeros((1, 3)), temperature=0.0), ValueError, "temperature"),
    ],
)
def test_filters_refuse_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _wrong_shape(ids):
    return np.zeros((ids.shape[0], 5))


def _nan_model(ids):
    return np.full(ids.shape + (3,), np.nan)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: greedy(counter(), np.array([1, 2]), 2), ValueError, "prompt: expected a 2-D"),
        (lambda: greedy(counter(), np.zeros((1, 0), int), 2), ValueError, "prompt: expected"),
        (lambda: greedy(counter(), np.array([[0.5]]), 2), TypeError, "prompt: expected integer"),
        (lambda: greedy(counter(), np.array([[1]]), -1), ValueError, "max_new_tokens"),
        (lambda: greedy(_wrong_shape, np.array([[1]]), 2), ValueError, "model output"),
        (lambda: greedy(_nan_model, np.array([[1]]), 2), ValueError, "model output"),
        (lambda: greedy(counter(), np.array([[1]]), 2, stop=["x"]), TypeError, "decode"),
        (lambda: greedy(counter(), [[1]], 2, stop=[""], decode=str), TypeError, "stop"),
        (lambda: greedy(counter(), [[1]], 2, eos_id=-1), ValueError, "eos_id"),
        (lambda: sample(counter(), [[1]], 2, top_p=0.0), ValueError, "top_p"),
        (lambda: sample(counter(), [[1]], 2, top_k=0), ValueError, "top_k"),
        (lambda: sample(counter(), [[1]], 2, rng=None), TypeError, "rng"),
        (lambda: beam_search(counter(), [[1]], 2, beam_width=0), ValueError, "beam_width"),
        (lambda: beam_search(counter(), [[1]], 2, alpha=-1.0), ValueError, "alpha"),
        (lambda: beam_search(counter(), [[1]], 2, pad_id=9), ValueError, "pad_id"),
        (lambda: model_logits(counter()), TypeError, "model: expected a GPT"),
    ],
)
def test_strategies_refuse_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call()
