"""The LoRA rank explorer: its spec stores every run (counts exact, seeds rounded, packed one
row per run), drawn offline it reads out the run the radio buttons choose, inputs that differ
below the rounding give the same spec, and bad inputs are named."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from genai_notes.viz import Explorer, lora_rank_explorer
from genai_notes.viz.display import find_urls

DESCRIPTION = "LoRA's trainable parameters, held-out accuracy and forgetting against the rank."
RANKS = (1, 2, 4, 8)
TARGETS = ["attention in_proj", "every Linear"]
TRAINABLE = np.array([[64, 128, 256, 512], [160, 320, 640, 1280]])  # r * 64 and r * 160
FULL_N = 6400
# Each run's seeds are its mean minus, plus and exactly at a spread, so the means are known.
MEAN_ACCURACY = np.array([[0.60, 0.65, 0.70, 0.72], [0.62, 0.70, 0.76, 0.80]])
MEAN_DRIFT = np.array([[0.001, 0.002, 0.003, 0.004], [0.004, 0.008, 0.012, 0.016]])
ACCURACY = MEAN_ACCURACY[..., None] + np.array([-0.02, 0.0, 0.02])  # (2 targets, 4 ranks, 3 seeds)
DRIFT = MEAN_DRIFT[..., None] + np.array([-0.0005, 0.0, 0.0005])


def _explorer(**changes):
    kwargs = dict(
        ranks=RANKS,
        trainable=TRAINABLE,
        accuracy=ACCURACY,
        drift=DRIFT,
        targets=TARGETS,
        full_trainable=FULL_N,
        full_accuracy=[0.85, 0.87],
        full_drift=[0.05, 0.07],
        description=DESCRIPTION,
    )
    kwargs.update(changes)
    return lora_rank_explorer(**kwargs)


def _seeds(spec, field):
    """The packed seeds unpacked as the transforms do: one array of seeds per run."""
    rows = spec["datasets"][f"seeds_{field}"]
    return {r["run"]: np.array(r[field].split(","), dtype=float) for r in rows}


def test_two_radio_controls_start_at_the_chosen_run():
    params = _explorer().to_dict()["params"]
    assert [p["name"] for p in params] == ["target", "rank"]
    assert [p["bind"]["input"] for p in params] == ["radio", "radio"]
    assert params[0]["bind"]["options"] == [0, 1] and params[0]["bind"]["labels"] == TARGETS
    assert params[1]["bind"]["options"] == list(RANKS)  # the reader picks r itself
    assert [p["value"] for p in params] == [0, 4]  # the middle rank by default
    params = _explorer(target=1, rank=8).to_dict()["params"]
    assert [p["value"] for p in params] == [1, 8]


def test_the_stored_runs_are_the_given_values():
    spec = _explorer().to_dict()
    for field, given, atol in (("a", ACCURACY, 5e-4), ("d", DRIFT, 5e-5)):
        seeds = _seeds(spec, field)
        assert sorted(seeds) == list(range(8))
        for t in range(2):
            for k in range(4):  # the target set varies slowest: run = target * 4 + rank
                np.testing.assert_allclose(seeds[t * 4 + k], given[t, k], atol=atol, rtol=0)
    runs = {(r["t"], r["r"]): r for r in spec["datasets"]["runs"]}
    assert sorted(runs) == [(t, r) for t in range(2) for r in RANKS]
    for t in range(2):
        for k, r in enumerate(RANKS):
            run = runs[t, r]
            assert type(run["n"]) is int and run["n"] == TRAINABLE[t, k]
            assert run["a"] == pytest.approx(MEAN_ACCURACY[t, k], abs=1e-12)
            assert run["d"] == pytest.approx(MEAN_DRIFT[t, k], abs=1e-12)
    assert spec["datasets"]["full"] == [{"n": 6400, "a": 0.86, "d": 0.06}]


def _drawn(chart, target, rank):
    """The chart drawn offline with the controls at (target, rank): the title's lines and
    the text alternatives of the marks."""
    vl_convert = pytest.importorskip("vl_convert")
    spec = Explorer(chart).spec
    for param in spec["params"]:
        param["value"] = {"target": target, "rank": rank}[param["name"]]
    svg = vl_convert.vegalite_to_svg(json.dumps(spec))
    lines = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)  # only the title has two lines
    return lines, re.findall(r'aria-label="([^"]*)"', svg)


def test_drawn_offline_it_reads_out_the_chosen_run():
    lines, labels = _drawn(_explorer(), target=1, rank=8)
    # 1280 of 6400 weights is 20%; the means are the hand values above
    assert lines == [
        "every Linear, rank r = 8: 1,280 trainable parameters (20% of full fine-tuning)",
        "mean test accuracy 0.800 (full fine-tuning: 0.860), mean pretraining loss change "
        "+0.0160 (full fine-tuning: +0.0600)",
    ]
    assert "rank 8: 1,280" in labels
    assert "rank 8: 0.800 (mean over seeds)" in labels
    assert "rank 8: +0.0160 (mean over seeds)" in labels
    # only the chosen target set's seeds are drawn, one dot per rank and seed
    seeds = {x for x in labels if x.endswith(")") and "(seed" in x}
    runs = [(k, r, s) for k, r in enumerate(RANKS) for s in range(3)]
    want = {f"rank {r}: {ACCURACY[1, k, s]:.3f} (seed {s + 1})" for k, r, s in runs}
    want |= {f"rank {r}: {DRIFT[1, k, s]:+.4f} (seed {s + 1})" for k, r, s in runs}
    assert seeds == want
    # each panel has its dashed full fine-tuning line, at the mean of the full runs
    for text in ("full fine-tuning: 6,400", "full fine-tuning: 0.860", "full fine-tuning: +0.0600"):
        assert labels.count(text) == 1, text


def test_moving_a_control_changes_the_reading():
    lines, _ = _drawn(_explorer(), target=0, rank=2)
    # 128 of 6400 weights is 2%
    want = "attention in_proj, rank r = 2: 128 trainable parameters (2% of full fine-tuning)"
    assert lines[0] == want
    assert lines[1].startswith("mean test accuracy 0.650 (")


def test_inputs_that_differ_below_the_rounding_give_the_same_spec():
    rng = np.random.default_rng(0)
    noise = rng.uniform(-1e-7, 1e-7, ACCURACY.shape)
    base = Explorer(_explorer()).spec
    assert Explorer(_explorer(accuracy=ACCURACY + noise, drift=DRIFT - noise)).spec == base
    assert Explorer(_explorer(full_accuracy=[0.85 + 1e-9, 0.87])).spec == base
    moved = ACCURACY.copy()
    moved[1, 2, 0] += 0.001  # one seed, one unit of the stored digits
    assert Explorer(_explorer(accuracy=moved)).spec != base


def test_the_chart_validates_and_has_its_text_alternative():
    chart = _explorer()
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    assert spec["description"] == DESCRIPTION
    assert len(spec["hconcat"]) == 3
    for panel in spec["hconcat"]:
        assert panel["title"]
        for layer in panel["layer"]:
            for channel in ("x", "y"):
                encoding = layer["encoding"].get(channel, {})
                if "field" in encoding:
                    assert encoding["title"], (panel["title"], channel)
    rules = [
        layer["encoding"]["strokeDash"]["scale"]
        for panel in spec["hconcat"]
        for layer in panel["layer"]
        if layer["mark"]["type"] == "rule"
    ]
    assert rules == [{"domain": ["full fine-tuning"], "range": [[6, 4]]}] * 3  # dashed, in a legend
    assert list(find_urls(Explorer(chart).spec)) == []
    json.dumps(Explorer(chart).spec)  # displayable


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"ranks": (1, 4, 2, 8)}, ValueError, "ranks: expected at least 2 increasing positive"),
        ({"ranks": (0, 1, 2, 3)}, ValueError, "ranks: expected at least 2 increasing positive"),
        ({"ranks": (1.0, 2.0, 4.0, 8.0)}, TypeError, "ranks: expected integer"),
        (
            {"trainable": TRAINABLE[:, :3]},
            ValueError,
            r"trainable: expected shape \(n_targets, 4\)",
        ),
        ({"trainable": TRAINABLE[:, ::-1]}, ValueError, "trainable: expected positive counts that"),
        ({"trainable": TRAINABLE * 1.0}, TypeError, "trainable: expected integer"),
        ({"targets": ["one"]}, ValueError, "targets: expected 2 labels"),
        ({"accuracy": ACCURACY[:, :3]}, ValueError, r"accuracy: expected shape \(2, 4, n_seeds\)"),
        ({"accuracy": ACCURACY + 0.3}, ValueError, r"accuracy: expected accuracies in \[0, 1\]"),
        (
            {"accuracy": np.where(ACCURACY > 0.7, np.nan, 0.7)},
            ValueError,
            "accuracy: expected finite",
        ),
        ({"drift": DRIFT[..., :2]}, ValueError, "drift: expected the shape of accuracy"),
        ({"drift": np.where(DRIFT > 0.01, np.inf, DRIFT)}, ValueError, "drift: expected finite"),
        ({"full_trainable": 0}, ValueError, "full_trainable: expected a positive integer"),
        ({"full_accuracy": [[0.8, 0.9]]}, ValueError, "full_accuracy: expected a 1-D"),
        ({"full_accuracy": [0.8, 1.5]}, ValueError, "full_accuracy: expected accuracies"),
        ({"full_drift": []}, ValueError, r"full_drift: expected shape \(n_seeds\)"),
        ({"full_drift": [0.1]}, ValueError, "full_drift: expected one value per full fine-tuning"),
        ({"target": 2}, ValueError, "target: expected the index of a target set, below 2"),
        ({"rank": 3}, ValueError, r"rank: expected one of the ranks \[1, 2, 4, 8\], got 3"),
        ({"description": "LoRA"}, ValueError, "description: expected a sentence"),
    ],
)
def test_bad_inputs_name_the_argument(changes, error, message):
    with pytest.raises(error, match=message):
        _explorer(**changes)
