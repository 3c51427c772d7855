"""The cue-distance task: one marker per row, exactly k tokens before the end, labels that are
the marker, distractors that are words of the synthetic language, seeded, and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes.data import cue_distance_task, cue_vocabulary, sentence_distribution


def _words():
    return {w for s in sentence_distribution("en") for w in s.split()}


@pytest.mark.parametrize("n_markers", [2, 4, 8])
def test_vocabulary_is_markers_then_the_languages_words(n_markers):
    vocab = cue_vocabulary(n_markers)
    assert vocab[:n_markers] == tuple(f"<{c}>" for c in "ABCDEFGH"[:n_markers])
    assert set(vocab[n_markers:]) == _words() and list(vocab[n_markers:]) == sorted(_words())


@pytest.mark.parametrize("k", [0, 1, 7, 30])
def test_one_marker_exactly_k_tokens_before_the_end(k):
    batch = cue_distance_task(200, k, seed=3)
    assert batch.ids.shape == (200, k + 1)
    markers = batch.ids < 4
    assert (markers.sum(axis=1) == 1).all()
    positions = markers.argmax(axis=1)
    np.testing.assert_array_equal(positions, 0)  # seq = k + 1: the marker comes first
    np.testing.assert_array_equal(batch.ids.shape[1] - 1 - positions, k)
    np.testing.assert_array_equal(batch.ids[np.arange(200), positions], batch.labels)
    assert set(batch.labels.tolist()) == {0, 1, 2, 3}  # 200 draws reach all four


def test_distances_per_row_and_a_longer_row():
    k = np.array([0, 3, 9, 5, 5])
    batch = cue_distance_task(5, k, seq=12, n_markers=3, seed=0)
    for row, label, d in zip(batch.ids, batch.labels, k):
        (where,) = np.flatnonzero(row < 3)
        assert where == 11 - d and row[where] == label
    np.testing.assert_array_equal(batch.distance, k)


def test_distractors_are_text_of_the_synthetic_language():
    batch = cue_distance_task(50, 20, seed=1)
    words = _words()
    for i in range(50):
        tokens = batch.text(i).split()
        assert len(tokens) == 21 and tokens[0].startswith("<")
        assert all(t in words for t in tokens[1:])
    # the rows come from a stream of sentences: full stops occur, at about one word in eight
    share = np.mean(batch.ids == batch.vocab.index("."))
    assert 0.05 < share < 0.25


def test_seeded():
    a = cue_distance_task(30, 6, seed=11)
    b = cue_distance_task(30, 6, seed=11)
    c = cue_distance_task(30, 6, seed=12)
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.ids, c.ids)
    rng = np.random.default_rng(0)
    first, second = cue_distance_task(4, 2, seed=rng), cue_distance_task(4, 2, seed=rng)
    assert not np.array_equal(first.ids, second.ids)  # a Generator moves on


def test_labels_are_balanced():
    labels = cue_distance_task(4000, 0, seed=2).labels
    counts = np.bincount(labels, minlength=4)
    assert counts.sum() == 4000 and np.all(np.abs(counts - 1000) < 4 * np.sqrt(750))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n": 0, "k": 1}, ValueError, "n: expected a positive integer"),
        ({"n": 3, "k": -1}, ValueError, "k: expected distances >= 0"),
        ({"n": 3, "k": 1.5}, TypeError, "k: expected integer"),
        ({"n": 3, "k": True}, TypeError, "k: expected an integer"),
        ({"n": 3, "k": [1, 2]}, ValueError, r"k: expected one distance per row, shape \(3,\)"),
        ({"n": 3, "k": 4, "seq": 4}, ValueError, "seq: expected at least max"),
        ({"n": 3, "k": 1, "n_markers": 1}, ValueError, "n_markers: expected an integer >= 2"),
        ({"n": 3, "k": 1, "n_markers": 9}, ValueError, "n_markers: expected at most 8"),
        ({"n": 3, "k": 1, "seed": None}, TypeError, "seed: expected an integer seed"),
    ],
)
def test_bad_inputs(kwargs, error, message):
    with pytest.raises(error, match=message):
        cue_distance_task(**kwargs)


def test_text_checks_its_row():
    with pytest.raises(ValueError, match="i: expected a row below 2"):
        cue_distance_task(2, 1).text(2)
