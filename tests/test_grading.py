"""genai-notes grade: returned notebooks graded by the package's checkers in their own kernels.

The submissions are generated from the student copy of chapter 1: its name cell, its stubs
(filled in or not), its check cells and its last cell, behind one import cell, so that each
kernel starts and finishes in a couple of seconds. All of them are graded in one run, two at
a time, with short time limits; each test then asserts the exact CSV rows of its file.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from genai_notes.cli import main as cli_main
from genai_notes.exercises import (
    STRICT_ENV_VAR,
    Mistake,
    Question,
    bind,
    ch01,
    ch06,
    chapter_module,
    progress_report,
    questions,
)
from genai_notes.grading import Limits, grade
from genai_notes.grading.results import Row, rows_csv, summary_csv, summary_table
from genai_notes.grading.submissions import answer_names, find_submissions, read_submission
from genai_notes.student import make_student_copy

pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_1 = ROOT / "notebooks" / "01_what_is_generative_ai.ipynb"
CHAPTER_4 = ROOT / "notebooks" / "04_positional_encoding.ipynb"
EXAMPLE = ROOT / "book" / "grading_example"
SECONDS = 8  # per cell and per check: the generated cells take milliseconds, on a busy machine more
LIMITS = Limits(notebook_seconds=60, cell_seconds=SECONDS, memory_mb=2048)
ANSWERS = [q.answer_name for q in questions(ch01)]
NOT_ATTEMPTED = (
    "not attempted",
    "your function still raises NotImplementedError; write its body, then run the check again.",
)
PASSED = ("passed", "well done.")


# -- making submissions ------------------------------------------------------------------


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _code(source, outputs=(), count=None):
    return {
        "id": f"extra-{abs(hash(source)) % 10**8}",
        "cell_type": "code",
        "execution_count": count,
        "metadata": {},
        "outputs": list(outputs),
        "source": source.splitlines(keepends=True),
    }


def _renamed(function, name):
    """The source of a chapter-1 reference or mistake, as a student's cell defining ``name``."""
    source = textwrap.dedent(inspect.getsource(function))
    return re.sub(r"^def \w+\(", f"def {name}(", source, count=1)


def _trimmed_copy(path, tmp_path):
    """The student copy's name cell, stubs, check cells and progress cell, behind one import."""
    notebook = json.loads(make_student_copy(path, tmp_path / "copies").read_text("utf-8"))
    alias = re.search(r"import (ch\d+) as ex", json.dumps(notebook)).group(1)
    keep = [
        cell
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        and (
            cell.get("id") in ("student-name", "progress")
            or _source(cell).startswith("# Exercise: write")
            or re.fullmatch(r"ex\.q\d+\.check\(\w+\)\s*", _source(cell))
        )
    ]
    imports = _code(f"import numpy as np\nfrom genai_notes.exercises import {alias} as ex")
    notebook["cells"] = [keep[0], imports, *keep[1:]]
    for index, cell in enumerate(notebook["cells"]):
        cell["id"] = f"cell-{index}"
    return notebook


def _stubs(notebook):
    return [c for c in notebook["cells"] if _source(c).startswith("# Exercise: write")]


def _checks(notebook):
    return [c for c in notebook["cells"] if re.match(r"ex\.q\d+\.check", _source(c))]


def _submission(base, answers=(None,) * 4, name="", extra=(), after=()):
    """A copy of ``base`` with stubs replaced by ``answers`` (None keeps the stub), ``extra``
    cells after the exercises (before the progress cell), and ``after`` cells at the end."""
    notebook = json.loads(json.dumps(base))
    for cell, answer in zip(_stubs(notebook), answers):
        if answer is not None:
            cell["source"] = answer.splitlines(keepends=True)
    notebook["cells"][0]["source"] = [f"student_name = {name!r}"]
    notebook["cells"][-1:-1] = [_code(s) for s in extra]
    notebook["cells"] += [_code(s) for s in after]
    return notebook


CORRECT = [_renamed(q.reference, q.answer_name) for q in questions(ch01)]
MISTAKES = [  # one listed mistake of each chapter-1 question, each written out by the student
    ch01.q1.mistakes[0],  # the first character's pair missing
    ch01.q2.mistakes[1],  # columns normalised
    ch01.q3.mistakes[4],  # the probability, not its log
    ch01.q4.mistakes[0],  # the power temperature, not 1/temperature
]
PID_FILE = "grader-pid.txt"


def _generated(tmp_path):
    """Every generated submission: {file name: notebook dict or raw text}."""
    base = _trimmed_copy(CHAPTER_1, tmp_path)
    pid_file = tmp_path / PID_FILE
    faked = _submission(base)
    for cell in _checks(faked):  # outputs pasted from a correct run
        cell["execution_count"] = 7
        cell["outputs"] = [
            {"name": "stdout", "output_type": "stream", "text": ["Correct: well done.\n"]}
        ]
    edited = _submission(
        base,
        extra=[
            "from genai_notes.exercises.core import Feedback, Question\n"
            "Question.evaluate = lambda self, answer: Feedback('correct', 'well done.')",
            "ex.q4 = None",
        ],
    )
    for cell in _checks(edited):
        cell["source"] = ['print("Correct: well done.")']
    deleted = _submission(base, CORRECT[:2] + [None, None])
    deleted["cells"] = [
        c
        for c in deleted["cells"]
        if c not in _checks(deleted) and c not in _stubs(deleted)  # q3, q4 stubs gone too
    ]
    wrong_chapter = _trimmed_copy(CHAPTER_4, tmp_path)
    exits = _submission(
        base,
        CORRECT[:2]
        + [
            "import sys\n\ndef sentence_log_prob(probs, alphabet, sentence):\n    sys.exit(2)",
            "def apply_temperature(probs, temperature):\n    while True:\n        pass",
        ],
        extra=["import sys\nsys.exit()"],
    )
    exits["cells"].remove(_checks(exits)[3])  # its own check would loop in the student's cell
    return {
        "all_correct.ipynb": _submission(
            base,
            CORRECT,
            name="Ada Lovelace",
            after=[f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))"],
        ),
        "mistakes.ipynb": _submission(
            base, [_renamed(m.wrong, name) for m, name in zip(MISTAKES, ANSWERS)]
        ),
        "not_attempted.ipynb": _submission(base),
        "edited_checker.ipynb": edited,
        "faked_output.ipynb": faked,
        "deleted_checks.ipynb": deleted,
        "package_answer.ipynb": _submission(base, ["count_bigrams = ex.count_bigrams"]),
        "endless_loop.ipynb": _submission(base, CORRECT, extra=["while True:\n    pass"]),
        "exits.ipynb": exits,
        "crash.ipynb": _submission(base, CORRECT, extra=["import os\nos._exit(1)"]),
        "segfault.ipynb": _submission(base, CORRECT, extra=["import ctypes\nctypes.string_at(0)"]),
        "huge_allocation.ipynb": _submission(
            base,
            CORRECT,
            extra=["big = np.ones(10 * 2**30, dtype=np.uint8)  # 10 GB"],
        ),
        "invalid_json.ipynb": '{"cells": [',
        "wrong_chapter.ipynb": wrong_chapter,
    }


def _write(folder, submissions):
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in submissions.items():
        text = content if isinstance(content, str) else json.dumps(content, indent=1)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """All generated submissions graded in one run: (folder, rows by file, all rows)."""
    tmp_path = tmp_path_factory.mktemp("grading")
    folder = _write(tmp_path / "submissions", _generated(tmp_path))
    rows = grade([folder], chapter=1, limits=LIMITS, jobs=2, progress_bar=False)
    by_file: dict[str, list[tuple]] = {}
    for row in rows:
        by_file.setdefault(row.file, []).append(row)
    return tmp_path, folder, by_file, rows


def _rows(graded, file):
    return [(r.student, r.exercise, r.answer, r.status, r.detail) for r in graded[2][file]]


def _expected(student, results):
    return [
        (student, f"q{i}", name, *result)
        for i, (name, result) in enumerate(zip(ANSWERS, results), start=1)
    ]


def _message(question, answer):
    return " ".join(question.evaluate(answer).message.split())


def _notebook_error(student, detail):
    return [(student, "notebook", "", "error", detail)]


# -- the generated submissions -----------------------------------------------------------


def test_every_exercise_correct_is_passed_in_a_kernel_of_its_own(graded):
    assert _rows(graded, "all_correct.ipynb") == _expected("Ada Lovelace", [PASSED] * 4)
    kernel_pid = int((graded[0] / PID_FILE).read_text())
    assert kernel_pid != os.getpid()  # no student code ran in the grader's process


def test_each_common_mistake_gets_its_diagnosis(graded):
    expected = [
        ("failed", _message(question, mistake.wrong))
        for question, mistake in zip(questions(ch01), MISTAKES)
    ]
    assert _rows(graded, "mistakes.ipynb") == _expected("mistakes", expected)
    for (_, _, _, _, detail), mistake in zip(_rows(graded, "mistakes.ipynb"), MISTAKES):
        assert f"Also: {' '.join(mistake.why.split())}." in detail
    assert "the first character is missing its pair" in _rows(graded, "mistakes.ipynb")[0][4]


def test_stubs_are_not_attempted(graded):
    assert _rows(graded, "not_attempted.ipynb") == _expected("not_attempted", [NOT_ATTEMPTED] * 4)


def test_an_edited_checker_gains_nothing(graded):
    # Question.evaluate replaced, ex.q4 deleted, every check cell printing "Correct".
    assert _rows(graded, "edited_checker.ipynb") == _expected("edited_checker", [NOT_ATTEMPTED] * 4)


def test_a_faked_output_gains_nothing(graded):
    assert _rows(graded, "faked_output.ipynb") == _expected("faked_output", [NOT_ATTEMPTED] * 4)


def test_deleted_check_cells_are_still_graded(graded):
    missing = [("not attempted", f"{name} is not defined") for name in ANSWERS[2:]]
    assert _rows(graded, "deleted_checks.ipynb") == _expected(
        "deleted_checks", [PASSED, PASSED, *missing]
    )


def test_the_packages_own_function_is_not_an_answer(graded):
    own = (
        "failed",
        "count_bigrams is the package's own genai_notes.exercises.ch01.count_bigrams, "
        "not code you wrote",
    )
    assert _rows(graded, "package_answer.ipynb") == _expected(
        "package_answer", [own] + [NOT_ATTEMPTED] * 3
    )


def test_an_endless_loop_is_one_row(graded):
    # Code cells: name, import, four answers and their checks, then the loop (the 11th).
    assert _rows(graded, "endless_loop.ipynb") == _notebook_error(
        "endless_loop", f"timed out: code cell 11 ran longer than {SECONDS} s (an endless loop?)"
    )


def test_sys_exit_in_a_cell_or_an_answer_and_an_endless_answer(graded):
    # sys.exit() in a cell stops only that cell; in an answer, only that question; an answer
    # that never returns is stopped by the question's own time limit.
    assert _rows(graded, "exits.ipynb") == _expected(
        "exits",
        [
            PASSED,
            PASSED,
            ("error", "SystemExit: 2"),
            ("error", f"timed out: checking it took longer than {SECONDS} s"),
        ],
    )


def test_a_crash_is_one_row(graded):
    assert _rows(graded, "crash.ipynb") == _notebook_error(
        "crash", "the kernel died in code cell 11 (exit code 1)"
    )
    assert _rows(graded, "segfault.ipynb") == _notebook_error(
        "segfault", "the kernel died in code cell 11 (killed by signal 11)"
    )


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
def test_a_10_gb_allocation_fails_in_its_cell_only(graded):
    assert _rows(graded, "huge_allocation.ipynb") == _expected("huge_allocation", [PASSED] * 4)


def test_invalid_json_and_the_wrong_chapter_are_one_row_each(graded):
    assert _rows(graded, "invalid_json.ipynb") == _notebook_error(
        "invalid_json",
        "not a notebook: the file is not valid JSON (Expecting value: line 1 column 12 (char 11))",
    )
    assert _rows(graded, "wrong_chapter.ipynb") == _notebook_error(
        "wrong_chapter", "wrong chapter: this is chapter 4's notebook, not chapter 1's"
    )
    assert {r.chapter for r in graded[2]["wrong_chapter.ipynb"]} == {4}


def test_rows_are_sorted_and_regrading_gives_the_same_csv(graded):
    tmp_path, folder, _, rows = graded
    assert [r.file for r in rows] == sorted(r.file for r in rows)
    again = tmp_path / "again"
    again.mkdir()
    for name in ("all_correct.ipynb", "invalid_json.ipynb", "mistakes.ipynb"):
        (again / name).write_bytes((folder / name).read_bytes())
    regraded = grade([again], chapter=1, limits=LIMITS, progress_bar=False)
    first = [
        r for r in rows if r.file in {"all_correct.ipynb", "invalid_json.ipynb", "mistakes.ipynb"}
    ]
    assert rows_csv(regraded) == rows_csv(first)


# -- the docs' example folder, through the command line ----------------------------------


def test_the_docs_example_folder_grades_as_the_guide_shows(tmp_path, capsys):
    out = tmp_path / "results.csv"
    code = cli_main(
        ["grade", str(EXAMPLE), "-o", str(out), "--chapter", "1", "--cell-timeout", "60"]
    )
    assert code == 0
    assert out.read_text("utf-8") == (EXAMPLE / "results.csv").read_text("utf-8")
    summary = tmp_path / "results_summary.csv"
    assert summary.read_text("utf-8") == (EXAMPLE / "results_summary.csv").read_text("utf-8")
    printed = capsys.readouterr().out
    assert printed.splitlines()[:4] == [
        "student       file                chapter  passed  failed  not attempted  error",
        "Ada Lovelace  ada_lovelace.ipynb  1        4       0       0              0",
        "alan_turing   alan_turing.ipynb            0       0       0              1",
        "grace_hopper  grace_hopper.ipynb  1        1       2       1              0",
    ]
    guide = (ROOT / "book" / "instructors.md").read_text("utf-8")
    for line in printed.splitlines()[:4]:
        assert line in guide  # the guide shows this very table
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8"))))
    assert ["Ada Lovelace", "ada_lovelace.ipynb", "1", "q1", "count_bigrams", "passed"] == rows[1][
        :6
    ]


# -- pieces, without kernels ---------------------------------------------------------------


def test_kernel_limits_cap_the_memory_of_the_process_they_start():
    code = (
        "from genai_notes.grading.kernel_limits import apply_limits\n"
        "print(apply_limits(1024))\n"
        "import numpy as np\n"
        "try:\n    np.ones(3 * 2**30, dtype=np.uint8)\nexcept MemoryError:\n    print('capped')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    if sys.platform == "linux":
        assert result.stdout.split("\n")[:2] == ["['RLIMIT_AS', 'RLIMIT_CORE']", "capped"]


def test_every_function_question_knows_its_answers_name_in_the_notebook():
    # The grader reads the answer under this name even when the check cell is deleted.
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook = json.loads(path.read_text("utf-8"))
        module = chapter_module(int(path.name[:2]))
        checked = dict(
            re.findall(r"ex\.(q\d+)\.check\((\w+)\)", "".join(map(_source, notebook["cells"])))
        )
        for question in questions(module):
            if question.kind == "function" or question.answer is not None:
                assert question.answer_name == checked[question.name], (path.name, question)


def test_a_value_question_without_a_name_takes_the_check_cells():
    q5 = ch06.q5
    cells = [{"cell_type": "code", "source": "ex.q5.check(my_answer)"}]
    expected = q5.answer_name or "my_answer"
    assert answer_names(ch06, cells)["q5"] == expected
    assert answer_names(ch01, [])["q1"] == "count_bigrams"


def test_progress_records_checks_not_evaluations(capsys, monkeypatch):
    # A learner's session: a wrong check prints its feedback (the suite's strict mode raises).
    monkeypatch.delenv(STRICT_ENV_VAR, raising=False)

    def double(x):
        return 2 * x

    def add_one(x):
        return x + 1

    namespace = {
        "q1": Question(
            "double", "function", double, [(1,), (2,)], mistakes=[Mistake(add_one, "double it")]
        ),
        "q2": Question("two", "value", lambda: 2, answer="two"),
        "q3": Question("three", "value", lambda: 3, answer="three"),
    }
    bound = bind(namespace)
    namespace["q1"].evaluate(double)  # evaluate alone records nothing
    assert [q.status for q in bound] == ["not checked"] * 3
    namespace["q1"].check(add_one)
    namespace["q2"].check(...)
    capsys.readouterr()
    namespace["progress"]()
    assert capsys.readouterr().out == (
        "Exercises checked in this session: 0 of 3 passed.\n"
        "  q1  double  failed\n"
        "  q2  two     not attempted\n"
        "  q3  three   not checked\n"
    )
    namespace["q1"].check(lambda x: x * 2)
    assert progress_report(bound).splitlines()[:2] == [
        "Exercises checked in this session: 1 of 3 passed.",
        "  q1  double  passed",
    ]
    assert callable(ch01.progress)  # every chapter module has one, from bind
    with pytest.raises(TypeError, match="questions"):
        progress_report([1])


def test_results_tables():
    rows = [
        Row("ada", "a.ipynb", 1, "q1", "f", "passed", "well done."),
        Row("ada", "a.ipynb", 1, "q2", "g", "failed", "off, by one"),
        Row("bob", "b.ipynb", "", "notebook", "", "error", "not a notebook"),
    ]
    assert rows_csv(rows) == (
        "student,file,chapter,exercise,answer,status,detail\n"
        "ada,a.ipynb,1,q1,f,passed,well done.\n"
        'ada,a.ipynb,1,q2,g,failed,"off, by one"\n'
        "bob,b.ipynb,,notebook,,error,not a notebook\n"
    )
    assert summary_csv(rows) == (
        "chapter,exercise,answer,passed,failed,not attempted,error\n"
        ",notebook,,0,0,0,1\n"
        "1,q1,f,1,0,0,0\n"
        "1,q2,g,0,1,0,0\n"
    )
    assert summary_table(rows).splitlines()[1:] == [
        "ada      a.ipynb  1        1       1       0              0",
        "bob      b.ipynb           0       0       0              1",
    ]


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="cell_seconds"):
        Limits(cell_seconds=0)
    with pytest.raises(ValueError, match="memory_mb"):
        Limits(memory_mb=-1)
    with pytest.raises(ValueError, match="jobs"):
        grade([tmp_path], jobs=0)
    with pytest.raises(ValueError, match="chapter 99 has no exercises"):
        grade([tmp_path], chapter=99)
    with pytest.raises(FileNotFoundError, match="submissions: no such notebook or folder"):
        find_submissions([tmp_path / "missing"])
    assert cli_main(["grade", str(tmp_path), "-o", str(tmp_path / "r.csv")]) == 1


def test_files_and_names(tmp_path):
    (tmp_path / "course" / "ada").mkdir(parents=True)
    (tmp_path / "course" / ".ipynb_checkpoints").mkdir()
    for name in ("ada/01.ipynb", "bob.ipynb", ".ipynb_checkpoints/bob-checkpoint.ipynb"):
        (tmp_path / "course" / name).write_text("{}")
    assert [label for _, label in find_submissions([tmp_path / "course"])] == [
        "ada/01.ipynb",
        "bob.ipynb",
    ]
    read = read_submission(tmp_path / "course" / "ada" / "01.ipynb", "ada/01.ipynb")
    assert (read.student, read.problem) == (
        "ada/01",
        "not a notebook: the JSON has no list of cells",
    )
    plain = tmp_path / "plain.ipynb"
    plain.write_text(json.dumps({"nbformat": 4, "metadata": {}, "cells": []}))
    assert read_submission(plain, "plain.ipynb").problem == (
        "no chapter found: neither its metadata nor an exercises import"
    )
