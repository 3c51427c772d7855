"""Exercises for chapter 1, "What is generative AI?": a bigram model built by hand.

Each question keeps together its reference solution (named as the notebook asks the learner
to name it, since ``solution()`` prints it), its test cases, its typical mistakes and its hints.
The references are plain loops written for reading; :mod:`genai_notes.bigram` computes the
same things vectorised, and the tests check that they agree.
"""

from __future__ import annotations

import numpy as np

from genai_notes.exercises.core import Mistake, Question, bind

_ALPHABET = "\n .abehrt"
_TEXT = "the bat ate .\nher hat .\n"


# --- Exercise 1: count_bigrams ------------------------------------------------------------


def count_bigrams(text, alphabet):
    counts = np.zeros((len(alphabet), len(alphabet)), dtype=int)
    previous = "\n"  # the text starts as if a sentence had just ended
    for char in text:
        counts[alphabet.index(previous), alphabet.index(char)] += 1
        previous = char
    return counts


def _count_without_start(text, alphabet):
    counts = np.zeros((len(alphabet), len(alphabet)), dtype=int)
    for previous, char in zip(text, text[1:]):
        counts[alphabet.index(previous), alphabet.index(char)] += 1
    return counts


def _count_transposed(text, alphabet):
    return count_bigrams(text, alphabet).T


def _count_as_floats(text, alphabet):
    return count_bigrams(text, alphabet).astype(float)


def _the_pair(case, path):
    _, alphabet = case
    row, column = path
    return f"the pair {(alphabet[row], alphabet[column])!r}"


q1 = Question(
    "Write count_bigrams(text, alphabet) returning a (len(alphabet), len(alphabet)) integer "
    "array whose entry [i, j] counts how often alphabet[j] follows alphabet[i]. Treat the text "
    "as if it started right after a newline.",
    kind="function",
    reference=count_bigrams,
    cases=[("ab", "\nab"), ("aab\nba\n", "\nab"), (_TEXT, _ALPHABET)],
    hints=[
        "Start with np.zeros((n, n), dtype=int) and walk through the text keeping the previous "
        "character; begin with previous = '\\n'.",
        "alphabet.index(char) turns a character into its row or column number.",
    ],
    mistakes=[
        Mistake(
            _count_without_start,
            "the first character is missing its pair: treat the text as if it started right "
            "after a newline, so begin with previous = '\\n'",
        ),
        Mistake(
            _count_transposed,
            "rows and columns are swapped: entry [i, j] counts alphabet[j] after alphabet[i], "
            "so the row is the previous character and the column the next one",
        ),
        Mistake(
            _count_as_floats,
            "counts are whole numbers: make the array with dtype=int, np.zeros((n, n), dtype=int)",
        ),
    ],
    locate=_the_pair,
)


# --- Exercise 2: to_probabilities ---------------------------------------------------------


def to_probabilities(counts, alpha):
    smoothed = counts + alpha
    return smoothed / smoothed.sum(axis=1, keepdims=True)


def _divide_without_keepdims(counts, alpha):
    smoothed = counts + alpha
    return smoothed / smoothed.sum(axis=1)  # shape (n,): divides column j by row j's sum


def _normalise_columns(counts, alpha):
    smoothed = counts + alpha
    return smoothed / smoothed.sum(axis=0, keepdims=True)


def _normalise_by_the_total(counts, alpha):
    smoothed = counts + alpha
    return smoothed / smoothed.sum()


def _forget_alpha(counts, alpha):
    return counts / counts.sum(axis=1, keepdims=True)


def _rows_sum_to_one(probs, case):
    sums = np.asarray(probs, dtype=float).sum(axis=-1)
    bad = np.flatnonzero(~np.isclose(sums, 1.0))
    if bad.size:
        return f"row {bad[0]} does not sum to 1 (it sums to {sums.flat[bad[0]]:.4g})"
    return None


q2 = Question(
    "Write to_probabilities(counts, alpha) that adds alpha to every count and divides each row "
    "by its sum, so that row i is the distribution of the character after alphabet[i].",
    kind="function",
    reference=to_probabilities,
    cases=[
        (np.array([[0, 2], [1, 1]]), 1.0),
        (np.array([[3, 1, 0], [0, 0, 4], [1, 1, 2]]), 0.5),
        (np.array([[0, 3], [1, 0]]), 1.0),  # rows sum to 5 and 3: unequal row sums
    ],
    hints=[
        "Add alpha first, then divide by the row sums.",
        "smoothed.sum(axis=1, keepdims=True) keeps a (n, 1) shape that broadcasts across each row.",
    ],
    mistakes=[
        Mistake(
            _divide_without_keepdims,
            "without keepdims=True, smoothed.sum(axis=1) has shape (n,), and dividing by it "
            "divides each column j by the sum of row j; use smoothed.sum(axis=1, keepdims=True)",
        ),
        Mistake(
            _normalise_columns,
            "you normalised the columns (axis=0); each row must sum to 1, so divide by the row "
            "sums (axis=1)",
        ),
        Mistake(
            _normalise_by_the_total,
            "you divided by the total of the whole table; divide each row by its own sum",
        ),
        Mistake(_forget_alpha, "add alpha to every count before you divide"),
    ],
    diagnose=[_rows_sum_to_one],
    locate=lambda case, path: f"row {path[0]}, column {path[1]}",
)


# --- Exercise 3: sentence_log_prob --------------------------------------------------------


def sentence_log_prob(probs, alphabet, sentence):
    chars = "\n" + sentence + "\n"  # include the start and the end of the sentence
    total = 0.0
    for previous, char in zip(chars[:-1], chars[1:]):
        total += np.log(probs[alphabet.index(previous), alphabet.index(char)])
    return total


def _log_prob_of(wrap, log=np.log):
    """A sentence_log_prob that wraps the sentence differently, or takes another log."""

    def log_prob(probs, alphabet, sentence):
        chars = wrap(sentence)
        pairs = zip(chars[:-1], chars[1:])
        return float(sum(log(probs[alphabet.index(a), alphabet.index(b)]) for a, b in pairs))

    log_prob.__name__ = f"log_prob_{wrap.__name__}"
    return log_prob


def _with_both(sentence):
    return "\n" + sentence + "\n"


def _without_start(sentence):
    return sentence + "\n"


def _without_end(sentence):
    return "\n" + sentence


def _without_either(sentence):
    return sentence


def _sentence_prob(probs, alphabet, sentence):
    chars = "\n" + sentence + "\n"
    pairs = zip(chars[:-1], chars[1:])
    return float(np.prod([probs[alphabet.index(a), alphabet.index(b)] for a, b in pairs]))


def _is_negative(value, case):
    return None if float(value) <= 0 else "a log-probability can never be positive"


q3 = Question(
    "Write sentence_log_prob(probs, alphabet, sentence): the natural-log probability of the "
    "sentence under the bigram model, including the step from the start ('\\n') to the first "
    "character and from the last character to the end ('\\n').",
    kind="function",
    reference=sentence_log_prob,
    cases=[
        (np.array([[0.1, 0.9], [0.5, 0.5]]), "\na", "a"),  # start -> a is 0.9, a -> end 0.5
        (to_probabilities(count_bigrams(_TEXT, _ALPHABET), 1.0), _ALPHABET, "the hat ."),
    ],
    hints=[
        "Wrap the sentence as '\\n' + sentence + '\\n' and add up log P(next | previous) over "
        "every adjacent pair.",
        "Adding logs avoids the underflow you would get by multiplying many small probabilities.",
    ],
    mistakes=[
        Mistake(
            _log_prob_of(_without_start),
            "the step from the start is missing: put '\\n' before the sentence as well, so "
            "P(first character | start) counts",
        ),
        Mistake(
            _log_prob_of(_without_end),
            "the step to the end is missing: put '\\n' after the sentence as well, so "
            "P(end | last character) counts",
        ),
        Mistake(
            _log_prob_of(_without_either),
            "the steps from the start and to the end are missing: wrap the sentence as "
            "'\\n' + sentence + '\\n'",
        ),
        Mistake(
            _log_prob_of(_with_both, log=np.log10),
            "use the natural log, np.log, not np.log10",
        ),
        Mistake(
            _sentence_prob,
            "that is the probability itself; add up the logs of the probabilities instead",
        ),
    ],
    diagnose=[_is_negative],
)


# --- Exercise 4: apply_temperature --------------------------------------------------------


def apply_temperature(probs, temperature):
    weights = probs ** (1.0 / temperature)
    return weights / weights.sum()


def _power_of_temperature(probs, temperature):
    weights = probs**temperature
    return weights / weights.sum()


def _unchanged(probs, temperature):
    return probs / temperature / (probs / temperature).sum()


def _sums_to_one(probs, case):
    total = float(np.sum(probs))
    return None if np.isclose(total, 1.0) else f"your distribution sums to {total:.4g}, not 1"


q4 = Question(
    "Write apply_temperature(probs, temperature) for a 1-D distribution: raise every "
    "probability to the power 1/temperature, then renormalise so the result sums to 1.",
    kind="function",
    reference=apply_temperature,
    cases=[
        (np.array([0.5, 0.25, 0.25]), 1.0),
        (np.array([0.5, 0.25, 0.25]), 0.5),
        (np.array([0.7, 0.2, 0.1]), 2.0),
    ],
    hints=[
        "probs ** (1 / temperature) gives unnormalised weights.",
        "Divide by their sum. At temperature 1 you should get the input back.",
    ],
    mistakes=[
        Mistake(
            _power_of_temperature,
            "raise the probabilities to the power 1/temperature, not temperature: a low "
            "temperature must sharpen the distribution",
        ),
        Mistake(
            _unchanged,
            "dividing (or multiplying) probabilities by the temperature changes nothing once "
            "they are renormalised; raise them to the power 1/temperature",
        ),
    ],
    diagnose=[_sums_to_one],
    locate=lambda case, path: f"option {path[0]}",
)

bind(globals())
