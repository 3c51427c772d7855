"""The probing task and the logistic-regression probe (Chapter 10): the task's sentences come
from the grammar and their frames say nothing about the label; the probe's step is the
gradient of the logistic loss (checked by finite differences) and the fit separates what is
separable."""

import numpy as np
import pytest
from finite_differences import numeric_grad

from genai_notes.data import sentence_log_prob
from genai_notes.probing import (
    BLANK,
    ROYAL,
    fit_probe,
    probe_step,
    royal_subject_task,
    sigmoid,
    subject_frames,
)

TRAIN_WORDS = ("king", "princess", "man", "girl")


def test_task_sentences_come_from_the_grammar_with_the_right_labels():
    task = royal_subject_task(TRAIN_WORDS, n=300, seed=2)
    assert len(task.sentences) == len(task.labels) == len(task.subjects) == 300
    for sentence, label, subject in zip(task.sentences, task.labels, task.subjects):
        assert np.isfinite(sentence_log_prob(sentence))  # raises if the grammar cannot
        assert sentence.split()[1] == subject and subject in TRAIN_WORDS
        assert label == (subject in ROYAL)


def test_the_frame_is_independent_of_the_label():
    frames = subject_frames()
    task = royal_subject_task(TRAIN_WORDS, n=4000, seed=3)
    royal, common = set(ROYAL) & set(TRAIN_WORDS), set(TRAIN_WORDS) - set(ROYAL)
    seen = {}
    for sentence, label in zip(task.sentences, task.labels):
        words = sentence.split()
        frame = " ".join([words[0], BLANK, *words[2:]])
        # every frame used admits a royal and a common word of the set
        assert frames[frame] & royal and frames[frame] & common
        seen.setdefault(frame, []).append(label)
    # frames that only one rank can fill never appear
    assert "the ___ rules the kingdom ." not in seen and "the ___ works on the farm ." not in seen
    # sentences sharing a frame are half royal: the frame predicts nothing (binomial bound)
    labels = np.concatenate([np.array(v) for v in seen.values() if len(v) >= 10])
    assert abs(labels.mean() - 0.5) < 5 * np.sqrt(0.25 / len(labels))
    # and a rule reading the frame alone (its majority label) is at chance on fresh data
    majority = {f: np.mean(v) > 0.5 for f, v in seen.items()}
    fresh = royal_subject_task(TRAIN_WORDS, n=4000, seed=4)
    hits = [
        majority.get(" ".join([s.split()[0], BLANK, *s.split()[2:]]), True) == bool(y)
        for s, y in zip(fresh.sentences, fresh.labels)
    ]
    assert abs(np.mean(hits) - 0.5) < 0.05


def test_task_is_reproducible_and_checks_its_words():
    a, b = royal_subject_task(TRAIN_WORDS, 20, seed=1), royal_subject_task(TRAIN_WORDS, 20, seed=1)
    assert a.sentences == b.sentences and np.array_equal(a.labels, b.labels)
    with pytest.raises(ValueError, match="one royal and one common"):
        royal_subject_task(("king", "queen"), 5)
    with pytest.raises(ValueError, match="person words"):
        royal_subject_task(("king", "dragon"), 5)
    with pytest.raises(TypeError, match="people"):
        royal_subject_task("king", 5)


def test_sigmoid_is_stable_and_exact():
    z = np.array([-800.0, -2.0, 0.0, 3.0, 800.0])
    np.testing.assert_allclose(sigmoid(z)[1:4], 1 / (1 + np.exp(-z[1:4])), rtol=1e-14)
    assert sigmoid(z)[0] == 0.0 and sigmoid(z)[-1] == 1.0


def test_probe_step_follows_the_gradient_of_the_logistic_loss():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 3)), rng.integers(0, 2, 12)
    w, b, l2 = rng.normal(size=3), 0.3, 0.05

    def loss(params):
        p = sigmoid(x @ params[:3] + params[3])
        bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        return bce + 0.5 * l2 * params[:3] @ params[:3]

    grad = numeric_grad(loss, np.array([*w, b]))
    new_w, new_b = probe_step(w, b, x, y, lr=0.1, l2=l2)
    np.testing.assert_allclose((w - new_w) / 0.1, grad[:3], rtol=1e-6)
    assert (b - new_b) / 0.1 == pytest.approx(grad[3], rel=1e-6)


def test_fit_probe_separates_and_generalises():
    rng = np.random.default_rng(1)
    direction = rng.normal(size=5)
    x = rng.normal(size=(400, 5)) * [1, 10, 0.1, 1, 1] + 3.0  # unequal scales: standardised
    y = (x @ direction > np.median(x @ direction)).astype(int)
    probe = fit_probe(x[:200], y[:200], steps=500)
    assert probe.accuracy(x[:200], y[:200]) > 0.97
    assert probe.accuracy(x[200:], y[200:]) > 0.93
    # a constant feature is left at scale 1 and cannot help
    constant = fit_probe(np.ones((10, 2)), np.array([0, 1] * 5))
    assert (
        constant.scale.tolist() == [1.0, 1.0]
        and constant.accuracy(np.ones((4, 2)), np.array([0, 1, 0, 1])) == 0.5
    )


def test_bad_probe_inputs():
    with pytest.raises(ValueError, match="labels"):
        fit_probe(np.ones((3, 2)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="features"):
        probe_step(np.zeros(2), 0.0, np.ones((3, 3)), np.array([0, 1, 0]), lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        fit_probe(np.ones((2, 2)), np.array([0, 1]), lr=0.0)
