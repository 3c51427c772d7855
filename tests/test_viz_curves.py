"""The gradient-norm explorer: its spec holds every curve of the grid (as rounded base-10
logs, inline), picks the one the controls choose, draws the bound, and checks its inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genai_notes.viz import Explorer, Slider, gradient_norm_explorer
from genai_notes.viz.display import find_urls

SCALE = Slider("scale", "recurrent scale", 0.5, 1.5, 0.5, 1.0)
DESCRIPTION = "The gradient norm against distance for the chosen cell and recurrent scale."


def _norms():
    d = np.arange(6)
    grid = [[s**d for s in SCALE.values()], [0.9**d for _ in SCALE.values()]]
    return np.array(grid)  # (2 cells, 3 scales, 6 distances)


def _records(spec):
    """The inline data unpacked as the transforms do: one log10 value per (row, distance)."""
    rows = spec["data"]["values"] if "values" in spec["data"] else spec["datasets"]
    return {r["r"]: np.array(r["v"].split(","), dtype=float) for r in rows}


def test_every_curve_is_stored_as_rounded_logs_in_control_order():
    chart = gradient_norm_explorer(_norms(), ["RNN", "LSTM"], SCALE, description=DESCRIPTION)
    spec = chart.to_dict()
    records = _records(spec)
    assert sorted(records) == list(range(6))
    # the first control (the cell) varies slowest: row = cell * 3 + scale index
    for c in range(2):
        for s, value in enumerate(SCALE.values()):
            base = value if c == 0 else 0.9
            np.testing.assert_allclose(records[c * 3 + s], np.arange(6) * np.log10(base), atol=5e-4)
    assert list(find_urls(Explorer(chart).spec)) == []
    assert [p["name"] for p in spec["params"]] == ["cell", "scale"]
    assert spec["params"][0]["bind"]["input"] == "radio"
    curve, bound = spec["layer"]
    assert {"filter": "datum.r === cell * 3 + round((scale - 0.5) / 0.5)"} in [
        {"filter": t["filter"].replace("indexof([0,1], cell)", "cell")}
        for t in curve["transform"]
        if "filter" in t
    ]
    assert any("log(scale)" in t.get("calculate", "") for t in bound["transform"])
    assert spec["description"] == DESCRIPTION
    json.dumps(Explorer(chart).spec)  # displayable


def test_the_floor_and_the_axis_domain():
    norms = _norms()
    norms[0, 0, -1] = 0.0  # a gradient that underflowed
    chart = gradient_norm_explorer(norms, ["RNN", "LSTM"], SCALE, description=DESCRIPTION,
                                   floor=1e-8)  # fmt: skip
    spec = chart.to_dict()
    assert _records(spec)[0][-1] == -8
    domain = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert domain == [-8, 1]  # 1.5^5 = 7.6 is below 10^1


def test_without_the_bound():
    chart = gradient_norm_explorer(_norms(), ["a", "b"], SCALE, description=DESCRIPTION,
                                   bound=False)  # fmt: skip
    assert len(chart.to_dict()["layer"]) == 1


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((np.ones((2, 2, 6)), ["a", "b"], SCALE), ValueError, "one scale per stop"),
        ((np.ones((2, 3, 1)), ["a", "b"], SCALE), ValueError, "n_distances >= 2"),
        ((-np.ones((2, 3, 6)), ["a", "b"], SCALE), ValueError, "norms: expected norms >= 0"),
        ((np.ones((2, 3, 6)), ["a"], SCALE), ValueError, "cells: expected 2 labels"),
        ((np.ones((2, 3, 6)), ["a", "b"], 1.0), TypeError, "scale: expected a Slider"),
        ((np.ones((3, 6)), ["a", "b"], SCALE), ValueError, "norms: expected a 3-D array"),
    ],
)
def test_bad_inputs(args, error, message):
    with pytest.raises(error, match=message):
        gradient_norm_explorer(*args, description=DESCRIPTION)
