"""Sphinx extension: the ``chapter-table`` directive.

It renders the table of chapters (objectives, prerequisites, minutes, exercises) from each
notebook's metadata at build time, so the instructors' guide can never drift from the
notebooks. Usage in a MyST page::

    ```{chapter-table}
    ```

With the ``:brief:`` flag it renders a short list instead (title, minutes, exercises).
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from genai_notes.chapters import chapter_map, chapter_table, list_chapters
from genai_notes.exercises import chapter_module


class ChapterTable(SphinxDirective):
    has_content = False
    option_spec = {"brief": directives.flag}

    def run(self) -> list[nodes.Node]:
        notebooks = Path(self.env.srcdir) / "notebooks"
        chapters = list_chapters(notebooks)
        for chapter in chapters:
            # Rebuild this page whenever a notebook's metadata or its exercise module changes.
            self.env.note_dependency(str(chapter.path))
            module = chapter_module(chapter.number)
            if module is not None and module.__file__:
                self.env.note_dependency(module.__file__)
        here = Path(self.env.doc2path(self.env.docname)).parent
        prefix = Path("..") if here != Path(self.env.srcdir) else Path(".")
        render = chapter_map if "brief" in self.options else chapter_table
        table = render(chapters, link_prefix=f"{prefix.as_posix()}/notebooks/")
        # Remember this page: it must be re-read on every build, because a new notebook does not
        # show up as a change to any file this page depends on.
        self.env.chapter_table_docs = getattr(self.env, "chapter_table_docs", set()) | {
            self.env.docname
        }
        container = nodes.container(classes=["chapter-table"])
        self.state.nested_parse(StringList(table.splitlines()), self.content_offset, container)
        return [container]


def _always_reread(app, env, added, changed, removed):
    """Pages with a chapter table are re-read on every build: a newly added notebook is not a
    change to any file those pages depend on, so Sphinx would otherwise keep a stale table."""
    outdated = []
    for docname in env.found_docs - removed:
        path = Path(env.doc2path(docname))
        if path.suffix == ".md" and "{chapter-table}" in path.read_text(encoding="utf-8"):
            outdated.append(docname)
    return outdated


def setup(app):
    app.add_directive("chapter-table", ChapterTable)
    app.connect("env-get-outdated", _always_reread)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
