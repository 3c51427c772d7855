"""An explorer of curves on a log scale over a precomputed grid: Chapter 6's gradient norm
against distance, for a choice of cell and a slider over the recurrent-weight scale.

The curves are computed in Python (backpropagation through time needs the engine), one per
setting of the controls, and stored in the spec as base-10 logarithms rounded to 3 decimals,
so the stored spec is the same on every CPU. The browser only picks the curve the controls
choose, and draws the bound ``scale^distance`` beside it: for a tanh RNN whose recurrent
matrix has largest singular value ``scale``, the gradient norm can shrink no slower than it.

>>> from genai_notes.viz.controls import Slider
>>> norms = np.array([[[1.0, 0.5, 0.25], [1.0, 1.0, 1.0]]])   # 1 cell, 2 scales, 3 distances
>>> chart = gradient_norm_explorer(norms, ["RNN"], Slider("s", "scale", 0.5, 1.0, 0.5, 0.5),
...     description="The gradient norm against distance, for the scale the slider sets.")
>>> [p["name"] for p in chart.to_dict()["params"]]
['cell', 's']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np

from genai_notes._checks import check_array, check_real, describe
from genai_notes.viz._data import check_description, check_labels, js_literal
from genai_notes.viz.controls import Select, Slider, state_index
from genai_notes.viz.explorers import HIGHLIGHT, _flattened
from genai_notes.viz.figures import PALETTE

__all__ = ["gradient_norm_explorer"]


def gradient_norm_explorer(
    norms: Any,
    cells: Sequence[str],
    scale: Slider,
    *,
    description: str,
    cell: int = 0,
    floor: float = 1e-30,
    bound: bool = True,
    xlabel: str = "distance T − t (steps back from the end)",
    ylabel: str = "‖∂L/∂h_t‖ (log scale)",
    width: int = 460,
    height: int = 280,
) -> alt.LayerChart:
    """The curve ``norms[cell, scale]`` against distance on a log axis, with a choice of cell
    (radio buttons over ``cells``) and the ``scale`` slider.

    norms: ``(n_cells, n_scales, n_distances)``, positive, with one scale per stop of the
    slider (``scale.values()``, in order); entry ``[c, s, d]`` is the norm at distance ``d``.
    Values below ``floor`` are drawn at ``floor``. ``bound`` adds the dashed line
    ``scale^d`` (the RNN's bound through the largest singular value).
    """
    check_description(description)
    if not isinstance(scale, Slider):
        raise TypeError(f"scale: expected a Slider, got {describe(scale)}")
    n = check_array(norms, "norms", ndim=3, dtype_kind="fiu").astype(float)
    scales = scale.values()
    if n.shape[1] != len(scales) or n.shape[2] < 2:
        raise ValueError(
            f"norms: expected shape (n_cells, {len(scales)} scales, n_distances >= 2), one "
            f"scale per stop of the slider, got {n.shape}"
        )
    if (n < 0).any():
        raise ValueError("norms: expected norms >= 0, got negative values")
    cells = check_labels(cells, n.shape[0], "cells")
    floor = check_real(floor, "floor", low=0.0, low_inclusive=False)
    choose = Select("cell", "cell", list(range(len(cells))), cells, value=int(cell), radio=True)
    logs = np.log10(np.maximum(n, floor)).reshape(-1, n.shape[2])  # (cells * scales, dist)
    data, unpack = _flattened(logs, 3, "r", "d", "v")
    _, index = state_index([choose, scale])
    low, high = float(np.floor(logs.min())), float(np.ceil(max(logs.max(), 0.0)))
    y_scale = alt.Scale(domain=[low, high])
    y_axis = alt.Axis(title=ylabel, labelExpr="'1e' + datum.value")
    x = alt.X("d:Q", title=xlabel, scale=alt.Scale(domain=[0, n.shape[2] - 1], nice=False))
    reading = (
        f"{js_literal(cells)}[cell] + ', scale ' + format({scale.name}, '.2f') + ', distance '"
        " + datum.d + ': 1e' + format(datum.v, '.1f')"
    )
    curve = (
        alt.Chart(data)
        .mark_line(color=PALETTE[0], strokeWidth=2.5, point=alt.OverlayMarkDef(size=12))
        .encode(
            x=x,
            y=alt.Y("v:Q", scale=y_scale, axis=y_axis),
            tooltip=[alt.Tooltip("d:Q", title="distance"), alt.Tooltip("v:Q", title="log10 norm")],
            description=alt.Description("reading:N"),
        )
    )
    curve.transform = [
        *unpack,
        {"filter": f"datum.r === {index}"},
        {"calculate": reading, "as": "reading"},
    ]
    layers = [curve]
    if bound:
        line = (
            alt.Chart(data)
            .mark_line(color=HIGHLIGHT, strokeDash=[6, 4], clip=True)
            .encode(x=x, y=alt.Y("b:Q", scale=y_scale, axis=y_axis))
        )
        line.transform = [
            *unpack,
            {"filter": "datum.r === 0"},
            {"calculate": f"datum.d * log({scale.name}) / log(10)", "as": "b"},
        ]
        layers.append(line)
    title = f"{js_literal(cells)}[cell] + ', recurrent scale ' + format({scale.name}, '.2f')" + (
        " + ' (dashed: scale^distance)'" if bound else ""
    )
    return (
        alt.layer(*layers)
        .add_params(choose.param(), scale.param())
        .properties(
            width=width,
            height=height,
            description=description,
            title=alt.TitleParams(text=alt.ExprRef(expr=title), fontSize=12),
        )
    )
