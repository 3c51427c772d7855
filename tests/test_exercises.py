"""The exercise checker: reference solutions pass, typical mistakes get the right message."""

import importlib
import json
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import genai_notes.exercises as exercises
from genai_notes import bigram
from genai_notes.exercises import Mistake, Question, bind, ch01, compare, questions
from genai_notes.exercises.core import STRICT_ENV_VAR, uses_name

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
    assert "values differ; the largest difference is at row 1, column 0" in feedback.message
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
    q = Question("value of an unsupported type", kind="value", reference=lambda: object())
    with pytest.raises(
        TypeError, match="expected: cannot check answers against a value of type object"
    ):
        q.evaluate(1)


def test_bad_question_definitions_are_rejected():
    with pytest.raises(ValueError, match="kind: expected one of"):
        Question("x", kind="essay", reference=lambda: 1)
    with pytest.raises(TypeError, match="reference: expected a function"):
        Question("x", kind="value", reference=3)
    with pytest.raises(ValueError, match="cases"):
        Question("x", kind="function", reference=abs)
    with pytest.raises(TypeError, match="cases"):
        Question("x", kind="function", reference=abs, cases=[1])


def test_value_question_and_printing(capsys, monkeypatch):
    monkeypatch.delenv(STRICT_ENV_VAR, raising=False)
    q = Question(
        "log 2", kind="value", reference=lambda: float(np.log(2)), hints=["one", "two"], name="q1"
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


def test_strict_mode_turns_a_failed_check_into_an_error(monkeypatch, capsys):
    q = Question("one", kind="value", reference=lambda: 1, name="q1")
    f = Question("double", kind="function", reference=lambda x: 2 * x, cases=[(1,)], name="q2")

    def stub(x):
        raise NotImplementedError

    monkeypatch.setenv(STRICT_ENV_VAR, "1")
    with pytest.raises(AssertionError, match="q1: Not quite"):
        q.check(2)
    # A notebook whose solution is missing must fail under strict mode too.
    with pytest.raises(AssertionError, match="q1: Not attempted yet"):
        q.check(...)
    with pytest.raises(AssertionError, match="q2: Not attempted yet"):
        f.check(stub)
    q.check(1)  # a correct answer passes
    monkeypatch.setenv(STRICT_ENV_VAR, "0")
    q.check(2)  # prints only
    q.check(...)
    out = capsys.readouterr().out
    assert "Correct" in out and "Not quite" in out and "Not attempted yet" in out


# --- every listed mistake gets its own diagnosis ---------------------------------------------

ALL_MISTAKES = [
    (f"{m}.{q.name}.{mistake.wrong.__name__}", q, mistake)
    for m, q in ALL_QUESTIONS
    for mistake in q.mistakes
]


@pytest.mark.parametrize(
    ("label", "question", "mistake"), ALL_MISTAKES, ids=[a[0] for a in ALL_MISTAKES]
)
def test_every_listed_mistake_gets_its_own_diagnosis(label, question, mistake):
    answer = mistake.wrong if question.kind == "function" else mistake.wrong()
    with np.errstate(all="ignore"):  # some mistakes overflow on purpose
        feedback = question.evaluate(answer)
    assert feedback.status == "incorrect", feedback
    assert mistake.why in feedback.message
    others = [m.why for m in question.mistakes if m is not mistake]
    assert not any(why in feedback.message for why in others)


def test_a_plain_wrong_answer_gets_no_mistake_diagnosis():
    feedback = ch01.q1.evaluate(lambda text, alphabet: ch01.count_bigrams(text, alphabet) * 2)
    assert feedback.status == "incorrect" and "Also:" not in feedback.message


# --- chapter 1: the mistakes the issue lists, written as a learner would -----------------------


def test_ch01_division_without_keepdims_is_rejected_and_explained():
    feedback = ch01.q2.evaluate(lambda c, a: (c + a) / (c + a).sum(axis=1))
    assert feedback.status == "incorrect"
    assert "without keepdims=True" in feedback.message


def test_ch01_counts_are_reported_as_pairs_of_characters():
    def skips_the_start(text, alphabet):
        counts = np.zeros((len(alphabet), len(alphabet)), dtype=int)
        for a, b in zip(text, text[1:]):
            counts[alphabet.index(a), alphabet.index(b)] += 1
        return counts

    message = ch01.q1.evaluate(skips_the_start).message
    assert "at the pair ('\\n', 'a'): expected 1, got 0" in message
    assert "index" not in message
    assert "begin with previous = '\\n'" in message


def test_ch01_float_counts_are_rejected():
    def float_counts(text, alphabet):
        counts = np.zeros((len(alphabet), len(alphabet)))  # no dtype=int
        previous = "\n"
        for char in text:
            counts[alphabet.index(previous), alphabet.index(char)] += 1
            previous = char
        return counts

    feedback = ch01.q1.evaluate(float_counts)
    assert feedback.status == "incorrect"
    assert "expected an array of integers" in feedback.message
    assert "dtype=int" in feedback.message


@pytest.mark.parametrize(
    ("wrap", "diagnosis"),
    [
        (lambda s: s + "\n", "the step from the start is missing"),
        (lambda s: "\n" + s, "the step to the end is missing"),
        (lambda s: s, "the steps from the start and to the end are missing"),
    ],
)
def test_ch01_a_forgotten_start_or_end_step_is_named(wrap, diagnosis):
    def log_prob(probs, alphabet, sentence):
        chars = wrap(sentence)
        return sum(
            np.log(probs[alphabet.index(a), alphabet.index(b)]) for a, b in zip(chars, chars[1:])
        )

    feedback = ch01.q3.evaluate(log_prob)
    assert feedback.status == "incorrect" and diagnosis in feedback.message


# --- rules that hold for every checker -------------------------------------------------------


def test_a_near_miss_is_rejected_at_the_default_tolerance():
    q = Question("e", kind="value", reference=lambda: 2.718281828)
    assert not q.evaluate(2.7183).correct  # off by 7e-6 relative
    assert not q.evaluate(2.72).correct
    assert q.evaluate(2.718281828 * (1 + 1e-9)).correct
    f = Question("halve", kind="function", reference=lambda x: x / 2, cases=[(np.ones(3),)])
    assert not f.evaluate(lambda x: x / 2 + 1e-4).correct
    assert compare(1.0, 1.0001) == "expected 1, got 1.0001 (off by 0.0001)"


def test_true_is_not_accepted_for_one():
    assert compare(1, True) == "expected a number, got bool True"
    assert compare(1.0, np.True_).startswith("expected a number, got bool")
    assert compare([1, 0], [True, False]) == "item 0: expected a number, got bool True"
    assert compare(np.array([1, 0]), np.array([True, False])) == (
        "expected an array of integers (dtype int64), got a boolean array (True/False)"
    )
    q = Question("one", kind="value", reference=lambda: 1)
    assert not q.evaluate(True).correct


def test_integer_tasks_reject_floats_and_masks_reject_numbers():
    assert compare(2, 2.0) == "expected an integer, got float 2.0"
    assert compare(2, np.int64(2)) is None
    assert compare(2.0, 2) is None  # an integer is a fine real number
    assert compare(np.array([1, 2]), np.array([1.0, 2.0])) == (
        "expected an array of integers (dtype int64), got an array of floats (dtype float64)"
    )
    mask = np.array([[True, False], [True, True]])
    assert compare(mask, mask.astype(float)) == (
        "expected a boolean array (True/False), got an array of floats (dtype float64)"
    )
    assert compare(mask, mask.astype(int)).startswith("expected a boolean array")
    assert compare(np.ones(2), np.array([True, True])).startswith("expected an array of floats")


def test_positions_are_named_by_the_question():
    def locate(path):
        return f"query {path[1]}, key {path[2]}" if len(path) == 3 else None

    expected = (np.zeros(2), np.eye(2))
    got = (np.zeros(2), np.array([[1.0, 0.0], [0.5, 0.5]]))
    message = compare(expected, got, locate=locate)
    assert message == (
        "item 1: 2 of 4 values differ; the largest difference is at query 1, key 0: "
        "expected 0, got 0.5"
    )
    assert compare(expected, got).endswith("at index (1, 0): expected 0, got 0.5")


def test_long_arguments_are_shown_once_not_with_their_type_twice():
    from genai_notes.exercises import ch02

    message = ch02.q5.evaluate(lambda tok, texts, price: 1.0).message
    assert "CharTokenizer(vocab_size=" in message
    assert "CharTokenizer CharTokenizer" not in message


def test_mistakes_must_be_told_apart_by_the_cases():
    def double(x):
        return 2 * x

    def plus_one(x):
        return x + 1

    def also_plus_one(x):
        return 1 + x

    with pytest.raises(ValueError, match="mistakes: double agrees with the reference"):
        Question(
            "d", kind="function", reference=double, cases=[(1,)], mistakes=[Mistake(double, "no")]
        )
    with pytest.raises(ValueError, match="plus_one and also_plus_one give the same outputs"):
        Question(
            "d",
            kind="function",
            reference=double,
            cases=[(2,), (3,)],
            mistakes=[Mistake(plus_one, "a"), Mistake(also_plus_one, "b")],
        )
    with pytest.raises(ValueError, match="must be taken from the question's own cases"):
        Question(
            "d",
            kind="function",
            reference=double,
            cases=[(2,)],
            mistakes=[Mistake(plus_one, "a", [(3,)])],
        )
    with pytest.raises(TypeError, match="mistakes: expected a sequence of Mistake"):
        Question("d", kind="function", reference=double, cases=[(2,)], mistakes=[plus_one])
    # On (1,) "plus one" equals "double": the diagnosis needs every case, so (1,) alone cannot
    # name the mistake, and a question built on it refuses the rule.
    with pytest.raises(ValueError, match="plus_one agrees with the reference"):
        Question(
            "d", kind="function", reference=double, cases=[(1,)], mistakes=[Mistake(plus_one, "a")]
        )


def test_bind_names_questions_after_their_variables():
    namespace = {"q2": Question("b", kind="value", reference=lambda: 2), "other": 3}
    namespace["q1"] = Question("a", kind="value", reference=lambda: 1)
    assert [q.name for q in bind(namespace)] == ["q1", "q2"]
    assert namespace["q1"].name == "q1"
    assert bind(namespace) == [namespace["q1"], namespace["q2"]]  # binding twice is harmless
    with pytest.raises(ValueError, match="bound to both 'q1' and 'again'"):
        bind({"q1": namespace["q1"], "again": namespace["q1"]})
    with pytest.raises(ValueError, match="the question named 'q1' is held by 'q3'"):
        bind({"q3": namespace["q1"]})
    for module in CHAPTER_MODULES:  # every chapter binds its questions
        for name, value in vars(module).items():
            if isinstance(value, Question):
                assert value.name == name


def test_forbidden_names_are_found_in_helpers_closures_and_strings():
    assert uses_name(lambda t: [len(c.encode()) for c in t], "encode")
    method = "encode"
    assert uses_name(lambda t: [len(getattr(c, "encode")()) for c in t], method)  # noqa: B009

    def helper(char):
        return len(char.encode("utf-8"))

    def calls_a_helper(text):
        return [helper(c) for c in text]

    assert uses_name(calls_a_helper, "encode")

    def outer():
        def inner(text):
            return [helper(c) for c in text]

        return inner

    assert uses_name(outer(), "encode")
    assert not uses_name(lambda t: [ord(c) for c in t], "encode")
    assert not uses_name(len, "encode")  # a builtin has no code to read


# --- each notebook's own solution cells pass its checks ---------------------------------------

NOTEBOOKS = sorted(
    (Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")
)


def _imports_of(source: str):
    """The top-level import statements of a cell, compiled on their own."""
    import ast

    try:
        body = ast.parse(source).body
    except SyntaxError:
        return None
    imports = [node for node in body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return (
        compile(ast.Module(body=imports, type_ignores=[]), "<imports>", "exec") if imports else None
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_each_notebook_solution_passes_its_check(path, monkeypatch, capsys):
    """Run the notebook's solution cells, then its check cells, in strict mode."""
    monkeypatch.setenv(STRICT_ENV_VAR, "1")
    module = exercises.chapter_module(int(path.name[:2]))
    if module is None:
        pytest.skip("no exercises")
    namespace = {"np": np, "ex": module}
    checks = 0
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        is_check = cell["cell_type"] == "code" and source.startswith("ex.q") and ".check(" in source
        # The chapter's own imports too: a solution may use what the chapter imported.
        imports = _imports_of(source) if cell["cell_type"] == "code" else None
        if imports is not None:
            exec(imports, namespace)
        if "solution" in cell["metadata"].get("tags", []) or is_check:
            exec(source, namespace)
            checks += is_check
    assert checks == len(questions(module))
    assert capsys.readouterr().out.count("Correct: well done.") == checks


def test_question_options_are_checked():
    with pytest.raises(TypeError, match="forbid: expected a dict"):
        Question("x", kind="value", reference=lambda: 1, forbid=["encode"])
    with pytest.raises(TypeError, match="locate: expected a function"):
        Question("x", kind="value", reference=lambda: 1, locate="row")


def test_infinities_in_the_same_place_compare_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compare(np.array([np.inf, 1.0]), np.array([np.inf, 1.0])) is None
        message = compare(np.array([np.inf, 1.0]), np.array([np.inf, 2.0]))
    assert (
        message == "1 of 2 values differ; the largest difference is at index 1: expected 1, got 2"
    )
