"""Decoding: turning a language model's next-token logits into text (Chapter 9).

A *model* here is any callable that maps token ids ``(batch, seq)`` to logits
``(batch, seq, vocab)``: the GPT (:func:`model_logits` wraps it), the decoder of an
encoder-decoder with its encoder output bound in a closure, or a table of bigram logits.
Decoding reads only the logits of the last position, so a model may also return just the
last positions ``(batch, n, vocab)``; that is how the KV cache (:func:`model_logits` with
``use_cache=True``) avoids recomputing the past.

1. **Filters**, pure functions on logits ``(batch, vocab)``: :func:`repetition_penalty`,
   :func:`top_k_filter` and :func:`top_p_filter` (a filtered token gets logit ``-inf``, so
   probability 0), and temperature, :func:`apply_temperature` (from
   :mod:`genai_notes.sampling`, on probabilities: ``softmax(logits / T)``).
2. **Strategies**, batched over the rows of a prompt ``(batch, seq)``: :func:`greedy`,
   :func:`sample` and :func:`beam_search`.
3. **Stopping**: a row stops at ``eos_id``, when its generated text contains a stop string
   (``stop=`` with a ``decode`` function), or after ``max_new_tokens``. A finished row is
   padded with ``pad_id`` (by default ``eos_id``, or 0 when there is no ``eos_id``) until
   every row has finished; :attr:`Decoded.lengths` says where each row's padding starts.

**Ties.** Whenever tokens have equal logits, the lower token id counts as the larger: greedy
takes the lowest id among the maxima (``np.argmax``), top-k keeps exactly ``k`` tokens, and
top-p adds tokens in the order of a stable sort. So ``top_k=1`` is greedy.

>>> table = np.log(np.array([[0.1, 0.6, 0.3], [0.2, 0.2, 0.6], [0.7, 0.2, 0.1]]))
>>> bigram = lambda ids: table[ids]          # ids (batch, seq) -> logits (batch, seq, 3)
>>> greedy(bigram, np.array([[0]]), max_new_tokens=4).ids
array([[0, 1, 2, 0, 1]])
"""

import numpy as np  # noqa: F401 (for the doctest above)

from genai_notes.decoding.filters import (
    apply_temperature,
    check_logits,
    log_softmax,
    next_token_probs,
    repetition_penalty,
    top_k_filter,
    top_p_filter,
)
from genai_notes.decoding.search import (
    Decoded,
    beam_search,
    greedy,
    last_logits,
    model_logits,
    sample,
)

__all__ = [
    # filters on logits (batch, vocab)
    "apply_temperature", "repetition_penalty", "top_k_filter", "top_p_filter",
    "next_token_probs", "log_softmax", "check_logits",
    # strategies
    "Decoded", "greedy", "sample", "beam_search", "last_logits", "model_logits",
]  # fmt: skip
