"""Explorers that compute in the browser: Altair charts whose controls stay live in the HTML
book, in JupyterLab and in Colab, with no Python kernel behind them.

Every builder takes precomputed NumPy arrays and plain Python data, puts the data into the spec
inline, and writes the little arithmetic that the controls drive (a softmax at a temperature, a
causal mask, a cosine similarity, a row or a column of a matrix) as Vega-Lite transforms. Each
returns an Altair chart with the book's colours and labelled axes, and with ``description`` as
its text alternative; display it with :class:`genai_notes.viz.Explorer`.

>>> chart = distribution_explorer(
...     np.log([0.7, 0.2, 0.1]), ["a", "b", "c"],
...     temperature=Slider("T", "temperature", 0.5, 2.0, 0.5, 1.0),
...     description="The probability of a, b and c, reshaped by the temperature slider.")
>>> [p["name"] for p in chart.to_dict()["params"]]
['T']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np

from genai_notes._checks import check_array, check_int, describe
from genai_notes.viz._data import check_description, check_labels, js_literal, rounded
from genai_notes.viz.controls import Checkbox, Select, Slider
from genai_notes.viz.figures import PALETTE

__all__ = [
    "distribution_explorer",
    "attention_explorer",
    "matrix_explorer",
]

HIGHLIGHT = PALETTE[5]  # vermillion: the chosen item, against the blue of the rest


def _flattened(matrix: np.ndarray, digits: int, row: str, col: str, value: str) -> tuple:
    """Compact inline data for a ``(rows, cols)`` matrix, and the transforms that unpack it into
    one record per entry (``row``, ``col``, ``value``).

    Each row is one record holding its numbers as one comma-separated string: a stored notebook
    writes a JSON array one number per line, and a matrix would take thousands of lines.
    """
    values = [
        {row: i, value: ",".join(str(x) for x in numbers)}
        for i, numbers in enumerate(rounded(matrix, digits))
    ]
    field = f"datum[{js_literal(value)}]"
    unpack = [
        {"calculate": f"split({field}, ',')", "as": value},
        {"flatten": [value]},
        {"calculate": f"toNumber({field})", "as": value},
        # Flatten keeps each row's order, so the rank within the row is the column index.
        {"window": [{"op": "row_number", "as": col}], "groupby": [row]},
        {"calculate": f"datum[{js_literal(col)}] - 1", "as": col},
    ]
    return alt.Data(values=values), unpack


def _index_axis(labels: Sequence[str], title: str, **kwargs: Any) -> alt.Axis:
    """An axis over integer positions that shows ``labels`` (which may repeat, like tokens)."""
    return alt.Axis(title=title, labelExpr=f"{js_literal(list(labels))}[datum.value]", **kwargs)


def _check_slider(slider: Any, name: str, low: float = 0.0) -> Slider | None:
    if slider is not None and not isinstance(slider, Slider):
        raise TypeError(f"{name}: expected a Slider or None, got {describe(slider)}")
    if slider is not None and slider.min <= low:
        raise ValueError(
            f"{name}: expected a slider whose values are all > {low}, got min {slider.min}"
        )
    return slider


def distribution_explorer(
    logits: Any,
    outcomes: Sequence[str],
    *,
    description: str,
    contexts: Sequence[str] | None = None,
    context: int = 0,
    context_label: str = "context",
    temperature: Slider | None = None,
    xlabel: str = "outcome",
    ylabel: str = "probability",
    width: int | None = None,
    height: int = 220,
) -> alt.Chart:
    """Bars of the distribution ``softmax(logits / T)`` over ``outcomes``, best first.

    ``logits`` is ``(n_outcomes,)``, or ``(n_contexts, n_outcomes)`` with one row per entry of
    ``contexts``, which the reader picks from a list (starting at row ``context``). Natural
    log-probabilities are valid logits, since ``softmax(log p) = p``. ``temperature`` is the
    slider for ``T``; without it ``T = 1``. The softmax subtracts each row's largest logit
    first, so it never overflows.
    """
    check_description(description)
    z = check_array(logits, "logits", ndim=(1, 2), dtype_kind="fiu")
    if contexts is None and z.ndim == 2:
        raise ValueError(f"contexts: expected one label per row of logits {z.shape}, got None")
    z = np.atleast_2d(z)
    outcomes = check_labels(outcomes, z.shape[1], "outcomes")
    temperature = _check_slider(temperature, "temperature")
    controls = []
    if contexts is not None:
        contexts = check_labels(contexts, z.shape[0], "contexts")
        context = check_int(context, "context", minimum=0)
        if context >= len(contexts):
            raise ValueError(f"context: expected a row index below {len(contexts)}, got {context}")
        controls.append(
            Select("context", context_label, list(range(len(contexts))), contexts, value=context)
        )
    if temperature is not None:
        controls.append(temperature)
    t = "1" if temperature is None else temperature.name
    data, unpack = _flattened(z, 4, "c", "k", "z")
    transforms = [
        *unpack,
        *([{"filter": "datum.c === context"}] if contexts is not None else []),
        {"calculate": f"{js_literal(outcomes)}[datum.k]", "as": "outcome"},
        {"joinaggregate": [{"op": "max", "field": "z", "as": "z_max"}], "groupby": ["c"]},
        {"calculate": f"exp((datum.z - datum.z_max) / {t})", "as": "e"},
        {"joinaggregate": [{"op": "sum", "field": "e", "as": "e_sum"}], "groupby": ["c"]},
        {"calculate": "datum.e / datum.e_sum", "as": "p"},
        {"calculate": "datum.outcome + ': ' + format(datum.p, '.3f')", "as": "reading"},
    ]
    chart = alt.Chart(data)
    if contexts is not None:
        label = f"{js_literal(context_label + ': ')} + {js_literal(contexts)}[context]"
        chart = chart.properties(title=alt.TitleParams(text=alt.ExprRef(expr=label), fontSize=12))
    chart = (
        chart.mark_bar(color=PALETTE[0])
        .encode(
            x=alt.X("outcome:N", sort="-y", title=xlabel, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("p:Q", title=ylabel, scale=alt.Scale(domain=[0, 1])),
            tooltip=[
                alt.Tooltip("outcome:N", title=xlabel),
                alt.Tooltip("p:Q", title=ylabel, format=".3f"),
            ],
            description=alt.Description("reading:N"),
        )
        .add_params(*(c.param() for c in controls))
        .properties(
            width=width or max(240, 18 * len(outcomes)), height=height, description=description
        )
    )
    chart.transform = transforms
    return chart


def attention_explorer(
    scores: Any,
    tokens: Sequence[str],
    *,
    description: str,
    query: int = 0,
    temperature: Slider | None = None,
    causal_toggle: bool = True,
    causal: bool = False,
    xlabel: str = "key",
    ylabel: str = "query",
    size: int = 300,
) -> alt.HConcatChart:
    """Attention weights ``softmax(scores / T)`` as a heatmap, with the chosen query's row
    outlined, beside that row as bars.

    ``scores`` is the ``(seq, seq)`` matrix of query-key scores (already divided by
    ``sqrt(d_k)``), ``tokens`` labels both axes (they may repeat). The reader picks the query
    token, moves ``temperature`` (a Slider; without it ``T = 1``) and, if ``causal_toggle``,
    switches the causal mask, which blocks every key after the query.
    """
    check_description(description)
    s = check_array(scores, "scores", ndim=2, dtype_kind="fiu")
    if s.shape[0] != s.shape[1]:
        raise ValueError(f"scores: expected a square (seq, seq) matrix, got shape {s.shape}")
    seq = s.shape[0]
    tokens = check_labels(tokens, seq, "tokens", unique=False)
    query = check_int(query, "query", minimum=0)
    if query >= seq:
        raise ValueError(f"query: expected a token position below {seq}, got {query}")
    temperature = _check_slider(temperature, "temperature")
    if not isinstance(causal, bool) or not isinstance(causal_toggle, bool):
        raise TypeError(
            f"causal, causal_toggle: expected True or False, got {describe(causal)}, "
            f"{describe(causal_toggle)}"
        )
    controls = [Select("query", "query token", list(range(seq)), tokens, value=query)]
    if temperature is not None:
        controls.append(temperature)
    if causal_toggle:
        controls.append(Checkbox("causal", "causal mask", value=causal))
    masked = "causal && datum.j > datum.i" if causal_toggle else "false"
    if not causal_toggle and causal:
        masked = "datum.j > datum.i"
    t = "1" if temperature is None else temperature.name
    data, unpack = _flattened(s, 4, "i", "j", "s")
    weights = [
        *unpack,
        {"calculate": masked, "as": "blocked"},
        {"calculate": f"datum.blocked ? null : datum.s / {t}", "as": "z"},
        {"joinaggregate": [{"op": "max", "field": "z", "as": "z_max"}], "groupby": ["i"]},
        {"calculate": "datum.blocked ? 0 : exp(datum.z - datum.z_max)", "as": "e"},
        {"joinaggregate": [{"op": "sum", "field": "e", "as": "e_sum"}], "groupby": ["i"]},
        {"calculate": "datum.e / datum.e_sum", "as": "weight"},
        {"calculate": f"{js_literal(tokens)}[datum.i]", "as": "query_token"},
        {"calculate": f"{js_literal(tokens)}[datum.j]", "as": "key_token"},
        {
            "calculate": "datum.query_token + ' to ' + datum.key_token + ': '"
            " + format(datum.weight, '.2f')",
            "as": "reading",
        },
    ]
    x = alt.X("j:O", axis=_index_axis(tokens, xlabel, labelAngle=-45))
    y = alt.Y("i:O", axis=_index_axis(tokens, ylabel))
    base = alt.Chart(data)
    cells = base.mark_rect().encode(
        x=x,
        y=y,
        color=alt.Color(
            "weight:Q",
            scale=alt.Scale(scheme="cividis", domain=[0, 1]),
            legend=alt.Legend(title="weight", orient="left"),
        ),
        tooltip=[
            alt.Tooltip("query_token:N", title=ylabel),
            alt.Tooltip("key_token:N", title=xlabel),
            alt.Tooltip("weight:Q", format=".3f"),
        ],
        description=alt.Description("reading:N"),
    )
    outline = (
        base.transform_filter("datum.i === query")
        .mark_rect(fill=None, stroke=PALETTE[1], strokeWidth=3)
        .encode(x=x, y=y)
    )
    heatmap = alt.layer(cells, outline).properties(width=size, height=size)
    for layer in heatmap.layer:
        layer.transform = weights + (
            layer.transform if layer.transform is not alt.Undefined else []
        )
    bars = (
        base.mark_bar(color=PALETTE[0])
        .encode(
            x=alt.X("j:O", axis=_index_axis(tokens, xlabel, labelAngle=-45)),
            y=alt.Y("weight:Q", title="weight", scale=alt.Scale(domain=[0, 1])),
            tooltip=[
                alt.Tooltip("key_token:N", title=xlabel),
                alt.Tooltip("weight:Q", format=".3f"),
            ],
            description=alt.Description("reading:N"),
        )
        .properties(
            width=size,
            height=size,
            title=alt.TitleParams(
                text=alt.ExprRef(expr=f"'weights of the query ' + {js_literal(tokens)}[query]"),
                fontSize=12,
            ),
        )
    )
    bars.transform = [*weights, {"filter": "datum.i === query"}]
    return (
        alt.hconcat(heatmap, bars)
        .add_params(*(c.param() for c in controls))
        .properties(description=description)
    )


def matrix_explorer(
    matrix: Any,
    *,
    description: str,
    row: Slider,
    col: Slider,
    row_title: str = "row",
    col_title: str = "column",
    value_title: str = "value",
    col_notes: Sequence[str] | None = None,
    domain: tuple[float, float] | None = None,
    digits: int = 3,
    width: int = 330,
    height: int = 220,
) -> alt.HConcatChart:
    """One row of a ``(rows, cols)`` matrix as bars, beside one column as a curve.

    The sliders ``row`` and ``col`` (integer Sliders over the matrix's indices) pick them; the
    bars highlight the chosen column and the curve marks the chosen row. For a positional
    encoding, rows are positions and columns dimensions. ``col_notes`` adds a note per column to
    the curve's title (for example its frequency); ``domain`` fixes the value axis.
    """
    check_description(description)
    m = check_array(matrix, "matrix", ndim=2, dtype_kind="fiu")
    for slider, size, name in ((row, m.shape[0], "row"), (col, m.shape[1], "col")):
        if not isinstance(slider, Slider):
            raise TypeError(f"{name}: expected a Slider, got {describe(slider)}")
        if slider.min != 0 or slider.step != 1 or slider.max > size - 1:
            raise ValueError(
                f"{name}: expected an integer slider from 0 by steps of 1 to at most {size - 1}, "
                f"got min {slider.min}, step {slider.step}, max {slider.max}"
            )
    m = m[: int(row.max) + 1, : int(col.max) + 1]
    notes = (
        ""
        if col_notes is None
        else f" + {js_literal(check_labels(col_notes, m.shape[1], 'col_notes', unique=False))}[{col.name}]"
    )
    if domain is None:
        domain = (float(m.min()), float(m.max()))
    scale = alt.Scale(domain=list(domain))
    data, unpack = _flattened(m, check_int(digits, "digits", minimum=1), "r", "c", "v")
    is_col = f"datum.c === {col.name}"
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "c:O",
                title=col_title,
                axis=alt.Axis(values=list(range(0, m.shape[1], 8)), labelAngle=0),
            ),
            y=alt.Y("v:Q", title=value_title, scale=scale),
            color=alt.condition(is_col, alt.value(HIGHLIGHT), alt.value(PALETTE[0])),
            tooltip=[alt.Tooltip("c:O", title=col_title), alt.Tooltip("v:Q", title=value_title)],
        )
        .properties(
            width=width,
            height=height,
            title=alt.TitleParams(
                text=alt.ExprRef(
                    expr=f"{js_literal(row_title + ' ')} + {row.name} + ': every {col_title}'"
                ),
                fontSize=12,
            ),
        )
    )
    bars.transform = [*unpack, {"filter": f"datum.r === {row.name}"}]
    curve_base = alt.Chart(data)
    x = alt.X("r:Q", title=row_title)
    y = alt.Y("v:Q", title=value_title, scale=scale)
    line = curve_base.mark_line(color=PALETTE[0]).encode(x=x, y=y)
    point = curve_base.mark_point(color=HIGHLIGHT, filled=True, size=80).encode(
        x=x,
        y=y,
        tooltip=[alt.Tooltip("r:Q", title=row_title), alt.Tooltip("v:Q", title=value_title)],
    )
    curve = alt.layer(line, point).properties(
        width=width,
        height=height,
        title=alt.TitleParams(
            text=alt.ExprRef(expr=f"{js_literal(col_title + ' ')} + {col.name}{notes}"), fontSize=12
        ),
    )
    curve.layer[0].transform = [*unpack, {"filter": is_col}]
    curve.layer[1].transform = [*unpack, {"filter": f"{is_col} && datum.r === {row.name}"}]
    return (
        alt.hconcat(bars, curve)
        .add_params(row.param(), col.param())
        .properties(description=description)
    )
