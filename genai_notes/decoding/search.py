"""Decoding strategies, batched over the rows of a prompt ``(batch, seq)``, on any model
that maps ids ``(batch, seq)`` to logits ``(batch, seq, vocab)``: :func:`greedy`,
:func:`sample` and :func:`beam_search`, with the stopping rules of
:mod:`genai_notes.decoding`. :func:`model_logits` wraps a GPT, with or without its KV cache.

>>> up = lambda ids: np.eye(3)[(ids + 1) % 3]   # predicts "the next id", always
>>> greedy(up, np.array([[0]]), 4).ids
array([[0, 1, 2, 0, 1]])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genai_notes._checks import (
    check_array,
    check_int,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_rng,
    describe,
)
from genai_notes.autograd import no_grad
from genai_notes.decoding.filters import (
    check_logits,
    log_softmax,
    next_token_probs,
    repetition_penalty,
)
from genai_notes.gpt import GPT, KVCache
from genai_notes.sampling import sample_categorical

__all__ = ["Decoded", "greedy", "sample", "beam_search", "last_logits", "model_logits"]

LogitsFn = Callable[[np.ndarray], Any]  # ids (batch, seq) -> logits (batch, seq or n, vocab)


@dataclass
class Decoded:
    """What a decoding strategy returns.

    ids: ``(batch, seq + steps)``, each prompt followed by its new tokens, then ``pad_id``;
    lengths: ``(batch,)`` the length of each row before its padding (prompt, new tokens and
    the ``<eos>`` that stopped it, if any); scores: ``(batch,)`` for beam search, the
    length-normalised log-probability of each returned sequence, otherwise None.
    """

    ids: np.ndarray
    lengths: np.ndarray
    scores: np.ndarray | None = None

    def rows(self) -> list[list[int]]:
        """Each row without its padding, as a list of ids."""
        return [row[:n].tolist() for row, n in zip(self.ids, self.lengths)]


def _check_prompt(prompt: Any) -> np.ndarray:
    prompt = check_array(prompt, "prompt", ndim=2, dtype_kind="iu")
    if prompt.shape[0] == 0 or prompt.shape[1] == 0:
        raise ValueError(f"prompt: expected at least one row and one token, got {prompt.shape}")
    if prompt.min() < 0:
        raise ValueError(f"prompt: expected non-negative token ids, got {prompt.min()}")
    return prompt.astype(np.int64)


def last_logits(model: LogitsFn, ids: np.ndarray) -> np.ndarray:
    """Call ``model(ids (batch, seq))`` and return the last position's logits ``(batch,
    vocab)`` as float64, checking what came back (a Tensor's ``.data`` is used)."""
    out = model(ids)
    out = getattr(out, "data", out)  # an engine Tensor holds its array in .data
    out = check_array(out, "model output", ndim=3, dtype_kind="f", finite=False)
    if out.shape[0] != ids.shape[0] or not 1 <= out.shape[1] <= ids.shape[1]:
        raise ValueError(
            f"model output: expected logits (batch={ids.shape[0]}, 1 to {ids.shape[1]} "
            f"positions, vocab), got shape {out.shape}"
        )
    return check_logits(out[:, -1], "model output")


def _stopping(
    eos_id: Any, pad_id: Any, stop: Sequence[str] | None, decode: Callable[..., str] | None
) -> tuple[int | None, int, tuple[str, ...]]:
    eos_id = None if eos_id is None else check_int(eos_id, "eos_id", minimum=0)
    default_pad = 0 if eos_id is None else eos_id
    pad_id = default_pad if pad_id is None else check_int(pad_id, "pad_id", minimum=0)
    if isinstance(stop, str):
        stop = (stop,)
    stop = tuple(stop or ())
    if any(not isinstance(s, str) or not s for s in stop):
        raise TypeError(f"stop: expected non-empty strings, got {describe(stop)}")
    if stop and not callable(decode):
        raise TypeError(f"decode: stop strings need a decode(ids) -> str function, got {decode}")
    return eos_id, pad_id, stop


def _decode_loop(
    model: LogitsFn,
    prompt: Any,
    max_new_tokens: int,
    choose: Callable[[np.ndarray, np.ndarray], np.ndarray],
    eos_id: Any,
    pad_id: Any,
    stop: Sequence[str] | None,
    decode: Callable[..., str] | None,
) -> Decoded:
    """The loop every one-token-at-a-time strategy shares: ask the model for the next
    logits, ``choose(logits (batch, vocab), new_ids (batch, n)) -> tokens (batch,)``, append,
    and stop finished rows (see the module docstring)."""
    ids = _check_prompt(prompt)
    max_new_tokens = check_nonnegative_int(max_new_tokens, "max_new_tokens")
    eos_id, pad_id, stop = _stopping(eos_id, pad_id, stop, decode)
    start = ids.shape[1]
    finished = np.zeros(ids.shape[0], dtype=bool)
    lengths = np.full(ids.shape[0], start)
    for _ in range(max_new_tokens):
        token = choose(last_logits(model, ids), ids[:, start:])  # (batch,)
        token = np.where(finished, pad_id, token)  # finished rows get padding
        ids = np.concatenate([ids, token[:, None]], axis=1)
        lengths = np.where(finished, lengths, ids.shape[1])
        if eos_id is not None:
            finished |= token == eos_id
        if stop:  # decode each live row's new tokens (a loop over rows, not tokens)
            for row in np.flatnonzero(~finished):
                text = decode(ids[row, start:].tolist())
                finished[row] = any(s in text for s in stop)
        if finished.all():
            break
    return Decoded(ids, lengths)


def greedy(
    model: LogitsFn,
    prompt: Any,
    max_new_tokens: int,
    *,
    penalty: float = 1.0,
    eos_id: int | None = None,
    pad_id: int | None = None,
    stop: Sequence[str] | None = None,
    decode: Callable[..., str] | None = None,
) -> Decoded:
    """Greedy decoding: append the most likely next token, again and again.

    prompt: ids ``(batch, seq)``. ``penalty`` > 1 applies :func:`repetition_penalty` to the
    tokens each row has generated so far. Ties go to the lowest id. See :class:`Decoded`.

    >>> up = lambda ids: np.eye(4)[(ids + 1) % 4]  # always predicts "the next id"
    >>> greedy(up, np.array([[0], [2]]), 3, eos_id=3).ids   # row 2 stops at once
    array([[0, 1, 2, 3],
           [2, 3, 3, 3]])
    """
    penalty = check_real(penalty, "penalty", low=1.0)

    def choose(logits: np.ndarray, new_ids: np.ndarray) -> np.ndarray:
        if penalty != 1.0:
            logits = repetition_penalty(logits, new_ids, penalty)
        return logits.argmax(axis=1)

    return _decode_loop(model, prompt, max_new_tokens, choose, eos_id, pad_id, stop, decode)


def sample(
    model: LogitsFn,
    prompt: Any,
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    penalty: float = 1.0,
    rng: Any = 0,
    eos_id: int | None = None,
    pad_id: int | None = None,
    stop: Sequence[str] | None = None,
    decode: Callable[..., str] | None = None,
) -> Decoded:
    """Sampling: draw each next token from :func:`next_token_probs` (penalty, temperature,
    top-k, top-p, in that order). prompt: ids ``(batch, seq)``; rng: a seed or a Generator.

    >>> coin = lambda ids: np.zeros(ids.shape + (2,))   # two tokens, always 50/50
    >>> sample(coin, np.zeros((2, 1), dtype=int), 5, rng=0).ids.shape
    (2, 6)
    """
    temperature = check_real(temperature, "temperature", low=0.0, low_inclusive=False)
    top_k = None if top_k is None else check_positive_int(top_k, "top_k")
    top_p = None if top_p is None else check_real(top_p, "top_p", 0.0, 1.0, False)
    penalty = check_real(penalty, "penalty", low=1.0)
    rng = check_rng(rng, "rng")

    def choose(logits: np.ndarray, new_ids: np.ndarray) -> np.ndarray:
        probs = next_token_probs(
            logits, temperature=temperature, top_k=top_k, top_p=top_p,
            penalty=penalty, generated=new_ids,
        )  # fmt: skip
        return sample_categorical(probs, rng)

    return _decode_loop(model, prompt, max_new_tokens, choose, eos_id, pad_id, stop, decode)


def model_logits(model: Any, use_cache: bool = False) -> LogitsFn:
    """Wrap a :class:`~genai_notes.gpt.GPT` as a logits function for the strategies.

    The function runs the model in eval mode without recording a graph, feeds at most the
    last ``block_size`` tokens (a sliding window, as ``GPT.generate`` does) and returns the
    last position's logits ``(batch, 1, vocab)`` in float64. With ``use_cache=True`` it keeps
    a :class:`~genai_notes.gpt.KVCache`: when a call's ids are the previous call's ids plus
    new tokens at the end, only the new tokens go through the model. Any other call (a new
    prompt, rows reordered as in beam search, a window that has started to slide) starts the
    cache again from the whole context, so the result is always the same as without it.

    >>> from genai_notes.gpt import GPT, GPTConfig
    >>> gpt = GPT(GPTConfig(vocab_size=5, block_size=8, n_layers=1, n_heads=1, d_model=4))
    >>> model_logits(gpt)(np.zeros((2, 3), dtype=int)).shape
    (2, 1, 5)
    """
    if not isinstance(model, GPT):
        raise TypeError(f"model: expected a GPT, got {type(model).__name__}")
    if not isinstance(use_cache, bool):
        raise TypeError(f"use_cache: expected True or False, got {describe(use_cache)}")
    block = model.config.block_size
    state: dict[str, Any] = {"ids": None, "cache": None}

    def logits_fn(ids: np.ndarray) -> np.ndarray:
        ids = check_array(ids, "ids", ndim=2, dtype_kind="iu")
        model.eval()
        with no_grad():
            if not use_cache or ids.shape[1] > block:
                return model(ids[:, -block:]).data[:, -1:].astype(np.float64)
            old = state["ids"]
            grows = (
                old is not None
                and old.shape[0] == ids.shape[0]
                and old.shape[1] < ids.shape[1]
                and np.array_equal(ids[:, : old.shape[1]], old)
            )
            if not grows:
                state["cache"] = KVCache.for_model(model, batch=ids.shape[0])
                old = ids[:, :0]
            logits = model.forward_cached(ids[:, old.shape[1] :], state["cache"])
            state["ids"] = ids.copy()
            return logits[:, -1:].astype(np.float64)

    return logits_fn


def beam_search(
    model: LogitsFn,
    prompt: Any,
    max_new_tokens: int,
    *,
    beam_width: int = 4,
    alpha: float = 0.0,
    eos_id: int | None = None,
    pad_id: int | None = None,
) -> Decoded:
    """Beam search: keep the ``beam_width`` most likely continuations of each prompt row.

    prompt: ids ``(batch, seq)``. Each step extends every beam by every token, scores each
    candidate by its total log-probability ``log P(y) = Σ log p(y_t | prompt, y_<t)``, and
    keeps the ``beam_width`` best candidates of each row (ties: the lower beam, then the
    lower token id). A beam that has produced ``eos_id`` keeps its place and its score: it
    is extended only by ``pad_id``, at log-probability 0.

    At the end the beam with the best **length-normalised** score is returned,

        score(y) = log P(y) / |y| ** alpha,

    where ``|y|`` counts the new tokens, ``<eos>`` included. ``alpha=0`` compares raw
    log-probabilities (which favour short sequences, since every token adds a negative
    term); ``alpha=1`` compares the mean log-probability per token. ``beam_width=1`` is
    greedy decoding; a beam as wide as the number of possible continuations is an
    exhaustive search. All ``max_new_tokens`` steps run unless every beam has finished.

    The model is called with ``batch * beam_width`` rows, the beams of prompt row ``b``
    being rows ``b * beam_width`` to ``(b + 1) * beam_width - 1``; a model that carries
    per-row state (an encoder-decoder's encoder output) repeats it to match,
    ``np.repeat(memory, beam_width, axis=0)``.

    >>> table = np.log(np.array([[0.1, 0.5, 0.4], [0.05, 0.45, 0.5], [0.01, 0.01, 0.98]]))
    >>> model = lambda ids: table[ids]
    >>> greedy(model, np.array([[0]]), 2).ids           # 0.5 then 0.5: P = 0.25
    array([[0, 1, 2]])
    >>> out = beam_search(model, np.array([[0]]), 2, beam_width=2)
    >>> out.ids, np.exp(out.scores).round(2)           # 0.4 then 0.98: P = 0.392
    (array([[0, 2, 2]]), array([0.39]))
    """
    ids = _check_prompt(prompt)
    max_new_tokens = check_nonnegative_int(max_new_tokens, "max_new_tokens")
    width = check_positive_int(beam_width, "beam_width")
    alpha = check_real(alpha, "alpha", low=0.0)
    eos_id, pad_id, _ = _stopping(eos_id, pad_id, None, None)
    batch, start = ids.shape
    ids = np.repeat(ids, width, axis=0)  # (batch * width, seq): row b's beams are adjacent
    score = np.full((batch, width), -np.inf)  # log P of each beam, (batch, width)
    score[:, 0] = 0.0  # one live beam to begin with, so no candidate appears twice
    n_new = np.zeros((batch, width), dtype=np.int64)  # new tokens in each beam
    done = np.zeros((batch, width), dtype=bool)  # has the beam produced <eos>?
    for _ in range(max_new_tokens):
        logp = log_softmax(last_logits(model, ids))  # (batch * width, vocab)
        vocab = logp.shape[1]
        if pad_id >= vocab:
            raise ValueError(f"pad_id: expected an id in [0, {vocab}), got {pad_id}")
        logp = logp.reshape(batch, width, vocab)
        only_pad = np.where(np.arange(vocab) == pad_id, 0.0, -np.inf)  # (vocab,)
        logp = np.where(done[..., None], only_pad, logp)  # a finished beam just pads
        candidates = (score[..., None] + logp).reshape(batch, width * vocab)
        best = np.argsort(-candidates, axis=1, kind="stable")[:, :width]  # (batch, width)
        parent, token = best // vocab, best % vocab  # which beam, which next token
        score = np.take_along_axis(candidates, best, axis=1)
        rows = (np.arange(batch)[:, None] * width + parent).ravel()
        ids = np.concatenate([ids[rows], token.reshape(-1, 1)], axis=1)
        was_done = np.take_along_axis(done, parent, axis=1)
        n_new = np.take_along_axis(n_new, parent, axis=1) + ~was_done
        done = was_done | (token == eos_id) if eos_id is not None else was_done
        if done.all():
            break
    with np.errstate(invalid="ignore"):  # a dead beam: -inf / 0 ** alpha
        normalised = score / np.maximum(n_new, 1) ** alpha  # (batch, width)
    pick = normalised.argmax(axis=1)  # (batch,)
    ids = ids.reshape(batch, width, -1)[np.arange(batch), pick]
    lengths = start + n_new[np.arange(batch), pick]
    return Decoded(ids, lengths, normalised[np.arange(batch), pick])
