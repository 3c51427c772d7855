"""Appendix B exercises: the references agree with hand-worked values and with the package,
right answers written another way pass, and every typical mistake gets its own diagnosis.

``genai_notes.exercises.appendix_b`` is not a chapter module (the appendix is a page of the
book, not a notebook), so ``tests/test_exercises.py`` does not collect it; the checks it runs on
every chapter's questions are repeated here.
"""

import math
import types

import numpy as np
import pytest

from genai_notes.attention import softmax, softmax_backward
from genai_notes.autograd import Tensor
from genai_notes.autograd import functional as F
from genai_notes.embeddings import unit_vectors
from genai_notes.exercises import appendix_b as ex
from genai_notes.exercises import questions

RNG = np.random.default_rng(0)
QUESTIONS = questions(ex)
MISTAKES = [(q, m) for q in QUESTIONS for m in q.mistakes]


def _message(question, answer):
    with np.errstate(all="ignore"):  # several mistakes overflow or take log 0 on purpose
        feedback = question.evaluate(answer)
    assert feedback.status == "incorrect", feedback
    return feedback.message


def _correct(question, answer):
    with np.errstate(all="ignore"):
        return question.evaluate(answer).correct


# --- the checks every chapter's questions get ---------------------------------------------


def test_six_questions_without_gaps():
    assert [q.name for q in QUESTIONS] == [f"q{i}" for i in range(1, 7)]


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.name)
def test_reference_passes_and_stubs_are_not_attempted(question, capsys):
    assert question.evaluate(question.reference).correct
    assert question.evaluate(...).status == "not attempted"

    def stub(*args):
        raise NotImplementedError

    assert question.evaluate(stub).status == "not attempted"
    assert len(question.hints) >= 2
    question.solution()
    assert f"def {question.reference.__name__}(" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("question", "mistake"), MISTAKES, ids=[f"{q.name}-{m.wrong.__name__}" for q, m in MISTAKES]
)
def test_every_listed_mistake_gets_its_diagnosis(question, mistake):
    assert mistake.why in " ".join(_message(question, mistake.wrong).split())


# --- q1: normalize_rows --------------------------------------------------------------------


def test_normalize_rows_by_hand_and_against_the_package():
    np.testing.assert_allclose(
        ex.normalize_rows(np.array([[3.0, 4.0], [0.0, -2.0]])), [[0.6, 0.8], [0.0, -1.0]]
    )
    x = RNG.normal(size=(5, 7))
    ours = ex.normalize_rows(x)
    np.testing.assert_allclose(np.sqrt((ours**2).sum(axis=-1)), 1.0, rtol=1e-12)
    np.testing.assert_allclose(ours, unit_vectors(x), rtol=1e-12)


def test_normalize_rows_other_right_answers_pass():
    assert _correct(ex.q1, lambda x: x / np.linalg.norm(x, axis=1, keepdims=True))
    assert _correct(ex.q1, lambda x: x / np.sqrt(np.sum(x**2, axis=-1))[:, None])


def test_normalize_rows_unlisted_mistake_is_told_by_the_row_length():
    message = _message(ex.q1, lambda x: x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1))
    assert "row 0 has length 0.8333, not 1" in message and "its own" in message


# --- q2: product_shape -----------------------------------------------------------------------


def _random_shapes(rng):
    """Two shapes whose product exists: (..., n, k) and (..., k, m) with broadcastable
    leading axes (some missing, some of size 1)."""
    n, k, m = rng.integers(1, 5, size=3)
    batch = list(rng.integers(1, 4, size=rng.integers(0, 3)))
    batch_a = [1 if rng.random() < 0.3 else b for b in batch][rng.integers(0, len(batch) + 1) :]
    batch_b = [1 if rng.random() < 0.3 else b for b in batch][rng.integers(0, len(batch) + 1) :]
    return (*batch_a, n, k), (*batch_b, k, m)


def test_product_shape_agrees_with_numpy():
    rng = np.random.default_rng(1)
    for _ in range(200):
        a_shape, b_shape = _random_shapes(rng)
        expected = (np.zeros(a_shape) @ np.zeros(b_shape)).shape
        assert ex.product_shape(a_shape, b_shape) == expected, (a_shape, b_shape)
    for (a_shape, b_shape), expected in zip(ex.q2.cases, ex.q2._expected):
        assert (np.zeros(a_shape) @ np.zeros(b_shape)).shape == tuple(expected)


def test_product_shape_other_right_answers_pass():
    assert _correct(ex.q2, lambda a, b: (np.zeros(a) @ np.zeros(b)).shape)
    assert _correct(ex.q2, lambda a, b: [*np.broadcast_shapes(a[:-2], b[:-2]), a[-2], b[-1]])


def test_product_shape_names_the_axis_that_differs():
    message = _message(ex.q2, lambda a, b: (*np.broadcast_shapes(a[:-2], b[:-2]), a[-2], 1))
    assert "axis 1 of the result: expected 4, got 1" in message


# --- q3: logsumexp --------------------------------------------------------------------------


def test_logsumexp_by_hand():
    assert ex.logsumexp(np.array([0.0, np.log(3.0)])) == pytest.approx(np.log(4.0))
    # e^1e4 + e^(1e4 - ln 3) = e^1e4 (1 + 1/3), whose log is 1e4 + ln(4/3)
    big = ex.logsumexp(np.array([[1e4, 1e4 - np.log(3.0)]]))
    np.testing.assert_allclose(big, [1e4 + np.log(4 / 3)], rtol=1e-15)
    np.testing.assert_allclose(
        ex.logsumexp(np.array([[-1e4, -1e4]])), [-1e4 + np.log(2.0)], rtol=1e-15
    )


def test_logsumexp_against_the_package_log_softmax():
    z = RNG.normal(size=(4, 6)) * 50
    log_softmax = F.log_softmax(Tensor(z, dtype=np.float64)).data
    np.testing.assert_allclose(z - ex.logsumexp(z)[:, None], log_softmax, atol=1e-12)
    small = RNG.normal(size=(3, 5))
    np.testing.assert_allclose(ex.logsumexp(small), np.log(np.exp(small).sum(-1)), rtol=1e-12)


def test_logsumexp_other_right_answers_pass():
    assert _correct(ex.q3, lambda z: np.logaddexp.reduce(z, axis=-1))


def test_logsumexp_library_call_is_refused():
    special = types.SimpleNamespace(logsumexp=lambda z: np.logaddexp.reduce(z, axis=-1))

    def answer(z):
        return special.logsumexp(z)  # as with scipy.special.logsumexp

    assert "the shift by the maximum yourself" in _message(ex.q3, answer)


def test_logsumexp_unlisted_mistake_is_told_by_the_bounds():
    message = _message(ex.q3, lambda z: z.max(axis=-1) - 1.0)
    assert "at least its largest logit and at most that plus log n" in message


# --- q4: softmax_jacobian ---------------------------------------------------------------------


def test_softmax_jacobian_by_hand():
    np.testing.assert_allclose(
        ex.softmax_jacobian(np.array([0.0, 0.0])), [[0.25, -0.25], [-0.25, 0.25]]
    )


@pytest.mark.parametrize("n", [2, 3, 6])
def test_softmax_jacobian_matches_finite_differences_and_the_backward(n):
    z = RNG.normal(size=n)
    h = 1e-6
    numeric = np.stack(
        [(softmax(z + h * e) - softmax(z - h * e)) / (2 * h) for e in np.eye(n)], axis=1
    )
    jacobian = ex.softmax_jacobian(z)
    np.testing.assert_allclose(jacobian, numeric, atol=1e-9)
    dy = RNG.normal(size=n)
    np.testing.assert_allclose(jacobian.T @ dy, softmax_backward(softmax(z), dy), atol=1e-14)


def test_softmax_jacobian_other_right_answers_pass():
    def by_broadcasting(z):
        y = softmax(z)
        return y[:, None] * (np.eye(len(y)) - y[None, :])

    assert _correct(ex.q4, by_broadcasting)


def test_softmax_jacobian_unstable_softmax_gives_nan_feedback():
    def naive(z):
        y = np.exp(z) / np.exp(z).sum()
        return np.diag(y) - np.outer(y, y)

    assert "contains NaN" in _message(ex.q4, naive)


def test_softmax_jacobian_unlisted_mistake_is_told_by_the_column_sums():
    def doubled(z):
        y = softmax(z)
        return 2 * np.diag(y) - np.outer(y, y)

    assert "column 0 sums to 0.5, not 0" in _message(ex.q4, doubled)


# --- q5: entropy ----------------------------------------------------------------------------


def test_entropy_by_hand():
    assert ex.entropy(np.array([0.5, 0.5])) == pytest.approx(math.log(2))
    np.testing.assert_allclose(
        ex.entropy(np.array([[1.0, 0.0, 0.0], [0.25, 0.25, 0.5]])),
        [0.0, 1.5 * math.log(2)],  # 2 * (1/4) ln 4 + (1/2) ln 2 = (3/2) ln 2
    )
    for n in (2, 5, 50):
        assert ex.entropy(np.full(n, 1 / n)) == pytest.approx(math.log(n))


def test_entropy_other_right_answers_pass():
    def with_mask(p):
        logs = np.zeros_like(p)
        np.log(p, out=logs, where=p > 0)
        return -(p * logs).sum(axis=-1)

    assert _correct(ex.q5, with_mask)


def test_entropy_unlisted_mistake_is_told_by_its_sign():
    message = _message(ex.q5, lambda p: -0.5 * ex.entropy(p))
    assert "row 0 has a negative entropy" in message


# --- q6: kl_divergence ----------------------------------------------------------------------


def test_kl_divergence_by_hand_and_against_the_cross_entropy_loss():
    # KL((1/2, 1/2) ‖ (9/10, 1/10)) = (1/2) ln(5/9) + (1/2) ln 5
    expected = 0.5 * math.log(5 / 9) + 0.5 * math.log(5)
    assert ex.kl_divergence(np.array([0.5, 0.5]), np.array([0.9, 0.1])) == pytest.approx(expected)
    # With a one-hot p the entropy is 0 and KL is the cross-entropy loss -log q[target].
    logits = RNG.normal(size=(4, 5))
    targets = np.array([0, 3, 1, 4])
    one_hot = np.eye(5)[targets]
    loss = F.cross_entropy(Tensor(logits, dtype=np.float64), targets).item()
    assert ex.kl_divergence(one_hot, softmax(logits)).mean() == pytest.approx(loss, rel=1e-12)


def test_kl_divergence_is_zero_only_for_equal_distributions_and_not_symmetric():
    p, q = softmax(RNG.normal(size=(3, 4))), softmax(RNG.normal(size=(3, 4)))
    np.testing.assert_allclose(ex.kl_divergence(p, p), 0.0, atol=1e-15)
    assert (ex.kl_divergence(p, q) > 0).all()
    assert not np.allclose(ex.kl_divergence(p, q), ex.kl_divergence(q, p))


def test_kl_divergence_other_right_answers_pass():
    assert _correct(ex.q6, lambda p, q: -(p * np.log(q)).sum(axis=-1) - ex.entropy(p))


def test_kl_divergence_unlisted_mistake_is_told_by_its_sign():
    message = _message(ex.q6, lambda p, q: ex.kl_divergence(p, q) - 1.0)
    assert "came out negative; the KL divergence is never negative" in message
