"""Chapters 3 and 4: the exercises' reference solutions agree with the package (an independent,
vectorised route), and typical mistakes get specific feedback."""

import numpy as np
import pytest

from genai_notes.embeddings import (
    WordVectors,
    cosine_similarity,
    mean_pool,
    one_hot,
    sgns_loss,
)
from genai_notes.exercises import ch03, ch04
from genai_notes.positional import (
    apply_rope,
    relative_rotation,
    sinusoidal_encoding,
)

RNG = np.random.default_rng(0)


# --- chapter 3 -------------------------------------------------------------------------------


def test_ch03_references_agree_with_the_package():
    matrix = RNG.normal(size=(7, 3))
    ids = np.array([6, 0, 6, 2])
    np.testing.assert_allclose(ch03.q1.reference(ids, matrix), matrix[ids])
    np.testing.assert_allclose(ch03.q1.reference(ids, matrix), one_hot(ids, 7) @ matrix)
    a, b = RNG.normal(size=5), RNG.normal(size=5)
    assert ch03.q2.reference(a, b) == pytest.approx(cosine_similarity(a, b))
    words = [f"w{i}" for i in range(7)]
    wv = WordVectors(words, matrix)
    for w in words:
        assert ch03.q3.reference(w, words, matrix) == wv.nearest(w, k=1)[0][0]
    np.testing.assert_allclose(
        ch03.q4.reference(matrix[0], matrix[1], matrix[2]), wv.analogy_vector("w0", "w1", "w2")
    )
    x = RNG.normal(size=(3, 5, 2))
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=bool)
    np.testing.assert_allclose(ch03.q5.reference(x, mask), mean_pool(x, mask=mask))
    c, o, n = RNG.normal(size=4), RNG.normal(size=4), RNG.normal(size=(3, 4))
    loss, _ = sgns_loss(c[None], o[None], n[None])
    assert ch03.q6.reference(c, o, n) == pytest.approx(loss[0])


def test_ch03_typical_mistakes_get_specific_feedback():
    def dot_only(a, b):
        return float(a @ b)

    message = ch03.q2.evaluate(dot_only).message
    assert "lies between -1 and 1" in message

    def includes_itself(word, words, matrix):
        query = matrix[words.index(word)]
        scores = matrix @ query / np.linalg.norm(matrix, axis=1) / np.linalg.norm(query)
        return words[int(np.argmax(scores))]

    assert "leave the query out" in ch03.q3.evaluate(includes_itself).message

    def divides_by_seq(x, mask):
        return (x * mask[..., None]).sum(axis=1) / x.shape[1]

    feedback = ch03.q5.evaluate(divides_by_seq)
    assert feedback.status == "incorrect" and "values differ" in feedback.message

    def wrong_sign(center, context, negatives):
        return float(-np.log1p(np.exp(-(center @ context))))

    assert "can never be negative" in ch03.q6.evaluate(wrong_sign).message


# --- chapter 4 -------------------------------------------------------------------------------


def test_ch04_references_agree_with_the_package():
    np.testing.assert_allclose(ch04.q1.reference(9, 12), sinusoidal_encoding(9, 12), atol=1e-14)
    np.testing.assert_allclose(ch04.q2.reference(-5, 10), relative_rotation(-5, 10), atol=1e-14)
    x = RNG.normal(size=6)
    np.testing.assert_allclose(ch04.q3.reference(x, 7), apply_rope(x[None], positions=[7])[0])
    q, k = RNG.normal(size=(2, 4, 6))
    np.testing.assert_allclose(ch04.q4.reference(q, k), apply_rope(q) @ apply_rope(k).T)


def test_ch04_typical_mistakes_get_specific_feedback():
    def sin_then_cos_halves(seq, d_model):  # the other common layout: not the paper's
        pe = ch04.q1.reference(seq, d_model)
        return np.concatenate([pe[:, 0::2], pe[:, 1::2]], axis=1)

    assert "values differ" in ch04.q1.evaluate(sin_then_cos_halves).message

    def degrees(seq, d_model):
        return 2 * ch04.q1.reference(seq, d_model)

    assert "between -1 and 1" in ch04.q1.evaluate(degrees).message

    def clockwise(x, position):
        return ch04.q3.reference(x, -position)

    assert ch04.q3.evaluate(clockwise).status == "incorrect"
