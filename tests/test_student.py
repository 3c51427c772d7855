"""Student copies: solutions become stubs that the checker reports as not attempted."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from genai_notes.cli import main as cli_main
from genai_notes.exercises import STRICT_ENV_VAR, ch01
from genai_notes.grading.submissions import student_name
from genai_notes.student import NAME_SOURCE, guard_source, make_student_copy, stub_source

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_1 = ROOT / "notebooks" / "01_what_is_generative_ai.ipynb"
CHAPTERS = sorted((ROOT / "notebooks").glob("0[1-5]_*.ipynb"))


def test_stub_keeps_signature_docstring_imports_and_names():
    source = '''# Exercise 2
import numpy as np

def f(x: int, y=2) -> float:
    """Add."""
    return x + y

answer, other = 1, 2
print("done")
'''
    stub = stub_source(source)
    assert stub.splitlines() == [
        "# Exercise 2",
        "import numpy as np",
        "def f(x: int, y=2) -> float:",
        "    'Add.'",
        "    # Your code here.",
        "    raise NotImplementedError",
        "answer = ...  # your answer here",
        "other = ...  # your answer here",
    ]


def test_stub_of_a_solution_is_reported_as_not_attempted():
    namespace = {}
    exec(
        stub_source("def to_probabilities(counts, alpha):\n    return counts / alpha\n"), namespace
    )
    assert ch01.q2.evaluate(namespace["to_probabilities"]).status == "not attempted"
    namespace = {}
    exec(stub_source("answer = 3\n"), namespace)
    assert ch01.q1.evaluate(namespace["answer"]).status == "not attempted"


def test_stub_rejects_non_python():
    with pytest.raises(ValueError, match="syntax error"):
        stub_source("%timeit f()\n")


def _cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def test_student_copy_of_chapter_1(tmp_path):
    out = make_student_copy(CHAPTER_1, tmp_path)
    original, with_added = _cells(CHAPTER_1), _cells(out)
    # Two cells are added: the name after the title, the progress summary at the end.
    assert len(with_added) == len(original) + 2
    assert "".join(with_added[1]["source"]) == NAME_SOURCE
    assert "".join(with_added[-1]["source"]).endswith("\nex.progress()")
    copy = [with_added[0], *with_added[2:-1]]
    solution_indices = [
        i for i, c in enumerate(original) if "solution" in c["metadata"].get("tags", [])
    ]
    assert len(solution_indices) == 4  # one per question of chapter 1
    for i in solution_indices:
        source = "".join(copy[i]["source"])
        assert "raise NotImplementedError" in source
        assert "solution" not in copy[i]["metadata"].get("tags", [])
        namespace = {"np": __import__("numpy")}
        exec(source, namespace)  # the stub is valid Python that defines the same function
    for cell in copy:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    # Everything else is unchanged, but for cells that use the learner's functions.
    guarded = [i for i, c in enumerate(copy) if "".join(c["source"]).startswith("try:")]
    assert len(guarded) == 1 and guarded[0] > solution_indices[-1]
    for i, (a, b) in enumerate(zip(original, copy)):
        if i not in solution_indices and i not in guarded:
            assert a["source"] == b["source"]


def _notebook(*cells):
    return {
        "cells": [
            {"cell_type": "code", "source": source, "metadata": {"tags": tags}, "outputs": []}
            for source, tags in cells
        ],
        "metadata": {},
    }


def test_stubs_are_shown_in_full(tmp_path):
    # The planted bug kept hide-input and hide-cell on the stubs: a hidden stub is unwritable.
    path = tmp_path / "in" / "nb.ipynb"
    path.parent.mkdir()
    path.write_text(
        json.dumps(
            _notebook(
                ("def f(x):\n    return x\n", ["solution", "hide-input"]),
                ("def g(x):\n    return x\n", ["hide-cell", "solution", "keep-me"]),
                ("print(1)", ["hide-input"]),
            )
        )
    )
    cells = _cells(make_student_copy(path, tmp_path / "out"))[1:]  # after the name cell
    assert cells[0]["metadata"]["tags"] == []
    assert cells[1]["metadata"]["tags"] == ["keep-me"]
    assert cells[2]["metadata"]["tags"] == ["hide-input"]  # not a stub: left as it was
    for path in CHAPTERS:
        for cell in _cells(make_student_copy(path, tmp_path / "chapters")):
            if "raise NotImplementedError" in "".join(cell["source"]):
                tags = cell["metadata"].get("tags", [])
                assert not {"solution", "hide-input", "hide-cell"} & set(tags), path.name


def test_cells_using_the_learners_names_are_guarded(tmp_path, capsys):
    path = tmp_path / "nb.ipynb"
    path.write_text(
        json.dumps(
            _notebook(
                ("x = f(1)", []),  # before the exercise: untouched
                ("def f(x):\n    return x + 1\n", ["solution"]),
                ("ex.q1.check(f)", []),
                ("answer = 3\n", ["solution"]),
                ("ex.q2.check(answer)", []),
                ("%timeit f(2)", []),  # not plain Python: left alone
                ("assert f(1) == 2\nassert answer == 3\nprint('done')", []),
            )
        )
    )
    cells = _cells(make_student_copy(path, tmp_path / "out"))[1:]  # after the name cell
    assert len(cells) == 7  # no exercises import: no progress cell
    sources = ["".join(c["source"]) for c in cells]
    assert sources[0] == "x = f(1)" and sources[2] == "ex.q1.check(f)"
    assert sources[5] == "%timeit f(2)"
    guarded = sources[6]
    ast.parse(guarded)
    assert "Finish exercises 1\u20132 first (this cell uses your f, answer)" in guarded
    namespace = {}
    exec(sources[1] + "\n" + sources[3], namespace)  # the stubs
    exec(guarded, namespace)
    assert "Finish exercises 1\u20132 first" in capsys.readouterr().out
    namespace["f"] = lambda x: x + 1  # the learner finishes exercise 1 only
    exec(guarded, namespace)
    assert "Finish" in capsys.readouterr().out
    namespace["answer"] = 3  # and exercise 2
    exec(guarded, namespace)
    assert capsys.readouterr().out == "done\n"


def test_guard_names_the_exercises():
    assert "exercise 3 first" in guard_source("g()", {"g": 3})
    assert "exercises 1, 3 and 5 first" in guard_source("f(); g(); h()", {"f": 1, "g": 3, "h": 5})


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_student_copy_runs_top_to_bottom_without_a_traceback(path, tmp_path, monkeypatch):
    """'Run All' on a fresh student copy: every check says 'not attempted', nothing raises."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.delenv(STRICT_ENV_VAR, raising=False)  # a student's kernel is not strict
    copy = nbformat.read(make_student_copy(path, tmp_path), as_version=4)
    client = nbclient.NotebookClient(
        copy,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    errors = [
        (index, output.get("ename"), output.get("evalue"))
        for index, cell in enumerate(copy.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert errors == []
    printed = "".join(
        output.get("text", "")
        for cell in copy.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert "Not attempted yet" in printed and "first (this cell uses your" in printed
    # The last cell prints the progress summary: every exercise was checked, none passed.
    last = "".join(output.get("text", "") for output in copy.cells[-1].get("outputs", []))
    n_questions = len(_questions_of(path))
    assert last.splitlines()[0] == (
        f"Exercises checked in this session: 0 of {n_questions} passed."
    )
    assert last.count("not attempted") == n_questions


def _questions_of(path):
    from genai_notes.exercises import chapter_module, questions

    return questions(chapter_module(int(path.name[:2])))


def test_the_name_cell_is_first_and_read_by_the_grader(tmp_path):
    cells = _cells(make_student_copy(CHAPTER_1, tmp_path))
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code[0]["id"] == "student-name" and code[-1]["id"] == "progress"
    assert len({c["id"] for c in cells}) == len(cells)  # ids stay unique
    assert student_name(cells) is None  # left empty: the grader uses the file name
    code[0]["source"] = ['student_name = "  Ada   Lovelace "']
    assert student_name(cells) == "Ada Lovelace"


def test_student_copy_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="notebook_path"):
        make_student_copy(tmp_path / "missing.ipynb", tmp_path)
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a valid notebook"):
        make_student_copy(bad, tmp_path / "out")
    plain = tmp_path / "plain.ipynb"
    plain.write_text(
        json.dumps({"cells": [{"cell_type": "code", "source": "1", "metadata": {}, "outputs": []}]})
    )
    with pytest.raises(ValueError, match="no cells tagged 'solution'"):
        make_student_copy(plain, tmp_path / "out")


def test_command_line_writes_copies(tmp_path, capsys):
    assert cli_main(["student", str(CHAPTER_1), "-o", str(tmp_path)]) == 0
    assert (tmp_path / CHAPTER_1.name).exists()
    assert cli_main(["student", str(tmp_path / "nope.ipynb"), "-o", str(tmp_path)]) == 1
    assert "no such notebook" in capsys.readouterr().err


def test_module_entry_point_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "genai_notes.student", str(CHAPTER_1), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / CHAPTER_1.name).exists()


def test_chapters_command_prints_the_table(capsys):
    assert cli_main(["chapters", "--notebooks", str(ROOT / "notebooks")]) == 0
    assert (
        "| [1. What is generative AI?](01_what_is_generative_ai.ipynb)" in capsys.readouterr().out
    )


def test_student_does_not_import_the_command_line():
    # Imports run one way: cli may import student, never the reverse (no cycle).
    tree = ast.parse((ROOT / "genai_notes" / "student.py").read_text(encoding="utf-8"))
    imported = {
        alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert not any("cli" in name.split(".") for name in imported), imported
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, genai_notes.student; print('genai_notes.cli' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"


EVERY_CHAPTER = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _names_defined(source):
    """The functions and variables a solution cell defines at its top level."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


@pytest.mark.parametrize("path", EVERY_CHAPTER, ids=[p.stem for p in EVERY_CHAPTER])
def test_every_chapters_copy_stubs_each_solution_and_guards_each_later_use(path, tmp_path):
    """Without running the copy (chapters 1-5 are run above; the others take minutes): every
    solution cell becomes a stub, every later cell that reads a learner's name other than
    its own check cell is guarded, and every plain-Python cell still parses."""
    with_added = _cells(make_student_copy(path, tmp_path))
    original, copy = _cells(path), [with_added[0], *with_added[2:-1]]  # not the added cells
    assert [c["cell_type"] for c in original] == [c["cell_type"] for c in copy]
    learner: set[str] = set()
    stubs = 0
    for before, after in zip(original, copy):
        if after["cell_type"] != "code":
            continue
        source = "".join(after["source"])
        if "solution" in before["metadata"].get("tags", []):
            assert "raise NotImplementedError" in source or "= ...  #" in source, path.name
            learner |= _names_defined("".join(before["source"]))
            stubs += 1
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:  # IPython magics are left as they are
            continue
        read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} & learner
        if read and not all(f".check({name})" in source for name in read):
            assert "first (this cell uses your" in source, (path.name, source[:80])
    assert stubs == len(_questions_of(path)) >= 4, path.name
