"""Exercises for chapter 1, "What is generative AI?": a bigram model built by hand.

The reference solutions are written for reading, with plain loops; the package's own
:mod:`genai_notes.bigram` computes the same things vectorised, and the tests check they agree.
"""

from __future__ import annotations

import numpy as np

from genai_notes.exercises.core import Question


def _count_bigrams(text, alphabet):
    counts = np.zeros((len(alphabet), len(alphabet)), dtype=int)
    previous = "\n"  # the text starts as if a sentence had just ended
    for char in text:
        counts[alphabet.index(previous), alphabet.index(char)] += 1
        previous = char
    return counts


def _rows_to_probabilities(counts, alpha):
    smoothed = counts + alpha
    return smoothed / smoothed.sum(axis=1, keepdims=True)


def _sentence_log_prob(probs, alphabet, sentence):
    chars = "\n" + sentence + "\n"  # include the start and the end of the sentence
    total = 0.0
    for previous, char in zip(chars[:-1], chars[1:]):
        total += np.log(probs[alphabet.index(previous), alphabet.index(char)])
    return total


def _apply_temperature(probs, temperature):
    weights = probs ** (1.0 / temperature)
    return weights / weights.sum()


def _rows_sum_to_one(probs):
    sums = np.asarray(probs, dtype=float).sum(axis=-1)
    bad = np.flatnonzero(~np.isclose(sums, 1.0))
    if bad.size:
        return f"row {bad[0]} does not sum to 1 (it sums to {sums.flat[bad[0]]:.4g})"
    return None


def _sums_to_one(probs):
    total = float(np.sum(probs))
    return None if np.isclose(total, 1.0) else f"your distribution sums to {total:.4g}, not 1"


def _is_negative(value):
    return None if float(value) <= 0 else "a log-probability can never be positive"


_ALPHABET = "\n .abehrt"
_TEXT = "the bat ate .\nher hat .\n"

q1 = Question(
    "q1",
    "Write count_bigrams(text, alphabet) returning a (len(alphabet), len(alphabet)) integer "
    "array whose entry [i, j] counts how often alphabet[j] follows alphabet[i]. Treat the text "
    "as if it started right after a newline.",
    kind="function",
    reference=_count_bigrams,
    cases=[("ab", "\nab"), ("aab\nba\n", "\nab"), (_TEXT, _ALPHABET)],
    hints=[
        "Start with np.zeros((n, n), dtype=int) and walk through the text keeping the previous "
        "character; begin with previous = '\\n'.",
        "alphabet.index(char) turns a character into its row or column number.",
    ],
)

q2 = Question(
    "q2",
    "Write to_probabilities(counts, alpha) that adds alpha to every count and divides each row "
    "by its sum, so that row i is the distribution of the character after alphabet[i].",
    kind="function",
    reference=_rows_to_probabilities,
    cases=[(np.array([[0, 2], [1, 1]]), 1.0), (np.array([[3, 1, 0], [0, 0, 4], [1, 1, 2]]), 0.5)],
    hints=[
        "Add alpha first, then divide by the row sums.",
        "smoothed.sum(axis=1, keepdims=True) keeps a (n, 1) shape that broadcasts across each row.",
    ],
    diagnose=[_rows_sum_to_one],
)

q3 = Question(
    "q3",
    "Write sentence_log_prob(probs, alphabet, sentence): the natural-log probability of the "
    "sentence under the bigram model, including the step from the start ('\\n') to the first "
    "character and from the last character to the end ('\\n').",
    kind="function",
    reference=_sentence_log_prob,
    cases=[
        (np.array([[0.1, 0.9], [0.5, 0.5]]), "\na", "a"),
        (_rows_to_probabilities(_count_bigrams(_TEXT, _ALPHABET), 1.0), _ALPHABET, "the hat ."),
    ],
    hints=[
        "Wrap the sentence as '\\n' + sentence + '\\n' and add up log P(next | previous) over "
        "every adjacent pair.",
        "Adding logs avoids the underflow you would get by multiplying many small probabilities.",
    ],
    diagnose=[_is_negative],
)

q4 = Question(
    "q4",
    "Write apply_temperature(probs, temperature) for a 1-D distribution: raise every "
    "probability to the power 1/temperature, then renormalise so the result sums to 1.",
    kind="function",
    reference=_apply_temperature,
    cases=[
        (np.array([0.5, 0.25, 0.25]), 1.0),
        (np.array([0.5, 0.25, 0.25]), 0.5),
        (np.array([0.7, 0.2, 0.1]), 2.0),
    ],
    hints=[
        "probs ** (1 / temperature) gives unnormalised weights.",
        "Divide by their sum. At temperature 1 you should get the input back.",
    ],
    diagnose=[_sums_to_one],
)
