"""The exercise checker: ``q.check(answer)``, ``q.hint()`` and ``q.solution()``.

Each chapter has a module (``genai_notes.exercises.ch01``, ...) whose questions are
:class:`Question` objects. A question is either

* ``kind="value"``: the learner computes a value (a number, an array, a string, a list or a
  dict) and the checker compares it with the reference solution's value; or
* ``kind="function"``: the learner writes a function, and the checker calls it on a set of
  test cases and compares every result with the reference function's.

Feedback is specific: the wrong type, the wrong shape (expected versus got), or where the
values differ and by how much. An answer that is still ``...`` (or a function that raises
``NotImplementedError``) is reported as *not attempted yet*.

>>> def double(x):
...     return 2 * x
>>> q = Question("q1", "Write double(x).", kind="function", reference=double, cases=[(1,), (2.5,)])
>>> print(q.evaluate(lambda x: x + x))
Correct: well done.
>>> print(q.evaluate(lambda x: x + 1))
Not quite: for input (2.5,): expected 5, got 3.5 (off by -1.5).
>>> print(q.evaluate(...))
Not attempted yet: replace the ... with your answer, then run the check again.
"""

from __future__ import annotations

import copy
import inspect
import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Number
from typing import Any

import numpy as np

from genai_notes._checks import describe

__all__ = ["Feedback", "Question", "compare", "mistake", "STRICT_ENV_VAR"]

# When this environment variable is "1", a failed check raises instead of printing. The test
# suite sets it, so every reference solution in a notebook must pass its own check.
STRICT_ENV_VAR = "GENAI_NOTES_STRICT_EXERCISES"

KINDS = ("value", "function")


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


def _type_name(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return "NumPy array"
    if callable(value) and not isinstance(value, type):
        return "function"
    return type(value).__name__


def _show_args(case: tuple) -> str:
    """Show test-case arguments on one line: small arrays in full, large ones by shape."""
    shown = []
    for arg in case:
        if isinstance(arg, np.ndarray) and arg.size <= 16:
            text = np.array2string(arg, separator=", ").replace("\n", "")
            shown.append("np.array(" + " ".join(text.split()) + ")")
        else:
            shown.append(describe(arg))
    return "(" + ", ".join(shown) + ("," if len(shown) == 1 else "") + ")"


def _compare_arrays(
    expected: np.ndarray, got: Any, where: str, rtol: float, atol: float
) -> str | None:
    if isinstance(got, (str, bytes)) or (
        not isinstance(got, (np.ndarray, list, tuple)) and not np.isscalar(got)
    ):
        return f"{where}expected a NumPy array, got {_type_name(got)} {describe(got)}"
    try:
        got = np.asarray(got)
    except ValueError:
        return f"{where}expected a NumPy array, got a ragged nested list"
    if got.dtype == object or got.dtype.kind not in "biuf":
        return f"{where}expected an array of numbers, got an array of dtype {got.dtype}"
    if got.shape != expected.shape:
        return f"{where}expected shape {expected.shape}, got {got.shape}"
    if expected.size == 0:
        return None
    expected_f, got_f = expected.astype(float), got.astype(float)
    if np.isnan(got_f).any() and not np.isnan(expected_f).any():
        index = tuple(int(i) for i in np.argwhere(np.isnan(got_f))[0])
        return f"{where}your array contains NaN, first at index {index}"
    close = np.isclose(got_f, expected_f, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    error = np.where(close, 0.0, np.abs(got_f - expected_f))
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(error), error.shape))
    shown = worst if len(worst) > 1 else worst[0]
    return (
        f"{where}{int((~close).sum())} of {close.size} values differ; the largest difference is "
        f"at index {shown}: expected {expected_f[worst]:.6g}, got {got_f[worst]:.6g}"
    )


def compare(
    expected: Any, got: Any, rtol: float = 1e-6, atol: float = 1e-8, where: str = ""
) -> str | None:
    """Compare an answer with the expected value. Returns None if they match, else a message.

    Supports numbers, booleans, strings, NumPy arrays, lists, tuples and dicts (recursively).

    >>> compare(np.zeros((4, 8)), np.zeros((8, 4)))
    'expected shape (4, 8), got (8, 4)'
    >>> compare({"a": 1}, {"b": 1})
    "missing key 'a'; unexpected key 'b'"
    >>> compare(object(), 1)
    Traceback (most recent call last):
    ...
    TypeError: expected: cannot check answers against a value of type object; supported types are numbers, bool, str, NumPy arrays, list, tuple and dict
    """
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)):
            return f"{where}expected True or False, got {_type_name(got)} {describe(got)}"
        return (
            None
            if bool(got) == bool(expected)
            else f"{where}expected {bool(expected)}, got {bool(got)}"
        )
    if isinstance(expected, Number) and not isinstance(expected, complex):
        if isinstance(got, np.ndarray) and got.shape == ():
            got = got.item()
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, Number):
            return f"{where}expected a number, got {_type_name(got)} {describe(got)}"
        if np.isnan(float(got)):
            return f"{where}expected {expected:.6g}, got NaN"
        if np.isclose(float(got), float(expected), rtol=rtol, atol=atol):
            return None
        return f"{where}expected {expected:.6g}, got {got:.6g} (off by {float(got) - float(expected):.3g})"
    if isinstance(expected, str):
        if not isinstance(got, str):
            return f"{where}expected a str, got {_type_name(got)} {describe(got)}"
        if got == expected:
            return None
        first = next(
            (i for i, (a, b) in enumerate(zip(expected, got)) if a != b),
            min(len(got), len(expected)),
        )
        return f"{where}expected {describe(expected)}, got {describe(got)} (they first differ at character {first})"
    if isinstance(expected, np.ndarray):
        return _compare_arrays(expected, got, where, rtol, atol)
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"{where}expected a {type(expected).__name__}, got {_type_name(got)} {describe(got)}"
        if len(got) != len(expected):
            return f"{where}expected {len(expected)} items, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            message = compare(e, g, rtol, atol, where=f"{where}item {i}: ")
            if message:
                return message
        return None
    if isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            return f"{where}expected a dict, got {_type_name(got)} {describe(got)}"
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        if missing or extra:
            parts = [f"missing key {describe(missing[0])}"] if missing else []
            parts += [f"unexpected key {describe(extra[0])}"] if extra else []
            return where + "; ".join(parts)
        for key in expected:
            message = compare(expected[key], got[key], rtol, atol, where=f"{where}at key {key!r}: ")
            if message:
                return message
        return None
    raise TypeError(
        f"expected: cannot check answers against a value of type {type(expected).__name__}; "
        "supported types are numbers, bool, str, NumPy arrays, list, tuple and dict"
    )


@dataclass
class Question:
    """One auto-checked exercise.

    name: short id used in messages, such as "q1".
    prompt: the task in one or two sentences.
    kind: "value" or "function".
    reference: for "value", a function of no arguments that returns the expected value; for
        "function", the reference function, called on every tuple of arguments in ``cases``.
    hints: shown one at a time by :meth:`hint`.
    diagnose: optional extra checks ``diagnose(answer_or_output) -> message or None`` that
        explain common mistakes, such as "row 2 does not sum to 1".
    """

    name: str
    prompt: str
    kind: str
    reference: Callable[..., Any]
    cases: Sequence[tuple] = ()
    hints: Sequence[str] = ()
    diagnose: Sequence[Callable[[Any], str | None]] = ()
    rtol: float = 1e-6
    atol: float = 1e-8
    _hints_shown: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {self.kind!r}")
        if not callable(self.reference):
            raise TypeError(f"reference: expected a function, got {describe(self.reference)}")
        if self.kind == "function" and not self.cases:
            raise ValueError("cases: a function question needs at least one test case")
        if any(not isinstance(case, tuple) for case in self.cases):
            raise TypeError("cases: expected a sequence of argument tuples")

    # -- checking -----------------------------------------------------------------------

    def _diagnose(self, answer: Any) -> str | None:
        for rule in self.diagnose:
            try:
                message = rule(answer)
            except Exception:  # a diagnosis must never hide the main feedback
                message = None
            if message:
                return message
        return None

    def _evaluate_value(self, answer: Any) -> Feedback:
        message = compare(self.reference(), answer, self.rtol, self.atol)
        if message is None:
            return Feedback("correct", "well done.")
        extra = self._diagnose(answer)
        return Feedback("incorrect", message + (f". Also: {extra}." if extra else "."))

    def _evaluate_function(self, answer: Any) -> Feedback:
        if not callable(answer):
            return Feedback(
                "incorrect", f"expected a function, got {_type_name(answer)} {describe(answer)}."
            )
        for case in self.cases:
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
            if got is None:
                return Feedback(
                    "incorrect",
                    f"for input {shown}, your function returned None; "
                    "did you forget a return statement?",
                )
            message = compare(self.reference(*copy.deepcopy(case)), got, self.rtol, self.atol)
            if message:
                extra = self._diagnose(got)
                return Feedback(
                    "incorrect",
                    f"for input {shown}: {message}" + (f". Also: {extra}." if extra else "."),
                )
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
        """Check ``answer`` and print specific feedback."""
        feedback = self.evaluate(answer)
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


def mistake(wrong: Callable[..., Any], cases: list[tuple], reference: Callable[..., Any], why: str):
    """A diagnose rule for :class:`Question`: if a learner's output equals what ``wrong``
    returns on some case where ``wrong`` differs from ``reference``, the learner probably made
    that mistake, and the rule returns ``why``; otherwise it returns None.

    ``wrong`` is a typical wrong solution, written out; ``cases`` are argument tuples.

    >>> rule = mistake(lambda x: x + 1, [(1,), (2,)], lambda x: 2 * x, "added instead of doubled")
    >>> rule(3), rule(4)
    ('added instead of doubled', None)
    """
    tells = []
    for case in cases:
        wrong_output = wrong(*copy.deepcopy(case))
        if compare(reference(*copy.deepcopy(case)), wrong_output) is not None:
            tells.append(wrong_output)
    if not tells:  # a rule that can never fire would hide a mistake in the test cases
        raise ValueError(f"wrong: {wrong.__name__} agrees with the reference on every case")

    def rule(output: Any) -> str | None:
        for tell in tells:
            if compare(tell, output) is None:
                return why
        return None

    return rule
