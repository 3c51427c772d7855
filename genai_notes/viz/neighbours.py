"""The nearest-neighbour explorer: which words' vectors point closest to a sum of chosen
words' vectors, computed in the browser from the unit vectors.

>>> import numpy as np
>>> chart = neighbour_explorer(
...     np.eye(3) + 0.1, ["king", "queen", "bread"], terms=[("word", 1, "king")],
...     description="The words nearest to the chosen word by cosine similarity.")
>>> [p["name"] for p in chart.to_dict()["params"]]
['term0', 'k']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np

from genai_notes._checks import check_array, check_str, describe
from genai_notes.viz._data import check_description, check_labels, js_literal
from genai_notes.viz.controls import Select, Slider
from genai_notes.viz.explorers import _check_slider, _flattened
from genai_notes.viz.figures import PALETTE

__all__ = ["neighbour_explorer"]


def neighbour_explorer(
    vectors: Any,
    words: Sequence[str],
    *,
    description: str,
    terms: Sequence[tuple[str, int, str]] = (("word", 1, ""),),
    k: Slider | None = None,
    xlabel: str = "cosine similarity",
    ylabel: str = "word",
    width: int = 320,
) -> alt.Chart:
    """The words whose vectors are most cosine-similar to a sum of chosen words' vectors.

    ``vectors`` is ``(n_words, d)``, one row per entry of ``words``. Each term is
    ``(label, sign, default word)``: the reader picks a word from a list for each, and the
    target is the sum of ``sign * unit(vector)`` over the terms. One term ``("word", 1, w)``
    gives the nearest neighbours of ``w``; ``("a", 1, "king"), ("b", -1, "man"),
    ("c", 1, "woman")`` gives the analogy ``king - man + woman``. The chosen words are left out
    of the answer. ``k`` is the slider for how many words to show (5 without one).
    """
    check_description(description)
    v = check_array(vectors, "vectors", ndim=2, dtype_kind="fiu").astype(float)
    words = check_labels(words, v.shape[0], "words")
    lengths = np.linalg.norm(v, axis=1)
    if np.any(lengths == 0):
        raise ValueError(
            f"vectors: row {int(np.argmin(lengths))} is the zero vector; it has no direction"
        )
    if isinstance(terms, (str, tuple)) and terms and isinstance(terms[0], str):
        raise TypeError(
            f"terms: expected a sequence of (label, sign, word) tuples, got {describe(terms)}"
        )
    terms = list(terms)
    if not terms:
        raise ValueError("terms: expected at least one (label, sign, word) term, got none")
    order = sorted(range(len(words)), key=lambda i: words[i])  # the lists are alphabetical
    controls = []
    for n, term in enumerate(terms):
        if not (isinstance(term, tuple) and len(term) == 3):
            raise TypeError(
                f"terms[{n}]: expected a (label, sign, word) tuple, got {describe(term)}"
            )
        label, sign, word = term
        check_str(label, f"terms[{n}] label")
        if sign not in (1, -1) or isinstance(sign, bool):
            raise ValueError(f"terms[{n}]: expected the sign +1 or -1, got {describe(sign)}")
        word = word or words[0]
        if word not in words:
            raise ValueError(f"terms[{n}]: the word {word!r} is not in words")
        controls.append(
            Select(f"term{n}", label, order, [words[i] for i in order], value=words.index(word))
        )
    if k is None:
        k = Slider("k", "words shown", 1, 10, 1, 5)
    _check_slider(k, "k")
    unit = v / lengths[:, None]
    data, unpack = _flattened(unit, 4, "w", "dim", "u")
    weight = " + ".join(f"({s}) * (datum.w === term{n})" for n, (_, s, _) in enumerate(terms))
    chosen = " || ".join(f"datum.w === term{n}" for n in range(len(terms)))
    transforms = [
        *unpack,
        {"calculate": f"({weight}) * datum.u", "as": "part"},
        # The target vector, one component per dimension, attached to every word's row.
        {"joinaggregate": [{"op": "sum", "field": "part", "as": "target"}], "groupby": ["dim"]},
        {"calculate": "datum.u * datum.target", "as": "product"},
        {"calculate": "datum.target * datum.target", "as": "target_sq"},
        {
            "aggregate": [
                {"op": "sum", "field": "product", "as": "dot"},
                {"op": "sum", "field": "target_sq", "as": "norm_sq"},
            ],
            "groupby": ["w"],
        },
        {"calculate": "datum.norm_sq > 0 ? datum.dot / sqrt(datum.norm_sq) : 0", "as": "cosine"},
        {"filter": f"!({chosen})"},
        {"calculate": f"{js_literal(words)}[datum.w]", "as": "word"},
        {
            "window": [{"op": "row_number", "as": "rank"}],
            "sort": [
                {"field": "cosine", "order": "descending"},
                {"field": "w", "order": "ascending"},
            ],
        },
        {"filter": f"datum.rank <= {k.name}"},
        {"calculate": "datum.word + ': ' + format(datum.cosine, '.2f')", "as": "reading"},
    ]
    y = alt.Y(
        "word:N", sort=alt.EncodingSortField("rank", op="min", order="ascending"), title=ylabel
    )
    base = alt.Chart(data)
    bars = base.mark_bar(color=PALETTE[0]).encode(
        x=alt.X("cosine:Q", title=xlabel, scale=alt.Scale(domain=[0, 1], clamp=True)),
        y=y,
        tooltip=[alt.Tooltip("word:N"), alt.Tooltip("cosine:Q", format=".3f")],
        description=alt.Description("reading:N"),
    )
    values = base.mark_text(align="left", dx=4, fontSize=11, aria=False).encode(
        x=alt.X("cosine:Q", scale=alt.Scale(domain=[0, 1], clamp=True)),
        y=y,
        text=alt.Text("cosine:Q", format=".2f"),
    )
    chart = alt.layer(bars, values).properties(width=width, height=alt.Step(22))
    for layer in chart.layer:
        layer.transform = transforms
    return chart.add_params(*(c.param() for c in [*controls, k])).properties(
        description=description
    )
