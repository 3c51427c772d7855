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
    assert "that is the dot product" in message

    def divided_by_a_squared(a, b):  # no listed mistake: the range rule speaks
        return float(a @ b / (a @ a))

    assert "lies between -1 and 1" in ch03.q2.evaluate(divided_by_a_squared).message

    def includes_itself(word, words, matrix):
        query = matrix[words.index(word)]
        scores = matrix @ query / np.linalg.norm(matrix, axis=1) / np.linalg.norm(query)
        return words[int(np.argmax(scores))]

    message = ch03.q3.evaluate(includes_itself).message
    assert "you returned the query word 'king' itself" in message


def test_ch03_a_dot_product_is_not_a_cosine():
    def nearest_by_dot(word, words, matrix):
        query = matrix[words.index(word)]
        best, best_score = None, -np.inf
        for candidate, vector in zip(words, matrix):
            if candidate != word and query @ vector > best_score:
                best, best_score = candidate, query @ vector
        return best

    feedback = ch03.q3.evaluate(nearest_by_dot)
    assert feedback.status == "incorrect"
    assert "expected 'dog', got 'car'" in feedback.message
    assert "a plain dot product favours long vectors" in feedback.message
    assert "query word" not in feedback.message  # 'car' is not the query

    def dot_as_cosine(a, b):
        return float(a @ b)

    message = ch03.q2.evaluate(dot_as_cosine).message
    assert "that is the dot product; divide it by the lengths of both vectors" in message


@pytest.mark.parametrize("answer", ["queen", "man", "cake"])
def test_ch03_query_diagnosis_fires_only_for_the_query_itself(answer):
    # "queen", "man" and "cake" are never a query, so returning one is a plain wrong answer;
    # before, any of {king, bread, woman} was called "the query", whatever the query was.
    feedback = ch03.q3.evaluate(lambda word, words, matrix: answer)
    assert feedback.status == "incorrect"
    assert "query word" not in feedback.message


def test_ch03_returning_another_query_word_is_not_called_the_query():
    # For the query "bread", "king" is a query word of another case, not this one's.
    feedback = ch03.q3.evaluate(
        lambda word, words, matrix: (
            "king" if word == "bread" else ch03.nearest_word(word, words, matrix)
        )
    )
    assert "expected 'cake', got 'king'" in feedback.message
    assert "query word" not in feedback.message


def test_ch03_a_vectorised_dot_product_is_rejected_by_rows_of_different_lengths():
    def nearest_by_matmul(word, words, matrix):
        scores = matrix @ matrix[words.index(word)]
        scores[words.index(word)] = -np.inf
        return words[int(np.argmax(scores))]

    # On the table of similar lengths the dot product happens to agree with the cosine...
    for word in ["king", "bread", "woman"]:
        assert nearest_by_matmul(word, ch03._WORDS, ch03._TABLE) == ch03.nearest_word(
            word, ch03._WORDS, ch03._TABLE
        )
    # ...so only the case with rows of different lengths can reject it.
    lengths = np.linalg.norm(ch03._UNEVEN, axis=1)
    assert lengths.max() > 2 * lengths.min()
    feedback = ch03.q3.evaluate(nearest_by_matmul)
    assert feedback.status == "incorrect"
    assert "a plain dot product favours long vectors" in feedback.message


@pytest.mark.parametrize(
    "divides_by_seq",
    [
        lambda x, mask: (x * mask[..., None]).sum(axis=1) / x.shape[1],
        lambda x, mask: np.where(mask[..., None], x, 0.0).mean(axis=1),  # the same, written so
    ],
)
def test_ch03_dividing_by_the_padded_length_is_named(divides_by_seq):
    feedback = ch03.q5.evaluate(divides_by_seq)
    assert feedback.status == "incorrect"
    assert "you divided by seq" in feedback.message
    assert "sentence 0, channel" in feedback.message
    assert "padding rows were averaged in" not in feedback.message


def test_ch03_a_negative_loss_is_diagnosed():
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

    message = ch04.q1.evaluate(sin_then_cos_halves).message
    assert "sines and cosines are interleaved" in message
    assert "position " in message and "dimension " in message

    def exponent_i_over_d(seq, d_model):
        angles = np.arange(seq)[:, None] / 10000.0 ** (np.arange(d_model // 2) / d_model)
        pe = np.zeros((seq, d_model))
        pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
        return pe

    assert "the exponent is 2i/d_model" in ch04.q1.evaluate(exponent_i_over_d).message

    def rotation_the_rope_way(k, d_model):  # counter-clockwise blocks on (sin, cos) pairs
        m = np.zeros((d_model, d_model))
        for i in range(d_model // 2):
            a = k / 10000 ** (2 * i / d_model)
            m[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [
                [np.cos(a), -np.sin(a)],
                [np.sin(a), np.cos(a)],
            ]
        return m

    assert "the rotation turns the wrong way" in ch04.q2.evaluate(rotation_the_rope_way).message

    def rope_half_split(x, position):
        d = len(x)
        angles = position / 10000 ** (2 * np.arange(d // 2) / d)
        a, b = x[: d // 2], x[d // 2 :]
        return np.concatenate(
            [a * np.cos(angles) - b * np.sin(angles), a * np.sin(angles) + b * np.cos(angles)]
        )

    assert "not (x[i], x[i + d/2])" in ch04.q3.evaluate(rope_half_split).message

    def rope_only_queries(q, k):
        return np.stack([ch04.rope_vector(row, m) for m, row in enumerate(q)]) @ k.T

    assert "rotate the keys too" in ch04.q4.evaluate(rope_only_queries).message

    def degrees(seq, d_model):
        return 2 * ch04.q1.reference(seq, d_model)

    assert "between -1 and 1" in ch04.q1.evaluate(degrees).message

    def clockwise(x, position):
        return ch04.q3.reference(x, -position)

    feedback = ch04.q3.evaluate(clockwise)
    assert feedback.status == "incorrect"
    assert "RoPE turns each pair counter-clockwise" in feedback.message


# The traps issue 10 lists, written the way a learner would write them (vectorised, not the
# module's own variants), each rejected with its own diagnosis and no other.
CH04_WHYS = {q.name: [m.why for m in q.mistakes] for q in (ch04.q1, ch04.q2, ch04.q3, ch04.q4)}


def _only_diagnosis(question, answer, words):
    feedback = question.evaluate(answer)
    assert feedback.status == "incorrect", feedback
    named = [why for why in CH04_WHYS[question.name] if why in feedback.message]
    assert len(named) == 1 and words in named[0], feedback.message
    return feedback.message


def _omega(d, exponent_scale=2):
    """1 / 10000^(2i/d) for the pairs i = 0 .. d/2 - 1, or with the exponent i/d."""
    return 10000.0 ** (-exponent_scale * np.arange(d // 2) / d)


def test_ch04_shift_matrix_with_exponent_i_over_d_is_named():
    def shift_i_over_d(k, d_model):
        m = np.zeros((d_model, d_model))
        for i, angle in enumerate(k * _omega(d_model, exponent_scale=1)):
            c, s = np.cos(angle), np.sin(angle)
            m[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [[c, s], [-s, c]]
        return m

    message = _only_diagnosis(ch04.q2, shift_i_over_d, "the exponent is 2i/d_model")
    assert "row " in message and "column " in message


def test_ch04_rope_with_exponent_i_over_d_is_named():
    def rope_i_over_d(x, position):
        angles = position * _omega(len(x), exponent_scale=1)
        u, v = x[0::2], x[1::2]
        out = np.empty(len(x))
        out[0::2] = u * np.cos(angles) - v * np.sin(angles)
        out[1::2] = u * np.sin(angles) + v * np.cos(angles)
        return out

    message = _only_diagnosis(ch04.q3, rope_i_over_d, "the exponent is 2i/d")
    assert "dimension " in message


def test_ch04_rope_with_the_shift_matrix_block_is_called_clockwise():
    # The learner reuses the chapter's shift block [[c, s], [-s, c]] on (x[2i], x[2i+1]).
    def rope_shift_block(x, position):
        angles = position * _omega(len(x))
        u, v = x[0::2], x[1::2]
        out = np.empty(len(x))
        out[0::2] = u * np.cos(angles) + v * np.sin(angles)
        out[1::2] = -u * np.sin(angles) + v * np.cos(angles)
        return out

    _only_diagnosis(ch04.q3, rope_shift_block, "yours turns clockwise")


def test_ch04_sinusoidal_in_two_halves_is_named_not_swapped():
    def halves(seq, d_model):
        angles = np.arange(seq)[:, None] * _omega(d_model)
        return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)

    _only_diagnosis(ch04.q1, halves, "sines and cosines are interleaved")

    def cos_first(seq, d_model):
        angles = np.arange(seq)[:, None] * _omega(d_model)
        pe = np.zeros((seq, d_model))
        pe[:, 0::2], pe[:, 1::2] = np.cos(angles), np.sin(angles)
        return pe

    _only_diagnosis(ch04.q1, cos_first, "sine and cosine are swapped")
