"""Probing representations (Chapter 10): a labelled task from the grammar whose answer the
words around it never give away, and a linear probe (logistic regression) in NumPy.

* **The task** (:func:`royal_subject_task`): "is the subject of this sentence royal?", with
  the subjects drawn from a chosen set of person words, so that the training set can use
  some royal and common words and the test set the others. Each sentence is a *frame* of
  the grammar (a sentence with its subject blanked, :func:`subject_frames`) filled with a
  subject that the grammar allows there. The frame is chosen before the label and
  independently of it, so the words around the subject carry no information about the
  label: only the subject word does. A model that has never seen a test word in training
  can answer only from what it learned about that word elsewhere, in pretraining.
* **The probe** (:class:`LinearProbe`, :func:`fit_probe`): logistic regression on frozen
  features, standardised with the training set's mean and spread, fitted by full-batch
  gradient descent from zero (:func:`probe_step`). The loss is convex, so the fit does not
  depend on a seed.

>>> task = royal_subject_task(("king", "girl"), n=4, seed=0)
>>> [(s, int(y)) for s, y in zip(task.sentences, task.labels)][:2]
[('the girl walks to the garden with the fox .', 0), ('the girl eats the soup in the kitchen .', 0)]
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from genai_notes._checks import (
    check_array,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_rng,
    describe,
)
from genai_notes.data import sentence_distribution
from genai_notes.lexicon import PEOPLE

__all__ = [
    "BLANK",
    "ROYAL",
    "RankTask",
    "subject_frames",
    "royal_subject_task",
    "sigmoid",
    "probe_step",
    "LinearProbe",
    "fit_probe",
]

BLANK = "___"  # stands for the subject in a frame
ROYAL = tuple(p.en for p in PEOPLE if p.rank == "royal")  # king, queen, prince, princess
_PEOPLE = tuple(p.en for p in PEOPLE)


class RankTask(NamedTuple):
    """A labelled set made by :func:`royal_subject_task`."""

    sentences: list[str]  # the sentences, words separated by spaces
    labels: np.ndarray  # (n,) int64: 1 if the subject is royal, 0 if common
    subjects: list[str]  # the subject word of each sentence


@functools.lru_cache(maxsize=1)
def _frames() -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for sentence in sentence_distribution():
        words = sentence.split()
        if len(words) > 1 and words[1] in _PEOPLE:
            frame = " ".join([words[0], BLANK, *words[2:]])
            found.setdefault(frame, set()).add(words[1])
    return {frame: frozenset(subjects) for frame, subjects in sorted(found.items())}


def subject_frames() -> dict[str, frozenset[str]]:
    """Every frame of the grammar, a sentence whose subject (its second word, a person) is
    replaced by :data:`BLANK`, mapped to the person words the grammar puts in the blank.

    >>> frames = subject_frames()
    >>> sorted(frames["the ___ rules the kingdom ."])
    ['king', 'prince', 'princess', 'queen']
    """
    return dict(_frames())


def royal_subject_task(people: Sequence[str], n: int, seed: Any = 0) -> RankTask:
    """``n`` sentences labelled 1 if the subject is royal, with subjects from ``people``.

    ``people`` must hold at least one royal and one common person word. Each example takes
    a frame uniformly among the frames whose blank the grammar fills with a royal and with
    a common word of ``people``, then a label (royal or common, probability 1/2 each), then
    a subject uniformly among the words of ``people`` with that label that the grammar puts
    in that frame. So the frame, the words around the subject, is independent of the label.

    >>> task = royal_subject_task(("queen", "boy"), n=1000, seed=1)
    >>> round(float(task.labels.mean()), 2), sorted(set(task.subjects))
    (0.52, ['boy', 'queen'])
    """
    if isinstance(people, str) or not isinstance(people, Sequence):
        raise TypeError(f"people: expected a list of person words, got {describe(people)}")
    unknown = [w for w in people if w not in _PEOPLE]
    if unknown:
        raise ValueError(f"people: expected person words from {_PEOPLE}, got {unknown}")
    royal = {w for w in people if w in ROYAL}
    common = set(people) - royal
    if not royal or not common:
        raise ValueError(
            f"people: expected at least one royal and one common word, got {list(people)}"
        )
    n = check_positive_int(n, "n")
    rng = check_rng(seed, "seed")
    frames = [
        (frame, sorted(allowed & royal), sorted(allowed & common))
        for frame, allowed in _frames().items()
        if allowed & royal and allowed & common
    ]
    sentences, labels, subjects = [], [], []
    for k, label in zip(rng.integers(0, len(frames), n), rng.integers(0, 2, n)):
        frame, royals, commons = frames[k]
        choices = royals if label else commons
        subject = choices[rng.integers(0, len(choices))]
        sentences.append(frame.replace(BLANK, subject))
        labels.append(int(label))
        subjects.append(subject)
    return RankTask(sentences, np.array(labels, dtype=np.int64), subjects)


# ----------------------------------------------------------------------------------------
# The probe


def sigmoid(z: Any) -> np.ndarray:
    """``1 / (1 + exp(-z))``, computed as ``(1 + tanh(z / 2)) / 2`` so that it never
    overflows.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def probe_step(
    w: Any, b: float, features: Any, labels: Any, lr: float, l2: float = 0.0
) -> tuple[np.ndarray, float]:
    """One gradient-descent step on the mean logistic loss (plus ``l2/2 · |w|²``).

    w: ``(d,)`` weights; b: the bias; features: ``(n, d)``; labels: ``(n,)`` of 0 and 1.
    With ``p = sigmoid(features @ w + b)`` the gradients are ``featuresᵀ (p - labels) / n
    + l2 · w`` and ``mean(p - labels)``. Returns the new ``(w, b)``.

    >>> w, b = probe_step(np.zeros(2), 0.0, np.array([[1.0, 0.0], [0.0, 1.0]]),
    ...                   np.array([1, 0]), lr=1.0)
    >>> w, b
    (array([ 0.25, -0.25]), 0.0)
    """
    x = check_array(features, "features", ndim=2, dtype_kind="fiu").astype(np.float64)
    y = check_array(labels, "labels", ndim=1, dtype_kind="biu").astype(np.float64)
    w = check_array(w, "w", ndim=1, dtype_kind="fiu").astype(np.float64)
    if x.shape != (len(y), len(w)):
        raise ValueError(
            f"features: expected shape (n={len(y)}, d={len(w)}) for {len(y)} labels and "
            f"{len(w)} weights, got {x.shape}"
        )
    error = sigmoid(x @ w + b) - y  # (n,): predicted probability minus the label
    grad_w = x.T @ error / len(y) + l2 * w
    grad_b = float(error.mean())
    return w - lr * grad_w, float(b) - lr * grad_b


@dataclass
class LinearProbe:
    """A fitted logistic-regression probe: ``P(label 1) = sigmoid(((x - mean) / scale) @ w
    + b)`` for a feature vector ``x (d,)``."""

    mean: np.ndarray  # (d,) the training features' mean
    scale: np.ndarray  # (d,) their standard deviation (1 where it is 0)
    w: np.ndarray  # (d,) weights on the standardised features
    b: float  # bias

    def predict_proba(self, features: Any) -> np.ndarray:
        """``(n, d)`` features -> ``(n,)`` probabilities of label 1."""
        x = check_array(features, "features", ndim=2, dtype_kind="fiu")
        if x.shape[1] != len(self.w):
            raise ValueError(f"features: expected {len(self.w)} columns, got {x.shape[1]}")
        return sigmoid(((x - self.mean) / self.scale) @ self.w + self.b)

    def accuracy(self, features: Any, labels: Any) -> float:
        """The fraction of rows whose predicted label (probability above 1/2) is right."""
        y = check_array(labels, "labels", ndim=1, dtype_kind="biu")
        return float(((self.predict_proba(features) > 0.5) == (y == 1)).mean())


def fit_probe(
    features: Any, labels: Any, *, steps: int = 300, lr: float = 1.0, l2: float = 1e-2
) -> LinearProbe:
    """Fit a :class:`LinearProbe` to ``features (n, d)`` and 0/1 ``labels (n,)``: standardise
    each feature, then ``steps`` full-batch :func:`probe_step` s from ``w = 0, b = 0``.

    >>> x = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])
    >>> probe = fit_probe(x, np.array([0, 0, 1, 1]))
    >>> probe.accuracy(x, np.array([0, 0, 1, 1])), probe.scale.tolist()
    (1.0, [1.118033988749895, 1.0])
    """
    x = check_array(features, "features", ndim=2, dtype_kind="fiu").astype(np.float64)
    y = check_array(labels, "labels", ndim=1, dtype_kind="biu")
    if len(y) != len(x) or not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels: expected {len(x)} labels, each 0 or 1, got {describe(y)}")
    steps = check_nonnegative_int(steps, "steps")
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    l2 = check_real(l2, "l2", low=0.0)
    mean = x.mean(axis=0)
    spread = x.std(axis=0)
    scale = np.where(spread > 1e-12 * (1.0 + np.abs(mean)), spread, 1.0)
    z = (x - mean) / scale  # (n, d) standardised
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        w, b = probe_step(w, b, z, y, lr, l2)
    return LinearProbe(mean, scale, w, b)
