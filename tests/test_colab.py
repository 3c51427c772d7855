"""The Colab copies (colab/): MyST roles and directives rewritten as CommonMark that reads
well in Colab and JupyterLab, kept in step with the chapters and with _config.yml."""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from markdown_it import MarkdownIt

from genai_notes import cli
from genai_notes.book_site import (
    Site,
    book_address,
    glossary_anchor,
    load_site,
    parse_bib,
    parse_glossary,
)
from genai_notes.colab import colab_copy, rewrite_markdown, stale_copies, write_colab_copies

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPO_URL = CONFIG["repository"]["url"].rstrip("/")
BRANCH = CONFIG["repository"].get("branch", "main")
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COPIES = sorted((ROOT / "colab").glob("[0-9][0-9]_*.ipynb"))
BASE = "https://b.org/book"
SITE = Site(
    base=BASE,
    glossary={"token": "token", "transformer": "Transformer", "query, key and value": "query, key and value"},
    bib={
        "vaswani2017": {"author": "Vaswani, Ashish and Shazeer, Noam and Parmar, Niki", "year": "2017", "title": "Attention Is All You Need"},
        "jain2019": {"author": "Jain, Sarthak and Wallace, Byron C.", "year": "2019"},
        "gage1994": {"author": "Philip Gage", "year": "1994"},
        "brown2020": {"author": "Brown, Tom and others", "year": "2020"},
    },
    titles={"book/appendix_autograd": "Appendix A: The autograd engine", "notebooks/05_attention": "5. Attention"},
    labels={"fig-ch05-heads": ("notebooks/05_attention", "the figure", 5), "sec-masks": ("notebooks/05_attention", "Masks", None)},
    raw="https://raw.example.org/repo/main",
)  # fmt: skip
REFS = f"{BASE}/book/references.html"


def rewrite(text: str) -> str:
    return rewrite_markdown(textwrap.dedent(text).strip("\n"), SITE)


# ---------------------------------------------------------------------- each rewrite by hand
def test_term_becomes_a_link_to_its_glossary_anchor():
    assert rewrite("A {term}`token`.") == f"A [token]({BASE}/book/glossary.html#term-token)."
    assert rewrite("{term}`Tokens <token>` are ids.") == (
        f"[Tokens]({BASE}/book/glossary.html#term-token) are ids."
    )
    # Sphinx looks terms up ignoring case; the anchor keeps the glossary's spelling.
    assert rewrite("the {term}`transformer`") == (
        f"the [transformer]({BASE}/book/glossary.html#term-Transformer)"
    )
    # A role may wrap over two lines of the cell.
    assert rewrite("the {term}`query, key\nand value` projections") == (
        f"the [query, key and value]({BASE}/book/glossary.html#term-query-key-and-value)"
        " projections"
    )


def test_unknown_term_is_an_error_naming_it():
    with pytest.raises(ValueError, match="'nat' is not a term of book/glossary.md"):
        rewrite("in {term}`nats <nat>`")


def test_cite_p_and_cite_t_become_author_year_text_linked_to_the_references():
    title = '"Attention Is All You Need"'
    assert rewrite("one line {cite:p}`vaswani2017`.") == (
        f"one line ([Vaswani et al., 2017]({REFS} {title}))."
    )
    assert rewrite("{cite:t}`jain2019` argue") == f"[Jain and Wallace (2019)]({REFS}) argue"
    assert rewrite("{cite:p}`gage1994, brown2020`") == (
        f"([Gage, 1994]({REFS}); [Brown et al., 2020]({REFS}))"
    )
    assert rewrite("{cite}`gage1994`") == f"([Gage, 1994]({REFS}))"
    assert rewrite("{cite:p}`{see}gage1994{p. 3}`") == f"(see [Gage, 1994]({REFS}), p. 3)"
    with pytest.raises(ValueError, match="citation key 'nobody2000'"):
        rewrite("{cite:p}`nobody2000`")


def test_doc_becomes_a_link_to_the_published_page_with_its_title_or_text():
    assert rewrite("See {doc}`Appendix A <../book/appendix_autograd>`.") == (
        f"See [Appendix A]({BASE}/book/appendix_autograd.html)."
    )
    assert rewrite("See {doc}`/book/appendix_autograd.md`.") == (
        f"See [Appendix A: The autograd engine]({BASE}/book/appendix_autograd.html)."
    )
    assert rewrite("{doc}`05_attention`") == f"[5. Attention]({BASE}/notebooks/05_attention.html)"
    with pytest.raises(ValueError, match="is not a page of the book"):
        rewrite("{doc}`../book/missing`")


def test_ref_and_numref_link_to_the_anchor_with_readable_text():
    page = f"{BASE}/notebooks/05_attention.html"
    assert rewrite("{ref}`sec-masks`") == f"[Masks]({page}#sec-masks)"
    assert rewrite("{ref}`the masks <sec-masks>`") == f"[the masks]({page}#sec-masks)"
    assert rewrite("{numref}`fig-ch05-heads`") == f"[Figure 5]({page}#fig-ch05-heads)"
    assert rewrite("{numref}`Fig. %s <fig-ch05-heads>`") == f"[Fig. 5]({page}#fig-ch05-heads)"
    with pytest.raises(ValueError, match="'fig-nope' is not a label"):
        rewrite("{ref}`fig-nope`")


def test_small_roles_and_unknown_roles():
    assert rewrite("{math}`x^2` and {sub}`2` and {abbr}`LLM (large language model)`") == (
        "$x^2$ and <sub>2</sub> and LLM"
    )
    with pytest.raises(ValueError, match=r"no Colab rewrite for the role \{eq\}"):
        rewrite("{eq}`my-equation`")


def test_code_spans_and_fenced_code_are_left_as_they_are():
    text = "Write `` {term}`token` `` in a page.\n\n```python\nprint('{term}`x`')\n```"
    assert rewrite(text) == text
    assert rewrite("Dollar math stays: $\\text{softmax}(z)_i$.") == (
        "Dollar math stays: $\\text{softmax}(z)_i$."
    )


def test_directives_become_blockquotes_and_plain_blocks():
    assert rewrite("""
        ```{note}
        A {term}`token` is an id.

        Second paragraph.
        ```
        """) == textwrap.dedent(f"""\
        > **Note**
        >
        > A [token]({BASE}/book/glossary.html#term-token) is an id.
        >
        > Second paragraph.""")
    assert (
        rewrite("""
        :::{admonition} Why divide by $\\sqrt{d_k}$?
        :class: dropdown
        Because.
        :::
        """)
        == "> **Why divide by $\\sqrt{d_k}$?**\n>\n> Because."
    )
    assert rewrite("```{math}\n:label: eq-x\nx = 1\n```") == "$$\nx = 1\n$$"
    assert rewrite("```{code-block} python\nx = 1\n```") == "```python\nx = 1\n```"
    # A directive inside another (the outer fence is longer).
    assert rewrite("````{tip}\n```{warning}\nCareful.\n```\n````") == (
        "> **Tip**\n>\n> > **Warning**\n> >\n> > Careful."
    )
    with pytest.raises(ValueError, match=r"no Colab rewrite for the directive \{tableofcontents\}"):
        rewrite("```{tableofcontents}\n```")


def test_targets_and_comments_are_dropped():
    assert rewrite("(sec-masks)=\n## Masks\n\n% a note to authors\nText.") == "## Masks\n\nText."


def test_glossary_terms_and_bib_entries_are_parsed():
    page = "```{glossary}\n:sorted:\n\nKV cache\n  Saved keys.\n\nlogit\n  A raw score.\n```\n"
    assert parse_glossary(page) == ["KV cache", "logit"]
    bib = parse_bib(
        '@article{a, author = {Kaiser, {\\L}ukasz and J{\\"u}rgen, S.}, title = {{BERT} Is},\n'
        '  year = 2019, pages = "1--2"}\n@misc{b, author = {{OpenAI}}, year = {2023}}'
    )
    assert bib == {
        "a": {"author": "Kaiser, Łukasz and Jürgen, S.", "title": "BERT Is", "year": "2019", "pages": "1–2"},
        "b": {"author": "OpenAI", "year": "2023"},
    }  # fmt: skip


def test_glossary_anchor_follows_sphinx_rule():
    from sphinx.util.nodes import _make_id  # the function Sphinx's glossary ids come from

    terms = parse_glossary((ROOT / "book" / "glossary.md").read_text(encoding="utf-8"))
    for term in [*terms, "top-k sampling", "Ünïcode  term", "3 things", "C++"]:
        assert glossary_anchor(term) == _make_id(f"term-{term}"), term
    # Two terms with one anchor would make Sphinx number the second: none may collide.
    assert len({glossary_anchor(t) for t in terms}) == len(terms)


def test_glossary_anchors_exist_in_the_built_book():
    built = ROOT / "_build" / "html" / "book" / "glossary.html"
    if not built.exists():
        pytest.skip("the book is not built (make book)")
    ids = set(re.findall(r'id="(term-[^"]+)"', built.read_text(encoding="utf-8")))
    terms = parse_glossary((ROOT / "book" / "glossary.md").read_text(encoding="utf-8"))
    assert ids == {glossary_anchor(t) for t in terms}


def test_book_address_comes_from_the_repository_url_or_baseurl():
    assert book_address({"repository": {"url": "https://github.com/Ann/notes.git"}}) == (
        "https://ann.github.io/notes"
    )
    assert book_address({"repository": {"url": "https://github.com/ann/ann.github.io"}}) == (
        "https://ann.github.io"
    )
    assert book_address({"html": {"baseurl": "https://x.org/b/"}, "repository": {}}) == (
        "https://x.org/b"
    )
    with pytest.raises(ValueError, match="repository.url like https://github.com/OWNER/REPO"):
        book_address({"repository": {"url": "https://gitlab.com/ann/notes"}})
    with pytest.raises(TypeError, match="config: expected a mapping"):
        book_address("https://github.com/ann/notes")


def test_colab_copy_changes_only_markdown_and_rejects_a_non_notebook():
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["See {term}`token`.\n", "Ok."]},
            {"cell_type": "code", "metadata": {"tags": ["remove-cell"]}, "outputs": [],
             "execution_count": 1, "source": ["x = '{term}`token`'"]},
        ],
        "metadata": {"genai_notes": {"chapter": 1}},
    }  # fmt: skip
    out = colab_copy(nb, SITE)
    assert out["cells"][0]["source"] == [
        f"See [token]({BASE}/book/glossary.html#term-token).\n",
        "Ok.",
    ]
    assert out["cells"][1] == nb["cells"][1] and out["metadata"] == nb["metadata"]
    assert nb["cells"][0]["source"][0] == "See {term}`token`.\n"  # the input is not changed
    with pytest.raises(TypeError, match="nb: expected a notebook"):
        colab_copy([], SITE)


# ------------------------------------------------------------ writing and checking the copies
def _tiny_book(root: Path) -> None:
    (root / "book").mkdir()
    (root / "notebooks").mkdir()
    (root / "_config.yml").write_text(
        "repository:\n  url: https://github.com/ann/notes\n  branch: main\n"
        "bibtex_bibfiles:\n  - book/refs.bib\n"
    )
    (root / "book" / "glossary.md").write_text("```{glossary}\ntoken\n  An id.\n```\n")
    (root / "book" / "refs.bib").write_text("@misc{k, author = {Lee, A.}, year = {2020}}\n")
    cell = {"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# 1. T {cite:p}`k`"]}
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / "notebooks" / "01_t.ipynb").write_text(json.dumps(nb))


def test_write_check_and_the_command_line(tmp_path, monkeypatch, capsys):
    _tiny_book(tmp_path)
    src, dst = tmp_path / "notebooks", tmp_path / "colab"
    assert stale_copies(src, dst) == ["01_t.ipynb"]  # missing
    assert write_colab_copies(src, dst) == [dst / "01_t.ipynb"]
    copy = json.loads((dst / "01_t.ipynb").read_text(encoding="utf-8"))
    assert copy["cells"][0]["source"] == [
        "# 1. T ([Lee, 2020](https://ann.github.io/notes/book/references.html))"
    ]
    assert stale_copies(src, dst) == []
    (dst / "02_gone.ipynb").write_text("{}")  # a copy whose chapter was removed
    (src / "01_t.ipynb").write_text((src / "01_t.ipynb").read_text().replace("T ", "U "))
    assert stale_copies(src, dst) == ["01_t.ipynb", "02_gone.ipynb"]
    monkeypatch.chdir(tmp_path)
    assert cli.main(["colab", "--check"]) == 1
    assert "colab/01_t.ipynb is stale: run make colab" in capsys.readouterr().out
    assert cli.main(["colab"]) == 0
    assert sorted(p.name for p in dst.iterdir()) == ["01_t.ipynb"]
    assert cli.main(["colab", "--check"]) == 0
    with pytest.raises(ValueError, match="src: expected a folder"):
        write_colab_copies(tmp_path / "nowhere", dst)


# ----------------------------------------------------------------- the committed copies
def test_committed_copies_equal_a_fresh_generation():
    stale = stale_copies(ROOT / "notebooks", ROOT / "colab", ROOT)
    assert not stale, f"Colab copies out of date: {stale}; run make colab"


def test_copies_keep_every_code_cell_output_and_the_bootstrap_first():
    assert [p.name for p in COPIES] == [p.name for p in CHAPTERS]
    for chapter, copy in zip(CHAPTERS, COPIES):
        nb, cp = (json.loads(p.read_text(encoding="utf-8")) for p in (chapter, copy))
        assert [c.get("id") for c in cp["cells"]] == [c.get("id") for c in nb["cells"]]
        assert [c for c in cp["cells"] if c["cell_type"] != "markdown"] == [
            c for c in nb["cells"] if c["cell_type"] != "markdown"
        ]
        boot = cp["cells"][1]
        assert "remove-cell" in boot["metadata"].get("tags", [])
        assert f'"{REPO_URL}.git@{BRANCH}"' in "".join(boot["source"])


_CODE = re.compile(r"<code[^>]*>.*?</code>", re.S)
_LEFTOVERS = [
    (re.compile(r"\{[A-Za-z][\w:.+-]*\}\x00"), "a role"),  # {term} before a code span
    (re.compile(r"\{(term|cite|doc|ref|numref|eq|glossary)\b"), "a MyST name"),
    (re.compile(r"(`{3,}|~{3,}|:{3,})\s*\{"), "a directive fence"),
    (re.compile(r'language-\{'), "a directive fence"),
    (re.compile(r"(^|>)\s*\([\w.:-]+\)=", re.M), "a (label)= target"),
]  # fmt: skip


def _leftovers(markdown: str) -> list[str]:
    """MyST syntax left in ``markdown`` as CommonMark renders it (code is not searched)."""
    html = MarkdownIt("commonmark").render(markdown)
    # Code shows text as written: mark where each span was, and search the rest.
    fences = re.findall(r'<code class="language-[^"]*"', html)
    prose = _CODE.sub("\x00", html) + " ".join(fences)
    return [
        f"{what}: {m.group(0)!r}" for pattern, what in _LEFTOVERS if (m := pattern.search(prose))
    ]


def test_the_leftover_check_finds_each_kind_of_myst_syntax():
    for text in ["A {term}`token`.", "{cite:p}`k`", "```{note}\nHi.\n```", ":::{tip}\nHi.\n:::",
                 "(sec-x)=\n# X", "See {doc}`a <b>`", "{eq}`e1`"]:  # fmt: skip
        assert _leftovers(text), text
    assert not _leftovers("Code: `` {term}`token` ``, math $\\text{softmax}(z)$, a [link](u).")
    assert any(
        _leftovers("".join(c["source"])) for c in json.loads(CHAPTERS[0].read_text())["cells"]
    )


@pytest.mark.parametrize("path", COPIES, ids=lambda p: p.name)
def test_copies_render_as_commonmark_with_no_myst_syntax_left(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for number, cell in enumerate(nb["cells"], start=1):
        if cell["cell_type"] == "markdown":
            found = _leftovers("".join(cell["source"]))
            assert not found, f"{path.name} cell {number}: left over: {found}"


def _links(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return re.findall(r"\]\((\S+?)(?:\s+\"[^\"]*\")?\)", text)


def test_links_in_the_copies_point_at_pages_anchors_and_keys_that_exist():
    site = load_site(ROOT)
    assert site.base == book_address(CONFIG)
    anchors = {glossary_anchor(t) for t in site.glossary.values()}
    linked = 0
    for path in COPIES:
        for url in _links(path):
            if not url.startswith(site.base + "/"):
                continue
            linked += 1
            page, _, anchor = url.removeprefix(site.base + "/").partition("#")
            page = page.removesuffix(".html")
            assert page in site.titles, f"{path.name}: link to a missing page {url}"
            if page == "book/glossary":
                assert anchor in anchors, f"{path.name}: no glossary term for #{anchor}"
            elif anchor:
                assert anchor in site.labels, f"{path.name}: no label {anchor} on {page}"
    assert linked > 0
    for path in CHAPTERS:  # every key the chapters cite is in the bibliography
        text = path.read_text(encoding="utf-8")
        for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]*)`", text):
            for key in re.sub(r"\{[^{}]*\}", "", keys).split(","):
                assert key.strip() in site.bib, f"{path.name}: {key} is not in the .bib"


# --------------------------------------------------------- the book's Colab buttons
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import colab_links  # noqa: E402  (the Sphinx extension, from book/_ext)


def _colab_link(path: str) -> str:
    owner_repo = REPO_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/{path}"


def test_extension_points_the_colab_button_at_the_copy(tmp_path):
    (tmp_path / "colab").mkdir()
    (tmp_path / "colab" / "05_attention.ipynb").write_text("{}")
    colab = {"type": "link", "text": "Colab", "url": _colab_link("notebooks/05_attention.ipynb")}
    binder = {"type": "link", "text": "Binder", "url": "https://mybinder.org/x"}
    context = {"header_buttons": [{"label": "launch-buttons", "buttons": [binder, colab]}]}
    app = SimpleNamespace(srcdir=str(tmp_path))
    colab_links._on_page_context(app, "notebooks/05_attention", "page.html", context, None)
    assert colab["url"] == _colab_link("colab/05_attention.ipynb")
    assert binder["url"] == "https://mybinder.org/x"
    assert colab_links.colab_path("book/setup") is None


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_built_book_colab_buttons_open_the_copies(path):
    page = ROOT / "_build" / "html" / "notebooks" / f"{path.stem}.html"
    if not page.exists():
        pytest.skip("the book is not built (make book)")
    links = set(re.findall(r"https://colab\.research\.google\.com/[^\"']+", page.read_text()))
    assert links == {_colab_link(f"colab/{path.name}")}


def test_colab_links_written_in_the_docs_open_existing_copies():
    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "book").glob("*.md"))]
    found = 0
    for page in pages:
        for url in re.findall(
            r"https://colab\.research\.google\.com/[^\s`)\"']+", page.read_text()
        ):
            found += 1
            name = url.rpartition("/")[2]
            assert url == _colab_link(f"colab/{name}"), f"{page.name}: {url}"
            assert (ROOT / "colab" / name).exists(), f"{page.name}: no copy colab/{name}"
    assert found > 0
