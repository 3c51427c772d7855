"""Every chapter notebook follows the conventions in CONTRIBUTING.md.

nbval (run by `make test`) re-executes the notebooks; these tests check their structure.
"""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from genai_notes.chapters import list_chapters, read_chapter
from genai_notes.exercises import chapter_module, questions

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPO_URL = CONFIG["repository"]["url"]


def bootstrap_source(repo_url: str = REPO_URL) -> str:
    """The one Colab bootstrap cell every chapter starts with."""
    return f"""# Colab only: install the book's package. Locally this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    package = ("genai-notes @ git+"
               "{repo_url}.git@main")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", package],
        check=True,
    )"""


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


ids = [p.name for p in NOTEBOOKS]


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_file_name_and_metadata_block(path):
    chapter = read_chapter(path)  # raises with a clear message if anything is missing
    assert len(chapter.objectives) >= 3
    assert chapter.exercises >= 3, "every chapter has at least three auto-checked exercises"


def _toc_files(node):
    if isinstance(node, dict):
        if "file" in node:
            yield node["file"]
        for value in node.values():
            yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def test_table_of_contents_lists_exactly_the_existing_chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    listed = [f for f in _toc_files(toc) if f.startswith("notebooks/")]
    assert listed == [f"notebooks/{p.stem}" for p in NOTEBOOKS]
    for f in _toc_files(toc):
        assert any((ROOT / f).with_suffix(ext).exists() for ext in (".md", ".ipynb")), f


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_title_cell_then_bootstrap_cell(path):
    nb = load(path)
    chapter = read_chapter(path)
    first, second = nb["cells"][0], nb["cells"][1]
    assert first["cell_type"] == "markdown"
    assert source(first).startswith(f"# {chapter.number}. {chapter.title}\n")
    assert "What you'll learn" in source(first)
    assert second["cell_type"] == "code"
    assert source(second) == bootstrap_source()
    assert "remove-cell" in second["metadata"].get("tags", [])


class _Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, args, check):
        self.calls.append((args, check))


def _run_bootstrap(monkeypatch, on_colab):
    import sys

    recorder = _Recorder()
    monkeypatch.setattr(subprocess, "run", recorder)
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", object())
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(bootstrap_source(), {})
    return recorder.calls


def test_bootstrap_does_nothing_locally(monkeypatch):
    assert _run_bootstrap(monkeypatch, on_colab=False) == []


def test_bootstrap_installs_from_the_configured_repository_on_colab(monkeypatch):
    import sys

    calls = _run_bootstrap(monkeypatch, on_colab=True)
    assert len(calls) == 1
    args, check = calls[0]
    assert check is True
    assert args[:4] == [sys.executable, "-m", "pip", "install"]
    assert args[-1] == f"genai-notes @ git+{REPO_URL}.git@main"
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPO_URL)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_was_executed_in_order_without_errors(path):
    cells = code_cells(load(path))
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        "re-run the notebook top to bottom (make execute)"
    )
    for cell in cells:
        assert not any(o["output_type"] == "error" for o in cell["outputs"]), source(cell)[:80]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_figure_has_alt_text(path):
    for cell in code_cells(load(path)):
        has_image = any("image/png" in o.get("data", {}) for o in cell["outputs"])
        if has_image:
            alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
            assert len(alt) > 20, f"figure without alt text: {source(cell)[:80]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_figures_are_shown_once(path):
    for cell in code_cells(load(path)):
        images = [o for o in cell["outputs"] if "image/png" in o.get("data", {})]
        results = [o for o in cell["outputs"] if o["output_type"] == "execute_result"]
        assert not (images and results), f"end the cell with plt.show(): {source(cell)[:80]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_each_solution_is_hidden_and_followed_by_its_check(path):
    chapter = read_chapter(path)
    cells = load(path)["cells"]
    checked = []
    for i, cell in enumerate(cells):
        tags = cell["metadata"].get("tags", [])
        if "solution" in tags:
            assert "hide-input" in tags, "solution cells are hidden behind a toggle in the HTML"
            following = source(cells[i + 1])
            match = re.search(r"ex\.(q\d+)\.check\(", following)
            assert match, f"the cell after a solution must check it: {following[:60]!r}"
            checked.append(match.group(1))
    module = chapter_module(chapter.number)
    assert checked == [q.name for q in questions(module)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_explorers_are_ignored_by_nbval_and_numbers_are_not(path):
    for cell in code_cells(load(path)):
        text = source(cell)
        ignored = text.startswith("# NBVAL_IGNORE_OUTPUT") or "nbval-ignore-output" in cell[
            "metadata"
        ].get("tags", [])
        if "interact(" in text or "interactive(" in text:
            assert ignored, f"explorer cell must start with # NBVAL_IGNORE_OUTPUT: {text[:60]!r}"
        if ignored:
            # Ignored cells are for widgets and timings only, never for numbers the text uses.
            assert re.search(r"interact|widgets|time|perf_counter|timeit", text), text[:80]


def test_chapter_list_is_in_order():
    chapters = list_chapters(ROOT / "notebooks")
    assert [c.number for c in chapters] == sorted({c.number for c in chapters})


MAX_LINE = 80  # the HTML book's code column shows about this many characters


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_code_lines_fit_the_book_column(path):
    long = [
        line
        for cell in code_cells(load(path))
        for line in source(cell).splitlines()
        if len(line) > MAX_LINE
    ]
    assert not long, f"{len(long)} code lines over {MAX_LINE} characters, e.g. {long[0]!r}"


# A printed magnitude such as 2.2e-13 or 8.9e-16 is round-off: another CPU's BLAS prints
# another value, and strict nbval fails there. Bounds ("below 1e-12") have no mantissa digits.
ROUND_OFF = re.compile(r"\b\d\.\d+e-(1\d|[2-9]\d)\b")


def output_texts(cell):
    for output in cell["outputs"]:
        if output["output_type"] == "stream":
            yield source({"source": output["text"]})
        elif "text/plain" in output.get("data", {}):
            yield source({"source": output["data"]["text/plain"]})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_round_off_magnitudes_are_printed(path):
    found = [
        match.group(0)
        for cell in code_cells(load(path))
        for text in output_texts(cell)
        for match in ROUND_OFF.finditer(text)
    ]
    assert not found, f"print a bound instead of round-off magnitudes such as {found[:3]}"
