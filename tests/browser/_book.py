"""What the browser tests share: where the built book is, which chromium to drive, and which
console messages are expected (see conftest.py for the fixtures)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Harmless messages from third-party scripts: sphinx-thebe declares a constant twice on every
# page; pydata-sphinx-theme complains once when the browser has no stored theme; and the widget
# renderer calls the MathJax 2 API (MathJax.Hub.Queue) to typeset labels, which MathJax 3 does not
# have, so widget labels are shown as plain text (the widgets themselves render; tested below).
KNOWN_CONSOLE_ERRORS = ("THEBE_JS_URL", "invalid theme mode", "reading 'Queue'")

needs_book = [
    pytest.mark.skipif(not (HTML / "index.html").exists(), reason="book not built (make book)"),
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium not installed (apt-get install chromium)"
    ),
]


def unexpected_errors(page):
    return [
        e
        for e in page.errors
        if not any(k in e for k in KNOWN_CONSOLE_ERRORS)
        # Aborted off-site requests (launch-button icons, fonts) are logged as failed loads.
        and "net::ERR_FAILED" not in e
        and "Failed to load resource" not in e
    ]


def chapter_pages():
    return sorted(
        p.relative_to(HTML).as_posix() for p in (HTML / "notebooks").glob("[0-9][0-9]_*.html")
    )
