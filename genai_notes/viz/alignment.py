"""An explorer of cross-attention maps: pick a sentence pair, a decoder layer and a head, and
see which source tokens each target token reads (Chapter 7's trained translator).

The maps are computed in Python by the trained model, one ``(tgt, src)`` matrix per sentence,
layer and head, and stored in the spec rounded to 2 decimals, one record per target row. The
browser only picks the matrix the controls choose and labels its axes with that sentence's
tokens, so the explorer is live in the HTML book with no kernel.

>>> maps = [np.full((1, 2, 2, 3), 1 / 3)]           # 1 sentence: 1 layer, 2 heads, 2 x 3
>>> chart = alignment_explorer(maps, [["a", "b", "."]], [["x", "."]],
...     description="Cross-attention weights of the chosen sentence, layer and head.")
>>> [p["name"] for p in chart.to_dict()["params"]]
['sentence', 'layer', 'head']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np

from genai_notes._checks import check_array, check_int, describe
from genai_notes.viz._data import check_description, check_labels, js_literal, rounded
from genai_notes.viz.controls import Select, state_index

__all__ = ["alignment_explorer"]


def _check_maps(maps: Any, sources: Any, targets: Any) -> list[np.ndarray]:
    if isinstance(maps, np.ndarray) or not isinstance(maps, Sequence) or not maps:
        raise TypeError(
            "maps: expected a non-empty list of (n_layers, n_heads, tgt, src) arrays, one per "
            f"sentence, got {describe(maps)}"
        )
    for name, tokens in (("sources", sources), ("targets", targets)):
        if isinstance(tokens, str) or not isinstance(tokens, Sequence) or len(tokens) != len(maps):
            raise ValueError(f"{name}: expected {len(maps)} token lists, one per map")
    checked = []
    for i, m in enumerate(maps):
        m = check_array(m, f"maps[{i}]", ndim=4, dtype_kind="fiu").astype(float)
        if checked and m.shape[:2] != checked[0].shape[:2]:
            raise ValueError(
                f"maps[{i}]: expected {checked[0].shape[:2]} layers and heads like maps[0], "
                f"got {m.shape[:2]}"
            )
        check_labels(sources[i], m.shape[3], f"sources[{i}]", unique=False)
        check_labels(targets[i], m.shape[2], f"targets[{i}]", unique=False)
        if (m < 0).any() or (m > 1).any():
            raise ValueError(f"maps[{i}]: expected attention weights in [0, 1]")
        checked.append(m)
    return checked


def _counting(n: int) -> list[str]:
    """The labels a reader counts with: "1", "2", ... (the options stay 0, 1, ...)."""
    return [str(i + 1) for i in range(n)]


def alignment_explorer(
    maps: Sequence[Any],
    sources: Sequence[Sequence[str]],
    targets: Sequence[Sequence[str]],
    *,
    description: str,
    names: Sequence[str] | None = None,
    sentence: int = 0,
    layer: int = 0,
    head: int = 0,
    xlabel: str = "source token (English)",
    ylabel: str = "target token (Spanish)",
    cell: int = 34,
) -> alt.LayerChart:
    """A heatmap of ``maps[s][layer, head]`` with a list of sentences and radio buttons for
    the layer and the head.

    maps: one array per sentence, ``(n_layers, n_heads, tgt, src)`` (every sentence with the
    same layers and heads); entry ``[l, h, i, j]`` is how much target token ``i`` attends to
    source token ``j``; the radio buttons count layers and heads from 1. sources/targets: the tokens of each sentence (they may repeat), for
    the axes. names: what the list shows for each sentence (default: its source text).
    """
    check_description(description)
    maps = _check_maps(maps, sources, targets)
    n_layers, n_heads = maps[0].shape[:2]
    sources = [list(s) for s in sources]
    targets = [list(t) for t in targets]
    names = check_labels(
        [" ".join(s) for s in sources] if names is None else names, len(maps), "names"
    )
    starts = {
        "sentence": (sentence, len(maps)),
        "layer": (layer, n_layers),
        "head": (head, n_heads),
    }
    for name, (value, size) in starts.items():
        if check_int(value, name, minimum=0) >= size:
            raise ValueError(f"{name}: expected an index below {size}, got {value}")
    controls = [
        Select("sentence", "sentence", list(range(len(maps))), names, value=sentence),
        Select("layer", "decoder layer", list(range(n_layers)), _counting(n_layers), layer, True),
        Select("head", "head", list(range(n_heads)), _counting(n_heads), head, True),
    ]
    _, index = state_index(controls)
    records = [
        {"k": k, "i": i, "w": ",".join(str(x) for x in row)}
        for k, (s, l, h) in enumerate(np.ndindex(len(maps), n_layers, n_heads))
        for i, row in enumerate(rounded(maps[s][l, h], 2))
    ]
    src_tokens, tgt_tokens = js_literal(sources), js_literal(targets)
    transforms = [
        {"filter": f"datum.k === {index}"},
        {"calculate": "split(datum.w, ',')", "as": "w"},
        {"flatten": ["w"]},
        {"calculate": "toNumber(datum.w)", "as": "w"},
        {"window": [{"op": "row_number", "as": "j"}], "groupby": ["i"]},
        {"calculate": "datum.j - 1", "as": "j"},
        {"calculate": f"{tgt_tokens}[sentence][datum.i]", "as": "target"},
        {"calculate": f"{src_tokens}[sentence][datum.j]", "as": "source"},
        {
            "calculate": "datum.target + ' reads ' + datum.source + ': ' + format(datum.w, '.2f')",
            "as": "reading",
        },
    ]
    x = alt.X(
        "j:O",
        axis=alt.Axis(
            title=xlabel, labelAngle=-45, labelExpr=f"{src_tokens}[sentence][datum.value]"
        ),
    )
    y = alt.Y("i:O", axis=alt.Axis(title=ylabel, labelExpr=f"{tgt_tokens}[sentence][datum.value]"))
    cells = (
        alt.Chart(alt.Data(values=records))
        .mark_rect()
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "w:Q",
                scale=alt.Scale(scheme="cividis", domain=[0, 1]),
                legend=alt.Legend(title="weight"),
            ),
            tooltip=[
                alt.Tooltip("target:N", title=ylabel),
                alt.Tooltip("source:N", title=xlabel),
                alt.Tooltip("w:Q", title="weight", format=".2f"),
            ],
            description=alt.Description("reading:N"),
        )
    )
    cells.transform = transforms
    longest = max(max(m.shape[2], m.shape[3]) for m in maps)
    title = "'decoder layer ' + (layer + 1) + ', head ' + (head + 1) + ': ' + " + (
        f"{js_literal(names)}[sentence]"
    )
    return (
        alt.layer(cells)
        .add_params(*(c.param() for c in controls))
        .properties(
            width=cell * longest,
            height=cell * longest,
            description=description,
            title=alt.TitleParams(text=alt.ExprRef(expr=title), fontSize=12),
        )
    )
