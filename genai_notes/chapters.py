"""Chapter metadata: what each notebook teaches, needs and costs, read from the notebook itself.

Every chapter notebook stores a block in its metadata under the key ``genai_notes``::

    {"chapter": 1, "title": "What is generative AI?",
     "objectives": ["..."], "prerequisites": ["..."], "minutes": 45}

The instructors' guide builds its chapter table from these blocks at build time, and the tests
check every notebook has one, so the table cannot drift from the notebooks.

>>> chapter = Chapter(1, "intro", Path("01_intro.ipynb"), "Intro", ("Learn",), ("Python",), 30, 3)
>>> print(chapter_map([chapter]))
- [1. Intro](01_intro.ipynb) (30 min, 3 exercises)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from genai_notes.exercises import chapter_module, questions

__all__ = [
    "METADATA_KEY",
    "Chapter",
    "read_chapter",
    "list_chapters",
    "chapter_table",
    "chapter_map",
]

METADATA_KEY = "genai_notes"
_NAME = re.compile(r"^(\d\d)_([a-z0-9_]+)\.ipynb$")


@dataclass(frozen=True)
class Chapter:
    """One chapter's metadata, plus its number of auto-checked exercises."""

    number: int
    slug: str
    path: Path
    title: str
    objectives: tuple[str, ...]
    prerequisites: tuple[str, ...]
    minutes: int
    exercises: int


def _string_list(value: object, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(
            f"{where}: metadata key {key!r}: expected a non-empty list of strings, got {value!r}"
        )
    return tuple(value)


def read_chapter(path: str | Path) -> Chapter:
    """Read and validate the metadata block of one chapter notebook."""
    path = Path(path)
    match = _NAME.match(path.name)
    if not match:
        raise ValueError(f"path: expected a file named NN_slug.ipynb, got {path.name!r}")
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a valid notebook ({exc})") from None
    meta = notebook.get("metadata", {}).get(METADATA_KEY)
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: notebook metadata has no {METADATA_KEY!r} block")
    missing = [
        k for k in ("chapter", "title", "objectives", "prerequisites", "minutes") if k not in meta
    ]
    if missing:
        raise ValueError(f"{path}: metadata block is missing {', '.join(map(repr, missing))}")
    number = int(match.group(1))
    if meta["chapter"] != number:
        raise ValueError(
            f"{path}: metadata says chapter {meta['chapter']!r} but the file name says {number}"
        )
    if not isinstance(meta["title"], str) or not meta["title"]:
        raise ValueError(f"{path}: metadata key 'title': expected a non-empty string")
    minutes = meta["minutes"]
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 5 <= minutes <= 600:
        raise ValueError(
            f"{path}: metadata key 'minutes': expected an integer from 5 to 600, got {minutes!r}"
        )
    module = chapter_module(number)
    return Chapter(
        number=number,
        slug=match.group(2),
        path=path,
        title=meta["title"],
        objectives=_string_list(meta["objectives"], "objectives", str(path)),
        prerequisites=_string_list(meta["prerequisites"], "prerequisites", str(path)),
        minutes=minutes,
        exercises=len(questions(module)) if module else 0,
    )


def list_chapters(folder: str | Path = "notebooks") -> list[Chapter]:
    """All chapters in ``folder``, in chapter order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder: expected a directory of chapter notebooks, got {str(folder)!r}")
    return [read_chapter(p) for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))]


def _cell(text: str) -> str:
    """Escape a pipe, which would otherwise end a Markdown table cell (as in "p(y | x)")."""
    return text.replace("|", "\\|")


def chapter_table(chapters: list[Chapter], link_prefix: str = "") -> str:
    """A Markdown table of chapters: title (linked), objectives, prerequisites, minutes,
    exercises. ``link_prefix`` is prepended to each notebook's file name in the link."""
    rows = [
        "| Chapter | Objectives | Prerequisites | Minutes | Exercises |",
        "|---|---|---|---|---|",
    ]
    for c in chapters:
        objectives = "<br>".join(f"• {_cell(o)}" for o in c.objectives)
        prerequisites = "<br>".join(_cell(p) for p in c.prerequisites)
        link = f"[{c.number}. {_cell(c.title)}]({link_prefix}{c.path.name})"
        rows.append(f"| {link} | {objectives} | {prerequisites} | {c.minutes} | {c.exercises} |")
    return "\n".join(rows)


def chapter_map(chapters: list[Chapter], link_prefix: str = "") -> str:
    """A Markdown list of chapters with their minutes and exercise counts."""
    return "\n".join(
        f"- [{c.number}. {c.title}]({link_prefix}{c.path.name}) "
        f"({c.minutes} min, {c.exercises} exercises)"
        for c in chapters
    )
