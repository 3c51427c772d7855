"""How an explorer is displayed: one cell output for JupyterLab, Colab and the HTML book.

:class:`Explorer` wraps an Altair chart. Its cell output is the Vega-Lite spec under the MIME
type ``application/vnd.vegalite.v5+json``, which JupyterLab and Colab draw with their own Vega,
and a short ``text/plain``. The spec is the one the package builds, made independent of the
installed Altair: Altair's ``$schema`` URL and its default ``config`` change between releases,
so they are replaced by the book's own fixed values. A notebook's stored output therefore
matches a fresh run next year, with a newer Altair, digit for digit.

The HTML book cannot ask a kernel for anything, so the book's Sphinx extension
(``book/_ext/explorers.py``) turns the same stored spec into :func:`explorer_html`: a container
and a script that calls ``vegaEmbed``, from the Vega files the book serves itself.

>>> import altair as alt
>>> chart = alt.Chart(alt.Data(values=[{"x": 1}])).mark_point().encode(x="x:Q").properties(
...     description="One point at x = 1, to show how an explorer is displayed.")
>>> explorer = Explorer(chart)
>>> sorted(explorer._repr_mimebundle_())
['application/vnd.vegalite.v5+json', 'text/plain']
>>> "$schema" in explorer.spec, explorer.element_id == Explorer(chart).element_id
(False, True)
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from genai_notes._checks import describe
from genai_notes.viz._data import check_description
from genai_notes.viz.figures import PALETTE

__all__ = ["MIME_TYPE", "Explorer", "explorer_spec", "element_id", "explorer_html", "find_urls"]

MIME_TYPE = "application/vnd.vegalite.v5+json"

# The book's own chart style, in place of Altair's defaults (which vary by release).
CONFIG: dict[str, Any] = {
    "view": {"stroke": None},
    "font": "sans-serif",
    "axis": {"labelFontSize": 11, "titleFontSize": 12, "grid": True, "gridOpacity": 0.3},
    "legend": {"labelFontSize": 11, "titleFontSize": 12},
    "range": {"category": list(PALETTE)},
    "bar": {"continuousBandSize": 12},
}
# Read by vega-embed wherever the spec is drawn: SVG (so screen readers and tests can read
# the marks' labels), and no export menu (its links lead off the page).
EMBED_OPTIONS: dict[str, Any] = {"renderer": "svg", "actions": False}

# Spacing for the controls under each explorer (vega-embed styles only its own menu).
_STYLE = (
    "<style>.genai-explorer .vega-bindings{font-size:0.9rem;margin-top:0.4em}"
    ".genai-explorer .vega-bind{margin:0.2em 0}"
    ".genai-explorer .vega-bind-name{display:inline-block;min-width:9em;margin-right:0.5em}"
    ".genai-explorer .vega-bind-radio label{margin:0 0.8em 0 0.2em}</style>\n"
)

_URL = re.compile(r"\b(?:https?|ftp|file|data|javascript):", re.IGNORECASE)


def find_urls(spec: Any, path: str = "spec") -> Iterator[str]:
    """Every place in ``spec`` that refers to something outside it: a ``url`` key or a
    string that holds a URL. An explorer must carry all its data inline.

    >>> list(find_urls({"data": {"url": "cars.json"}, "title": "ok"}))
    ['spec.data.url']
    """
    if isinstance(spec, Mapping):
        for key, value in spec.items():
            if key == "url":
                yield f"{path}.{key}"
            else:
                yield from find_urls(value, f"{path}.{key}")
    elif isinstance(spec, (list, tuple)):
        for n, value in enumerate(spec):
            yield from find_urls(value, f"{path}[{n}]")
    elif isinstance(spec, str) and _URL.search(spec):
        yield path


def explorer_spec(chart: Any) -> dict[str, Any]:
    """The version-independent Vega-Lite spec of ``chart`` (an Altair chart or a spec dict).

    Altair's ``$schema`` and ``config`` are dropped and the book's ``config`` and embedding
    options put in their place; the spec must have a ``description`` (its text alternative) and
    no URLs.
    """
    if isinstance(chart, Mapping):
        spec = copy.deepcopy(dict(chart))
    elif hasattr(chart, "to_dict"):
        spec = chart.to_dict()
    else:
        raise TypeError(f"chart: expected an Altair chart or a spec dict, got {describe(chart)}")
    spec = json.loads(json.dumps(spec))  # plain JSON types only
    spec.pop("$schema", None)
    spec["config"] = copy.deepcopy(CONFIG)
    spec["usermeta"] = {"embedOptions": dict(EMBED_OPTIONS)}
    if "description" not in spec:
        raise ValueError("chart: expected a description, its text alternative; got none")
    check_description(spec["description"])
    urls = list(find_urls(spec))
    if urls:
        raise ValueError(f"chart: expected every piece of data inline, got URLs at {urls}")
    return spec


def element_id(spec: Mapping[str, Any]) -> str:
    """A stable id for the explorer's HTML element: a hash of its spec, so that re-running a
    notebook gives the same id (Altair's own ids are random)."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "genai-explorer-" + hashlib.sha256(text.encode("ascii")).hexdigest()[:12]


def _script_json(value: Any) -> str:
    """JSON that is safe inside an HTML ``<script>`` element."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def explorer_html(spec: Mapping[str, Any]) -> str:
    """The explorer as HTML for the book: a container (a figure labelled with the spec's
    description) and a script that draws the spec into it with ``vegaEmbed``.

    The page must load Vega, Vega-Lite and vega-embed first (the book adds them to every page
    with an explorer). Without them the container says what the explorer shows. The drawn
    view is kept in ``window.genaiExplorers[id]``, for the browser tests.
    """
    spec = dict(spec)
    description = check_description(spec.get("description"))
    ident = element_id(spec)
    label = html.escape(description, quote=True)
    return (
        _STYLE + f'<div id="{ident}" class="genai-explorer" role="figure" aria-label="{label}" '
        'style="max-width:100%;overflow-x:auto"><div class="genai-explorer-view">'
        f'<p class="genai-explorer-fallback">An interactive explorer, drawn in the browser with '
        f"Vega-Lite (it needs JavaScript): {html.escape(description)}</p></div></div>\n"
        "<script>\n(function () {\n"
        f'  var id = "{ident}";\n'
        f"  var spec = {_script_json(spec)};\n"
        "  function draw() {\n"
        "    var box = document.getElementById(id);\n"
        '    if (!box || typeof vegaEmbed !== "function") return;\n'
        '    var element = box.querySelector(".genai-explorer-view");\n'
        '    element.textContent = "";\n'
        '    vegaEmbed(element, spec, {mode: "vega-lite"}).then(function (result) {\n'
        "      (window.genaiExplorers = window.genaiExplorers || {})[id] = result.view;\n"
        "    }).catch(function (error) {\n"
        '      element.textContent = "The explorer could not be drawn: " + error;\n'
        "    });\n"
        "  }\n"
        '  if (document.readyState === "loading") {\n'
        '    document.addEventListener("DOMContentLoaded", draw);\n'
        "  } else {\n"
        "    draw();\n"
        "  }\n"
        "})();\n"
        "</script>"
    )


class Explorer:
    """An explorer ready to display: the last line of a notebook cell, ``viz.Explorer(chart)``.

    ``chart`` is an Altair chart from a builder in :mod:`genai_notes.viz.explorers` (or any
    Altair chart with a ``description``). ``spec`` is its version-independent Vega-Lite spec.
    """

    mime_type = MIME_TYPE

    def __init__(self, chart: Any) -> None:
        self.spec = explorer_spec(chart)
        self.element_id = element_id(self.spec)

    @property
    def description(self) -> str:
        return self.spec["description"]

    def to_html(self) -> str:
        """The form the HTML book shows (see :func:`explorer_html`)."""
        return explorer_html(self.spec)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {MIME_TYPE: copy.deepcopy(self.spec), "text/plain": repr(self)}

    def __repr__(self) -> str:
        text = self.description
        short = text if len(text) <= 70 else text[:69].rstrip() + "…"
        return f"<Explorer: {short}>"
