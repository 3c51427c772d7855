"""Reading returned notebooks without running them: which files, which student, which chapter.

Nothing here executes a submission. A notebook is parsed as JSON, its cells as text, and the
only thing read from its code is the literal ``student_name = "..."`` (with :mod:`ast`, never
``eval``) and the names in its check cells (``ex.q5.check(answer)``).

>>> cells = [{"cell_type": "code", "source": 'student_name = "Ada L."'}]
>>> student_name(cells)
'Ada L.'
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from genai_notes.exercises import chapter_module, questions

__all__ = [
    "Submission",
    "NAME_VARIABLE",
    "find_submissions",
    "read_submission",
    "student_name",
    "answer_names",
]

NAME_VARIABLE = "student_name"  # the student copy's first code cell asks for it
_IMPORT = re.compile(
    r"\bfrom\s+genai_notes\.exercises\s+import\s+ch(\d+)\b|genai_notes\.exercises\.ch(\d+)"
)
_CHECK = re.compile(r"\bq(\d+)\.check\(\s*([A-Za-z_]\w*)\s*\)")


@dataclass(frozen=True)
class Submission:
    """One returned notebook, read but not run.

    file: how the CSV names it: its path relative to the folder it was found in (or its name).
    student: ``student_name`` from the notebook if filled in, else ``file`` without ``.ipynb``.
    chapter: the chapter it belongs to, or None if that could not be read.
    notebook: the parsed notebook, or None if it could not be read.
    problem: why it cannot be graded (not JSON, wrong chapter, ...), or None.
    """

    path: Path
    file: str
    student: str
    chapter: int | None
    notebook: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    problem: str | None = None


def find_submissions(paths: Sequence[str | Path]) -> list[tuple[Path, str]]:
    """``(path, file label)`` for every ``.ipynb`` named or found in the folders named, sorted
    by label. Hidden folders (``.ipynb_checkpoints``) are skipped.

    >>> find_submissions([])
    []
    """
    found: list[tuple[Path, str]] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for item in sorted(path.rglob("*.ipynb")):
                relative = item.relative_to(path)
                if not any(part.startswith(".") for part in relative.parts):
                    found.append((item, relative.as_posix()))
        elif path.is_file():
            found.append((path, path.name))
        else:
            raise FileNotFoundError(f"submissions: no such notebook or folder: {str(path)!r}")
    return sorted(set(found), key=lambda item: (item[1], str(item[0])))


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _code_cells(cells: Iterable[Any]) -> list[dict[str, Any]]:
    return [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]


def student_name(cells: Sequence[Any]) -> str | None:
    """The first non-empty string literal assigned to ``student_name`` in a code cell."""
    for cell in _code_cells(cells):
        try:
            tree = ast.parse(_source(cell))
        except (SyntaxError, ValueError):
            continue  # IPython magics: not plain Python
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == NAME_VARIABLE for t in node.targets)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                name = " ".join(node.value.value.split())
                if name:
                    return name
    return None


def _chapter_of(notebook: dict[str, Any]) -> int | None:
    """The chapter from the notebook's metadata, else from its exercises import."""
    meta = notebook.get("metadata")
    block = meta.get("genai_notes") if isinstance(meta, dict) else None
    number = block.get("chapter") if isinstance(block, dict) else None
    if isinstance(number, int) and not isinstance(number, bool):
        return number
    for cell in _code_cells(notebook.get("cells", [])):
        match = _IMPORT.search(_source(cell))
        if match:
            return int(match.group(1) or match.group(2))
    return None


def read_submission(path: str | Path, file: str, chapter: int | None = None) -> Submission:
    """Read one submission; ``chapter``, if given, is the chapter every submission must be."""
    path = Path(path)
    fallback = file[: -len(".ipynb")] if file.endswith(".ipynb") else file

    def unusable(problem: str, number: int | None = None, name: str | None = None) -> Submission:
        return Submission(path, file, name or fallback, number, None, problem)

    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return unusable("not a notebook: the file is not UTF-8 text")
    except json.JSONDecodeError as exc:
        return unusable(f"not a notebook: the file is not valid JSON ({exc})")
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return unusable("not a notebook: the JSON has no list of cells")
    if notebook.get("nbformat") != 4:
        return unusable(f"not a notebook in format 4 (nbformat is {notebook.get('nbformat')!r})")
    name = student_name(notebook["cells"])
    found = _chapter_of(notebook)
    if found is None:
        return unusable(
            "no chapter found: neither its metadata nor an exercises import", None, name
        )
    if chapter is not None and found != chapter:
        return unusable(
            f"wrong chapter: this is chapter {found}'s notebook, not chapter {chapter}'s",
            found,
            name,
        )
    if chapter_module(found) is None:
        return unusable(f"chapter {found} has no exercises to grade", found, name)
    return Submission(path, file, name or fallback, found, notebook)


def answer_names(module: ModuleType, cells: Sequence[Any]) -> dict[str, str | None]:
    """For each question of the chapter, the name its answer has in the notebook.

    The question says (:attr:`~genai_notes.exercises.Question.answer_name`); only a value
    question that does not say takes the name from the submission's own check cell
    (``ex.q5.check(answer)``), which is the student's choice of answer anyway.
    """
    checked: dict[str, str] = {}
    for cell in _code_cells(cells):
        for number, name in _CHECK.findall(_source(cell)):
            checked.setdefault(f"q{number}", name)
    return {q.name or "": q.answer_name or checked.get(q.name or "") for q in questions(module)}
