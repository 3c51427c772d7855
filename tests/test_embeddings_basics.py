"""Vocabulary, one-hot vectors, the embedding lookup and the three similarity measures."""

import numpy as np
import pytest
from finite_differences import numeric_grad

from genai_notes.embeddings import (
    EmbeddingTable,
    Vocabulary,
    cosine_similarity,
    dot_product,
    euclidean_distance,
    one_hot,
    scatter_add_rows,
    unit_vectors,
)

# --- vocabulary ------------------------------------------------------------------------------


def test_vocabulary_counts_and_orders_by_frequency_then_alphabet():
    vocab = Vocabulary.build(["b a b", "c a b"])
    assert vocab.words == ("b", "a", "c")  # b: 3, a: 2, c: 1
    np.testing.assert_array_equal(vocab.counts, [3, 2, 1])
    np.testing.assert_allclose(vocab.frequencies, [0.5, 1 / 3, 1 / 6])
    assert vocab.id("c") == 2 and "a" in vocab and "z" not in vocab
    np.testing.assert_array_equal(vocab.encode("c b"), [2, 0])
    assert vocab.decode([2, 0]) == ["c", "b"]


def test_vocabulary_from_one_string_and_min_count():
    vocab = Vocabulary.build("x y\ny y\n\n", min_count=2)
    assert vocab.words == ("y",)
    np.testing.assert_array_equal(vocab.encode("x y x", skip_unknown=True), [0])


def test_vocabulary_errors_name_the_problem():
    with pytest.raises(ValueError, match="sentences: expected a corpus with at least one word"):
        Vocabulary.build([])
    with pytest.raises(ValueError, match="sentences: expected a corpus with at least one word"):
        Vocabulary.build(["", "   "])
    with pytest.raises(ValueError, match="min_count: no word occurs 5 times"):
        Vocabulary.build(["a b"], min_count=5)
    vocab = Vocabulary.build(["a b"])
    with pytest.raises(KeyError, match="word: 'dragon' is not in the vocabulary"):
        vocab.encode("a dragon")
    with pytest.raises(ValueError, match=r"ids: expected integers in \[0, 2\)"):
        vocab.decode([0, 2])
    with pytest.raises(TypeError, match=r"sentences\[1\]: expected a str"):
        Vocabulary.build(["a", 3])
    with pytest.raises(ValueError, match="counts: expected 2 counts"):
        Vocabulary(["a", "b"], [1])
    with pytest.raises(ValueError, match="words: expected distinct words, got 'a' twice"):
        Vocabulary(["a", "a"], [1, 1])


# --- one-hot and lookup ------------------------------------------------------------------------


def test_one_hot_by_hand():
    expected = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), expected)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 4)])
def test_lookup_equals_one_hot_times_matrix_for_ids_of_any_shape(shape):
    table = EmbeddingTable(vocab_size=7, d_model=5, seed=1)
    ids = np.random.default_rng(0).integers(0, 7, size=shape)
    rows = table.lookup(ids)
    assert rows.shape == (*shape, 5)
    np.testing.assert_allclose(rows, one_hot(ids, 7) @ table.weight, rtol=0, atol=1e-15)


def test_table_init_is_seeded_and_scaled():
    a, b = EmbeddingTable(50, 40, seed=3, scale=0.5), EmbeddingTable(50, 40, seed=3, scale=0.5)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert not np.array_equal(a.weight, EmbeddingTable(50, 40, seed=4).weight)
    assert 0.45 < a.weight.std() < 0.55


def test_lookup_backward_matches_finite_differences():
    rng = np.random.default_rng(0)
    table = EmbeddingTable(4, 3, seed=0)
    ids = np.array([[1, 3, 1], [0, 1, 1]])  # repeated ids must accumulate
    upstream = rng.normal(size=(2, 3, 3))

    def loss(weight):
        return float((EmbeddingTable.from_matrix(weight).lookup(ids) * upstream).sum())

    grad = table.backward(ids, upstream)
    numeric = numeric_grad(loss, table.weight.copy())
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(grad[2], 0.0)  # never looked up: no gradient


def test_scatter_add_equals_one_hot_transpose_product():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 6, size=40)
    values = rng.normal(size=(40, 3))
    np.testing.assert_allclose(scatter_add_rows(ids, values, 6), one_hot(ids, 6).T @ values)


def test_lookup_errors():
    table = EmbeddingTable(4, 2)
    with pytest.raises(ValueError, match=r"ids: expected integers in \[0, 4\), got 4"):
        table.lookup(np.array([0, 4]))
    with pytest.raises(ValueError, match=r"ids: expected integers in \[0, 4\), got -1"):
        table.lookup(np.array([-1]))
    with pytest.raises(TypeError, match="ids: expected integer"):
        table.lookup(np.array([0.5]))
    with pytest.raises(ValueError, match="vocab_size: expected a positive integer"):
        EmbeddingTable(0, 2)
    with pytest.raises(ValueError, match=r"grad_out: expected shape \(2, 2\)"):
        table.backward(np.array([0, 1]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"values: expected shape"):
        scatter_add_rows(np.array([0, 1]), np.zeros((3, 2)), 4)


# --- similarity --------------------------------------------------------------------------------


def test_similarities_by_hand():
    a, b = np.array([3.0, 4.0]), np.array([4.0, 3.0])
    assert dot_product(a, b) == 24.0
    assert cosine_similarity(a, b) == pytest.approx(24 / 25)
    assert euclidean_distance(a, b) == pytest.approx(np.sqrt(2))
    assert cosine_similarity(a, -a) == pytest.approx(-1.0)
    assert cosine_similarity(np.array([1.0, 0.0]), np.array([0.0, 2.0])) == pytest.approx(0.0)
    np.testing.assert_allclose(
        unit_vectors(np.array([[3.0, 4.0], [0.0, 2.0]])), [[0.6, 0.8], [0, 1]]
    )


def test_similarity_shapes_and_pairwise_against_a_loop():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(4, 6)), rng.normal(size=(3, 6))
    for fn, slow in [
        (dot_product, lambda x, y: float(x @ y)),
        (cosine_similarity, lambda x, y: float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))),
        (euclidean_distance, lambda x, y: float(np.linalg.norm(x - y))),
    ]:
        expected = np.array([[slow(x, y) for y in b] for x in a])
        np.testing.assert_allclose(fn(a, b), expected, rtol=1e-10, atol=1e-12)  # (n, m)
        np.testing.assert_allclose(fn(a, b[0]), expected[:, 0], rtol=1e-10)  # (n,)
        np.testing.assert_allclose(fn(a[1], b), expected[1], rtol=1e-10)  # (m,)
        assert isinstance(fn(a[1], b[2]), float)
        assert fn(a[1], b[2]) == pytest.approx(expected[1, 2])


def test_euclidean_distance_of_a_point_to_itself_is_zero():
    x = np.random.default_rng(3).normal(size=(5, 8)) * 100
    longest = np.linalg.norm(x, axis=1).max()
    np.testing.assert_allclose(np.diag(euclidean_distance(x, x)), 0.0, atol=1e-7 * longest)


def test_cosine_of_a_zero_vector_is_an_error_not_nan():
    with pytest.raises(ValueError, match="a: row 1 is the zero vector"):
        cosine_similarity(np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="b: row 0 is the zero vector"):
        cosine_similarity(np.array([1.0, 0.0]), np.zeros(2))
    with pytest.raises(ValueError, match="x: row 0 is the zero vector"):
        unit_vectors(np.zeros(3))


def test_dimension_mismatch_and_bad_shapes_are_errors():
    for fn in (dot_product, cosine_similarity, euclidean_distance):
        with pytest.raises(ValueError, match="b: expected vectors of dimension 3 to match a"):
            fn(np.ones(3), np.ones((2, 4)))
        with pytest.raises(ValueError, match="a: expected a 1-D or 2-D array"):
            fn(np.ones((2, 2, 3)), np.ones(3))
        with pytest.raises(ValueError, match="a: expected finite values"):
            fn(np.array([np.nan, 1.0]), np.ones(2))
