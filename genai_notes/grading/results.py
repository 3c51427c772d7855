"""The grader's results: one row per student and exercise, the CSV files and the terminal
table.

A row's ``status`` is one of the words of :data:`genai_notes.exercises.STATUS_WORDS`
("passed", "failed", "not attempted") or "error"; ``detail`` is the checker's feedback or
the exception's last line. A submission that could not be graded at all (not a notebook,
another chapter's, an endless loop, a kernel that died) has one row whose ``exercise`` is
"notebook". Rows are sorted by file and exercise and hold no times, so grading the same files
again writes the same CSV.

>>> rows = [Row("ada", "ada.ipynb", 1, "q1", "f", "passed", "well done.")]
>>> print(summary_table(rows))
student  file       chapter  passed  failed  not attempted  error
ada      ada.ipynb  1        1       0       0              0
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path

__all__ = [
    "Row",
    "COUNTED",
    "NOTEBOOK",
    "rows_csv",
    "summary_rows",
    "summary_csv",
    "summary_table",
    "write",
]

COUNTED = ("passed", "failed", "not attempted", "error")
NOTEBOOK = "notebook"  # the exercise of a row about the whole submission


@dataclass(frozen=True, order=True)
class Row:
    """One result: a student's answer to one exercise, or a whole-notebook error."""

    student: str
    file: str
    chapter: int | str  # "" when the chapter could not be read
    exercise: str  # q1, q2, ... as in ex.progress(), or "notebook"
    answer: str  # the name of the learner's answer, such as count_bigrams
    status: str
    detail: str


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def rows_csv(rows: Sequence[Row]) -> str:
    """The results CSV (a header, then one line per row)."""
    return _csv([f.name for f in fields(Row)], [astuple(r) for r in rows])


def summary_rows(rows: Sequence[Row]) -> list[tuple[object, ...]]:
    """Per chapter and exercise: ``(chapter, exercise, answer, passed, failed, not attempted,
    error)``, in the order the exercises first appear."""
    counts: dict[tuple[object, str, str], dict[str, int]] = {}
    for row in rows:
        key = (row.chapter, row.exercise, row.answer)
        counts.setdefault(key, dict.fromkeys(COUNTED, 0))[row.status] += 1
    ordered = sorted(counts, key=lambda k: (str(k[0]), k[1] == NOTEBOOK, len(k[1]), k[1]))
    return [(*key, *(counts[key][s] for s in COUNTED)) for key in ordered]


def summary_csv(rows: Sequence[Row]) -> str:
    """The per-chapter summary CSV."""
    return _csv(["chapter", "exercise", "answer", *COUNTED], summary_rows(rows))


def summary_table(rows: Sequence[Row]) -> str:
    """A short plain-text table, one line per submission, for the terminal."""
    per_file: dict[tuple[str, str, object], dict[str, int]] = {}
    for row in rows:
        key = (row.student, row.file, row.chapter)
        per_file.setdefault(key, dict.fromkeys(COUNTED, 0))[row.status] += 1
    table = [["student", "file", "chapter", *COUNTED]]
    for key in sorted(per_file, key=lambda k: (k[1], k[0])):
        table.append([str(v) for v in key] + [str(per_file[key][s]) for s in COUNTED])
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in table
    )


def write(rows: Sequence[Row], path: str | Path) -> tuple[Path, Path]:
    """Write the results to ``path`` and the summary beside it (``NAME_summary.csv``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = path.with_name(f"{path.stem}_summary{path.suffix or '.csv'}")
    path.write_text(rows_csv(rows), encoding="utf-8")
    summary.write_text(summary_csv(rows), encoding="utf-8")
    return path, summary
