"""A character bigram model: the smallest language model that can both recognise and generate.

It estimates P(next character | current character) by counting. A newline marks the start and
the end of every sentence, so the model also learns which letters begin and end sentences.

>>> model = CharBigram.fit("ab\\nab\\n", alpha=0.0)
>>> model.alphabet
'\\nab'
>>> model.probs.round(2)
array([[0., 1., 0.],
       [0., 0., 1.],
       [1., 0., 0.]])
>>> round(model.log_prob("ab"), 6)
0.0
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from genai_notes._checks import (
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_rng,
    check_str,
    describe,
)
from genai_notes.sampling import apply_temperature, sample_categorical

__all__ = ["BOUNDARY", "bigram_counts", "CharBigram", "classify"]

BOUNDARY = "\n"  # marks both the start and the end of a sentence


def _index(text: str, alphabet: str) -> np.ndarray:
    lookup = {ch: i for i, ch in enumerate(alphabet)}
    try:
        return np.fromiter((lookup[ch] for ch in text), dtype=np.int64, count=len(text))
    except KeyError as exc:
        raise ValueError(
            f"text: character {exc.args[0]!r} is not in the alphabet {alphabet!r}"
        ) from None


def bigram_counts(text: str, alphabet: str) -> np.ndarray:
    """Count adjacent character pairs: ``counts[i, j]`` = how often alphabet[j] follows alphabet[i].

    text: the training text, sentences separated by newlines. Returns (n_chars, n_chars) ints.
    The text is treated as if it began with a newline, so the first character counts as a
    sentence start.

    >>> bigram_counts("aab", alphabet="\\nab")
    array([[0, 1, 0],
           [0, 1, 1],
           [0, 0, 0]])
    """
    check_str(text, "text")
    check_str(alphabet, "alphabet")
    if len(set(alphabet)) != len(alphabet) or BOUNDARY not in alphabet:
        raise ValueError(
            f"alphabet: expected distinct characters including '\\n', got {alphabet!r}"
        )
    ids = _index(BOUNDARY + text, alphabet)
    n = len(alphabet)
    # Encode each pair as one integer, then count all pairs at once.
    flat = np.bincount(ids[:-1] * n + ids[1:], minlength=n * n)
    return flat.reshape(n, n)


class CharBigram:
    """P(next char | char) as a (n_chars, n_chars) matrix whose rows sum to 1.

    Use :meth:`fit` to build one from text.
    """

    def __init__(self, alphabet: str, probs: np.ndarray):
        self.alphabet = alphabet
        self.probs = probs
        self._log_probs = np.log(np.where(probs > 0, probs, 1.0))
        self._log_probs[probs == 0] = -np.inf

    @classmethod
    def fit(cls, text: str, alpha: float = 1.0, alphabet: str | None = None) -> CharBigram:
        """Count bigrams in ``text`` and normalise each row, adding ``alpha`` to every count.

        ``alpha`` (additive or Laplace smoothing) keeps unseen pairs possible; ``alpha=0``
        gives the maximum-likelihood estimate. ``alphabet`` defaults to the characters of
        ``text`` plus the newline; pass a shared alphabet to compare models fairly.
        """
        check_str(text, "text")
        alpha = check_real(alpha, "alpha", low=0.0)
        if not text:
            raise ValueError("text: expected a non-empty training text, got ''")
        if alphabet is None:
            alphabet = "".join(sorted(set(text) | {BOUNDARY}))
        counts = bigram_counts(text, alphabet) + alpha
        totals = counts.sum(axis=1, keepdims=True)
        # A character never seen (possible with alpha=0) gets a uniform row, not 0/0.
        probs = np.where(totals > 0, counts / np.where(totals > 0, totals, 1), 1 / len(alphabet))
        return cls(alphabet, probs)

    def log_prob(self, sentence: str, boundaries: bool = True) -> float:
        """Natural-log probability of one sentence, including its start and its end.

        log P = log P(s0 | start) + sum_i log P(s_{i+1} | s_i) + log P(end | s_last).
        With ``boundaries=False`` only the pairs inside the text count, which is the right
        score for a snippet cut from the middle of a sentence.

        >>> model = CharBigram.fit("ab\\n", alpha=0.0)
        >>> model.log_prob("ab"), model.log_prob("b", boundaries=False)
        (0.0, 0.0)
        """
        check_str(sentence, "sentence")
        if BOUNDARY in sentence:
            raise ValueError("sentence: expected a single sentence without newlines")
        if boundaries:
            sentence = BOUNDARY + sentence + BOUNDARY
        ids = _index(sentence, self.alphabet)
        return float(self._log_probs[ids[:-1], ids[1:]].sum())

    def cross_entropy(self, text: str) -> float:
        """Average negative log-probability per predicted character (nats), over a text of
        newline-separated sentences. Lower means the model finds the text less surprising.
        """
        check_str(text, "text")
        if not text:
            raise ValueError("text: expected a non-empty text, got ''")
        ids = _index(BOUNDARY + text, self.alphabet)
        return float(-self._log_probs[ids[:-1], ids[1:]].mean())

    def next_char_probs(self, char: str, temperature: float = 1.0) -> np.ndarray:
        """The distribution over the next character after ``char``: shape (n_chars,)."""
        check_str(char, "char")
        if len(char) != 1 or char not in self.alphabet:
            raise ValueError(f"char: expected one character of the alphabet, got {char!r}")
        return apply_temperature(self.probs[self.alphabet.index(char)], temperature)

    def sample(
        self,
        n_samples: int,
        seed: int | np.random.Generator = 0,
        temperature: float = 1.0,
        max_len: int = 80,
    ) -> list[str]:
        """Generate ``n_samples`` sentences, one character at a time, until a newline.

        All samples advance together: each step draws the next character of every unfinished
        sentence at once. A sentence still going at ``max_len`` characters is cut there.
        """
        n_samples = check_nonnegative_int(n_samples, "n_samples")
        max_len = check_positive_int(max_len, "max_len")
        rng = check_rng(seed)
        table = apply_temperature(self.probs, temperature)
        boundary = self.alphabet.index(BOUNDARY)
        current = np.full(n_samples, boundary)
        out = np.full((n_samples, max_len), boundary)
        finished = np.zeros(n_samples, dtype=bool)
        for t in range(max_len):
            current = sample_categorical(table[current], rng)
            current[finished] = boundary
            out[:, t] = current
            finished |= current == boundary
            if finished.all():
                break
        chars = np.array(list(self.alphabet))
        return ["".join(chars[row]).split(BOUNDARY)[0] for row in out]


def classify(
    sentence: str, models: Mapping[str, CharBigram], boundaries: bool = True
) -> tuple[str, dict[str, float]]:
    """Which model finds ``sentence`` most likely? Returns (best name, {name: log-prob}).

    With equal prior odds this is the Bayes decision: choose the larger likelihood. A tie
    goes to the first model. ``boundaries`` is passed to :meth:`CharBigram.log_prob`.
    """
    if not isinstance(models, Mapping):
        raise TypeError(
            f"models: expected a dict from names to CharBigram models, got {describe(models)}"
        )
    if not models:
        raise ValueError("models: expected at least one model, got none")
    for name, model in models.items():
        if not isinstance(model, CharBigram):
            raise TypeError(f"models[{name!r}]: expected a CharBigram, got {describe(model)}")
    scores = {name: model.log_prob(sentence, boundaries) for name, model in models.items()}
    return max(scores, key=scores.__getitem__), scores
