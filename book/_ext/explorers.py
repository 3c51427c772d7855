"""Sphinx extension: the chapters' explorers stay live in the HTML book.

A notebook cell that ends with ``viz.Explorer(chart)`` stores one output: the chart's Vega-Lite
spec under ``application/vnd.vegalite.v5+json`` (plus a line of ``text/plain``). JupyterLab and
Colab draw that spec with their own Vega. A static page has no kernel and no Vega, so at read
time this extension replaces the spec, in the copy of the notebook that the book is built from,
by its ``text/html`` form (``genai_notes.viz.explorer_html``: a labelled container and a call to
``vegaEmbed``), which myst-nb prefers to ``text/plain``. (myst-nb has no renderer for the
Vega-Lite type and would warn about it.) On every page that has an explorer it adds the Vega,
Vega-Lite and vega-embed scripts
that ``tools/vendor_js.sh`` copies into ``_vendor/vega`` (served as ``_static/vega``); Sphinx
writes their paths relative to each page, whatever its depth.

The scripts get a priority below require.js (which myst-nb adds, at 500, to pages with
widgets): loaded after it, their UMD wrappers would register with require.js instead of
defining the globals ``vega``, ``vegaLite`` and ``vegaEmbed``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

from genai_notes.viz.display import MIME_TYPE, explorer_html

SCRIPTS = ("vega/vega.min.js", "vega/vega-lite.min.js", "vega/vega-embed.min.js")
PRIORITY = 200
MARKER = 'class="genai-explorer"'


def add_html_outputs(notebook: dict[str, Any]) -> int:
    """Replace every Vega-Lite output of ``notebook`` (nbformat 4 JSON) by its HTML form, in
    place; return how many outputs were changed."""
    changed = 0
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data", {})
            if MIME_TYPE in data:
                spec = data.pop(MIME_TYPE)
                data["text/html"] = explorer_html(
                    json.loads(spec) if isinstance(spec, str) else spec
                )
                changed += 1
    return changed


def _on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    if Path(app.env.doc2path(docname)).suffix != ".ipynb" or MIME_TYPE not in source[0]:
        return
    notebook = json.loads(source[0])
    if add_html_outputs(notebook):
        source[0] = json.dumps(notebook, ensure_ascii=False)


def _on_page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    if MARKER in context.get("body", ""):
        for script in SCRIPTS:
            app.add_js_file(script, priority=PRIORITY)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("source-read", _on_source_read)
    app.connect("html-page-context", _on_page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
