"""What the Colab copies need to know about the book, read from its own files.

The published address (``_config.yml``), the glossary terms and their HTML anchors
(``book/glossary.md``), the bibliography (``book/references.bib``), each page's title and its
``(label)=`` targets and numbered figures. ``genai_notes.colab`` uses them to turn MyST roles
into links and text.

>>> glossary_anchor("byte-pair encoding")
'term-byte-pair-encoding'
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Site", "book_address", "glossary_anchor", "parse_glossary", "parse_bib", "load_site"]


@dataclass
class Site:
    """What the rewrites need to know about the book.

    base: the published book's address, with no trailing slash.
    glossary: each glossary term in lower case -> the term as the glossary spells it.
    bib: each citation key -> its fields (``author``, ``year``, ``title``), LaTeX decoded.
    titles: each page (``notebooks/05_attention``) -> its first heading.
    labels: each ``(label)=`` target or figure name -> (page, default text, figure number).
    raw: where files in the repository are served from (figures in directives).
    """

    base: str
    glossary: dict[str, str] = field(default_factory=dict)
    bib: dict[str, dict[str, str]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    labels: dict[str, tuple[str, str, int | None]] = field(default_factory=dict)
    raw: str = ""


def book_address(config: Mapping) -> str:
    """The published book's address from a parsed ``_config.yml``.

    >>> book_address({"repository": {"url": "https://github.com/ann/notes"}})
    'https://ann.github.io/notes'
    >>> book_address({"html": {"baseurl": "https://notes.example.org/"}})
    'https://notes.example.org'
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config: expected a mapping (parsed _config.yml), got {type(config)}")
    baseurl = (config.get("html") or {}).get("baseurl")
    if baseurl:
        return str(baseurl).rstrip("/")
    url = str((config.get("repository") or {}).get("url", "")).rstrip("/")
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?", url)
    if not match:
        raise ValueError(
            f"config: expected repository.url like https://github.com/OWNER/REPO or an "
            f"html.baseurl, got {url!r}"
        )
    owner, repo = match.groups()
    host = f"https://{owner.lower()}.github.io"
    return host if repo.lower() == f"{owner.lower()}.github.io" else f"{host}/{repo}"


def glossary_anchor(term: str) -> str:
    """The HTML id Sphinx gives a glossary term: ``term-`` and the term made an identifier.

    >>> glossary_anchor("query, key and value")
    'term-query-key-and-value'
    >>> glossary_anchor("KV cache")
    'term-KV-cache'
    """
    ident = unicodedata.normalize("NFKD", f"term-{term}").encode("ascii", "ignore").decode()
    ident = re.sub(r"[^a-zA-Z0-9._]+", "-", " ".join(ident.split()))
    return re.sub(r"^[-0-9._]+|-+$", "", ident)


def parse_glossary(text: str) -> list[str]:
    """The terms of every ``{glossary}`` block in a MyST page, in the order written.

    >>> parse_glossary("```{glossary}\\n:sorted:\\n\\nlogit\\n  A raw score.\\n```\\n")
    ['logit']
    """
    terms: list[str] = []
    for block in re.findall(r"^(`{3,}|:{3,})\{glossary\}[^\n]*\n(.*?)^\1\s*$", text, re.M | re.S):
        for line in block[1].splitlines():
            if line.strip() and not line[0].isspace() and not re.match(r":\w+:", line):
                terms.append(line.split(" : ")[0].strip())
    return terms


_LATEX = {"\\L": "Ł", "\\l": "ł", "\\o": "ø", "\\O": "Ø", "\\ss": "ß", "\\&": "&", "\\%": "%"}
_ACCENTS = {
    '"': "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "c": "\u0327",
}


def _decode_latex(text: str) -> str:
    text = re.sub(
        r"\\([\"'`^~c])\s*\{?([A-Za-z])\}?",
        lambda m: unicodedata.normalize("NFC", m.group(2) + _ACCENTS[m.group(1)]),
        text,
    )
    text = re.sub(r"\\(L|l|o|O|ss|&|%)(?![A-Za-z])", lambda m: _LATEX["\\" + m.group(1)], text)
    return " ".join(text.replace("{", "").replace("}", "").replace("--", "–").split())


def parse_bib(text: str) -> dict[str, dict[str, str]]:
    """Entries of a BibTeX file: key -> fields in lower case, braces and accents decoded.

    >>> parse_bib("@misc{k, author = {G{\\\\\\"u}nter, A.}, year = {2020}}")["k"]["author"]
    'Günter, A.'
    """
    entries: dict[str, dict[str, str]] = {}
    for start in re.finditer(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", text):
        pos, fields = start.end(), {}
        while True:
            name = re.compile(r"\s*(\w+)\s*=\s*").match(text, pos)
            if not name:
                break
            pos, value = name.end(), ""
            if text[pos] == "{":
                depth, end = 0, pos
                for end in range(pos, len(text)):
                    depth += {"{": 1, "}": -1}.get(text[end], 0)
                    if depth == 0:
                        break
                value, pos = text[pos + 1 : end], end + 1
            else:
                token = re.compile(r'"([^"]*)"|(\w+)').match(text, pos)
                if not token:
                    raise ValueError(f"bib: cannot read field {name.group(1)!r} of {start[2]!r}")
                value, pos = token.group(1) or token.group(2), token.end()
            fields[name.group(1).lower()] = _decode_latex(value)
            comma = re.compile(r"\s*,").match(text, pos)
            if not comma:
                break
            pos = comma.end()
        entries[start.group(2)] = fields
    return entries


def _heading(markdown: str) -> str | None:
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", markdown, re.M)
    return match.group(1) if match else None


def _pages(site: Site, page: str, cells: list[dict]) -> None:
    """Record a page's title, its ``(label)=`` targets and its numbered figures."""
    texts = ["".join(c["source"]) if c["cell_type"] == "markdown" else "" for c in cells]
    title = next((h for t in texts if (h := _heading(t))), None)
    if title:
        site.titles[page] = title
    figures = 0
    for cell, text in zip(cells, texts):
        fig = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
        if cell["cell_type"] == "code" and fig.get("caption"):
            figures += 1
            if fig.get("name"):
                site.labels[fig["name"]] = (page, "the figure", figures)
        for label, heading in re.findall(r"^\(([^)\s]+)\)=\s*\n+(?:#+\s+(.+))?", text, re.M):
            site.labels[label] = (page, heading.strip() or label, None)
        for name in re.findall(
            r"^`{3,}\{figure\}[^\n]*\n(?::\w+:.*\n)*?:name:\s*(\S+)", text, re.M
        ):
            figures += 1
            site.labels[name] = (page, "the figure", figures)


def load_site(root: str | Path = ".") -> Site:
    """Read the book's address, glossary, bibliography, page titles and labels from ``root``."""
    import yaml  # a development dependency, needed only to write the copies

    root = Path(root)
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]["url"].rstrip("/").removesuffix(".git")
    branch = config["repository"].get("branch", "main")
    site = Site(
        base=book_address(config),
        raw=repo.replace("https://github.com/", "https://raw.githubusercontent.com/")
        + f"/{branch}",
    )
    for term in parse_glossary((root / "book" / "glossary.md").read_text(encoding="utf-8")):
        site.glossary[term.lower()] = term
    for bibfile in config.get("bibtex_bibfiles", []):
        site.bib.update(parse_bib((root / bibfile).read_text(encoding="utf-8")))
    for path in sorted([*root.glob("book/*.md"), *root.glob("notebooks/*.ipynb")]):
        page = path.relative_to(root).with_suffix("").as_posix()
        if path.suffix == ".ipynb":
            _pages(site, page, json.loads(path.read_text(encoding="utf-8"))["cells"])
        else:
            text = path.read_text(encoding="utf-8")
            _pages(site, page, [{"cell_type": "markdown", "source": text}])
    return site
