"""Exercises for chapter 9, "Decoding and sampling": temperature and its limits, top-k
sampling's distribution, a top-p filter (ties and the token that crosses p), one step of
beam search, and the shape of a KV cache.

Each question keeps together its reference solution (named as the learner's function is
named, since ``solution()`` prints it), its test cases, its typical mistakes and its hints.
:mod:`genai_notes.decoding` computes the same things batched, and
``tests/test_exercises_ch09.py`` checks that they agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genai_notes.exercises.core import Mistake, Question, bind


def _named(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    function.__name__ = name
    return function


def _token_place(case: tuple, path: tuple) -> str | None:
    return f"token {path[0]}" if len(path) == 1 else None


def _does_not_sum_to_one(output: Any, case: tuple) -> str | None:
    probs = np.asarray(output, dtype=float)
    if probs.ndim != 1 or np.isnan(probs).any():
        return None
    if (probs < 0).any() or (probs > 1).any():
        return (
            "expected probabilities, each between 0 and 1; if these are logits, finish with "
            "a softmax"
        )
    if np.isclose(probs.sum(), 1.0):
        return None
    return (
        f"the probabilities sum to {probs.sum():.4g}, not 1: divide the kept ones by their "
        "total (renormalise)"
    )


# --- Exercise 1: softmax_at -------------------------------------------------------------


def softmax_at(logits, temperature):
    z = np.asarray(logits, dtype=float) / temperature  # a small T spreads the logits apart
    z = z - z.max()  # the largest becomes 0: exp cannot overflow however small T is
    e = np.exp(z)
    return e / e.sum()


def _temperature_multiplied(logits, temperature):
    z = np.asarray(logits, dtype=float) * temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def _temperature_unshifted(logits, temperature):
    e = np.exp(np.asarray(logits, dtype=float) / temperature)
    return e / e.sum()


def _temperature_on_probabilities(logits, temperature):
    z = np.asarray(logits, dtype=float)
    p = np.exp(z - z.max())
    p = p / p.sum() / temperature  # divides the probabilities, then renormalises
    return p / p.sum()


q1 = Question(
    "Write softmax_at(logits, temperature): the next-token distribution softmax(logits / T) "
    "for a 1-D array of logits and a temperature T > 0. It must work for T as small as 0.001.",
    kind="function",
    reference=softmax_at,
    cases=[
        (np.array([2.0, 1.0, 0.0]), 1.0),
        (np.array([2.0, 1.0, 0.0]), 0.5),
        (np.array([1.0, 3.0, 3.0, 0.0]), 0.001),  # T -> 0: the two maxima split it evenly
        (np.array([1.0, 3.0, 2.0]), 100.0),  # T -> infinity: nearly uniform
    ],
    hints=[
        "Divide the logits by T first, then take an ordinary softmax.",
        "Subtract the largest scaled logit before np.exp: with T = 0.001 the logits become "
        "thousands, and e^3000 overflows to inf.",
    ],
    mistakes=[
        Mistake(
            _temperature_multiplied,
            "you multiplied the logits by T; divide them by T, so that a small T makes the "
            "distribution sharper (greedier) and a large T flatter",
        ),
        Mistake(
            _temperature_unshifted,
            "exp overflowed at a small temperature (the logits / T are in the thousands): "
            "subtract the largest logits / T before calling np.exp",
        ),
        Mistake(
            _temperature_on_probabilities,
            "dividing the probabilities by T and renormalising changes nothing (the T "
            "cancels); temperature divides the logits, before the softmax",
        ),
    ],
    diagnose=[_does_not_sum_to_one],
    locate=_token_place,
)


# --- Exercise 2: top_k_probs ---------------------------------------------------------------


def top_k_probs(logits, k):
    logits = np.asarray(logits, dtype=float)
    order = np.argsort(-logits, kind="stable")  # largest first; on a tie, the lower id first
    kept = np.full(len(logits), -np.inf)
    kept[order[:k]] = logits[order[:k]]  # the k best keep their logits, the others -inf
    e = np.exp(kept - kept.max())  # exp(-inf) = 0: a removed token cannot be drawn
    return e / e.sum()


def _softmax_of(logits, ids):
    """The softmax over the tokens ``ids`` only (how every variant below ends)."""
    logits = np.asarray(logits, dtype=float)
    kept = np.full(len(logits), -np.inf)
    kept[ids] = logits[ids]
    e = np.exp(kept - kept.max())
    return e / e.sum()


def _top_k_smallest(logits, k):
    return _softmax_of(logits, np.argsort(logits, kind="stable")[:k])


def _top_k_zeroed(logits, k):
    logits = np.asarray(logits, dtype=float)
    kept = np.zeros(len(logits))  # removed tokens get logit 0 instead of -inf
    best = np.argsort(-logits, kind="stable")[:k]
    kept[best] = logits[best]
    e = np.exp(kept - kept.max())
    return e / e.sum()


def _top_k_keeps_ties(logits, k):
    logits = np.asarray(logits, dtype=float)
    kth = np.sort(logits)[::-1][min(k, len(logits)) - 1]
    return _softmax_of(logits, np.flatnonzero(logits >= kth))


def _top_k_reversed_sort(logits, k):
    return _softmax_of(logits, np.argsort(logits, kind="stable")[::-1][:k])  # ties: higher id


def _top_k_one_more(logits, k):
    return _softmax_of(logits, np.argsort(-np.asarray(logits), kind="stable")[: k + 1])


q2 = Question(
    "Write top_k_probs(logits, k) for a 1-D array of logits: the distribution top-k sampling "
    "draws from. Keep the k largest logits, set every other one to -inf, and take the "
    "softmax (so removed tokens get probability 0). On a tie the lower token id counts as "
    "larger, so exactly k tokens stay (all of them if k >= the vocabulary).",
    kind="function",
    reference=top_k_probs,
    cases=[
        (np.array([0.5, 2.0, -1.0, 1.0, 0.0]), 2),
        (np.array([1.0, 3.0, 2.0, 3.0, 2.0]), 3),  # a tie at the edge: token 2 or token 4?
        (np.array([1.0, -2.0, 0.5]), 1),
        (np.array([1.0, -2.0, 0.5]), 5),
    ],
    hints=[
        "np.argsort(-logits, kind='stable') lists the token ids from the largest logit down, "
        "and keeps tied tokens in id order.",
        "Start from np.full(len(logits), -np.inf), copy back the logits of the first k ids, "
        "then take a stable softmax (np.exp(-inf) is 0).",
    ],
    mistakes=[
        Mistake(
            _top_k_smallest,
            "you kept the k smallest logits; keep the k largest (sort from the largest down)",
        ),
        Mistake(
            _top_k_zeroed,
            "a removed token must get logit -inf: with logit 0 it keeps probability "
            "e^0 / Σ e^z, so it could still be drawn",
        ),
        Mistake(
            _top_k_keeps_ties,
            "on a tie at the k-th place you kept every tied token, more than k; keep exactly "
            "k, the lower token id first",
        ),
        Mistake(
            _top_k_reversed_sort,
            "reversing an ascending sort puts the higher token id first among equal logits; "
            "sort -logits with kind='stable' so that the lower id wins a tie",
        ),
        Mistake(_top_k_one_more, "you kept k + 1 tokens; keep k"),
    ],
    diagnose=[_does_not_sum_to_one],
    locate=_token_place,
)


# --- Exercise 3: top_p ----------------------------------------------------------------------


def top_p(probs, p):
    probs = np.asarray(probs, dtype=float)
    order = np.argsort(-probs, kind="stable")  # most likely first; ties: the lower id first
    sorted_probs = probs[order]
    before = np.cumsum(sorted_probs) - sorted_probs  # the probability ranked above each token
    keep = np.zeros(len(probs), dtype=bool)
    keep[order] = before < p  # the set has not reached p yet: this token joins it
    kept = np.where(keep, probs, 0.0)
    return kept / kept.sum()


def _top_p_variant(sort=True, crossing=True, renormalise=True, reached="<", ties="stable"):
    """top_p with one thing done wrong."""

    def wrong(probs, p):
        probs = np.asarray(probs, dtype=float)
        if not sort:
            order = np.arange(len(probs))
        elif ties == "reversed":
            order = np.argsort(probs, kind="stable")[::-1]
        else:
            order = np.argsort(-probs, kind="stable")
        total = np.cumsum(probs[order])
        if crossing:
            before = total - probs[order]
            keep_sorted = before <= p if reached == "<=" else before < p
        else:
            keep_sorted = total <= p
        keep = np.zeros(len(probs), dtype=bool)
        keep[order] = keep_sorted
        kept = np.where(keep, probs, 0.0)
        return kept / kept.sum() if renormalise else kept

    return wrong


q3 = Question(
    "Write top_p(probs, p) for a 1-D array of probabilities and 0 < p <= 1: keep the smallest "
    "set of most likely tokens whose total probability reaches p (is at least p), set the "
    "others to 0 and renormalise. Add tokens from the most likely down, the lower id first "
    "on a tie; the token that crosses p is kept, and a set whose total equals p is complete.",
    kind="function",
    reference=top_p,
    cases=[
        (np.array([0.125, 0.5, 0.25, 0.125]), 0.6),  # 0.5, then 0.25 crosses 0.6
        (np.array([0.125, 0.5, 0.25, 0.125]), 0.75),  # 0.5 + 0.25 reaches 0.75 exactly
        (np.array([0.25, 0.125, 0.5, 0.125]), 0.8),  # a tie: token 1 or token 3?
        (np.array([0.5, 0.25, 0.25]), 0.3),
        (np.array([0.25, 0.5, 0.25]), 1.0),
    ],
    hints=[
        "Sort the probabilities from the largest down (np.argsort(-probs, kind='stable')) and "
        "take the running total with np.cumsum.",
        "A token is kept when the probability of the tokens ranked above it is still below p: "
        "np.cumsum(sorted_probs) - sorted_probs < p. That keeps the token that crosses p.",
    ],
    mistakes=[
        Mistake(
            _named("no_crossing", _top_p_variant(crossing=False)),
            "you dropped the token that crosses p: the tokens before it do not reach p yet, so "
            "it belongs to the set (keep a token while the total before it is below p)",
        ),
        Mistake(
            _named("unsorted", _top_p_variant(sort=False)),
            "you added the tokens in id order; add them from the most likely down",
        ),
        Mistake(
            _named("not_renormalised", _top_p_variant(renormalise=False)),
            "the kept probabilities must be renormalised: divide them by their total",
        ),
        Mistake(
            _named("one_too_many", _top_p_variant(reached="<=")),
            "when the kept tokens' total equals p exactly, the set already reaches p: stop "
            "there (keep a token while the total before it is below p, not at most p)",
        ),
        Mistake(
            _named("reversed_ties", _top_p_variant(ties="reversed")),
            "reversing an ascending sort puts the higher token id first among equal "
            "probabilities; sort -probs with kind='stable' so that the lower id wins a tie",
        ),
    ],
    diagnose=[_does_not_sum_to_one],
    locate=_token_place,
)


# --- Exercise 4: beam_step -----------------------------------------------------------------


def beam_step(beam_logp, next_logp, width):
    beam_logp = np.asarray(beam_logp, dtype=float)  # (n_beams,)
    next_logp = np.asarray(next_logp, dtype=float)  # (n_beams, vocab)
    vocab = next_logp.shape[1]
    scores = beam_logp[:, None] + next_logp  # (n_beams, vocab): log-probabilities add
    flat = scores.ravel()  # candidate index = beam * vocab + token
    best = np.argsort(-flat, kind="stable")[:width]  # best first; ties: the lower index
    return best // vocab, best % vocab, flat[best]  # parents, tokens, scores


def _beam_next_only(beam_logp, next_logp, width):
    flat = np.asarray(next_logp, dtype=float).ravel()  # the beams' scores forgotten
    best = np.argsort(-flat, kind="stable")[:width]
    return best // next_logp.shape[1], best % next_logp.shape[1], flat[best]


def _beam_best_per_beam(beam_logp, next_logp, width):
    scores = np.asarray(beam_logp, dtype=float)[:, None] + next_logp
    tokens = scores.argmax(axis=1)  # each beam's best token, then the best beams
    best = scores.max(axis=1)
    parents = np.argsort(-best, kind="stable")[:width]
    return parents, tokens[parents], best[parents]


def _beam_multiplied(beam_logp, next_logp, width):
    scores = np.asarray(beam_logp, dtype=float)[:, None] * next_logp
    flat = scores.ravel()
    best = np.argsort(-flat, kind="stable")[:width]
    return best // next_logp.shape[1], best % next_logp.shape[1], flat[best]


def _beam_divmod_by_beams(beam_logp, next_logp, width):
    parents, tokens, scores = beam_step(beam_logp, next_logp, width)
    flat = parents * next_logp.shape[1] + tokens
    n_beams = len(beam_logp)
    return flat % n_beams, flat // n_beams, scores


def _beam_worst(beam_logp, next_logp, width):
    scores = (np.asarray(beam_logp, dtype=float)[:, None] + next_logp).ravel()
    best = np.argsort(scores)[:width]  # the minus sign forgotten
    return best // next_logp.shape[1], best % next_logp.shape[1], scores[best]


def _beam_place(case: tuple, path: tuple) -> str | None:
    if len(path) != 2:
        return None
    what = ("the beam (parent) of", "the token of", "the score of")[path[0]]
    return f"{what} candidate {path[1]}"


_LOG = np.log
q4 = Question(
    "Write beam_step(beam_logp, next_logp, width): one step of beam search. beam_logp "
    "(n_beams,) holds each beam's log-probability so far, next_logp (n_beams, vocab) each "
    "beam's log-probabilities of the next token. Score every (beam, token) candidate, keep "
    "the width best, best first (on a tie, the lower beam, then the lower token), and return "
    "the tuple (parents, tokens, scores): the beam each candidate extends, its token, and its "
    "log-probability.",
    kind="function",
    reference=beam_step,
    cases=[
        # two beams, three tokens: the best two candidates both extend beam 0
        (_LOG([0.7, 0.3]), _LOG([[0.5, 0.4, 0.1], [0.9, 0.05, 0.05]]), 2),
        # three beams, two tokens: beam 1's first token beats beam 0's second
        (_LOG([0.5, 0.3, 0.2]), _LOG([[0.6, 0.4], [0.9, 0.1], [0.5, 0.5]]), 3),
        (np.array([0.0]), _LOG([[0.25, 0.25, 0.5]]), 2),  # one beam: a tie between tokens
    ],
    hints=[
        "A candidate's log-probability is its beam's plus the new token's: "
        "beam_logp[:, None] + next_logp, an (n_beams, vocab) table.",
        "Flatten the table, take np.argsort(-flat, kind='stable')[:width], and turn each flat "
        "index back into (beam, token) with // vocab and % vocab.",
    ],
    mistakes=[
        Mistake(
            _beam_next_only,
            "you ranked the candidates by the new token's log-probability alone; add the "
            "beam's log-probability so far (log P of a sequence is the sum over its tokens)",
        ),
        Mistake(
            _beam_best_per_beam,
            "you took each beam's best token; compare all the candidates of all the beams "
            "together: two of the best can extend the same beam",
        ),
        Mistake(
            _beam_multiplied,
            "you multiplied log-probabilities; probabilities multiply, so their logarithms add",
        ),
        Mistake(
            _beam_divmod_by_beams,
            "the flat index of (beam, token) is beam * vocab + token, so the beam is "
            "index // vocab and the token index % vocab (you divided by the number of beams)",
        ),
        Mistake(
            _beam_worst,
            "you kept the worst candidates; sort from the highest log-probability down",
        ),
    ],
    locate=_beam_place,
)


# --- Exercise 5: kv_cache_shape ------------------------------------------------------------


def kv_cache_shape(batch, n_heads, d_model, n_prompt, n_new):
    d_head = d_model // n_heads  # each head keeps keys of its own width
    # The prompt went through the model once; each new token but the last was fed back.
    n_cached = n_prompt + n_new - 1
    return (batch, n_heads, n_cached, d_head)


def _cache_counts_last(batch, n_heads, d_model, n_prompt, n_new):
    return (batch, n_heads, n_prompt + n_new, d_model // n_heads)


def _cache_without_prompt(batch, n_heads, d_model, n_prompt, n_new):
    return (batch, n_heads, n_new - 1, d_model // n_heads)


def _cache_d_model(batch, n_heads, d_model, n_prompt, n_new):
    return (batch, n_heads, n_prompt + n_new - 1, d_model)


def _cache_seq_first(batch, n_heads, d_model, n_prompt, n_new):
    return (batch, n_prompt + n_new - 1, n_heads, d_model // n_heads)


q5 = Question(
    "Write kv_cache_shape(batch, n_heads, d_model, n_prompt, n_new): the shape of the filled "
    "part of one layer's keys, laid out (batch, n_heads, seq, d_head), after generation with "
    "a KV cache has produced n_new >= 1 tokens. The prompt of n_prompt tokens went through "
    "the model once; then each new token was fed back to produce the next one.",
    kind="function",
    reference=kv_cache_shape,
    cases=[(2, 4, 128, 8, 5), (1, 2, 16, 3, 1), (3, 8, 64, 1, 10)],
    hints=[
        "A token's key enters the cache when the token goes through the model. Which tokens "
        "have gone through it once n_new tokens have been produced?",
        "Each head's keys have width d_head = d_model // n_heads.",
    ],
    mistakes=[
        Mistake(
            _cache_counts_last,
            "the token produced last has not been fed to the model yet, so its key is not in "
            "the cache: n_prompt + n_new - 1 positions",
        ),
        Mistake(
            _cache_without_prompt,
            "the prompt's keys are in the cache too: it went through the model first",
        ),
        Mistake(
            _cache_d_model,
            "each head keeps keys of width d_head = d_model // n_heads, not d_model",
        ),
        Mistake(
            _cache_seq_first,
            "the layout is (batch, n_heads, seq, d_head): the heads come before the positions",
        ),
    ],
    forbid={"KVCache": "the task is to work the shape out, not to build a cache"},
)

bind(globals())
