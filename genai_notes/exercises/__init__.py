"""Auto-checked exercises, one module per chapter, in the Kaggle Learn pattern.

In a chapter notebook::

    from genai_notes.exercises import ch01 as ex
    ex.q1.check(my_answer)   # specific feedback
    ex.q1.hint()             # one hint at a time
    ex.q1.solution()         # the reference solution
    ex.progress()            # which exercises were checked and passed in this session

>>> from genai_notes.exercises import ch01
>>> [q.name for q in questions(ch01)]
['q1', 'q2', 'q3', 'q4']
"""

from __future__ import annotations

import importlib
from types import ModuleType

from genai_notes.exercises.core import (
    NOT_CHECKED,
    STATUS_WORDS,
    STRICT_ENV_VAR,
    Feedback,
    Mistake,
    Question,
    bind,
    compare,
    progress_report,
)

__all__ = [
    "Feedback",
    "Mistake",
    "Question",
    "bind",
    "compare",
    "questions",
    "chapter_module",
    "progress_report",
    "STATUS_WORDS",
    "NOT_CHECKED",
    "STRICT_ENV_VAR",
]


def questions(module: ModuleType) -> list[Question]:
    """The questions defined in a chapter's exercise module, in order (q1, q2, ...)."""
    found = [value for value in vars(module).values() if isinstance(value, Question)]
    return sorted(found, key=lambda q: (len(q.name or ""), q.name or ""))


def chapter_module(number: int) -> ModuleType | None:
    """The exercise module of chapter ``number``, or None if that chapter has no exercises."""
    try:
        return importlib.import_module(f"genai_notes.exercises.ch{number:02d}")
    except ModuleNotFoundError:
        return None
