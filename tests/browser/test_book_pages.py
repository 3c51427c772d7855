"""The built HTML book, as a reader sees it, in headless Chromium.

These tests need the book built into ``_build/html`` (``make test`` builds it first) and
Debian's ``chromium``; without either they are skipped. Every request to another host is
aborted (see conftest.py), so a page that depends on a CDN fails here instead of quietly
working online. The explorers have their own tests, in test_explorers.py.
"""

from __future__ import annotations

import pytest
from _book import chapter_pages, needs_book, unexpected_errors

pytest.importorskip("playwright.sync_api")

pytestmark = needs_book


def test_front_page_has_chapter_map(page, base_url):
    page.goto(f"{base_url}/index.html")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").first.inner_text().startswith("Generative AI from scratch")
    links = page.locator("a[href*='notebooks/']")
    assert links.count() >= len(chapter_pages())
    assert unexpected_errors(page) == []


@pytest.mark.parametrize("path", chapter_pages())
def test_chapter_page_shows_figures_math_toggles_widgets_and_colab(page, base_url, path):
    page.goto(f"{base_url}/{path}")
    page.wait_for_load_state("networkidle")
    # MathJax rendered, offline (in the article: headings with math also sit in the hidden TOC)
    page.wait_for_selector("article mjx-container", timeout=15_000)
    figures = page.locator("img[src*='_images/']")
    assert figures.count() >= 2
    for i in range(figures.count()):
        image = figures.nth(i)
        assert len(image.get_attribute("alt") or "") > 20, "every figure has alt text"
        assert image.evaluate("img => img.naturalWidth") > 0, "the image file loads"
    toggles = page.locator("details.hide.above-input")
    assert toggles.count() >= 3, "exercise solutions are behind toggles"
    assert not toggles.first.evaluate("d => d.open"), "solutions start hidden"
    toggles.first.locator("summary").click()
    assert toggles.first.evaluate("d => d.open")
    colab = page.locator("a[href*='colab.research.google.com/github/']")
    # Colab opens the chapter's copy in colab/, whose MyST roles are rewritten as links.
    copy = "/blob/main/colab/" + path.rpartition("/")[2].replace(".html", ".ipynb")
    assert colab.count() >= 1 and colab.first.get_attribute("href").endswith(copy)
    if page.locator("script[type='application/vnd.jupyter.widget-view+json']").count():
        page.wait_for_selector(".widget-slider, .jupyter-widgets", timeout=15_000)
    assert unexpected_errors(page) == []


def test_instructors_table_lists_every_chapter(page, base_url):
    page.goto(f"{base_url}/book/instructors.html")
    rows = page.locator(".chapter-table table tbody tr")
    assert rows.count() == len(chapter_pages())
    assert rows.first.locator("td").count() == 5


@pytest.mark.parametrize("path", ["book/intro.html", *chapter_pages()])
def test_no_serious_accessibility_violations_in_our_content(page, base_url, path):
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    page.goto(f"{base_url}/{path}")
    page.wait_for_load_state("networkidle")
    results = axe_module.Axe().run(
        page,
        context={"include": [["article.bd-article"]]},
        options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}},
    )
    violations = [
        (v["id"], len(v["nodes"]))
        for v in results.response["violations"]
        # ipywidgets' sliders have no accessible name in their static rendering.
        if v["id"] != "aria-input-field-name"
    ]
    assert violations == []
