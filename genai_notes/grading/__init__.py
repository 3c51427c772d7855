"""Grading returned notebooks with the package's own checkers: ``genai-notes grade``.

::

    genai-notes grade submissions/ -o results.csv --chapter 1

takes returned ``.ipynb`` files (as downloaded from Colab or Jupyter) or folders of them and
writes one row per student and exercise to ``results.csv`` (passed, failed with the checker's
diagnosis, not attempted, or error with the exception's last line), a per-chapter summary to
``results_summary.csv``, and a short table to the terminal.

**What is graded.** Each submission's code runs again in a fresh kernel of its own
(:mod:`genai_notes.grading.runner`), and the installed package's checkers evaluate every
question of the chapter on the names the student defined: ``count_bigrams`` for
``ch01.q1``, :attr:`Question.answer_name <genai_notes.exercises.Question.answer_name>`.
Stored outputs are never read, so an edited, replaced or deleted check cell, or a pasted
"Correct" output, changes nothing. The exercise names (``q1``) and status words are the ones
``ex.progress()`` shows in the notebook.

**Who.** A student is named by the ``student_name = "..."`` the student copy asks for in its
first code cell; if it is left empty, by the file's path relative to the folder given,
without ``.ipynb`` (so ``submissions/ada_lovelace.ipynb`` is ``ada_lovelace``).

**Untrusted code.** Every submission runs in a subprocess kernel with a wall-clock limit per
cell and per notebook, a memory cap where the OS has one
(:mod:`genai_notes.grading.kernel_limits`), and an empty temporary working folder; no student
code runs in the grader's process. An endless loop, a crash, ``sys.exit()``, a huge
allocation, a file that is not a notebook or another chapter's notebook each end as one clear
row, and the other submissions are still graded. What it does **not** give: no network or
filesystem sandbox (a submission can read and write whatever the user running the grader can,
and open connections), and no defence against code written to attack the grader from inside
its own kernel (rewriting NumPy, or racing the result file). For that, run the grader inside a
container with no network and only the submissions mounted, for example
``docker run --rm --network none -v "$PWD/submissions:/work/submissions:ro" ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from genai_notes.exercises import chapter_module, questions
from genai_notes.grading.results import NOTEBOOK, Row, summary_table, write
from genai_notes.grading.runner import Limits, run_notebook
from genai_notes.grading.submissions import (
    Submission,
    answer_names,
    find_submissions,
    read_submission,
)

__all__ = ["Limits", "Row", "grade", "grade_submission", "add_arguments", "run"]


_KERNEL_TOOLS = ("nbclient", "nbformat", "jupyter_client", "ipykernel")


def _require_kernel_tools() -> None:
    """The grader drives Jupyter kernels: say which package is missing, before any work."""
    import importlib.util

    missing = [name for name in _KERNEL_TOOLS if importlib.util.find_spec(name) is None]
    if missing:
        raise ValueError(
            f"genai-notes grade runs notebooks in Jupyter kernels and needs {', '.join(missing)}: "
            f"pip install {' '.join(missing)}"
        )


async def grade_submission(submission: Submission, limits: Limits) -> list[Row]:
    """The rows of one submission (already read by :func:`read_submission`)."""
    chapter = submission.chapter if submission.chapter is not None else ""

    def whole(detail: str) -> list[Row]:
        return [Row(submission.student, submission.file, chapter, NOTEBOOK, "", "error", detail)]

    if submission.problem is not None or submission.notebook is None:
        return whole(submission.problem or "not read")
    module = chapter_module(int(submission.chapter or 0))
    if module is None:
        return whole(f"chapter {chapter} has no exercises to grade")
    answers = answer_names(module, submission.notebook["cells"])
    try:
        outcome = await run_notebook(submission.notebook, int(chapter), answers, limits)
    except Exception as exc:  # the grader's own machinery failed for this one: say so, go on
        return whole(f"could not be run: {type(exc).__name__}: {exc}")
    if isinstance(outcome, str):
        return whole(outcome)
    return [
        Row(
            submission.student,
            submission.file,
            chapter,
            q.name or "",
            answers[q.name or ""] or "",
            *outcome[q.name or ""],
        )
        for q in questions(module)
    ]


async def _grade_all(
    submissions: Sequence[Submission], limits: Limits, jobs: int, done: Callable[[], None]
) -> list[Row]:
    gate = asyncio.Semaphore(jobs)

    async def one(submission: Submission) -> list[Row]:
        async with gate:
            rows = await grade_submission(submission, limits)
        done()
        return rows

    results = await asyncio.gather(*(one(s) for s in submissions))
    return [row for rows in results for row in rows]


def grade(
    paths: Sequence[str | Path],
    *,
    chapter: int | None = None,
    limits: Limits | None = None,
    jobs: int = 2,
    progress_bar: bool | None = None,
) -> list[Row]:
    """Grade every notebook in ``paths`` (files or folders); return the rows, sorted.

    chapter: the chapter every submission must be (another chapter's notebook is an error
        row); by default each is graded as the chapter it says it is.
    jobs: how many submissions run at once (each in its own kernel).
    progress_bar: show a tqdm bar over the submissions (None: only on a terminal).
    """
    if chapter is not None and (isinstance(chapter, bool) or not isinstance(chapter, int)):
        raise TypeError(f"chapter: expected a chapter number, got {chapter!r}")
    if chapter is not None and chapter_module(chapter) is None:
        raise ValueError(f"chapter: chapter {chapter} has no exercises to grade")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: expected a whole number >= 1, got {jobs!r}")
    limits = Limits() if limits is None else limits
    _require_kernel_tools()
    found = find_submissions(paths)
    submissions = [read_submission(path, label, chapter) for path, label in found]
    from tqdm.auto import tqdm

    disable = None if progress_bar is None else not progress_bar
    with tqdm(total=len(submissions), desc="grading", unit="notebook", disable=disable) as bar:
        rows = asyncio.run(_grade_all(submissions, limits, jobs, lambda: bar.update(1)))
    return sorted(
        rows, key=lambda r: (r.file, r.student, r.exercise == NOTEBOOK, len(r.exercise), r.exercise)
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``genai-notes grade``."""
    parser.add_argument("submissions", nargs="+", help="returned .ipynb files or folders of them")
    parser.add_argument(
        "-o", "--out", default="results.csv", help="results CSV (default %(default)s)"
    )
    parser.add_argument("--chapter", type=int, help="the chapter every submission must be")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per notebook (%(default)g)"
    )
    parser.add_argument(
        "--cell-timeout",
        type=float,
        default=120.0,
        help="seconds per cell and per check (%(default)g)",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=4096,
        help="memory cap per kernel, MB; 0: none (%(default)d)",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="submissions graded at once (%(default)d)"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``genai-notes grade`` with parsed ``args``; returns the exit code."""
    try:
        limits = Limits(args.timeout, args.cell_timeout, args.memory_mb)
        rows = grade(args.submissions, chapter=args.chapter, limits=limits, jobs=args.jobs)
    except (OSError, ValueError, TypeError) as exc:
        print(f"genai-notes grade: {exc}", file=sys.stderr)
        return 1
    if not rows:
        print("genai-notes grade: no .ipynb files found", file=sys.stderr)
        return 1
    results, summary = write(rows, args.out)
    print(summary_table(rows))
    print(f"wrote {results} and {summary}")
    return 0
