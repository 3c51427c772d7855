"""Contrastive alignment: symmetric InfoNCE against a slow reference (rows and columns written
out one by one) and finite differences, by hand on a 3 × 3 matrix, the caption encoder's bag
of words, glyphs drawn with their caption's width, and zero-shot prediction after a short
training run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genai_notes.autograd import Tensor, gradcheck
from genai_notes.contrastive import (
    WIDTHS,
    ContrastiveConfig,
    ContrastiveModel,
    bag_of_words,
    caption_names,
    caption_vocabulary,
    draw_captioned_glyphs,
    symmetric_infonce,
    train_contrastive,
    zero_shot_predict,
)

RNG = np.random.default_rng(3)


def _slow_infonce(s, tau):
    n = len(s)
    z = s / tau
    rows = [-(z[i, i] - math.log(sum(math.exp(z[i, j]) for j in range(n)))) for i in range(n)]
    cols = [-(z[j, j] - math.log(sum(math.exp(z[i, j]) for i in range(n)))) for j in range(n)]
    return 0.5 * (sum(rows) / n + sum(cols) / n)


def test_infonce_against_a_slow_reference():
    s = RNG.normal(size=(5, 5))  # not symmetric, so rows and columns differ
    value = symmetric_infonce(Tensor(s, dtype=np.float64), temperature=0.3).item()
    assert value == pytest.approx(_slow_infonce(s, 0.3), rel=1e-12)
    groups = RNG.normal(size=(3, 4, 4))
    batched = symmetric_infonce(Tensor(groups, dtype=np.float64), temperature=0.5).item()
    assert batched == pytest.approx(np.mean([_slow_infonce(g, 0.5) for g in groups]), rel=1e-12)


def test_infonce_by_hand_on_three_pairs():
    s = np.eye(3)  # each image matches its caption with similarity 1, others 0
    each = -math.log(math.e / (math.e + 2))
    assert symmetric_infonce(Tensor(s, dtype=np.float64)).item() == pytest.approx(each)
    assert symmetric_infonce(Tensor(np.zeros((3, 3)), dtype=np.float64)).item() == pytest.approx(
        math.log(3)
    )


def test_infonce_gradient():
    report = gradcheck(lambda s: symmetric_infonce(s, 0.7), [RNG.normal(size=(4, 4))])
    assert report.passed, report


def test_bag_of_words_and_captions():
    names = caption_names()
    assert len(names) == 2 * 8 and names[:2] == ["thin circle", "thick circle"]
    vocab = caption_vocabulary()
    bags = bag_of_words(["thick H", "thin thin L"], vocab)
    assert bags[0, vocab.index("thick")] == 1 and bags[0, vocab.index("H")] == 1
    assert bags[1, vocab.index("thin")] == 2 and bags.sum() == 5
    with pytest.raises(ValueError, match="'round'"):
        bag_of_words(["thin round"], vocab)


def test_captioned_glyphs_have_the_caption_width():
    names = ["thin L", "thick L"]
    images = draw_captioned_glyphs(np.array([0] * 50 + [1] * 50), names, seed=0)
    ink = images.sum(axis=1)
    assert images.shape == (100, 256)
    # the ink of a stroke grows with its width: the two ranges do not overlap in ink
    assert ink[:50].max() < ink[50:].min()
    assert WIDTHS["thin"][1] < WIDTHS["thick"][0]


def test_embeddings_are_unit_vectors_and_words_add():
    model = ContrastiveModel(ContrastiveConfig(vocab_size=4, d_hidden=8, d_embed=3), rng=0)
    a = model.embed_images(RNG.random((5, 256))).data
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    w = model.text_encoder.weight.data.astype(np.float64)
    b = model.embed_texts(np.array([[1.0, 0.0, 1.0, 0.0]])).data[0]
    expected = (w[0] + w[2]) / np.linalg.norm(w[0] + w[2])
    np.testing.assert_allclose(b, expected, rtol=1e-5)


def test_zero_shot_picks_the_most_similar_caption():
    model = ContrastiveModel(ContrastiveConfig(d_image=2, vocab_size=2, d_hidden=4, d_embed=2),
                             rng=0).astype(np.float64)  # fmt: skip
    images = RNG.normal(size=(6, 2))
    bags = np.eye(2)
    a = model.embed_images(images).data
    b = model.embed_texts(bags).data
    np.testing.assert_array_equal(zero_shot_predict(model, images, bags), (a @ b.T).argmax(1))


def test_short_training_aligns_seen_captions():
    captions = caption_names(["circle", "plus", "L"])
    vocab = caption_vocabulary(["circle", "plus", "L"])
    ids = np.repeat(np.arange(len(captions)), 40)
    pool = draw_captioned_glyphs(ids, captions, seed=0)
    model = ContrastiveModel(ContrastiveConfig(vocab_size=len(vocab), d_hidden=32, d_embed=8),
                             rng=0)  # fmt: skip
    bags = bag_of_words(captions, vocab)
    history = train_contrastive(model, pool, ids, bags, steps=120, groups=4, seed=0)
    assert history.loss[-1] < 0.5 * history.loss[0]
    test_ids = np.repeat(np.arange(len(captions)), 30)
    test = draw_captioned_glyphs(test_ids, captions, seed=1)
    accuracy = (zero_shot_predict(model, test, bags) == test_ids).mean()
    assert accuracy > 0.8  # chance is 1/6


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="similarity"):
        symmetric_infonce(Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="temperature"):
        symmetric_infonce(Tensor(np.zeros((2, 2))), temperature=0.0)
    model = ContrastiveModel(ContrastiveConfig(vocab_size=3), rng=0)
    with pytest.raises(ValueError, match="caption_ids"):
        train_contrastive(model, np.zeros((2, 256)), np.array([0, 0]), np.eye(2, 3), steps=1)
    with pytest.raises(ValueError, match="images"):
        model.embed_images(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="caption_ids"):
        draw_captioned_glyphs(np.array([3]), ["thin L"])
