"""Sphinx extension: the Colab button of a chapter opens its Colab copy.

sphinx-book-theme builds the Colab link from the page's path,
``https://colab.research.google.com/github/OWNER/REPO/blob/BRANCH/notebooks/NN_slug.ipynb``.
The chapters in ``notebooks/`` keep MyST roles that Colab shows as raw text, so this
extension points the button at ``colab/NN_slug.ipynb`` instead, the copy ``make colab`` writes
with every role rewritten as a link or plain text (see ``genai_notes/colab.py``).
``tests/test_colab.py`` checks that every chapter has its copy and that the built buttons
point at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
COLAB_FOLDER = "colab"


def colab_path(pagename: str) -> str | None:
    """The repository path of a chapter page's Colab copy, or None for other pages.

    >>> colab_path("notebooks/05_attention")
    'colab/05_attention.ipynb'
    >>> colab_path("book/setup") is None
    True
    """
    folder, _, name = pagename.rpartition("/")
    return f"{COLAB_FOLDER}/{name}.ipynb" if folder == "notebooks" else None


def _on_page_context(app: Sphinx, pagename: str, templatename, context, doctree) -> None:
    target = colab_path(pagename)
    if target is None:
        return
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if group.get("label") == "launch-buttons" else []:
            if button.get("text") != "Colab":
                continue
            url, page = button["url"], f"/{pagename}.ipynb"
            if "/blob/" not in url or not url.endswith(page):
                LOGGER.warning(f"{pagename}: unexpected Colab link {url!r}")
                continue
            # .../blob/BRANCH/[path_to_book/]notebooks/NN.ipynb -> .../colab/NN.ipynb
            button["url"] = url.removesuffix(page) + "/" + target
            if not (Path(app.srcdir) / target).is_file():
                # Not a warning: a chapter being written would fail every -W build until its
                # copy exists. tests/test_colab.py fails instead when a copy is missing.
                LOGGER.info(f"{pagename}: {target} is missing: run make colab")


def setup(app: Sphinx) -> dict[str, Any]:
    # After sphinx-book-theme adds its launch buttons (priority 501), before the page renders.
    app.connect("html-page-context", _on_page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
