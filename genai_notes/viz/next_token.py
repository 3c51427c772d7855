"""An explorer of next-token distributions: pick a prompt, see a model's distribution of the
next token beside the true one (Chapter 8's trained GPT against the grammar).

Both distributions are computed in Python and stored in the spec, rounded, for the ``top``
tokens of each prompt (ranked by the larger of the two probabilities). The browser only
filters the chosen prompt, so the explorer is live in the HTML book with no kernel.

>>> chart = next_token_explorer(
...     [[0.7, 0.2, 0.1]], [[0.75, 0.25, 0.0]], ["a", "b", "c"], ["x y"],
...     description="The next token after each prompt: model and truth side by side.")
>>> [p["name"] for p in chart.to_dict()["params"]]
['prompt']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np

from genai_notes._checks import check_array, check_int, check_positive_int
from genai_notes.viz._data import check_description, check_labels, js_literal
from genai_notes.viz.controls import Select
from genai_notes.viz.figures import PALETTE

__all__ = ["next_token_explorer"]


def _check_rows(probs: Any, name: str) -> np.ndarray:
    p = check_array(probs, name, ndim=2, dtype_kind="fiu").astype(np.float64)
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        bad = int(np.flatnonzero((p < 0).any(axis=1) | ~np.isclose(p.sum(axis=1), 1.0,
                                                                    atol=1e-4))[0])  # fmt: skip
        raise ValueError(
            f"{name}: expected rows of non-negative probabilities summing to 1; row {bad} "
            f"sums to {p[bad].sum():.4g}"
        )
    return p


def next_token_explorer(
    model_probs: Any,
    true_probs: Any,
    tokens: Sequence[str],
    prompts: Sequence[str],
    *,
    description: str,
    top: int = 8,
    prompt: int = 0,
    names: tuple[str, str] = ("model", "truth"),
    digits: int = 2,
    xlabel: str = "next token",
    height: int = 220,
) -> alt.Chart:
    """Grouped bars of two next-token distributions for the prompt picked from a list.

    model_probs, true_probs: ``(n_prompts, vocab)``, each row a distribution over ``tokens``
    (``vocab`` labels, which must be distinct). prompts: the ``n_prompts`` texts the list
    offers, starting at row ``prompt``. Each prompt shows its ``top`` tokens, ranked by the
    larger of the two probabilities, with the probabilities rounded to ``digits``.
    """
    check_description(description)
    p_model = _check_rows(model_probs, "model_probs")
    p_true = _check_rows(true_probs, "true_probs")
    if p_model.shape != p_true.shape:
        raise ValueError(
            f"true_probs: expected the shape of model_probs {p_model.shape}, got {p_true.shape}"
        )
    tokens = check_labels(tokens, p_model.shape[1], "tokens")
    prompts = check_labels(prompts, p_model.shape[0], "prompts", unique=False)
    top = min(check_positive_int(top, "top"), len(tokens))
    if check_int(prompt, "prompt", minimum=0) >= len(prompts):
        raise ValueError(f"prompt: expected a row index below {len(prompts)}, got {prompt}")
    digits = check_positive_int(digits, "digits")
    ranked = np.argsort(-np.maximum(p_model, p_true), axis=1, kind="stable")[:, :top]
    records = [
        {"c": c, "r": r, "w": tokens[k], "s": name, "p": round(float(probs[c, k]), digits)}
        for c in range(len(prompts))
        for r, k in enumerate(ranked[c])
        for name, probs in zip(names, (p_model, p_true))
    ]
    control = Select("prompt", "prompt", list(range(len(prompts))), prompts, value=prompt)
    label = f"'after: ' + {js_literal(prompts)}[prompt]"
    fmt = f".{digits}f"
    chart = (
        alt.Chart(alt.Data(values=records))
        .transform_filter("datum.c === prompt")
        .transform_calculate(
            reading=f"datum.s + ' p(' + datum.w + ') = ' + format(datum.p, '{fmt}')"
        )
        .mark_bar()
        .encode(
            x=alt.X("w:N", sort=alt.SortField("r"), title=xlabel, axis=alt.Axis(labelAngle=-30)),
            xOffset=alt.XOffset("s:N", sort=list(names)),
            y=alt.Y("p:Q", title="probability", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "s:N",
                title=None,
                scale=alt.Scale(domain=list(names), range=[PALETTE[0], PALETTE[5]]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("w:N", title=xlabel),
                alt.Tooltip("s:N", title="distribution"),
                alt.Tooltip("p:Q", title="probability", format=fmt),
            ],
            description=alt.Description("reading:N"),
        )
        .add_params(control.param())
        .properties(
            title=alt.TitleParams(text=alt.ExprRef(expr=label), fontSize=12),
            width=max(260, 44 * top),
            height=height,
            description=description,
        )
    )
    return chart
