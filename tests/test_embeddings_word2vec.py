"""Skip-gram with negative sampling: the loss and its gradients, the pair builder, sampling,
and the structure a trained model must find in the synthetic corpus."""

import math

import numpy as np
import pytest
from finite_differences import numeric_grad

from genai_notes import data
from genai_notes.embeddings import (
    Word2VecConfig,
    log_sigmoid,
    noise_distribution,
    sgns_loss,
    sigmoid,
    skipgram_pairs,
    subsample_keep_probs,
    train_word2vec,
)
from genai_notes.lexicon import CATEGORIES, PEOPLE

# --- the loss and its hand-derived gradients ---------------------------------------------------


def test_sgns_loss_by_hand():
    c = np.array([[1.0, 2.0]])
    o = np.array([[0.5, 0.5]])  # c·o = 1.5
    n = np.array([[[1.0, 0.0], [0.0, -1.0]]])  # c·n = 1, -2
    loss, _ = sgns_loss(c, o, n)
    sig = lambda s: 1 / (1 + math.exp(-s))  # noqa: E731
    expected = -math.log(sig(1.5)) - math.log(sig(-1.0)) - math.log(sig(2.0))
    assert loss[0] == pytest.approx(expected)


@pytest.mark.parametrize("masked", [False, True])
def test_sgns_gradients_match_finite_differences_in_float64(masked):
    rng = np.random.default_rng(0)
    batch, k, d = 3, 4, 5
    c, o, n = (
        rng.normal(size=(batch, d)),
        rng.normal(size=(batch, d)),
        rng.normal(size=(batch, k, d)),
    )
    mask = rng.random((batch, k)) < 0.7 if masked else None
    _, grads = sgns_loss(c, o, n, negative_mask=mask)
    total = lambda c_, o_, n_: float(sgns_loss(c_, o_, n_, negative_mask=mask)[0].sum())  # noqa: E731
    np.testing.assert_allclose(
        grads.center, numeric_grad(lambda x: total(x, o, n), c), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        grads.context, numeric_grad(lambda x: total(c, x, n), o), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        grads.negatives, numeric_grad(lambda x: total(c, o, x), n), rtol=1e-6, atol=1e-8
    )


def test_masked_negatives_contribute_nothing():
    rng = np.random.default_rng(1)
    c, o, n = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 2, 3))
    mask = np.array([[True, False], [True, True]])
    loss, grads = sgns_loss(c, o, n, negative_mask=mask)
    loss_without, _ = sgns_loss(c[:1], o[:1], n[:1, :1])
    assert loss[0] == pytest.approx(loss_without[0])
    np.testing.assert_array_equal(grads.negatives[0, 1], 0.0)


def test_sigmoids_are_stable_and_correct():
    x = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        ls, s = log_sigmoid(x), sigmoid(x)
    np.testing.assert_allclose(ls[1:4], np.log(1 / (1 + np.exp(-x[1:4]))))
    assert ls[0] == pytest.approx(-800.0) and ls[-1] == 0.0
    np.testing.assert_allclose(s, [0.0, 1 / (1 + np.exp(3.0)), 0.5, 1 / (1 + np.exp(-2.0)), 1.0])


def test_sgns_loss_shape_errors():
    with pytest.raises(ValueError, match=r"context: expected shape \(2, 3\)"):
        sgns_loss(np.zeros((2, 3)), np.zeros((3, 3)), np.zeros((2, 1, 3)))
    with pytest.raises(ValueError, match=r"negatives: expected shape \(2, any, 3\)"):
        sgns_loss(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 1, 4)))
    with pytest.raises(ValueError, match=r"negative_mask: expected shape \(2, 1\)"):
        sgns_loss(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 1, 3)), np.ones((2, 2), bool))


# --- pairs, subsampling and the noise distribution ---------------------------------------------


def _slow_pairs(ids, sentence, window):
    pairs = []
    for i in range(len(ids)):
        for j in range(len(ids)):
            if i != j and abs(i - j) <= window and sentence[i] == sentence[j]:
                pairs.append((ids[i], ids[j]))
    return sorted(pairs)


@pytest.mark.parametrize("window", [1, 2, 5])
def test_skipgram_pairs_match_a_slow_double_loop(window):
    rng = np.random.default_rng(window)
    ids = rng.integers(0, 9, size=40)
    sentence = np.sort(rng.integers(0, 6, size=40))
    centres, contexts = skipgram_pairs(ids, sentence, window)
    assert sorted(zip(centres.tolist(), contexts.tolist())) == _slow_pairs(ids, sentence, window)


def test_dynamic_window_keeps_near_contexts_more_often():
    n = 200_000
    ids = np.arange(n) % 7  # one long sentence: the id tells the position modulo 7
    sentence = np.zeros(n, dtype=int)
    centres, contexts = skipgram_pairs(ids, sentence, window=4, rng=0)
    offset = (contexts - centres) % 7
    offset = np.minimum(offset, 7 - offset)  # distance 1..3 (4 folds onto 3)
    # A context at distance o survives with probability (4 - o + 1) / 4, in both directions.
    for distance, survive in [(1, 1.0), (2, 0.75)]:
        rate = np.mean(offset == distance) * len(offset) / (2 * n)
        assert rate == pytest.approx(survive, abs=0.01)


def test_subsampling_follows_mikolovs_formula():
    freq = np.array([0.5, 0.25, 0.2, 0.05])
    t = 0.05
    expected = [math.sqrt(t / 0.5), math.sqrt(t / 0.25), math.sqrt(t / 0.2), 1.0]
    np.testing.assert_allclose(subsample_keep_probs(freq, t), expected)
    with pytest.raises(ValueError, match="threshold: expected a number > 0.0"):
        subsample_keep_probs(freq, 0.0)


def test_noise_distribution_is_the_three_quarter_power():
    counts = np.array([81, 16, 1])
    weights = np.array([27.0, 8.0, 1.0])  # 81^0.75, 16^0.75, 1
    np.testing.assert_allclose(noise_distribution(counts), weights / weights.sum())
    with pytest.raises(ValueError, match="counts: expected a non-empty array of positive counts"):
        noise_distribution(np.array([3, 0]))


# --- the trainer ---------------------------------------------------------------------------------


def test_config_validates_every_field():
    with pytest.raises(ValueError, match="window: expected a positive integer"):
        Word2VecConfig(window=0)
    with pytest.raises(ValueError, match="lr: expected a number > 0.0"):
        Word2VecConfig(lr=0.0)
    with pytest.raises(TypeError, match="config: expected a Word2VecConfig"):
        train_word2vec(["a b"], config={"d_model": 3}, progress=False)
    with pytest.raises(ValueError, match="sentences: expected a corpus with at least one word"):
        train_word2vec([], progress=False)
    with pytest.raises(ValueError, match="sentences: the corpus gave no"):
        train_word2vec(["hello", "world"], progress=False)


def test_training_is_deterministic_and_lowers_the_loss():
    corpus = data.generate_corpus(600, seed=5)
    config = Word2VecConfig(d_model=8, epochs=3, seed=2)
    a = train_word2vec(corpus, config, progress=False)
    b = train_word2vec(corpus, config, progress=False)
    np.testing.assert_array_equal(a.w_in, b.w_in)
    np.testing.assert_array_equal(a.loss_history, b.loss_history)
    # The output vectors start at zero, so every score of the first batch is exactly 0 and
    # each term costs log 2: (1 + K) log 2 per pair, less for negatives equal to the context.
    first, last = a.loss_history[0], a.loss_history[-20:].mean()
    assert 2 * math.log(2) < first <= 6 * math.log(2) + 1e-12
    assert last < 0.75 * first


# --- the structure the grammar built in -------------------------------------------------------

ROYALTY = set(CATEGORIES["royalty"])


@pytest.fixture(scope="module")
def vectors():
    """The chapter's model: trained once (a few seconds) and shared by the tests below."""
    corpus = data.generate_corpus(10_000, seed=0)
    return train_word2vec(corpus, Word2VecConfig(seed=0), progress=False).vectors


@pytest.mark.parametrize(
    ("a", "b", "c", "expected"),
    [
        ("king", "man", "woman", "queen"),
        ("queen", "woman", "man", "king"),
        ("prince", "boy", "girl", "princess"),
        ("man", "king", "queen", "woman"),
        ("boy", "man", "king", "prince"),
    ],
)
def test_analogies_rank_the_expected_word_first(vectors, a, b, c, expected):
    (best, score), (_, runner_up) = vectors.analogy(a, b, c, k=2)
    assert best == expected
    assert score - runner_up > 0.05  # not a near tie


def test_categories_are_tighter_inside_than_across(vectors):
    names = list(CATEGORIES)
    within, across = [], []
    for i, first in enumerate(names):
        sims = vectors.similarity_matrix(CATEGORIES[first])
        within.append(sims[~np.eye(len(sims), dtype=bool)].mean())
        for second in names[i + 1 :]:
            across.append(
                np.mean(
                    [
                        vectors.similarity(x, y)
                        for x in CATEGORIES[first]
                        for y in CATEGORIES[second]
                    ]
                )
            )
    assert np.mean(within) - np.mean(across) > 0.2
    assert min(within) > max(across)


def test_rank_is_a_learned_direction(vectors):
    """Swapping the rank of a person (king <-> man, princess <-> girl, ...) always makes them
    less similar to a person of the original rank."""
    swap = {
        p.en: q.en
        for p in PEOPLE
        for q in PEOPLE
        if (p.gender, p.age) == (q.gender, q.age) and p.rank != q.rank
    }
    for p in PEOPLE:
        for q in PEOPLE:
            if q is not p and q.rank == p.rank:
                assert vectors.similarity(p.en, q.en) > vectors.similarity(p.en, swap[q.en]) + 0.05


def test_the_nearest_neighbour_of_king_and_queen_is_royal(vectors):
    for word in ("king", "queen"):
        assert vectors.nearest(word, k=1)[0][0] in ROYALTY


def test_the_nearest_neighbours_of_every_royal_are_the_other_royals(vectors):
    # There are four royals, so the three nearest neighbours of each must be exactly the rest.
    for word in ROYALTY:
        assert {w for w, _ in vectors.nearest(word, k=3)} == ROYALTY - {word}


def test_people_neighbours_are_people(vectors):
    people = {p.en for p in PEOPLE}
    for p in people:
        assert {w for w, _ in vectors.nearest(p, k=3)} <= people
