"""Chapter 12's explorers: every precomputed state is stored inline, rounded, in the order of
the sliders, the transforms pick the one the sliders choose, and bad inputs are named."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genai_notes.viz import Explorer, Slider, diffusion_explorer, latent_walk_explorer
from genai_notes.viz.display import find_urls

Z1 = Slider("z1", "z1", -1.0, 1.0, 1.0, 0.0)  # 3 stops
Z2 = Slider("z2", "z2", -1.0, 1.0, 2.0, -1.0)  # 2 stops
TEXT = "The glyph decoded from the code (z1, z2) that the two sliders set."


def _images():
    grid = np.zeros((3, 2, 4, 4))
    for i in range(3):
        for j in range(2):
            grid[i, j, i, j] = 1.0 / 3 + 0.2 * j  # one lit pixel per state, value 0.33 or 0.53
    return grid


def test_latent_walk_stores_each_glyph_in_slider_order():
    chart = latent_walk_explorer(_images(), Z1, Z2, description=TEXT,
                                 codes=[[0.1, -0.2], [0.5, 0.5]], labels=[0, 1],
                                 class_names=["circle", "L"])  # fmt: skip
    spec = chart.to_dict()
    glyph, latent = spec["hconcat"]
    rows = {r["r"]: np.array(r["v"].split(","), dtype=float) for r in glyph["data"]["values"]}
    assert sorted(rows) == list(range(6))
    for i in range(3):
        for j in range(2):
            image = rows[i * 2 + j].reshape(4, 4)  # the first slider varies slowest
            assert image[i, j] == round(1 / 3 + 0.2 * j, 2) and image.sum() == image[i, j]
    assert {"filter": "datum.r === round((z1 - -1) / 1) * 2 + round((z2 - -1) / 2)"} in glyph[
        "transform"
    ]
    assert [p["name"] for p in spec["params"]] == ["z1", "z2"]
    dots = latent["layer"][0]["data"]["values"]
    assert dots == [
        {"z1": 0.1, "z2": -0.2, "class": "circle"},
        {"z1": 0.5, "z2": 0.5, "class": "L"},
    ]
    marker = latent["layer"][1]
    assert {"calculate": "z1", "as": "cx"} in marker["transform"]
    assert list(find_urls(Explorer(chart).spec)) == []
    json.dumps(Explorer(chart).spec)


def test_diffusion_explorer_stores_every_state():
    path = np.arange(3 * 4 * 2, dtype=float).reshape(3, 4, 2) / 10
    step = Slider("k", "step", 0, 2, 1, 0)
    chart = diffusion_explorer(path, [20, 10, 0], step, data=np.zeros((5, 2)),
                               description="Where the sampler's points are at each step.")  # fmt: skip
    spec = chart.to_dict()
    ref, points = spec["layer"]
    values = points["data"]["values"]
    assert [v["r"] for v in values] == [0, 1, 2]
    np.testing.assert_allclose(np.array(values[1]["x"].split(","), dtype=float), path[1, :, 0])
    np.testing.assert_allclose(np.array(values[2]["y"].split(","), dtype=float), path[2, :, 1])
    assert {"flatten": ["x", "y"]} in points["transform"]
    assert "[20,10,0]" in spec["title"]["text"]["expr"]
    assert len(ref["data"]["values"]) == 5


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="z1: expected a slider with 2 stops"):
        latent_walk_explorer(np.zeros((2, 2, 4, 4)), Z1, Z2, description=TEXT)
    with pytest.raises(ValueError, match="images"):
        latent_walk_explorer(np.zeros((3, 2, 4)), Z1, Z2, description=TEXT)
    with pytest.raises(ValueError, match="codes"):
        latent_walk_explorer(_images(), Z1, Z2, description=TEXT, codes=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="steps"):
        diffusion_explorer(np.zeros((3, 4, 2)), [1, 0], Slider("k", "k", 0, 2, 1, 0),
                           description="Where the sampler's points are at each step.")  # fmt: skip
    with pytest.raises(TypeError, match="step"):
        diffusion_explorer(np.zeros((3, 4, 2)), [2, 1, 0], "k",
                           description="Where the sampler's points are at each step.")  # fmt: skip
