"""Exercises for chapter 3, "Embeddings": lookups, similarity, neighbours, analogies, pooling
and the skip-gram loss, built by hand.

The reference solutions are written for reading, with plain loops; the package's
:mod:`genai_notes.embeddings` computes the same things vectorised, and the tests check that
they agree.
"""

from __future__ import annotations

import numpy as np

from genai_notes.exercises.core import Question

_rng = np.random.default_rng(3)
_MATRIX = np.round(_rng.normal(size=(6, 4)), 2)  # a small (vocab=6, d_model=4) table
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


def _lookup_by_one_hot(ids, matrix):
    vocab_size = matrix.shape[0]
    one_hot = np.zeros((len(ids), vocab_size))
    for row, token in enumerate(ids):
        one_hot[row, token] = 1.0
    return one_hot @ matrix


def _cosine(a, b):
    return float(a @ b / (np.sqrt(a @ a) * np.sqrt(b @ b)))


def _nearest_word(word, words, matrix):
    query = matrix[words.index(word)]
    best_word, best_score = None, -np.inf
    for candidate, vector in zip(words, matrix):
        if candidate == word:
            continue  # a word is always most similar to itself; skip it
        score = query @ vector / (np.linalg.norm(query) * np.linalg.norm(vector))
        if score > best_score:
            best_word, best_score = candidate, score
    return best_word


def _analogy_vector(a, b, c):
    def unit(v):
        return v / np.linalg.norm(v)

    return unit(a) - unit(b) + unit(c)


def _mean_pool(x, mask):
    batch, _, d_model = x.shape
    pooled = np.zeros((batch, d_model))
    for b in range(batch):
        real = x[b][mask[b]]  # the rows that are real words, not padding
        pooled[b] = real.mean(axis=0)
    return pooled


def _log_sigmoid(s):
    return -np.log1p(np.exp(-s))


def _sgns_pair_loss(center, context, negatives):
    loss = -_log_sigmoid(center @ context)
    for noise in negatives:
        loss -= _log_sigmoid(-(center @ noise))
    return float(loss)


def _outside_unit_interval(value):
    if abs(float(value)) > 1.0 + 1e-9:
        return (
            f"a cosine similarity lies between -1 and 1, but you returned {float(value):.4g}; "
            "did you divide by both lengths?"
        )
    return None


def _returned_the_query(word):
    if word in ("king", "bread", "woman"):
        return "you returned a query word itself; leave the query out of the candidates"
    return None


def _not_negative(value):
    if float(value) < 0:
        return "each term is -log σ(·) > 0, so the loss can never be negative"
    return None


q1 = Question(
    "q1",
    "Write lookup_by_one_hot(ids, matrix): build a (len(ids), vocab) matrix of one-hot rows "
    "(vocab = matrix.shape[0]) and multiply it by the (vocab, d_model) matrix.",
    kind="function",
    reference=_lookup_by_one_hot,
    cases=[
        (np.array([1]), np.array([[1.0, 2.0], [3.0, 4.0]])),
        (np.array([2, 0, 2, 5]), _MATRIX),
    ],
    hints=[
        "Start from np.zeros((len(ids), vocab)) and set one entry per row to 1.",
        "The result should equal matrix[ids]: check that too.",
    ],
)

q2 = Question(
    "q2",
    "Write cosine(a, b) for two 1-D vectors: their dot product divided by the product of their "
    "lengths.",
    kind="function",
    reference=_cosine,
    cases=[
        (np.array([3.0, 4.0]), np.array([-6.0, -8.0])),
        (np.array([1.0, 0.0]), np.array([1.0, 1.0])),
        (_MATRIX[0], _MATRIX[3]),
    ],
    hints=[
        "The length of a is np.sqrt(a @ a) (or np.linalg.norm(a)).",
        "Parallel vectors give 1, opposite ones -1, perpendicular ones 0.",
    ],
    diagnose=[_outside_unit_interval],
)

q3 = Question(
    "q3",
    "Write nearest_word(word, words, matrix): the word, other than `word` itself, whose row of "
    "`matrix` has the highest cosine similarity with the row of `word`.",
    kind="function",
    reference=_nearest_word,
    cases=[("king", _WORDS, _TABLE), ("bread", _WORDS, _TABLE), ("woman", _WORDS, _TABLE)],
    hints=[
        "words.index(word) gives the row of the query.",
        "Loop over (candidate, vector) pairs, skip the query, and keep the best score.",
    ],
    diagnose=[_returned_the_query],
)

q4 = Question(
    "q4",
    "Write analogy_vector(a, b, c) returning unit(a) - unit(b) + unit(c), where unit(v) is v "
    "divided by its length: the target of the analogy 'a is to b as ? is to c'.",
    kind="function",
    reference=_analogy_vector,
    cases=[
        (np.array([1.0, 0.0]), np.array([0.0, 2.0]), np.array([3.0, 4.0])),
        (_MATRIX[0], _MATRIX[2], _MATRIX[3]),
    ],
    hints=[
        "Scale each vector to length 1 first, so no word counts more because it is longer.",
        "For king - man + woman, a = king, b = man, c = woman.",
    ],
)

q5 = Question(
    "q5",
    "Write mean_pool(x, mask): x is (batch, seq, d_model), mask is a (batch, seq) boolean array "
    "that is True on real words and False on padding. Return the (batch, d_model) mean of the "
    "real rows of each sentence.",
    kind="function",
    reference=_mean_pool,
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
)

q6 = Question(
    "q6",
    "Write sgns_pair_loss(center, context, negatives) for one pair: center and context are "
    "(d,) vectors, negatives is (K, d). Return -log σ(center·context) - Σ_k log σ(-center·n_k).",
    kind="function",
    reference=_sgns_pair_loss,
    cases=[
        (np.array([1.0, 0.0]), np.array([2.0, 0.0]), np.array([[0.0, 3.0]])),
        (_MATRIX[0], _MATRIX[1], _MATRIX[2:5]),
    ],
    hints=[
        "σ(s) = 1 / (1 + exp(-s)), so -log σ(s) = log(1 + exp(-s)) = np.log1p(np.exp(-s)).",
        "Note the minus sign inside the negatives' term: their score should be pushed down.",
    ],
    diagnose=[_not_negative],
)
