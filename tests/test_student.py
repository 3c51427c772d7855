"""Student copies: solutions become stubs that the checker reports as not attempted."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from genai_notes.cli import main as cli_main
from genai_notes.exercises import ch01
from genai_notes.student import make_student_copy, stub_source

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_1 = ROOT / "notebooks" / "01_what_is_generative_ai.ipynb"


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
    original, copy = _cells(CHAPTER_1), _cells(out)
    assert len(copy) == len(original)
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
    # Everything else is unchanged.
    for i, (a, b) in enumerate(zip(original, copy)):
        if i not in solution_indices:
            assert a["source"] == b["source"]


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
