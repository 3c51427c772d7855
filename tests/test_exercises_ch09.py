"""Chapter 9 exercises: the references agree with genai_notes.decoding and the GPT's KV cache
(an independent, batched route), every typical mistake written as a learner would gets its
own diagnosis, and right answers written differently pass."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes.decoding import next_token_probs, top_p_filter
from genai_notes.exercises import ch09
from genai_notes.gpt import GPT, GPTConfig

RNG = np.random.default_rng(9)


def _message(question, answer):
    with np.errstate(all="ignore"):  # some mistakes overflow on purpose
        feedback = question.evaluate(answer)
    assert feedback.status == "incorrect", feedback
    return feedback.message


# --- references against the package ----------------------------------------------------


@pytest.mark.parametrize("temperature", [0.01, 0.5, 1.0, 3.0])
def test_softmax_at_matches_next_token_probs(temperature):
    logits = RNG.normal(size=7)
    np.testing.assert_allclose(
        ch09.softmax_at(logits, temperature),
        next_token_probs(logits[None], temperature=temperature)[0],
        rtol=1e-10,
        atol=1e-300,
    )


def test_temperature_limits_by_hand():
    # T -> 0: all the mass on the maxima, split evenly; T -> infinity: uniform
    np.testing.assert_allclose(ch09.softmax_at(np.array([1.0, 3.0, 3.0]), 1e-3), [0, 0.5, 0.5])
    np.testing.assert_allclose(ch09.softmax_at(np.array([1.0, 3.0, 2.0]), 1e6), 1 / 3, rtol=1e-5)


@pytest.mark.parametrize("k", [1, 2, 4, 9])
def test_top_k_probs_matches_next_token_probs(k):
    logits = RNG.integers(-2, 3, size=8).astype(float)  # small integers: ties
    np.testing.assert_allclose(
        ch09.top_k_probs(logits, k), next_token_probs(logits[None], top_k=k)[0], rtol=1e-12
    )


@pytest.mark.parametrize("p", [0.1, 0.5, 0.75, 0.9, 1.0])
def test_top_p_matches_the_package_filter(p):
    probs = np.array([0.125, 0.25, 0.0625, 0.25, 0.3125])  # exact binary fractions, a tie
    kept = np.isfinite(top_p_filter(np.log(probs)[None], p)[0])
    np.testing.assert_array_equal(ch09.top_p(probs, p) > 0, kept)
    np.testing.assert_allclose(ch09.top_p(probs, p).sum(), 1.0)


def test_beam_step_by_hand():
    parents, tokens, scores = ch09.beam_step(
        np.log([0.5, 0.3, 0.2]), np.log([[0.6, 0.4], [0.9, 0.1], [0.5, 0.5]]), 3
    )
    assert parents.tolist() == [0, 1, 0] and tokens.tolist() == [0, 0, 1]
    np.testing.assert_allclose(np.exp(scores), [0.30, 0.27, 0.20])


def test_kv_cache_shape_matches_the_gpt_cache():
    model = GPT(GPTConfig(vocab_size=9, block_size=16, n_layers=2, n_heads=4, d_model=16))
    from genai_notes.gpt import KVCache

    prompt, n_new = np.array([[1, 2, 3], [4, 5, 6]]), 5
    cache = KVCache.for_model(model, batch=2)
    model.forward_cached(prompt, cache)  # the prompt, once
    ids = model.generate(prompt, n_new, rng=0, use_cache=True)
    for t in range(3, 3 + n_new - 1):  # each new token but the last, fed back
        model.forward_cached(ids[:, t : t + 1], cache)
    filled = cache.keys[0][:, :, : cache.length]
    assert filled.shape == ch09.kv_cache_shape(2, 4, 16, 3, n_new)


# --- mistakes written as a learner would ----------------------------------------------------


def test_temperature_mistakes():
    def multiplied(logits, temperature):
        z = logits * temperature
        return np.exp(z - z.max()) / np.exp(z - z.max()).sum()

    assert "you multiplied the logits by T" in _message(ch09.q1, multiplied)

    def unshifted(logits, temperature):
        e = np.exp(logits / temperature)
        return e / np.sum(e)

    assert "exp overflowed at a small temperature" in _message(ch09.q1, unshifted)

    def on_probs(logits, temperature):
        p = np.exp(logits) / np.exp(logits).sum()
        p = p / temperature
        return p / p.sum()

    assert "temperature divides the logits" in _message(ch09.q1, on_probs)

    def unnormalised(logits, temperature):
        z = logits / temperature
        return np.exp(z - z.max())

    assert "sum to" in _message(ch09.q1, unnormalised)


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def test_top_k_mistakes():
    def smallest(logits, k):
        out = np.full(len(logits), -np.inf)
        idx = np.argsort(logits)[:k]
        out[idx] = logits[idx]
        return _softmax(out)

    assert "you kept the k smallest" in _message(ch09.q2, smallest)

    def zeroed(logits, k):
        out = np.zeros(len(logits))
        idx = np.argsort(-logits, kind="stable")[:k]
        out[idx] = logits[idx]
        return _softmax(out)

    assert "must get logit -inf" in _message(ch09.q2, zeroed)

    def keeps_ties(logits, k):
        kth = np.sort(logits)[-min(k, len(logits))]
        return _softmax(np.where(logits >= kth, logits, -np.inf))

    assert "kept every tied token" in _message(ch09.q2, keeps_ties)

    def reversed_sort(logits, k):
        idx = np.argsort(logits, kind="stable")[::-1][:k]
        out = np.full(len(logits), -np.inf)
        out[idx] = logits[idx]
        return _softmax(out)

    assert "reversing an ascending sort" in _message(ch09.q2, reversed_sort)

    def one_more(logits, k):
        idx = np.argsort(-logits, kind="stable")[: k + 1]
        out = np.full(len(logits), -np.inf)
        out[idx] = logits[idx]
        return _softmax(out)

    assert "you kept k + 1 tokens" in _message(ch09.q2, one_more)

    def filtered_logits(logits, k):  # returns the filtered logits, not probabilities
        idx = np.argsort(-logits, kind="stable")[:k]
        out = np.full(len(logits), -np.inf)
        out[idx] = logits[idx]
        return out

    assert "if these are logits, finish with a softmax" in _message(ch09.q2, filtered_logits)


def test_top_p_mistakes():
    def order_of(probs):
        return np.argsort(-probs, kind="stable")

    def no_crossing(probs, p):
        order = order_of(probs)
        keep = np.zeros(len(probs), bool)
        keep[order] = np.cumsum(probs[order]) <= p
        kept = np.where(keep, probs, 0)
        return kept / kept.sum()

    assert "you dropped the token that crosses p" in _message(ch09.q3, no_crossing)

    def unsorted(probs, p):
        keep = np.cumsum(probs) - probs < p
        kept = np.where(keep, probs, 0)
        return kept / kept.sum()

    assert "in id order" in _message(ch09.q3, unsorted)

    def not_renormalised(probs, p):
        order = order_of(probs)
        keep = np.zeros(len(probs), bool)
        keep[order] = np.cumsum(probs[order]) - probs[order] < p
        return np.where(keep, probs, 0)

    assert "must be renormalised" in _message(ch09.q3, not_renormalised)

    def one_too_many(probs, p):
        order = order_of(probs)
        keep = np.zeros(len(probs), bool)
        keep[order] = np.cumsum(probs[order]) - probs[order] <= p
        kept = np.where(keep, probs, 0)
        return kept / kept.sum()

    assert "equals p exactly" in _message(ch09.q3, one_too_many)

    def reversed_ties(probs, p):
        order = np.argsort(probs, kind="stable")[::-1]
        keep = np.zeros(len(probs), bool)
        keep[order] = np.cumsum(probs[order]) - probs[order] < p
        kept = np.where(keep, probs, 0)
        return kept / kept.sum()

    assert "reversing an ascending sort" in _message(ch09.q3, reversed_ties)


def test_beam_step_mistakes():
    def flat_top(scores, width):
        best = np.argsort(-scores.ravel(), kind="stable")[:width]
        return best, scores.ravel()[best]

    def next_only(beam_logp, next_logp, width):
        best, s = flat_top(next_logp, width)
        return best // next_logp.shape[1], best % next_logp.shape[1], s

    assert "the new token's log-probability alone" in _message(ch09.q4, next_only)

    def per_beam(beam_logp, next_logp, width):
        scores = beam_logp[:, None] + next_logp
        parents = np.argsort(-scores.max(axis=1), kind="stable")[:width]
        tokens = scores.argmax(axis=1)[parents]
        return parents, tokens, scores[parents, tokens]

    assert "you took each beam's best token" in _message(ch09.q4, per_beam)

    def multiplied(beam_logp, next_logp, width):
        best, s = flat_top(beam_logp[:, None] * next_logp, width)
        return best // next_logp.shape[1], best % next_logp.shape[1], s

    assert "their logarithms add" in _message(ch09.q4, multiplied)

    def divmod_beams(beam_logp, next_logp, width):
        best, s = flat_top(beam_logp[:, None] + next_logp, width)
        return best % len(beam_logp), best // len(beam_logp), s

    assert "beam * vocab + token" in _message(ch09.q4, divmod_beams)

    def worst(beam_logp, next_logp, width):
        scores = (beam_logp[:, None] + next_logp).ravel()
        best = np.argsort(scores)[:width]
        return best // next_logp.shape[1], best % next_logp.shape[1], scores[best]

    assert "you kept the worst candidates" in _message(ch09.q4, worst)


def test_kv_cache_shape_mistakes():
    d = lambda d_model, n_heads: d_model // n_heads  # noqa: E731
    wrong = {
        "has not been fed to the model yet": lambda b, h, dm, n_p, n: (b, h, n_p + n, d(dm, h)),
        "the prompt's keys are in the cache": lambda b, h, dm, n_p, n: (b, h, n - 1, d(dm, h)),
        "not d_model": lambda b, h, dm, n_p, n: (b, h, n_p + n - 1, dm),
        "the heads come before": lambda b, h, dm, n_p, n: (b, n_p + n - 1, h, d(dm, h)),
    }
    for why, answer in wrong.items():
        assert why in _message(ch09.q5, answer)


def test_kv_cache_shape_refuses_building_a_cache():
    def by_building(batch, n_heads, d_model, n_prompt, n_new):
        from genai_notes.gpt import KVCache

        cache = KVCache(1, batch, n_heads, n_prompt + n_new, d_model // n_heads)
        return (batch, n_heads, n_prompt + n_new - 1, cache.keys[0].shape[-1])

    assert "KVCache" in _message(ch09.q5, by_building)


# --- right answers written differently ------------------------------------------------------


def test_right_answers_written_differently_pass():
    def softmax_at(logits, temperature):
        z = np.array(logits) / temperature
        return np.exp(z - np.logaddexp.reduce(z))

    assert ch09.q1.evaluate(softmax_at).correct

    def top_k_probs(logits, k):
        ranked = sorted(range(len(logits)), key=lambda i: (-logits[i], i))[:k]
        p = np.zeros(len(logits))
        p[ranked] = np.exp(logits[ranked] - logits[ranked].max())
        return p / p.sum()

    assert ch09.q2.evaluate(top_k_probs).correct

    def top_p(probs, p):
        order = np.argsort(-probs, kind="stable")
        n = int(np.searchsorted(np.cumsum(probs[order]), p)) + 1  # first total >= p
        out = np.zeros(len(probs))
        out[order[:n]] = probs[order[:n]]
        return out / out.sum()

    assert ch09.q3.evaluate(top_p).correct

    def beam_step(beam_logp, next_logp, width):
        cands = [
            (beam_logp[b] + next_logp[b, t], b, t)
            for b in range(next_logp.shape[0])
            for t in range(next_logp.shape[1])
        ]
        cands.sort(key=lambda c: (-c[0], c[1], c[2]))
        best = cands[:width]
        return (
            np.array([c[1] for c in best]),
            np.array([c[2] for c in best]),
            np.array([c[0] for c in best]),
        )

    assert ch09.q4.evaluate(beam_step).correct

    def kv_cache_shape(batch, n_heads, d_model, n_prompt, n_new):
        return batch, n_heads, n_prompt + (n_new - 1), int(d_model / n_heads)

    assert ch09.q5.evaluate(kv_cache_shape).correct
