"""Exercises for chapter 3, "Embeddings": lookups, similarity, neighbours, analogies, pooling
and the skip-gram loss, built by hand.

Each question keeps together its reference solution (named as the learner's function is
named, since ``solution()`` prints it), its test cases, its typical mistakes and its hints. The
references are written for reading; :mod:`genai_notes.embeddings` computes the same things
vectorised, and the tests check that they agree.
"""

from __future__ import annotations

import numpy as np

from genai_notes.exercises.core import Mistake, Question, bind

_rng = np.random.default_rng(3)
_MATRIX = np.round(_rng.normal(size=(6, 4)), 2)  # a small (vocab=6, d_model=4) table


# --- Exercise 1: lookup_by_one_hot --------------------------------------------------------


def lookup_by_one_hot(ids, matrix):
    vocab_size = matrix.shape[0]
    one_hot = np.zeros((len(ids), vocab_size))
    for row, token in enumerate(ids):
        one_hot[row, token] = 1.0
    return one_hot @ matrix


q1 = Question(
    "Write lookup_by_one_hot(ids, matrix): build a (len(ids), vocab) matrix of one-hot rows "
    "(vocab = matrix.shape[0]) and multiply it by the (vocab, d_model) matrix.",
    kind="function",
    reference=lookup_by_one_hot,
    cases=[
        (np.array([1]), np.array([[1.0, 2.0], [3.0, 4.0]])),
        (np.array([2, 0, 2, 5]), _MATRIX),
    ],
    hints=[
        "Start from np.zeros((len(ids), vocab)) and set one entry per row to 1.",
        "The result should equal matrix[ids]: check that too.",
    ],
    locate=lambda case, path: f"row {path[0]} (token {case[0][path[0]]}), channel {path[1]}",
)


# --- Exercise 2: cosine -------------------------------------------------------------------


def cosine(a, b):
    return float(a @ b / (np.sqrt(a @ a) * np.sqrt(b @ b)))


def _dot_only(a, b):
    return float(a @ b)


def _divide_by_one_length(a, b):
    return float(a @ b / np.sqrt(a @ a))


def _outside_unit_interval(value, case):
    if abs(float(value)) > 1.0 + 1e-9:
        return (
            f"a cosine similarity lies between -1 and 1, but you returned {float(value):.4g}; "
            "did you divide by both lengths?"
        )
    return None


q2 = Question(
    "Write cosine(a, b) for two 1-D vectors: their dot product divided by the product of their "
    "lengths.",
    kind="function",
    reference=cosine,
    cases=[
        (np.array([3.0, 4.0]), np.array([-6.0, -8.0])),
        (np.array([1.0, 0.0]), np.array([1.0, 1.0])),  # a dot product of 1 that is no cosine
        (_MATRIX[0], _MATRIX[3]),
    ],
    hints=[
        "The length of a is np.sqrt(a @ a) (or np.linalg.norm(a)).",
        "Parallel vectors give 1, opposite ones -1, perpendicular ones 0.",
    ],
    mistakes=[
        Mistake(_dot_only, "that is the dot product; divide it by the lengths of both vectors"),
        Mistake(
            _divide_by_one_length,
            "divide by the lengths of both vectors, np.linalg.norm(a) * np.linalg.norm(b)",
        ),
    ],
    diagnose=[_outside_unit_interval],
)


# --- Exercise 3: nearest_word -------------------------------------------------------------


def nearest_word(word, words, matrix):
    query = matrix[words.index(word)]
    best_word, best_score = None, -np.inf
    for candidate, vector in zip(words, matrix):
        if candidate == word:
            continue  # a word is always most similar to itself; skip it
        score = query @ vector / (np.linalg.norm(query) * np.linalg.norm(vector))
        if score > best_score:
            best_word, best_score = candidate, score
    return best_word


def _nearest_by_dot(word, words, matrix):
    query = matrix[words.index(word)]
    scores = [-np.inf if w == word else query @ v for w, v in zip(words, matrix)]
    return words[int(np.argmax(scores))]


def _returned_the_query(answer, case):
    if answer == case[0]:
        return f"you returned the query word {answer!r} itself; leave it out of the candidates"
    return None


_WORDS = ["king", "queen", "man", "woman", "bread", "cake"]
# Rows chosen so that each query's nearest neighbour is clear-cut.
_TABLE = np.array(
    [
        [0.9, 0.1, 0.8, 0.0],
        [0.8, 0.9, 0.7, 0.1],
        [0.1, 0.0, 0.9, 0.1],
        [0.0, 0.8, 0.9, 0.0],
        [0.0, 0.1, 0.0, 0.9],
        [0.1, 0.2, 0.1, 0.8],
    ]
)
# Rows of very different lengths: the long "car" has the largest dot product with "cat", but
# "dog" points the same way as "cat" and has the largest cosine.
_ANIMALS = ["cat", "dog", "car", "bus"]
_UNEVEN = np.array([[1.0, 0.2, 0.0], [0.9, 0.3, 0.1], [2.0, 2.0, 2.5], [0.1, 1.0, 1.0]])

q3 = Question(
    "Write nearest_word(word, words, matrix): the word, other than `word` itself, whose row of "
    "`matrix` has the highest cosine similarity with the row of `word`.",
    kind="function",
    reference=nearest_word,
    cases=[
        ("king", _WORDS, _TABLE),
        ("bread", _WORDS, _TABLE),
        ("woman", _WORDS, _TABLE),
        ("cat", _ANIMALS, _UNEVEN),
    ],
    hints=[
        "words.index(word) gives the row of the query.",
        "Loop over (candidate, vector) pairs, skip the query, and keep the best score.",
    ],
    mistakes=[
        Mistake(
            _nearest_by_dot,
            "rank the candidates by cosine similarity, the dot product divided by both "
            "lengths: a plain dot product favours long vectors",
        ),
    ],
    diagnose=[_returned_the_query],
)


# --- Exercise 4: analogy_vector -----------------------------------------------------------


def analogy_vector(a, b, c):
    def unit(v):
        return v / np.linalg.norm(v)

    return unit(a) - unit(b) + unit(c)


def _analogy_without_units(a, b, c):
    return a - b + c


def _analogy_reversed(a, b, c):
    return analogy_vector(b, a, c)


q4 = Question(
    "Write analogy_vector(a, b, c) returning unit(a) - unit(b) + unit(c), where unit(v) is v "
    "divided by its length: the target of the analogy 'a is to b as ? is to c'.",
    kind="function",
    reference=analogy_vector,
    cases=[
        (np.array([1.0, 0.0]), np.array([0.0, 2.0]), np.array([3.0, 4.0])),
        (_MATRIX[0], _MATRIX[2], _MATRIX[3]),
    ],
    hints=[
        "Scale each vector to length 1 first, so no word counts more because it is longer.",
        "For king - man + woman, a = king, b = man, c = woman.",
    ],
    mistakes=[
        Mistake(
            _analogy_without_units,
            "scale each vector to length 1 before you combine them: unit(v) = v / "
            "np.linalg.norm(v)",
        ),
        Mistake(_analogy_reversed, "the target is unit(a) - unit(b) + unit(c): subtract b, add a"),
    ],
    locate=lambda case, path: f"dimension {path[0]}",
)


# --- Exercise 5: mean_pool ----------------------------------------------------------------


def mean_pool(x, mask):
    batch, _, d_model = x.shape
    pooled = np.zeros((batch, d_model))
    for b in range(batch):
        real = x[b][mask[b]]  # the rows that are real words, not padding
        pooled[b] = real.mean(axis=0)
    return pooled


def _divide_by_seq(x, mask):
    return (x * mask[..., None]).sum(axis=1) / x.shape[1]


def _average_the_padding_too(x, mask):
    return x.mean(axis=1)


q5 = Question(
    "Write mean_pool(x, mask): x is (batch, seq, d_model), mask is a (batch, seq) boolean array "
    "that is True on real words and False on padding. Return the (batch, d_model) mean of the "
    "real rows of each sentence.",
    kind="function",
    reference=mean_pool,
    cases=[
        (np.arange(12.0).reshape(1, 3, 4), np.array([[True, True, False]])),
        (
            _rng.normal(size=(3, 4, 2)).round(2),
            np.array([[1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 0, 0]], dtype=bool),
        ),
    ],
    hints=[
        "x[b][mask[b]] keeps only the real rows of sentence b.",
        "Dividing by seq instead of by the number of real words is the classic mistake.",
    ],
    mistakes=[
        Mistake(
            _divide_by_seq,
            "you divided by seq, the padded length; divide each sentence by its number of real "
            "words, mask.sum(axis=1), so padding does not count",
        ),
        Mistake(
            _average_the_padding_too,
            "the padding rows were averaged in: keep only the rows where the mask is True",
        ),
    ],
    locate=lambda case, path: f"sentence {path[0]}, channel {path[1]}",
)


# --- Exercise 6: sgns_pair_loss -----------------------------------------------------------


def sgns_pair_loss(center, context, negatives):
    def log_sigmoid(s):
        return -np.log1p(np.exp(-s))

    loss = -log_sigmoid(center @ context)
    for noise in negatives:
        loss -= log_sigmoid(-(center @ noise))
    return float(loss)


def _negatives_without_minus(center, context, negatives):
    loss = np.log1p(np.exp(-(center @ context)))
    for noise in negatives:
        loss += np.log1p(np.exp(-(center @ noise)))
    return float(loss)


def _not_negative(value, case):
    if float(value) < 0:
        return "each term is -log σ(·) > 0, so the loss can never be negative"
    return None


q6 = Question(
    "Write sgns_pair_loss(center, context, negatives) for one pair: center and context are "
    "(d,) vectors, negatives is (K, d). Return -log σ(center·context) - Σ_k log σ(-center·n_k).",
    kind="function",
    reference=sgns_pair_loss,
    cases=[
        (np.array([1.0, 0.0]), np.array([2.0, 0.0]), np.array([[0.0, 3.0]])),
        (_MATRIX[0], _MATRIX[1], _MATRIX[2:5]),
    ],
    hints=[
        "σ(s) = 1 / (1 + exp(-s)), so -log σ(s) = log(1 + exp(-s)) = np.log1p(np.exp(-s)).",
        "Note the minus sign inside the negatives' term: their score should be pushed down.",
    ],
    mistakes=[
        Mistake(
            _negatives_without_minus,
            "the negatives' term is -log σ(-center·n_k), with a minus sign inside: their "
            "scores must be pushed down, not up",
        ),
    ],
    diagnose=[_not_negative],
)

bind(globals())
