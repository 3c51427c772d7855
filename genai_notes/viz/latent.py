"""Explorers of Chapter 12's generative models, over grids computed in Python beforehand.

* :func:`latent_walk_explorer`: two sliders set a code ``(z1, z2)`` of a VAE with a 2-D latent
  space; the chart shows the glyph the decoder makes from it, drawn as a heatmap of
  rectangles, beside a map of glyphs' codes with the chosen point marked.
* :func:`diffusion_explorer`: a slider over the reverse chain's step ``t`` shows where the
  sampler's points are at that step, over the data.

The decoding and the sampling need the engine, so they run in Python; the spec holds every
state (rounded to 2 decimals, so it is the same on every CPU) and the browser shows the one
the sliders pick.

>>> images = np.zeros((2, 3, 4, 4))                       # 2 × 3 codes, 4 × 4 pixels
>>> chart = latent_walk_explorer(images, Slider("z1", "z1", -1, 1, 2, -1),
...     Slider("z2", "z2", -1, 1, 1, 0),
...     description="The glyph decoded from the code that the two sliders set.")
>>> [p["name"] for p in chart.to_dict()["params"]]
['z1', 'z2']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np

from genai_notes._checks import check_array, describe
from genai_notes.viz._data import check_description, check_labels, js_literal, rounded
from genai_notes.viz.controls import Slider, state_index
from genai_notes.viz.explorers import HIGHLIGHT
from genai_notes.viz.figures import PALETTE

__all__ = ["latent_walk_explorer", "diffusion_explorer"]


def _joined(values: Any, digits: int) -> str:
    return ",".join(str(x) for x in rounded(np.ravel(values), digits))


def _check_slider(slider: Any, name: str, n: int) -> Slider:
    if not isinstance(slider, Slider):
        raise TypeError(f"{name}: expected a Slider, got {describe(slider)}")
    if len(slider.values()) != n:
        raise ValueError(
            f"{name}: expected a slider with {n} stops, one per grid entry, got "
            f"{len(slider.values())}"
        )
    return slider


def latent_walk_explorer(
    images: Any,
    z1: Slider,
    z2: Slider,
    *,
    description: str,
    codes: Any = None,
    labels: Any = None,
    class_names: Sequence[str] | None = None,
    size: int = 220,
) -> alt.HConcatChart:
    """The decoded glyph ``images[i, j]`` for the code ``(z1.values()[i], z2.values()[j])``.

    images: ``(n1, n2, H, W)`` in [0, 1], one per pair of slider stops. codes: optional
    ``(m, 2)`` latent means of glyphs, drawn as a map (coloured by ``labels`` ``(m,)``
    indexing ``class_names``) with the chosen code marked.
    """
    check_description(description)
    grid = check_array(images, "images", ndim=4, dtype_kind="fiu").astype(float)
    n1, n2, H, W = grid.shape
    z1, z2 = _check_slider(z1, "z1", n1), _check_slider(z2, "z2", n2)
    _, index = state_index([z1, z2])
    data = alt.Data(
        values=[{"r": k, "v": _joined(img, 2)} for k, img in enumerate(grid.reshape(n1 * n2, -1))]
    )
    glyph = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X("col:O", axis=None),
            y=alt.Y("row:O", axis=None),
            color=alt.Color(
                "v:Q",
                scale=alt.Scale(scheme="greys", domain=[0, 1]),
                legend=alt.Legend(title="ink"),
            ),  # fmt: skip
            tooltip=[alt.Tooltip("row:O"), alt.Tooltip("col:O"), alt.Tooltip("v:Q", title="ink")],
        )
    )
    glyph.transform = [
        {"filter": f"datum.r === {index}"},
        {"calculate": "split(datum.v, ',')", "as": "v"},
        {"flatten": ["v"]},
        {"calculate": "toNumber(datum.v)", "as": "v"},
        {"window": [{"op": "row_number", "as": "k"}]},
        {"calculate": f"floor((datum.k - 1) / {W})", "as": "row"},
        {"calculate": f"(datum.k - 1) % {W}", "as": "col"},
    ]
    title = (
        f"'decoded from z = (' + format({z1.name}, '.1f') + ', ' + format({z2.name}, '.1f') + ')'"
    )
    glyph = glyph.properties(
        width=size, height=size, title=alt.TitleParams(text=alt.ExprRef(expr=title), fontSize=12)
    )
    panels = [glyph]
    if codes is not None:
        points = check_array(codes, "codes", ndim=2, dtype_kind="fiu").astype(float)
        if points.shape[1] != 2:
            raise ValueError(f"codes: expected shape (m, 2), got {points.shape}")
        lab = np.zeros(len(points), dtype=int) if labels is None else check_array(
            labels, "labels", ndim=1, dtype_kind="iu")  # fmt: skip
        if lab.shape[0] != len(points):
            raise ValueError(f"labels: expected {len(points)} labels, got {lab.shape[0]}")
        names = check_labels(class_names or ["code"], int(lab.max()) + 1 if lab.size else 1,
                             "class_names")  # fmt: skip
        records = [
            {"z1": x, "z2": y, "class": names[k]}
            for (x, y), k in zip(rounded(points, 2), lab.tolist())
        ]
        domain1, domain2 = [z1.min, z1.max], [z2.min, z2.max]
        x = alt.X("z1:Q", title="z1", scale=alt.Scale(domain=domain1, clamp=True))
        y = alt.Y("z2:Q", title="z2", scale=alt.Scale(domain=domain2, clamp=True))
        dots = alt.Chart(alt.Data(values=records)).mark_circle(size=14, opacity=0.6).encode(
            x=x, y=y,
            color=alt.Color("class:N", scale=alt.Scale(domain=names, range=list(PALETTE)),
                            legend=alt.Legend(title="class")),
        )  # fmt: skip
        marker = alt.Chart(alt.Data(values=[{}])).mark_point(
            shape="cross", size=300, color=HIGHLIGHT, strokeWidth=3, filled=True
        ).encode(x=alt.X("cx:Q", scale=alt.Scale(domain=domain1)),
                 y=alt.Y("cy:Q", scale=alt.Scale(domain=domain2)))  # fmt: skip
        marker.transform = [
            {"calculate": z1.name, "as": "cx"},
            {"calculate": z2.name, "as": "cy"},
        ]
        latent = alt.layer(dots, marker).properties(
            width=size, height=size, title="codes of glyphs (mean of q(z|x))"
        )
        panels.append(latent)
    return (
        alt.hconcat(*panels)
        .resolve_scale(color="independent")
        .add_params(z1.param(), z2.param())
        .properties(description=description)
    )


def diffusion_explorer(
    path: Any,
    steps: Sequence[int],
    step: Slider,
    *,
    description: str,
    data: Any = None,
    domain: tuple[float, float] = (-3.0, 3.0),
    size: int = 300,
) -> alt.LayerChart:
    """The sampler's points ``path[k]`` at step ``steps[k]``, for the stop ``k`` of ``step``.

    path: ``(n_states, n, 2)``; steps: the ``n_states`` step numbers shown in the title (for
    the reverse chain, from T down to 0 as the slider moves right). data: optional ``(m, 2)``
    points drawn faintly behind.
    """
    check_description(description)
    states = check_array(path, "path", ndim=3, dtype_kind="fiu").astype(float)
    if states.shape[2] != 2:
        raise ValueError(f"path: expected shape (n_states, n, 2), got {states.shape}")
    step = _check_slider(step, "step", states.shape[0])
    if len(steps) != states.shape[0]:
        raise ValueError(f"steps: expected {states.shape[0]} step numbers, got {len(steps)}")
    labels = [int(s) for s in steps]
    values = [
        {"r": k, "x": _joined(s[:, 0], 2), "y": _joined(s[:, 1], 2)} for k, s in enumerate(states)
    ]
    scale = alt.Scale(domain=list(domain), clamp=True)
    x, y = alt.X("x:Q", title="x1", scale=scale), alt.Y("y:Q", title="x2", scale=scale)
    layers = []
    if data is not None:
        ref = check_array(data, "data", ndim=2, dtype_kind="fiu").astype(float)
        if ref.shape[1] != 2:
            raise ValueError(f"data: expected shape (m, 2), got {ref.shape}")
        records = [{"x": a, "y": b} for a, b in rounded(ref, 2)]
        layers.append(
            alt.Chart(alt.Data(values=records))
            .mark_circle(size=8, color="#bbbbbb", opacity=0.5)
            .encode(x=x, y=y)
        )
    points = (
        alt.Chart(alt.Data(values=values)).mark_circle(size=12, color=PALETTE[0]).encode(x=x, y=y)
    )
    points.transform = [
        {"filter": f"datum.r === {step.index_expr()}"},
        {"calculate": "split(datum.x, ',')", "as": "x"},
        {"calculate": "split(datum.y, ',')", "as": "y"},
        {"flatten": ["x", "y"]},
        {"calculate": "toNumber(datum.x)", "as": "x"},
        {"calculate": "toNumber(datum.y)", "as": "y"},
    ]
    layers.append(points)
    title = f"'reverse chain at step t = ' + {js_literal(labels)}[{step.index_expr()}]"
    return (
        alt.layer(*layers)
        .add_params(step.param())
        .properties(
            width=size,
            height=size,
            description=description,
            title=alt.TitleParams(text=alt.ExprRef(expr=title), fontSize=12),
        )
    )
