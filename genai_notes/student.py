"""Student copies of chapter notebooks, for instructors.

A student copy replaces every cell tagged ``solution`` with a stub that keeps the names the
learner must define: a function keeps its signature and docstring and raises
``NotImplementedError``; an assigned answer becomes ``...``. The exercise checker reports
both as "not attempted yet". A stub is shown in full (its ``hide-input`` and ``hide-cell``
tags are dropped). Outputs and execution counts are cleared so the copy is a fresh worksheet.

Later cells that use the learner's names (such as the closing "your version equals the
package's" cell) are wrapped so that, while a stub is unfinished, they print which exercises
to finish first instead of stopping "Run All" with a traceback.

Two cells are added: right after the title, the first code cell asks for the student's name
(``student_name = ""``, which ``genai-notes grade`` reads), and the last cell prints
``ex.progress()``: which exercises were checked and passed in this session, whatever is left
undone.

Run it as ``genai-notes student notebooks/01_*.ipynb -o student/`` or
``python -m genai_notes.student notebooks/01_*.ipynb -o student/``.

>>> print(stub_source("import numpy as np\\nanswer = np.log(2)"))
import numpy as np
answer = ...  # your answer here
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "SOLUTION_TAG",
    "stub_source",
    "guard_source",
    "make_student_copy",
    "add_arguments",
    "run",
    "main",
]

SOLUTION_TAG = "solution"
_HIDING_TAGS = ("hide-input", "hide-cell")
_TODO = "# Exercise: write your solution here, then run the check cell below."
_CHECK = re.compile(r"\bq(\d+)\.check\(\s*([A-Za-z_]\w*)\s*\)")
_EXERCISES = re.compile(r"^from genai_notes\.exercises import ch\d+ as ([A-Za-z_]\w*)\s*$", re.M)
NAME_SOURCE = (
    "# Your name, for your instructor's grader (leave it empty if you are not in a course).\n"
    'student_name = ""'
)
PROGRESS_SOURCE = "# Which exercises you checked and passed in this session.\n{alias}.progress()"


def _function_stub(node: ast.FunctionDef) -> str:
    header = f"def {node.name}({ast.unparse(node.args)})"
    if node.returns is not None:
        header += f" -> {ast.unparse(node.returns)}"
    lines = [header + ":"]
    docstring = ast.get_docstring(node, clean=False)
    if docstring is not None:
        lines.append(f"    {json.dumps(docstring) if chr(10) in docstring else repr(docstring)}")
    lines += ["    # Your code here.", "    raise NotImplementedError"]
    return "\n".join(lines)


def stub_source(source: str) -> str:
    """Turn the source of a solution cell into a stub with the same names.

    Leading comment lines and imports are kept; functions become stubs; assignments to
    names become ``name = ...``. Any other statement (a print, say) is dropped.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(
            f"source: a solution cell must be plain Python, got a syntax error: {exc}"
        ) from None
    lines = []
    for line in source.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            lines.append(ast.get_source_segment(source, node) or ast.unparse(node))
        elif isinstance(node, ast.FunctionDef):
            lines.append(_function_stub(node))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        lines.append(f"{name.id} = ...  # your answer here")
    return "\n".join(lines)


def _assigned_names(node: ast.AST) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return [n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)]


def _solution_names(source: str) -> tuple[list[str], list[str]]:
    """The functions and the assigned answers a solution cell defines (its stub keeps both)."""
    functions, values = [], []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            functions.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            values += _assigned_names(node)
    return functions, values


def _loaded_names(source: str) -> set[str] | None:
    """The names a cell reads, or None if it is not plain Python (IPython magics)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _only_exercise_calls(source: str) -> bool:
    """A check cell (``ex.q1.check(f)``, hints, solutions) handles stubs itself."""
    lines = [line.strip() for line in source.splitlines()]
    pattern = re.compile(r"^ex\.q\d+\.(check|hint|solution)\(.*\)$")
    return all(not line or line.startswith("#") or pattern.match(line) for line in lines)


def _exercise_list(numbers: list[int]) -> str:
    """1, 2, 3, 4 -> "exercises 1–4"; 2 -> "exercise 2"; 1, 3, 5 -> "exercises 1, 3 and 5"."""
    numbers = sorted(set(numbers))
    if len(numbers) == 1:
        return f"exercise {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"exercises {numbers[0]}\u2013{numbers[-1]}"
    return "exercises " + ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"


def guard_source(source: str, uses: dict[str, int], values: Sequence[str] = ()) -> str:
    """Wrap a cell that uses the learner's names so that, while one is still a stub, it says
    which exercises to finish instead of raising.

    ``uses`` maps each learner name the cell reads to its exercise number; ``values`` are the
    names among them that are assigned answers (their stub is ``...``).

    >>> print(guard_source("print(f(2))", {"f": 1}))
    try:
        print(f(2))
    except NotImplementedError:
        print("Finish exercise 1 first (this cell uses your f), then run this cell again.")
    """
    checks = "".join(f"if {name} is ...:\n    raise NotImplementedError\n" for name in values)
    names = ", ".join(sorted(uses, key=lambda n: (uses[n], n)))
    message = (
        f"Finish {_exercise_list(list(uses.values()))} first (this cell uses your {names}), "
        "then run this cell again."
    )
    body = textwrap.indent(checks + source.rstrip("\n"), "    ")
    return f"try:\n{body}\nexcept NotImplementedError:\n    print({json.dumps(message, ensure_ascii=False)})"


def _exercise_numbers(cells: list[dict]) -> dict[str, int]:
    """Which exercise each learner name belongs to, read from the check cells (ex.q3.check(f))."""
    numbers: dict[str, int] = {}
    for cell in cells:
        for number, name in _CHECK.findall(_source(cell)):
            numbers.setdefault(name, int(number))
    return numbers


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _new_cell(source: str, cell_id: str, taken: set[str]) -> dict:
    while cell_id in taken:
        cell_id += "-1"
    taken.add(cell_id)
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": cell_id,
        "metadata": {},
        "outputs": [],
        "source": source.splitlines(keepends=True),
    }


def _add_name_and_progress(cells: list[dict]) -> None:
    """Ask for the name in the first code cell (after the title); print progress last."""
    taken = {str(cell.get("id")) for cell in cells}
    aliases = [m for cell in cells for m in _EXERCISES.findall(_source(cell))]
    at = 1 if cells and cells[0].get("cell_type") == "markdown" else 0
    cells.insert(at, _new_cell(NAME_SOURCE, "student-name", taken))
    if aliases:
        cells.append(_new_cell(PROGRESS_SOURCE.format(alias=aliases[0]), "progress", taken))


def make_student_copy(notebook_path: str | Path, out_dir: str | Path) -> Path:
    """Write a student copy of one notebook into ``out_dir`` and return its path."""
    notebook_path, out_dir = Path(notebook_path), Path(out_dir)
    if not notebook_path.is_file():
        raise FileNotFoundError(f"notebook_path: no such notebook: {str(notebook_path)!r}")
    try:
        notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"notebook_path: {str(notebook_path)!r} is not a valid notebook ({exc})"
        ) from None
    cells = notebook.get("cells", [])
    numbers = _exercise_numbers(cells)
    stubbed: dict[str, int] = {}  # learner name -> exercise number
    value_names: set[str] = set()
    n_solutions = 0
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        source = _source(cell)
        if SOLUTION_TAG in tags:
            stub = _TODO + "\n" + stub_source(source)
            functions, values = _solution_names(source)
            n_solutions += 1
            for name in functions + values:
                stubbed[name] = numbers.get(name, n_solutions)
            value_names.update(values)
            cell["source"] = stub.splitlines(keepends=True)
            # The stub is for writing, not a hidden answer: show it in full.
            cell["metadata"]["tags"] = [t for t in tags if t not in (SOLUTION_TAG, *_HIDING_TAGS)]
        elif stubbed and not _only_exercise_calls(source):
            used = _loaded_names(source) or set()
            uses = {name: stubbed[name] for name in sorted(used & stubbed.keys())}
            if uses:
                values = sorted(value_names & uses.keys())
                cell["source"] = guard_source(source, uses, values).splitlines(keepends=True)
        cell["outputs"] = []
        cell["execution_count"] = None
    notebook.get("metadata", {}).pop("widgets", None)
    if not stubbed:
        raise ValueError(
            f"notebook_path: {str(notebook_path)!r} has no cells tagged {SOLUTION_TAG!r}"
        )
    _add_name_and_progress(cells)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / notebook_path.name
    target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of the student-copy command: notebooks and ``-o DIR``."""
    parser.add_argument("notebooks", nargs="+", help="chapter notebooks (.ipynb)")
    parser.add_argument("-o", "--out", required=True, help="output directory")


def run(args: argparse.Namespace) -> int:
    """Write the student copies named by parsed ``args``; returns the process exit code."""
    for path in args.notebooks:
        try:
            print(make_student_copy(path, args.out))
        except (OSError, ValueError) as exc:
            print(f"genai-notes student: {exc}", file=sys.stderr)
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python -m genai_notes.student NOTEBOOK... -o DIR``."""
    parser = argparse.ArgumentParser(
        prog="python -m genai_notes.student", description="Write student copies of notebooks."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
