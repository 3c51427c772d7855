"""Student copies of chapter notebooks, for instructors.

A student copy replaces every cell tagged ``solution`` with a stub that keeps the names the
learner must define: a function keeps its signature and docstring and raises
``NotImplementedError``; an assigned answer becomes ``...``. The exercise checker reports
both as "not attempted yet". Outputs and execution counts are cleared so the copy is a fresh
worksheet.

Run it as ``genai-notes student notebooks/01_*.ipynb -o student/`` or
``python -m genai_notes.student notebooks/01_*.ipynb -o student/``.

>>> print(stub_source("import numpy as np\\nanswer = np.log(2)"))
import numpy as np
answer = ...  # your answer here
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

__all__ = ["SOLUTION_TAG", "stub_source", "make_student_copy", "main"]

SOLUTION_TAG = "solution"
_TODO = "# Exercise: write your solution here, then run the check cell below."


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
    replaced = 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if SOLUTION_TAG in tags:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            stub = _TODO + "\n" + stub_source(source)
            cell["source"] = stub.splitlines(keepends=True)
            # The stub is for writing, not a hidden answer: show it in full.
            cell["metadata"]["tags"] = [
                t for t in tags if t not in (SOLUTION_TAG, "hide-input", "hide-cell")
            ]
            replaced += 1
        cell["outputs"] = []
        cell["execution_count"] = None
    notebook.get("metadata", {}).pop("widgets", None)
    if replaced == 0:
        raise ValueError(
            f"notebook_path: {str(notebook_path)!r} has no cells tagged {SOLUTION_TAG!r}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / notebook_path.name
    target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python -m genai_notes.student NOTEBOOK... -o DIR``."""
    from genai_notes.cli import main as cli_main

    return cli_main(["student", *(argv if argv is not None else __import__("sys").argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
