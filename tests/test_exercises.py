"""The exercise checker: reference solutions pass, typical mistakes get the right message."""

import importlib
import pkgutil

import numpy as np
import pytest

import genai_notes.exercises as exercises
from genai_notes import bigram
from genai_notes.exercises import Question, ch01, compare, questions
from genai_notes.exercises.core import STRICT_ENV_VAR

CHAPTER_MODULES = [
    importlib.import_module(f"genai_notes.exercises.{m.name}")
    for m in pkgutil.iter_modules(exercises.__path__)
    if m.name.startswith("ch")
]
ALL_QUESTIONS = [(m.__name__, q) for m in CHAPTER_MODULES for q in questions(m)]


@pytest.mark.parametrize(
    ("module", "question"), ALL_QUESTIONS, ids=[f"{m}.{q.name}" for m, q in ALL_QUESTIONS]
)
def test_every_reference_solution_passes_its_own_check(module, question):
    answer = question.reference if question.kind == "function" else question.reference()
    assert question.evaluate(answer).correct


@pytest.mark.parametrize(
    ("module", "question"), ALL_QUESTIONS, ids=[f"{m}.{q.name}" for m, q in ALL_QUESTIONS]
)
def test_every_question_reports_not_attempted_and_has_hints(module, question, capsys):
    assert question.evaluate(...).status == "not attempted"
    if question.kind == "function":

        def stub(*args):
            raise NotImplementedError

        assert question.evaluate(stub).status == "not attempted"
    assert question.hints, f"{module}.{question.name} has no hints"
    question.solution()
    assert "def " in capsys.readouterr().out


def test_chapter_modules_number_questions_without_gaps():
    for module in CHAPTER_MODULES:
        names = [q.name for q in questions(module)]
        assert names == [f"q{i}" for i in range(1, len(names) + 1)], module.__name__


# --- chapter 1: references agree with the package (an independent, vectorised route) --------


def test_ch01_references_agree_with_the_package():
    text = "the king eats .\nthe queen rules .\n"
    alphabet = "".join(sorted(set(text)))
    counts = ch01.q1.reference(text, alphabet)
    np.testing.assert_array_equal(counts, bigram.bigram_counts(text, alphabet))
    probs = ch01.q2.reference(counts, 1.0)
    model = bigram.CharBigram.fit(text, alpha=1.0, alphabet=alphabet)
    np.testing.assert_allclose(probs, model.probs)
    assert ch01.q3.reference(probs, alphabet, "the king .") == pytest.approx(
        model.log_prob("the king .")
    )
    np.testing.assert_allclose(
        ch01.q4.reference(probs[3], 0.7), bigram.apply_temperature(probs[3], 0.7)
    )


# --- feedback messages for typical mistakes ---------------------------------------------------


def test_wrong_shape_message_names_expected_and_got():
    message = ch01.q1.evaluate(
        lambda text, alphabet: ch01.q1.reference(text, alphabet).T[:-1]
    ).message
    assert "expected shape (3, 3), got (2, 3)" in message


def test_unnormalised_rows_get_a_row_sum_diagnosis():
    feedback = ch01.q2.evaluate(lambda counts, alpha: counts + alpha)
    assert feedback.status == "incorrect"
    assert "row 0 does not sum to 1 (it sums to 4)" in feedback.message


def test_wrong_values_message_says_where_and_by_how_much():
    feedback = ch01.q2.evaluate(lambda c, a: (c + a) / (c + a).sum(axis=0))
    assert "values differ; the largest difference is at index" in feedback.message
    assert "expected 0.5, got 0.666667" in feedback.message


def test_wrong_type_and_crashes_and_missing_return():
    assert "expected a function, got int" in ch01.q1.evaluate(3).message
    assert "raised ZeroDivisionError" in ch01.q1.evaluate(lambda t, a: 1 / 0).message
    assert "returned None" in ch01.q1.evaluate(lambda t, a: None).message


def test_positive_log_probability_is_diagnosed():
    feedback = ch01.q3.evaluate(lambda probs, alphabet, sentence: 1.0)
    assert "a log-probability can never be positive" in feedback.message


def test_learner_code_cannot_modify_the_test_cases():
    def mutating(counts, alpha):
        counts += 100  # in place: must not leak into the next case or the reference
        return ch01.q2.reference(counts - 100, alpha)

    assert ch01.q2.evaluate(mutating).correct


def test_compare_handles_containers_and_types():
    assert compare([1, 2], [1, 2]) is None
    assert compare([1, 2], [1, 3]) == "item 1: expected 2, got 3 (off by 1)"
    assert compare((1,), [1, 2]) == "expected 1 items, got 2"
    assert compare("abc", "abd") == "expected 'abc', got 'abd' (they first differ at character 2)"
    assert compare(True, 1) == "expected True or False, got int 1"
    assert compare(1.0, "1") == "expected a number, got str '1'"
    assert (
        compare({"a": [1.0]}, {"a": [1.5]})
        == "at key 'a': item 0: expected 1, got 1.5 (off by 0.5)"
    )
    assert compare(np.array([1.0, 2.0]), [1.0, 2.0]) is None  # a list is accepted for an array
    assert (
        compare(np.array([1.0]), np.array([np.nan]))
        == "your array contains NaN, first at index (0,)"
    )
    assert compare(np.zeros(2), "ab") == "expected a NumPy array, got str 'ab'"


def test_unknown_answer_type_is_a_clear_error():
    q = Question("q9", "value of an unsupported type", kind="value", reference=lambda: object())
    with pytest.raises(
        TypeError, match="expected: cannot check answers against a value of type object"
    ):
        q.evaluate(1)


def test_bad_question_definitions_are_rejected():
    with pytest.raises(ValueError, match="kind: expected one of"):
        Question("q1", "x", kind="essay", reference=lambda: 1)
    with pytest.raises(TypeError, match="reference: expected a function"):
        Question("q1", "x", kind="value", reference=3)
    with pytest.raises(ValueError, match="cases"):
        Question("q1", "x", kind="function", reference=abs)
    with pytest.raises(TypeError, match="cases"):
        Question("q1", "x", kind="function", reference=abs, cases=[1])


def test_value_question_and_printing(capsys, monkeypatch):
    monkeypatch.delenv(STRICT_ENV_VAR, raising=False)
    q = Question(
        "q1", "log 2", kind="value", reference=lambda: float(np.log(2)), hints=["one", "two"]
    )
    q.check(0.6931471805599453)
    q.check(0.5)
    q.check(...)
    q.hint()
    q.hint()
    q.hint()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Correct: well done."
    assert out[1].startswith("Not quite: expected 0.693147, got 0.5")
    assert out[2].startswith("Not attempted yet")
    assert out[3:] == ["Hint 1/2: one", "Hint 2/2: two", "Hint 2/2: two"]


def test_strict_mode_turns_a_failed_check_into_an_error(monkeypatch):
    q = Question("q1", "one", kind="value", reference=lambda: 1)
    monkeypatch.setenv(STRICT_ENV_VAR, "1")
    with pytest.raises(AssertionError, match="q1: Not quite"):
        q.check(2)
    monkeypatch.setenv(STRICT_ENV_VAR, "0")
    q.check(2)  # prints only
