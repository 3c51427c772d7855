"""The exercise checker: ``q.check(answer)``, ``q.hint()`` and ``q.solution()``.

Each chapter has a module (``genai_notes.exercises.ch01``, ...) whose questions are
:class:`Question` objects. A question is either

* ``kind="value"``: the learner computes a value (a number, an array, a string, a list or a
  dict) and the checker compares it with the reference solution's value; or
* ``kind="function"``: the learner writes a function, and the checker calls it on a set of
  test cases and compares every result with the reference function's.

Feedback is specific: the wrong type, the wrong shape (expected versus got), or where the
values differ and by how much (see :mod:`genai_notes.exercises.compare`). An answer that is
still ``...`` (or a function that raises ``NotImplementedError``) is *not attempted yet*.

**Everything about one question sits together** in its chapter module: the reference solution,
named as the learner's function is named (``solution()`` prints its source), the test cases,
the typical :class:`Mistake` s with what each one means, and the hints. A mistake is a wrong
solution written out; when a learner's function gives the same outputs as a mistake on every
test case, the checker names that mistake. The question checks, when it is built, that each
mistake differs from the reference on some case and that no two mistakes are
indistinguishable, so the test cases always tell every listed mistake apart.

**Names come from the variables.** A chapter module writes ``q1 = Question(...)`` and ends with
``bind(globals())``, which names each question after its variable, so a name is never
written twice and can never disagree with the variable the notebook uses. ``bind`` also gives
the module a ``progress()`` function: in a notebook, ``ex.progress()`` prints which of the
chapter's exercises were checked and passed in this kernel session (only ``check`` counts;
``evaluate`` records nothing). The grader (:mod:`genai_notes.grading`) uses the same names
(``q1`` and the learner's name for the answer, :attr:`Question.answer_name`) and the same
words (:data:`STATUS_WORDS`).

>>> def double(x):
...     return 2 * x
>>> def add_one(x):
...     return x + 1
>>> q = Question("Write double(x).", kind="function", reference=double, cases=[(1,), (2.5,)],
...              mistakes=[Mistake(add_one, "double the number, do not add one to it")])
>>> namespace = {"q1": q}
>>> bind(namespace)
[Question('q1')]
>>> print(q.evaluate(lambda x: x + x))
Correct: well done.
>>> print(q.evaluate(lambda x: 1 + x))
Not quite: for input (2.5,): expected 5, got 3.5 (off by -1.5). Also: double the number,
  do not add one to it.
>>> print(q.evaluate(...))
Not attempted yet: replace the ... with your answer, then run the check again.
>>> q.check(lambda x: x + x)
Correct: well done.
>>> namespace["progress"]()
Exercises checked in this session: 1 of 1 passed.
  q1  double  passed
"""

from __future__ import annotations

import copy
import inspect
import os
import textwrap
import types
import warnings
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genai_notes._checks import describe
from genai_notes.exercises.compare import compare, type_name

__all__ = [
    "Feedback",
    "Mistake",
    "Question",
    "bind",
    "compare",
    "progress_report",
    "uses_name",
    "STATUS_WORDS",
    "NOT_CHECKED",
    "STRICT_ENV_VAR",
]

# When this environment variable is "1", a check that is not correct (a wrong answer, or one
# not attempted yet) raises instead of printing. The test suite sets it, so every reference
# solution in a notebook must pass its own check, and a notebook with a missing solution fails.
STRICT_ENV_VAR = "GENAI_NOTES_STRICT_EXERCISES"

KINDS = ("value", "function")

# The words for a check's outcome, shared by ``ex.progress()`` and the grader's CSV.
STATUS_WORDS = {"correct": "passed", "incorrect": "failed", "not attempted": "not attempted"}
NOT_CHECKED = "not checked"
_RAISED = object()  # marks a test case on which a function raised


@dataclass(frozen=True)
class Feedback:
    """The result of checking one answer. ``status`` is "correct", "incorrect" or
    "not attempted"."""

    status: str
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def __str__(self) -> str:
        prefix = {
            "correct": "Correct",
            "incorrect": "Not quite",
            "not attempted": "Not attempted yet",
        }
        # Wrapped so that long messages stay readable in a notebook without scrolling.
        return textwrap.fill(
            f"{prefix[self.status]}: {self.message}", width=88, subsequent_indent="  "
        )


@dataclass(frozen=True)
class Mistake:
    """A typical wrong solution and what it means.

    wrong: the mistake written out, with the reference's arguments (no arguments for a value
        question).
    why: the diagnosis shown to the learner whose answer behaves exactly like ``wrong``.
    cases: the test cases on which to compare, if not all of the question's (for a mistake
        that only makes sense on some inputs, such as square ones).
    """

    wrong: Callable[..., Any]
    why: str
    cases: Sequence[tuple] | None = None


def _show(value: Any) -> str:
    """One argument of a test case on one line: small arrays in full, others shortened."""
    if isinstance(value, np.ndarray):
        if value.size <= 16:
            text = np.array2string(value, separator=", ").replace("\n", "")
            return "np.array(" + " ".join(text.split()) + ")"
        return describe(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:55] + "..."


def _show_args(case: tuple) -> str:
    shown = [_show(arg) for arg in case]
    return "(" + ", ".join(shown) + ("," if len(shown) == 1 else "") + ")"


def _quietly(function: Callable[..., Any], case: tuple) -> Any:
    """Run a mistake or a repeat of the learner's function: no warnings, errors become a mark."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return function(*copy.deepcopy(case))
    except Exception:
        return _RAISED


def _code_objects(function: Any, seen: set[int], depth: int = 0) -> list[types.CodeType]:
    """The code of ``function``, of the functions nested in it, and of the module-level
    functions and closures it calls, so a forbidden call cannot hide in a helper."""
    code = getattr(function, "__code__", None)
    if not isinstance(code, types.CodeType) or id(code) in seen or depth > 8:
        return []
    seen.add(id(code))
    found, stack = [], [code]
    while stack:
        current = stack.pop()
        found.append(current)
        stack += [c for c in current.co_consts if isinstance(c, types.CodeType)]
    helpers = [getattr(function, "__globals__", {}).get(n) for c in found for n in c.co_names]
    helpers += [cell.cell_contents for cell in (function.__closure__ or ()) if _filled(cell)]
    for helper in helpers:
        if isinstance(helper, types.FunctionType):
            found += _code_objects(helper, seen, depth + 1)
    return found


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises ValueError
    except ValueError:
        return False
    return True


def uses_name(function: Any, name: str) -> bool:
    """Whether ``function`` (or a helper it calls) uses ``name``: a method or attribute
    (``text.encode``), a global, or the name as a string (``getattr(text, "encode")``).

    >>> uses_name(lambda text: [len(c.encode()) for c in text], "encode")
    True
    >>> uses_name(lambda text: [ord(c) for c in text], "encode")
    False
    """
    for code in _code_objects(function, set()):
        if name in code.co_names or name in code.co_consts:
            return True
    return False


@dataclass
class Question:
    """One auto-checked exercise.

    prompt: the task in one or two sentences.
    kind: "value" or "function".
    reference: for "value", a function of no arguments that returns the expected value; for
        "function", the reference function, called on every tuple of arguments in ``cases``.
        Written for reading, with the names the learner is asked for: ``solution()`` prints it.
    cases: argument tuples for a function question, chosen so that each mistake differs.
    hints: shown one at a time by :meth:`hint`.
    mistakes: typical wrong solutions (:class:`Mistake`), each with its diagnosis.
    diagnose: rules ``rule(output, case) -> message or None`` for properties every right answer
        has, such as "row 2 does not sum to 1"; they speak when no listed mistake matches.
    forbid: ``{name: why}``: the task forbids using ``name`` (such as ``encode``); a function
        that uses it is rejected with ``why``.
    locate: ``locate(case, path) -> words`` names a position of the output in the learner's
        terms (``path`` as in :func:`compare`): "the pair ('\\n', 'a')", not "index (0, 1)".
    rtol, atol: the tolerance for numbers.
    answer: the name the notebook gives the learner's answer, when it is not the reference's
        own name (see :attr:`answer_name`).
    name: set by :func:`bind` from the variable that holds the question.
    """

    prompt: str
    kind: str
    reference: Callable[..., Any]
    cases: Sequence[tuple] = ()
    hints: Sequence[str] = ()
    mistakes: Sequence[Mistake] = ()
    diagnose: Sequence[Callable[[Any, tuple], str | None]] = ()
    forbid: Mapping[str, str] | None = None
    locate: Callable[[tuple, tuple], str | None] | None = None
    rtol: float = 1e-6
    atol: float = 1e-8
    answer: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {self.kind!r}")
        if not callable(self.reference):
            raise TypeError(f"reference: expected a function, got {describe(self.reference)}")
        if self.kind == "function" and not self.cases:
            raise ValueError("cases: a function question needs at least one test case")
        if any(not isinstance(case, tuple) for case in self.cases):
            raise TypeError("cases: expected a sequence of argument tuples")
        if any(not isinstance(m, Mistake) for m in self.mistakes):
            raise TypeError("mistakes: expected a sequence of Mistake(wrong, why)")
        if self.forbid is not None and not isinstance(self.forbid, Mapping):
            raise TypeError(
                f"forbid: expected a dict from names to reasons, got {describe(self.forbid)}"
            )
        if self.locate is not None and not callable(self.locate):
            raise TypeError(f"locate: expected a function, got {describe(self.locate)}")
        known = {id(case) for case in self.cases}
        for m in self.mistakes:
            if m.cases is not None and not all(id(case) in known for case in m.cases):
                raise ValueError(
                    f"mistakes: the cases of {m.wrong.__name__} must be taken from the "
                    "question's own cases"
                )
        if self.answer is not None and not str(self.answer).isidentifier():
            raise ValueError(f"answer: expected a Python name, got {self.answer!r}")
        self._hints_shown = 0
        self._last_check: Feedback | None = None  # the session record, for progress()
        self._expected = [self.reference(*copy.deepcopy(case)) for case in self._all_cases()]
        self._tells = [self._outputs(m.wrong, m.cases) for m in self.mistakes]
        self._check_mistakes_are_told_apart()

    def __repr__(self) -> str:
        return f"Question({self.name!r})"

    @property
    def answer_name(self) -> str | None:
        """The name of the learner's answer in the notebook: ``answer`` if given, else the
        reference's name for a function question (the learner's function is named like it),
        else None (a value question that does not say)."""
        if self.answer is not None:
            return self.answer
        return self.reference.__name__ if self.kind == "function" else None

    @property
    def status(self) -> str:
        """This session's record: the last :meth:`check` as "passed", "failed" or "not
        attempted", or "not checked" if it was never checked."""
        if self._last_check is None:
            return NOT_CHECKED
        return STATUS_WORDS[self._last_check.status]

    # -- building -------------------------------------------------------------------------

    def _all_cases(self) -> list[tuple]:
        return list(self.cases) if self.kind == "function" else [()]

    def _outputs(self, function: Callable[..., Any], cases: Sequence[tuple] | None) -> list[Any]:
        """``function`` on every case (``_RAISED`` where it fails, None where not compared)."""
        chosen = {id(case) for case in (self._all_cases() if cases is None else cases)}
        return [
            _quietly(function, case) if id(case) in chosen else None for case in self._all_cases()
        ]

    def _agrees(self, outputs: list[Any], tell: list[Any]) -> bool:
        """Whether ``outputs`` equal a mistake's outputs wherever that mistake gives one."""
        compared = False
        for output, wrong in zip(outputs, tell):
            if wrong is None or wrong is _RAISED:
                continue
            if output is _RAISED or output is None:
                return False
            if compare(wrong, output, self.rtol, self.atol) is not None:
                return False
            compared = True
        return compared

    def _differs_from_reference(self, tell: list[Any]) -> bool:
        return any(
            compare(expected, wrong, self.rtol, self.atol) is not None
            for expected, wrong in zip(self._expected, tell)
            if wrong is not None and wrong is not _RAISED
        )

    def _check_mistakes_are_told_apart(self) -> None:
        for mistake, tell in zip(self.mistakes, self._tells):
            if not self._differs_from_reference(tell):
                raise ValueError(
                    f"mistakes: {mistake.wrong.__name__} agrees with the reference on every "
                    "case, so it could never be diagnosed; add a case that tells them apart"
                )
        for i, (first, tell) in enumerate(zip(self.mistakes, self._tells)):
            for second in self.mistakes[i + 1 :]:
                if self._agrees(self._outputs(second.wrong, first.cases), tell):
                    raise ValueError(
                        f"mistakes: {first.wrong.__name__} and {second.wrong.__name__} give the "
                        "same outputs on every case; add a case that tells them apart"
                    )

    # -- checking -------------------------------------------------------------------------

    def _diagnosis(self, outputs: list[Any], index: int, case: tuple) -> str | None:
        """The listed mistake the answer behaves like, else the first property it breaks.

        A mistake is named when the answer gives its outputs on every case. Failing that (an
        answer with two mistakes at once), it is named when it is the only listed mistake whose
        output on the first failing case is the answer's.
        """
        for mistake, tell in zip(self.mistakes, self._tells):
            if self._agrees(outputs, tell):
                return mistake.why
        output = outputs[index]
        alone = [
            mistake
            for mistake, tell in zip(self.mistakes, self._tells)
            if tell[index] is not None
            and tell[index] is not _RAISED
            and compare(tell[index], output, self.rtol, self.atol) is None
        ]
        if len(alone) == 1:
            return alone[0].why
        for rule in self.diagnose:
            try:
                message = rule(output, case)
            except Exception:  # a diagnosis must never hide the main feedback
                message = None
            if message:
                return message
        return None

    def _compare(self, expected: Any, got: Any, case: tuple) -> str | None:
        locate = None
        if self.locate is not None:
            question_locate = self.locate

            def locate(path: tuple) -> str | None:
                return question_locate(case, path)

        return compare(expected, got, self.rtol, self.atol, locate)

    def _incorrect(self, message: str, outputs: list[Any], index: int, case: tuple) -> Feedback:
        extra = self._diagnosis(outputs, index, case)
        return Feedback("incorrect", message + (f". Also: {extra}." if extra else "."))

    def _evaluate_value(self, answer: Any) -> Feedback:
        message = self._compare(self._expected[0], answer, ())
        if message is None:
            return Feedback("correct", "well done.")
        return self._incorrect(message, [answer], 0, ())

    def _forbidden(self, answer: Any) -> Feedback | None:
        for name, why in (self.forbid or {}).items():
            if uses_name(answer, name):
                return Feedback("incorrect", f"your function uses {name}: {why}.")
        return None

    def _evaluate_function(self, answer: Any) -> Feedback:
        if not callable(answer):
            return Feedback(
                "incorrect", f"expected a function, got {type_name(answer)} {describe(answer)}."
            )
        for index, case in enumerate(self.cases):
            shown = _show_args(case)
            try:
                got = answer(*copy.deepcopy(case))
            except NotImplementedError:
                return Feedback(
                    "not attempted",
                    "your function still raises NotImplementedError; "
                    "write its body, then run the check again.",
                )
            except Exception as exc:  # the learner's code failed: report it, do not crash
                return Feedback(
                    "incorrect",
                    f"for input {shown}, your function raised {type(exc).__name__}: {exc}",
                )
            if index == 0:  # the function runs: now it may be judged on how it is written
                forbidden = self._forbidden(answer)
                if forbidden:
                    return forbidden
            if got is None:
                return Feedback(
                    "incorrect",
                    f"for input {shown}, your function returned None; "
                    "did you forget a return statement?",
                )
            message = self._compare(self._expected[index], got, case)
            if message:
                outputs = self._outputs(answer, None)
                outputs[index] = got  # the output already judged, even if a rerun differs
                return self._incorrect(f"for input {shown}: {message}", outputs, index, case)
        return Feedback("correct", "well done.")

    def evaluate(self, answer: Any) -> Feedback:
        """Check ``answer`` and return the :class:`Feedback` without printing it."""
        if answer is ... or answer is None:
            return Feedback(
                "not attempted", "replace the ... with your answer, then run the check again."
            )
        if self.kind == "value":
            return self._evaluate_value(answer)
        return self._evaluate_function(answer)

    def check(self, answer: Any) -> None:
        """Check ``answer`` and print specific feedback (in strict mode, raise unless correct)."""
        feedback = self.evaluate(answer)
        self._last_check = feedback
        if os.environ.get(STRICT_ENV_VAR) == "1" and not feedback.correct:
            raise AssertionError(f"{self.name}: {feedback}")
        print(feedback)

    # -- help -----------------------------------------------------------------------------

    def hint(self) -> None:
        """Print the next hint (they are revealed one at a time)."""
        if not self.hints:
            print(f"Hint ({self.name}): no hint for this one; see the solution if you are stuck.")
            return
        index = min(self._hints_shown, len(self.hints) - 1)
        self._hints_shown += 1
        counter = f" {index + 1}/{len(self.hints)}" if len(self.hints) > 1 else ""
        print(f"Hint{counter}: {self.hints[index]}")

    def solution(self) -> None:
        """Print the reference solution's source code."""
        source = textwrap.dedent(inspect.getsource(self.reference))
        print(f"Solution ({self.name}):\n\n{source}")


def progress_report(questions: Sequence[Question]) -> str:
    """Which of ``questions`` were checked and passed in this session, one line each.

    >>> q = Question("one", kind="value", reference=lambda: 1, answer="one", name="q1")
    >>> print(progress_report([q]))
    Exercises checked in this session: 0 of 1 passed.
      q1  one  not checked
    """
    if any(not isinstance(q, Question) for q in questions):
        raise TypeError("questions: expected a sequence of Question objects")
    passed = sum(q.status == "passed" for q in questions)
    rows = [(q.name or "?", q.answer_name or "", q.status) for q in questions]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(2)]
    lines = [f"Exercises checked in this session: {passed} of {len(rows)} passed."]
    for name, answer, status in rows:
        columns = [name.ljust(widths[0]), answer.ljust(widths[1]) if widths[1] else "", status]
        lines.append("  " + "  ".join(column for column in columns if column))
    return "\n".join(lines)


def bind(namespace: MutableMapping[str, Any]) -> list[Question]:
    """Name every :class:`Question` in ``namespace`` after its variable; return them in order.

    A chapter module calls ``bind(globals())`` once, after its last question. A question held
    by two variables, or already named otherwise, is an error: each exercise has one name.
    ``bind`` also puts a ``progress()`` function into ``namespace`` (unless it has one) that
    prints :func:`progress_report` of these questions.

    >>> q = Question("one", kind="value", reference=lambda: 1)
    >>> bind({"q1": q, "also_q1": q})
    Traceback (most recent call last):
    ...
    ValueError: namespace: one question is bound to both 'q1' and 'also_q1'
    """
    found: dict[int, str] = {}
    for variable, value in list(namespace.items()):
        if not isinstance(value, Question):
            continue
        if id(value) in found:
            raise ValueError(
                f"namespace: one question is bound to both {found[id(value)]!r} and {variable!r}"
            )
        if value.name is not None and value.name != variable:
            raise ValueError(
                f"namespace: the question named {value.name!r} is held by {variable!r}"
            )
        value.name = variable
        found[id(value)] = variable
    bound = [value for value in namespace.values() if isinstance(value, Question)]
    bound = sorted(bound, key=lambda q: (len(q.name or ""), q.name))

    def progress() -> None:
        """Print which of this chapter's exercises you checked and passed in this session."""
        print(progress_report(bound))

    namespace.setdefault("progress", progress)
    return bound
