"""An explorer of decoding filters: temperature, top-k and top-p acting on one next-token
distribution (Chapter 9).

Only the logits are stored in the spec; the browser does the rest with Vega-Lite
transforms, so the sliders work in the HTML book with no kernel. The order and the tie rule
are those of :func:`genai_notes.decoding.next_token_probs`: softmax at temperature ``T``;
rank the tokens (a ``row_number`` window sorted by probability, the lower id first on a tie)
and keep the ``k`` best; renormalise; keep the smallest set whose probability reaches ``p``
(a running-sum window: a token stays while the probability ranked above it is below ``p``);
renormalise again.

>>> chart = decoding_explorer([2.0, 1.0, 0.5, -1.0], ["a", "b", "c", "d"],
...     description="Temperature, top-k and top-p acting on four tokens' probabilities.")
>>> [p["name"] for p in chart.to_dict()["params"]]
['T', 'k', 'p']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np

from genai_notes._checks import check_array, check_positive_int, check_real
from genai_notes.viz._data import check_description, check_labels
from genai_notes.viz.controls import Slider
from genai_notes.viz.figures import PALETTE

__all__ = ["decoding_explorer"]

SERIES = ("softmax at T", "after top-k and top-p")


def decoding_explorer(
    logits: Any,
    tokens: Sequence[str],
    *,
    description: str,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float = 1.0,
    xlabel: str = "next token",
    height: int = 220,
) -> alt.Chart:
    """Bars of a next-token distribution before and after the decoding filters.

    logits: ``(vocab,)`` finite logits of one next-token distribution; tokens: their
    ``vocab`` distinct labels (keep ``vocab`` small, about 30 at most, to stay readable).
    The sliders start at ``temperature`` (0.1 to 3), ``top_k`` (1 to vocab; None: vocab)
    and ``top_p`` (0.05 to 1). Tokens are drawn from the most likely down (at T = 1).
    """
    check_description(description)
    logits = check_array(logits, "logits", ndim=1, dtype_kind="fiu").astype(np.float64)
    if logits.size < 2:
        raise ValueError(f"logits: expected at least two tokens, got {logits.size}")
    tokens = check_labels(tokens, logits.size, "tokens")
    vocab = logits.size
    top_k = vocab if top_k is None else min(check_positive_int(top_k, "top_k"), vocab)
    temperature = round(check_real(temperature, "temperature", 0.1, 3.0) * 10) / 10
    top_p = round(check_real(top_p, "top_p", 0.05, 1.0) * 20) / 20
    order = np.argsort(-logits, kind="stable")
    shifted = logits - logits.max()  # the browser's exp never overflows
    records = [
        {"id": int(i), "w": tokens[i], "z": round(float(shifted[i]), 6), "r": r}
        for r, i in enumerate(order)
    ]
    controls = [
        Slider("T", "temperature", 0.1, 3.0, 0.1, temperature),
        Slider("k", "top-k", 1, vocab, 1, top_k),
        Slider("p", "top-p", 0.05, 1.0, 0.05, top_p),
    ]
    rank = [{"field": "pt", "order": "descending"}, {"field": "id", "order": "ascending"}]
    chart = (
        alt.Chart(alt.Data(values=records))
        .transform_calculate(e="exp(datum.z / T)")
        .transform_joinaggregate(total="sum(e)")
        .transform_calculate(pt="datum.e / datum.total")  # softmax(logits / T)
        .transform_window(rank="row_number()", sort=rank)
        .transform_calculate(pk="datum.rank <= k ? datum.pt : 0")  # top-k
        .transform_joinaggregate(total_k="sum(pk)")
        .transform_calculate(pk="datum.pk / datum.total_k")
        .transform_window(running="sum(pk)", sort=rank, frame=[None, 0])
        .transform_calculate(  # top-p: the probability ranked above must be below p
            kept="datum.pk > 0 && (datum.rank === 1 || datum.running - datum.pk < p - 1e-12)",
        )
        .transform_calculate(pq="datum.kept ? datum.pk : 0")
        .transform_joinaggregate(total_q="sum(pq)")
        .transform_calculate(q="datum.pq / datum.total_q")
        .transform_fold(["pt", "q"], as_=["which", "prob"])
        .transform_calculate(
            series=f"datum.which === 'pt' ? '{SERIES[0]}' : '{SERIES[1]}'",
            reading="datum.series + ': p(' + datum.w + ') = ' + format(datum.prob, '.3f')",
        )
        .mark_bar()
        .encode(
            x=alt.X("w:N", sort=alt.SortField("r"), title=xlabel, axis=alt.Axis(labelAngle=-30)),
            xOffset=alt.XOffset("series:N", sort=list(SERIES)),
            y=alt.Y("prob:Q", title="probability", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=list(SERIES), range=[PALETTE[0], PALETTE[5]]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("w:N", title=xlabel),
                alt.Tooltip("series:N", title="distribution"),
                alt.Tooltip("prob:Q", title="probability", format=".3f"),
            ],
            description=alt.Description("reading:N"),
        )
        .add_params(*(c.param() for c in controls))
        .properties(width=max(260, 30 * vocab), height=height, description=description)
    )
    return chart
