"""Nearest neighbours, analogies, the PCA map and mean-pooled sentence embeddings."""

import numpy as np
import pytest

from genai_notes.embeddings import (
    Vocabulary,
    WordVectors,
    embed_sentences,
    lengths_to_mask,
    mean_pool,
    mean_pool_backward,
    pad_ids,
    pca,
)

# --- neighbours and analogies ------------------------------------------------------------------

# Hand-made vectors with axes "royal", "female", "person", "food".
WORDS = ["king", "queen", "man", "woman", "bread"]
VECTORS = np.array(
    [
        [1.0, 0.0, 1.0, 0.0],
        [1.0, 1.0, 1.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 1.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
)


def test_nearest_excludes_the_query_and_ranks_by_cosine():
    wv = WordVectors(WORDS, VECTORS)
    cos = VECTORS @ VECTORS[0] / np.linalg.norm(VECTORS, axis=1) / np.linalg.norm(VECTORS[0])
    expected = [WORDS[i] for i in np.argsort(-cos) if i != 0][:3]
    result = wv.nearest("king", k=3)
    assert [w for w, _ in result] == expected
    assert [s for _, s in result] == pytest.approx(sorted(cos[1:], reverse=True)[:3])
    assert "king" not in [w for w, _ in wv.nearest("king", k=10)]
    assert len(wv.nearest("king", k=10)) == 4


def test_nearest_to_a_vector_and_with_exclusions():
    wv = WordVectors(WORDS, VECTORS)
    query = np.array([0.0, 0.0, 0.2, 1.0])
    assert wv.nearest(query, k=1)[0][0] == "bread"
    assert wv.nearest(query, k=1, exclude=["bread"])[0][0] == "man"


def test_analogy_king_man_woman_by_hand():
    wv = WordVectors(WORDS, VECTORS)
    best, score = wv.analogy("king", "man", "woman", k=1)[0]
    assert best == "queen"
    unit = VECTORS / np.linalg.norm(VECTORS, axis=1, keepdims=True)
    target = unit[0] - unit[2] + unit[3]
    assert score == pytest.approx(target @ unit[1] / np.linalg.norm(target))


def test_analogy_excludes_its_inputs():
    # Without exclusion, 'a - b + c' here is closest to c itself.
    wv = WordVectors(
        ["a", "b", "c", "d"], np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.3, 1.0]])
    )
    target = wv.analogy_vector("a", "b", "c")
    assert wv.nearest(target, k=1)[0][0] == "c"
    assert [w for w, _ in wv.analogy("a", "b", "c", k=5)] == ["d"]


def test_unknown_words_name_the_word():
    wv = WordVectors(WORDS, VECTORS)
    with pytest.raises(KeyError, match="word: 'dragon' is not in the vocabulary"):
        wv.nearest("dragon")
    with pytest.raises(KeyError, match="word: 'emperor' is not in the vocabulary"):
        wv.analogy("emperor", "man", "woman")
    with pytest.raises(ValueError, match="query: expected a vector of dimension 4"):
        wv.nearest(np.ones(3))
    with pytest.raises(ValueError, match="vectors: expected 5 rows"):
        WordVectors(WORDS, VECTORS[:4])
    with pytest.raises(ValueError, match="x: row 1 is the zero vector"):
        WordVectors(["a", "b"], np.array([[1.0, 0.0], [0.0, 0.0]]))


# --- PCA -------------------------------------------------------------------------------------------


def test_pca_agrees_with_the_eigenvectors_of_the_covariance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 6)) @ rng.normal(size=(6, 6)) + 3.0
    result = pca(x, n_components=3)
    centred = x - x.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(x, rowvar=False))
    order = np.argsort(eigenvalues)[::-1]
    top = eigenvectors[:, order[:3]].T  # (3, 6)
    for component, reference in zip(result.components, top):
        assert abs(component @ reference) == pytest.approx(1.0)  # same line, either sign
    np.testing.assert_allclose(
        result.explained_variance_ratio, eigenvalues[order[:3]] / eigenvalues.sum()
    )
    np.testing.assert_allclose(result.coords, centred @ result.components.T)
    np.testing.assert_allclose(result.transform(x[:4]), result.coords[:4])
    # the coordinates are uncorrelated, with variances equal to the eigenvalues
    np.testing.assert_allclose(
        np.cov(result.coords, rowvar=False), np.diag(eigenvalues[order[:3]]), atol=1e-10
    )


def test_pca_signs_are_fixed():
    x = np.random.default_rng(1).normal(size=(20, 4))
    for flipped in (x, -x):  # negating the data flips every direction; the convention restores it
        comps = pca(flipped, 2).components
        biggest = comps[np.arange(2), np.argmax(np.abs(comps), axis=1)]
        assert (biggest > 0).all()


def test_pca_errors():
    with pytest.raises(ValueError, match="n_components: expected at most"):
        pca(np.ones((3, 2)) + np.arange(3)[:, None], n_components=3)
    with pytest.raises(ValueError, match="x: expected at least 2 points"):
        pca(np.ones((1, 3)))
    with pytest.raises(ValueError, match="x: all points are identical"):
        pca(np.ones((4, 3)))
    with pytest.raises(ValueError, match="x: expected vectors of dimension 3"):
        pca(np.random.default_rng(0).normal(size=(5, 3))).transform(np.ones(2))


# --- mean pooling -----------------------------------------------------------------------------


def test_mean_pool_ignores_padding():
    x = np.random.default_rng(2).normal(size=(3, 4, 5))
    lengths = np.array([4, 1, 2])
    pooled = mean_pool(x, lengths=lengths)
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(pooled[b], x[b, :n].mean(axis=0))
    np.testing.assert_allclose(mean_pool(x, mask=lengths_to_mask(lengths, 4)), pooled)
    np.testing.assert_allclose(mean_pool(x), x.mean(axis=1))


def test_mean_pool_backward_matches_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 4))
    mask = np.array([[True, False, True], [True, True, True]])
    upstream = rng.normal(size=(2, 4))
    grad = mean_pool_backward(upstream, mask)
    numeric = np.zeros_like(x)
    eps = 1e-6
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = ((mean_pool(plus, mask) - mean_pool(minus, mask)) * upstream).sum() / (
            2 * eps
        )
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9)


def test_pooling_errors():
    x = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="mask: row 1 masks out every position"):
        mean_pool(x, mask=np.array([[1, 0, 0], [0, 0, 0]]))
    with pytest.raises(ValueError, match=r"mask: expected shape \(2, 3\)"):
        mean_pool(x, mask=np.ones((3, 2), bool))
    with pytest.raises(ValueError, match="mask, lengths: give at most one"):
        mean_pool(x, mask=np.ones((2, 3), bool), lengths=np.array([1, 2]))
    with pytest.raises(ValueError, match=r"lengths: expected integers in \[1, 3\]"):
        mean_pool(x, lengths=np.array([0, 4]))
    with pytest.raises(ValueError, match="mask: expected booleans or 0/1"):
        mean_pool(x, mask=np.full((2, 3), 2))
    with pytest.raises(ValueError, match="sequences: sequence 1 is empty"):
        pad_ids([[1], []])


def test_embed_sentences_is_the_mean_of_word_vectors():
    vocab = Vocabulary.build(["a b c", "b"])
    vectors = np.arange(6.0).reshape(3, 2)
    out = embed_sentences(["a b c", "c", "a a"], vocab, vectors)
    ids = [vocab.encode(s) for s in ["a b c", "c", "a a"]]
    np.testing.assert_allclose(out, [vectors[i].mean(axis=0) for i in ids])
    padded, mask = pad_ids(ids, pad_id=0)
    assert padded.shape == (3, 3) and mask.sum() == 6
