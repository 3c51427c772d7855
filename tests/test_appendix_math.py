"""Appendix B (book/appendix_math.md) must never drift from NumPy and the package.

Every ```pycon block of the page is run with the standard library's doctest, in page order and
sharing one namespace (as a reader would paste them into one session). The page's section
labels are checked too: the chapters' prerequisites link to them, so renaming one must fail
here rather than break links silently.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pycon_pages
import pytest
from pycon_pages import pycon_blocks

from genai_notes.exercises import appendix_b, questions
from genai_notes.exercises.core import STRICT_ENV_VAR

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "appendix_math.md"
# Fewer examples than this means blocks were lost (for example a fence renamed from pycon).
MIN_EXAMPLES = 100
# The anchors the chapters link to; each names a section heading on the page.
LABELS = [
    "appendix-math",
    "appendix-math-vectors",
    "appendix-math-matrices",
    "appendix-math-broadcasting",
    "appendix-math-rotations",
    "appendix-math-softmax",
    "appendix-math-derivatives",
    "appendix-math-jacobian",
    "appendix-math-probability",
    "appendix-math-entropy",
    "appendix-math-chapters",
]


def run_page(text: str) -> tuple[doctest.TestResults, str]:
    """Run every pycon block of ``text`` as doctests in one shared namespace."""
    return pycon_pages.run_page(text, PAGE, "appendix_math")


@pytest.mark.parametrize("strict", ["0", "1"])
def test_every_example_on_the_page_passes(monkeypatch, strict):
    # In strict mode (as under the test suite) a check that is not correct raises, so every
    # solution shown on the page must pass its own check.
    monkeypatch.setenv(STRICT_ENV_VAR, strict)
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
    wrong = source.replace(last.want, last.want.replace("C", "X").replace("w", "v"), 1)
    assert wrong != source
    lines = text.splitlines(keepends=True)
    end = lineno + source.count("\n")
    broken = "".join(lines[:lineno]) + wrong + "".join(lines[end:])
    results, _ = run_page(broken)
    assert results.failed == 1


@pytest.mark.parametrize("label", LABELS)
def test_each_linked_section_has_its_label_above_a_heading(label):
    text = PAGE.read_text(encoding="utf-8")
    assert re.search(rf"^\({re.escape(label)}\)=\n#+ \S", text, re.M), label


def test_every_exercise_is_on_the_page_with_its_check():
    text = PAGE.read_text(encoding="utf-8")
    names = [q.name for q in questions(appendix_b)]
    assert names == [f"q{i}" for i in range(1, 7)]
    for number, question in enumerate(questions(appendix_b), start=1):
        function = question.reference.__name__
        assert f"**Exercise {number}.** Write `{function}(" in text, function
        assert f"ex.{question.name}.check({function})\nCorrect: well done." in text, function


def test_solutions_sit_in_dropdowns():
    # Each "A solution" toggle holds the check of its exercise, so solutions start hidden.
    text = PAGE.read_text(encoding="utf-8")
    dropdowns = re.findall(r"^:::\{dropdown\} A solution\n(.*?)^:::$", text, re.M | re.S)
    assert len(dropdowns) == len(questions(appendix_b))
    for question, body in zip(questions(appendix_b), dropdowns):
        assert f"ex.{question.name}.check(" in body


def test_example_lines_fit_the_books_column():
    # The HTML column shows 78 characters of a code block (checked in Chromium); a longer
    # line of an example or of its output hides behind a scrollbar.
    text = PAGE.read_text(encoding="utf-8")
    long = [
        (lineno + n + 1, len(line))
        for lineno, source in pycon_blocks(text)
        for n, line in enumerate(source.splitlines())
        if len(line) > 78
    ]
    assert not long, f"lines longer than 78 characters (line, length): {long}"
