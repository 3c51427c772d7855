"""Run a book page's ```pycon blocks as doctests (the appendices' tests share this).

Every block runs in page order in one shared namespace, as a reader would paste them into one
session; the report names the page and the line of each failing example.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
_FENCE = re.compile(r"^```(\S*)\s*$")


def pycon_blocks(text: str) -> list[tuple[int, str]]:
    """``(first line number, 0-based; source)`` of every ```pycon block in ``text``."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match and match.group(1) == "pycon":
            end = i + 1
            while not lines[end].startswith("```"):
                end += 1
            blocks.append((i + 1, "\n".join(lines[i + 1 : end]) + "\n"))
            i = end
        i += 1
    return blocks


def run_page(text: str, page: Path, module_name: str) -> tuple[doctest.TestResults, str]:
    """Run every pycon block of ``text`` (the page ``page``) as doctests in one namespace
    whose ``__name__`` is ``module_name``."""
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=FLAGS, verbose=False)
    report: list[str] = []
    globs: dict = {"__name__": module_name}
    for lineno, source in pycon_blocks(text):
        test = parser.get_doctest(source, globs, page.name, str(page), lineno)
        test.globs = globs  # DocTest copies its globals; share them across blocks instead
        runner.run(test, out=report.append, clear_globs=False)
    globs.clear()
    return runner.summarize(verbose=False), "".join(report)
