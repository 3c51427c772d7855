"""Appendix A (book/appendix_autograd.md) must never drift from the package.

Every ```pycon block of the page is run with the standard library's doctest, in page order and
sharing one namespace (as a reader would paste them into one session), and every
``:pyobject:`` that the page includes with ``literalinclude`` must exist in its source file.
"""

from __future__ import annotations

import ast
import doctest
import re
from pathlib import Path

import pycon_pages
import pytest
from pycon_pages import pycon_blocks

BOOK = Path(__file__).resolve().parents[1] / "book"
PAGE = BOOK / "appendix_autograd.md"
# Fewer examples than this means blocks were lost (for example a fence renamed from pycon).
MIN_EXAMPLES = 80


def run_page(text: str) -> tuple[doctest.TestResults, str]:
    """Run every pycon block of ``text`` as doctests in one shared namespace."""
    return pycon_pages.run_page(text, PAGE, "appendix_autograd")


def test_every_example_on_the_page_passes():
    results, report = run_page(PAGE.read_text(encoding="utf-8"))
    assert results.failed == 0, report
    assert results.attempted >= MIN_EXAMPLES, f"only {results.attempted} examples ran"


def test_every_prompt_is_inside_a_pycon_block():
    # A >>> line outside a pycon fence would be shown to readers but never run.
    text = PAGE.read_text(encoding="utf-8")
    inside = set()
    for lineno, source in pycon_blocks(text):
        inside.update(range(lineno, lineno + source.count("\n")))
    lines = text.splitlines()
    stray = [n + 1 for n, line in enumerate(lines) if line.startswith(">>>") and n not in inside]
    assert not stray, f"'>>>' lines outside ```pycon blocks at lines {stray}"


def test_a_wrong_output_on_the_page_is_detected():
    # Guard against a harness that passes vacuously: change one expected output, in the last
    # block (so that it runs after everything it depends on), and the run must fail.
    text = PAGE.read_text(encoding="utf-8")
    lineno, source = pycon_blocks(text)[-1]
    examples = doctest.DocTestParser().get_examples(source)
    last = [e for e in examples if e.want.strip() and "..." not in e.want][-1]
    wrong = source.replace(last.want, last.want.replace("1", "7").replace("2", "9"), 1)
    assert wrong != source
    lines = text.splitlines(keepends=True)
    end = lineno + source.count("\n")
    broken = "".join(lines[:lineno]) + wrong + "".join(lines[end:])
    results, _ = run_page(broken)
    assert results.failed == 1


def _defined_names(tree: ast.Module) -> set[str]:
    """Top-level functions and classes, plus ``Class.method`` for every method."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    names.add(f"{node.name}.{item.name}")
    return names


_INCLUDE = re.compile(r"```\{literalinclude\}\s+(\S+)\n((?::[^\n]*\n)*)")


def includes() -> list[tuple[str, str]]:
    text = PAGE.read_text(encoding="utf-8")
    found = []
    for match in _INCLUDE.finditer(text):
        options = dict(re.findall(r"^:(\S+):\s*(.*)$", match.group(2), flags=re.MULTILINE))
        found.append((match.group(1), options.get("pyobject", "")))
    return found


def test_the_page_includes_real_code():
    assert len(includes()) >= 15


@pytest.mark.parametrize(("path", "pyobject"), includes())
def test_each_included_object_exists(path, pyobject):
    source = (BOOK / path).resolve()
    assert source.is_file(), f"{path}: no such file (paths are relative to book/)"
    assert pyobject, f"{path}: include a named object with :pyobject:, not a whole file"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    assert pyobject in _defined_names(tree), f"{path} defines no {pyobject}"
