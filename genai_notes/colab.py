"""Colab copies of the chapters: MyST roles and directives rewritten as plain CommonMark.

The HTML book keeps the MyST roles Sphinx checks (``{term}``, ``{cite:p}``, ``{doc}``,
``{ref}``, ``{numref}``) and its directives. Colab and JupyterLab render plain CommonMark, where
a role shows as raw text. So ``make colab`` writes a copy of every chapter into ``colab/``
with each role turned into a link to the published book or readable text, and the book's
Colab buttons open those copies. Code cells, outputs and metadata are copied unchanged.

The book's address comes from ``_config.yml``: ``html.baseurl`` if it is set, otherwise the
GitHub Pages address of ``repository.url`` (``https://OWNER.github.io/REPO``); the glossary,
bibliography, page titles and labels come from the book's files (``genai_notes.book_site``).

>>> site = Site(base="https://example.org/book", glossary={"token": "token"})
>>> print(rewrite_markdown("Each {term}`token <token>` is an id.", site))
Each [token](https://example.org/book/book/glossary.html#term-token) is an id.
"""

from __future__ import annotations

import argparse
import copy
import json
import posixpath
import re
from pathlib import Path

from genai_notes.book_site import Site, glossary_anchor, load_site

__all__ = [
    "rewrite_markdown",
    "colab_copy",
    "write_colab_copies",
    "stale_copies",
    "add_arguments",
    "run",
]

_CHAPTER = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")


# ---------------------------------------------------------------------------------- roles
def _split_target(body: str) -> tuple[str | None, str]:
    body = " ".join(body.split())
    match = re.fullmatch(r"(.*?)\s*<([^<>]+)>", body)
    return (match.group(1), match.group(2)) if match else (None, body)


def _authors(entry: dict[str, str]) -> str:
    people = [p.strip() for p in re.split(r"\s+and\s+", entry.get("author", "")) if p.strip()]
    last = []
    for person in people:
        if "," in person:
            last.append(person.split(",")[0].strip())
        else:
            words = person.split()
            von = [i for i, w in enumerate(words[:-1]) if w[0].islower()]
            last.append(" ".join(words[von[0] :] if von else words[-1:]))
    if len(last) > 2 or "others" in last:
        return f"{last[0]} et al."
    return " and ".join(last) or "Anonymous"


def _cite(role: str, body: str, site: Site, where: str) -> str:
    pre, post = "", ""
    match = re.fullmatch(r"(?:\{([^{}]*)\})?([^{}]*?)(?:\{([^{}]*)\})?", body.strip())
    if match:
        pre, keys, post = match.group(1) or "", match.group(2), match.group(3) or ""
    else:
        keys = body
    url = f"{site.base}/book/references.html"
    parts = []
    for key in [k.strip() for k in keys.split(",") if k.strip()]:
        if key not in site.bib:
            raise ValueError(f"{where}: citation key {key!r} is not in the bibliography")
        entry = site.bib[key]
        names, year = _authors(entry), entry.get("year", "n.d.")
        title = entry.get("title", "").replace('"', "'")
        text = {
            "p": f"{names}, {year}",
            "ps": f"{names}, {year}",
            "alp": f"{names}, {year}",
            "t": f"{names} ({year})",
            "ts": f"{names} ({year})",
            "author": names,
            "year": year,
        }[role]
        parts.append(f'[{text}]({url} "{title}")' if title else f"[{text}]({url})")
    joined = ("; " if role in ("p", "ps", "alp", "year") else ", ").join(parts)
    joined = " ".join(x for x in (pre, joined) if x) + (f", {post}" if post else "")
    return f"({joined})" if role in ("p", "ps") else joined


def _role(name: str, body: str, site: Site, folder: str, where: str) -> str:
    if name in ("cite", "cite:p", "cite:ps", "cite:t", "cite:ts", "cite:alp", "cite:year",
                "cite:author"):  # fmt: skip
        return _cite(name.partition(":")[2] or "p", body, site, where)
    text, target = _split_target(body)
    if name == "term":
        term = site.glossary.get(target.lower())
        if term is None:
            raise ValueError(f"{where}: {{term}} {target!r} is not a term of book/glossary.md")
        return f"[{text or target}]({site.base}/book/glossary.html#{glossary_anchor(term)})"
    if name == "doc":
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        page = re.sub(r"\.(md|ipynb)$", "", posixpath.normpath(path))
        if page not in site.titles:
            raise ValueError(f"{where}: {{doc}} {target!r} is not a page of the book")
        return f"[{text or site.titles[page]}]({site.base}/{page}.html)"
    if name in ("ref", "numref"):
        if target not in site.labels:
            raise ValueError(f"{where}: {{{name}}} {target!r} is not a label in the book")
        page, default, number = site.labels[target]
        if name == "numref":
            shown = text or ("Figure %s" if number is not None else default)
            shown = re.sub(r"%s|\{number\}", str(number) if number else "", shown).strip()
            shown = re.sub(r"\{name\}", default, shown) or default
        else:
            shown = text or default
        return f"[{shown}]({site.base}/{page}.html#{target})"
    simple = {
        "math": lambda: f"${body}$",
        "code": lambda: f"`{body}`",
        "samp": lambda: f"`{body}`",
        "file": lambda: f"`{body}`",
        "kbd": lambda: f"<kbd>{body}</kbd>",
        "sub": lambda: f"<sub>{body}</sub>",
        "sup": lambda: f"<sup>{body}</sup>",
        "abbr": lambda: re.sub(r"\s*\(.*\)\s*$", "", body),
        "guilabel": lambda: f"**{body}**",
    }
    if name in simple:
        return simple[name]()
    raise ValueError(f"{where}: no Colab rewrite for the role {{{name}}}; add one in colab.py")


_INLINE = re.compile(
    r"\{(?P<name>[A-Za-z][\w:+.-]*)\}(?P<rt>`+)(?P<rbody>.*?)(?<!`)(?P=rt)(?!`)"
    r"|(?P<ct>`+).*?(?<!`)(?P=ct)(?!`)",
    re.S,
)


def _inline(text: str, site: Site, folder: str, where: str) -> str:
    def replace(match: re.Match) -> str:
        if match.group("ct"):  # a code span: left as it is
            return match.group(0)
        return _role(match.group("name"), match.group("rbody"), site, folder, where)

    return _INLINE.sub(replace, text)


# ----------------------------------------------------------------------------- directives
_ADMONITIONS = {
    "note", "tip", "hint", "important", "warning", "caution", "attention", "danger", "error",
    "seealso", "admonition", "dropdown", "margin", "sidebar", "topic", "epigraph", "card",
}  # fmt: skip
_CODE = {"code-block", "code", "sourcecode", "code-cell"}


def _quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip("\n").splitlines())


def _directive(name: str, arg: str, body: str, site: Site, folder: str, where: str) -> str:
    lines = body.splitlines()
    if lines and lines[0].strip() == "---":  # a YAML block of options
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        lines = lines[end + 1 :]
    options = {}
    while lines and (opt := re.match(r"^:([\w-]+):\s*(.*)$", lines[0])):
        options[opt.group(1)] = opt.group(2)
        lines = lines[1:]
    content = "\n".join(lines).strip("\n")
    if name in _CODE:
        return f"```{arg.split()[0] if arg else ''}\n{content}\n```"
    if name == "math":
        return f"$$\n{content}\n$$"
    if name in ("figure", "image"):
        local = posixpath.normpath(posixpath.join(folder, arg))
        src = arg if re.match(r"https?://", arg) else f"{site.raw}/{local}"
        image = f"![{options.get('alt', '')}]({src})"
        return image + (
            f"\n\n*{rewrite_markdown(content, site, folder, where)}*" if content else ""
        )
    if name == "glossary":
        items, current = [], None
        for line in lines:
            if line.strip() and not line[0].isspace():
                current = [f"**{line.strip()}**:"]
                items.append(current)
            elif current is not None and line.strip():
                current.append(line.strip())
        return "\n".join("- " + " ".join(item) for item in items)
    if name in _ADMONITIONS:
        title = arg if name in ("admonition", "dropdown", "topic", "sidebar", "card") else ""
        title = title or {"seealso": "See also"}.get(name, name.capitalize())
        inner = rewrite_markdown(content, site, folder, where)
        return _quote(f"**{_inline(title, site, folder, where)}**\n\n{inner}")
    raise ValueError(f"{where}: no Colab rewrite for the directive {{{name}}}; add one in colab.py")


_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,}|:{3,})\s*(?P<info>.*)$")


def rewrite_markdown(
    text: str, site: Site, folder: str = "notebooks", where: str = "markdown"
) -> str:
    """Rewrite MyST roles, directives, targets and comments in ``text`` as CommonMark.

    ``folder`` is the page's folder (``{doc}`` paths are relative to it); ``where`` names the
    cell in error messages. Code spans and fenced code are left as they are.

    >>> site = Site(base="https://b.org", bib={"k": {"author": "Lee, A.", "year": "2020"}})
    >>> print(rewrite_markdown(":::{note}\\nSee {cite:p}`k`.\\n:::", site))
    > **Note**
    >
    > See ([Lee, 2020](https://b.org/book/references.html)).
    """
    lines, out, prose, i = text.split("\n"), [], [], 0

    def flush() -> None:
        if prose:
            out.append(_inline("\n".join(prose), site, folder, where))
            prose.clear()

    while i < len(lines):
        line, match = lines[i], _FENCE.match(lines[i])
        if match and (match["fence"][0] != ":" or match["info"].startswith("{")):
            fence = match["fence"]
            close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
            end = next((j for j in range(i + 1, len(lines)) if close.match(lines[j])), len(lines))
            body = "\n".join(lines[i + 1 : end])
            directive = re.match(r"^\{([\w-]+)\}\s*(.*)$", match["info"])
            flush()
            if directive:
                name, arg = directive.groups()
                out.append(_directive(name, arg.strip(), body, site, folder, where))
            else:
                out.append("\n".join(lines[i : end + 1]))
            i = end + 1
            continue
        if re.match(r"^\([^)\s]+\)=\s*$", line) or line.startswith("%") or line == "+++":
            i += 1  # a MyST target, comment or block break: nothing to show
            continue
        prose.append(line)
        i += 1
    flush()
    return "\n".join(out)


# ------------------------------------------------------------------------------ notebooks
def colab_copy(nb: dict, site: Site | None = None, *, folder: str = "notebooks") -> dict:
    """A copy of notebook ``nb`` (parsed JSON) whose markdown cells are plain CommonMark.

    Code cells, outputs, tags and metadata are copied unchanged; ``site`` defaults to
    :func:`load_site` of the current folder.

    >>> nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["A {math}`x`."]}]}
    >>> colab_copy(nb, Site(base="https://b.org"))["cells"][0]["source"]
    ['A $x$.']
    """
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise TypeError(f"nb: expected a notebook (a dict with a list of cells), got {type(nb)}")
    site = load_site() if site is None else site
    out = copy.deepcopy(nb)
    for number, cell in enumerate(out["cells"], start=1):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        where = f"markdown cell {number} (id {cell.get('id', '?')})"
        text = rewrite_markdown(source, site, folder, where)
        cell["source"] = text if isinstance(cell["source"], str) else text.splitlines(True)
    return out


def _render(nb: dict) -> str:
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _fresh(src: Path, root: Path) -> dict[str, str]:
    site = load_site(root)
    try:  # the chapters' folder in the book, which their {doc} paths are relative to
        folder = src.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        folder = src.name
    copies = {}
    for path in sorted(p for p in src.glob("*.ipynb") if _CHAPTER.match(p.name)):
        try:
            nb = colab_copy(json.loads(path.read_text(encoding="utf-8")), site, folder=folder)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
        copies[path.name] = _render(nb)
    return copies


def write_colab_copies(
    src: str | Path = "notebooks", dst: str | Path = "colab", root: str | Path | None = None
) -> list[Path]:
    """Write the Colab copy of every chapter in ``src`` into ``dst``; returns the paths written.

    ``root`` is the book's folder (``_config.yml``, ``book/``); by default ``src``'s parent.
    A copy whose chapter is gone is deleted.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise ValueError(f"src: expected a folder of chapter notebooks, got {str(src)!r}")
    root = src.resolve().parent if root is None else Path(root)
    copies = _fresh(src, root)
    dst.mkdir(parents=True, exist_ok=True)
    for old in dst.glob("*.ipynb"):
        if _CHAPTER.match(old.name) and old.name not in copies:
            old.unlink()
    written = []
    for name, text in copies.items():
        path = dst / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_copies(
    src: str | Path = "notebooks", dst: str | Path = "colab", root: str | Path | None = None
) -> list[str]:
    """Names of the copies in ``dst`` that differ from a fresh one, are missing or are extra."""
    src, dst = Path(src), Path(dst)
    copies = _fresh(src, src.resolve().parent if root is None else Path(root))
    names = set(copies) | {p.name for p in dst.glob("*.ipynb") if _CHAPTER.match(p.name)}
    return sorted(
        n
        for n in names
        if n not in copies
        or not (dst / n).exists()
        or (dst / n).read_text(encoding="utf-8") != copies[n]
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``genai-notes colab`` options."""
    parser.add_argument("--src", default="notebooks", help="folder of chapter notebooks")
    parser.add_argument("--dst", default="colab", help="folder for the Colab copies")
    parser.add_argument("--check", action="store_true", help="only report stale copies")


def run(args: argparse.Namespace) -> int:
    """Write (or with ``--check``, check) the Colab copies; returns the exit code."""
    if args.check:
        stale = stale_copies(args.src, args.dst)
        for name in stale:
            print(f"{args.dst}/{name} is stale: run make colab")
        return 1 if stale else 0
    for path in write_colab_copies(args.src, args.dst):
        print(f"wrote {path}")
    return 0
