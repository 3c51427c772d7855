"""An explorer of LoRA runs: the rank against the parameters trained, the held-out accuracy and
the forgetting, for a choice of target set (Chapter 11).

The fine-tuning runs need the engine, so they run in Python beforehand: for every target set
and rank a few seeds, each giving a held-out accuracy and the change of the pretraining
(masked-LM) validation loss, plus the same for full fine-tuning. The spec stores every seed's
numbers rounded (accuracy to 3 decimals, the loss change to 4, counts exactly), so it is the
same on every CPU; the browser only picks the runs the radio buttons choose, so the explorer
is live in the HTML book with no kernel.

>>> chart = lora_rank_explorer(
...     [1, 2], [[10, 20]], [[[0.5, 0.7], [0.8, 0.9]]], [[[0.0, 0.01], [0.02, 0.03]]],
...     targets=["in_proj"], full_trainable=100, full_accuracy=[0.9, 0.95],
...     full_drift=[0.1, 0.12],
...     description="Parameters trained, accuracy and forgetting against the LoRA rank.")
>>> [p["name"] for p in chart.to_dict()["params"]]
['target', 'rank']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np

from genai_notes._checks import check_array, check_int, check_positive_int
from genai_notes.viz._data import check_description, check_labels, js_literal, rounded
from genai_notes.viz.controls import Select
from genai_notes.viz.explorers import HIGHLIGHT, _flattened
from genai_notes.viz.figures import PALETTE

__all__ = ["lora_rank_explorer"]

FULL = "full fine-tuning"
REFERENCE = PALETTE[7]  # black, the palette's colour for reference lines
DIGITS = {"n": 0, "a": 3, "d": 4}  # counts exact, accuracy to 3 decimals, loss change to 4
FORMATS = {"n": ",", "a": ".3f", "d": "+.4f"}
NAMES = {"n": "trainable parameters", "a": "test accuracy", "d": "pretraining loss change"}
PAD = 10  # pixels added to each end of a scale, so that no point sits on an axis


def _check_ranks(ranks: Any) -> list[int]:
    r = check_array(ranks, "ranks", ndim=1, dtype_kind="iu")
    if r.size < 2 or (r < 1).any() or (np.diff(r) <= 0).any():
        raise ValueError(
            f"ranks: expected at least 2 increasing positive integers such as (1, 2, 4, 8), "
            f"got {r.tolist()}"
        )
    return [int(x) for x in r]


def _check_trainable(trainable: Any, n_ranks: int) -> np.ndarray:
    n = check_array(trainable, "trainable", ndim=2, dtype_kind="iu").astype(np.int64)
    if n.shape[1] != n_ranks:
        raise ValueError(
            f"trainable: expected shape (n_targets, {n_ranks}), one count per target set and "
            f"rank, got {n.shape}"
        )
    if (n < 1).any() or (np.diff(n, axis=1) <= 0).any():
        raise ValueError(
            "trainable: expected positive counts that grow with the rank (LoRA trains "
            f"r (d_in + d_out) weights per matrix), got {n.tolist()}"
        )
    return n


def _check_seeds(values: Any, name: str, shape: tuple[int, ...], ndim: int) -> np.ndarray:
    """Per-seed results of one measure: ``shape`` with any number (>= 1) of seeds last."""
    v = check_array(values, name, ndim=ndim, dtype_kind="fiu").astype(float)
    if v.shape[:-1] != shape or v.shape[-1] < 1:
        what = ", ".join([*map(str, shape), "n_seeds"])
        raise ValueError(f"{name}: expected shape ({what}), with n_seeds >= 1, got {v.shape}")
    if name.endswith("accuracy") and ((v < 0) | (v > 1)).any():
        raise ValueError(
            f"{name}: expected accuracies in [0, 1], got values from {v.min()} to {v.max()}"
        )
    return v


def _domain(*values: Any, log: bool = False, include: Sequence[float] = ()) -> list[float]:
    """The smallest and largest of ``values`` and ``include``, widened if they are equal
    (a scale of zero width draws every point on one edge)."""
    low = min([float(np.min(v)) for v in values] + list(include))
    high = max([float(np.max(v)) for v in values] + list(include))
    if high - low < 1e-9 * max(1.0, abs(high)):
        low, high = (low / 2, high * 2) if log else (low - 0.01, high + 0.01)
    return [low, high]


def _layers(field: str, unpack: list[dict] | None, x: alt.X, y: alt.Y, ranks: list[int]) -> list:
    """One panel's layers: full fine-tuning as a dashed line; with ``unpack`` (the
    transforms of the packed seeds) every seed as a faint dot; the mean over seeds as a line;
    and the chosen run's mean as a large vermillion dot. The data are the spec's named
    datasets (``runs``, ``full``, ``seeds_<field>``), stored once however many layers use them.
    """
    fmt = FORMATS[field]
    full = alt.NamedData(name="full")
    # A legend, not a label on the line: a label would cover the runs that reach it.
    dash = alt.StrokeDash(
        "series:N",
        scale=alt.Scale(domain=[FULL], range=[[6, 4]]),
        legend=alt.Legend(
            title=None, orient="top", symbolType="stroke", symbolSize=500, symbolStrokeWidth=1.5
        ),
    )
    rule = (
        alt.Chart(full)
        .mark_rule(color=REFERENCE, strokeWidth=1.5)
        .encode(
            y=y,
            strokeDash=dash,
            tooltip=alt.Tooltip(f"{field}:Q", title=FULL, format=fmt),
            description=alt.Description("reading:N"),
        )
        .transform_calculate(
            series=f"'{FULL}'", reading=f"'{FULL}: ' + format(datum.{field}, '{fmt}')"
        )
    )
    tooltip = [
        alt.Tooltip("r:Q", title="rank r"),
        alt.Tooltip(f"{field}:Q", title=NAMES[field], format=fmt),
    ]
    reading = f"'rank ' + datum.r + ': ' + format(datum.{field}, '{fmt}')"
    layers = [rule]
    if unpack is not None:
        dots = (
            alt.Chart(alt.NamedData(name=f"seeds_{field}"))
            .mark_circle(color=PALETTE[0], opacity=0.35, size=30)
            .encode(x=x, y=y, tooltip=tooltip, description=alt.Description("reading:N"))
        )
        dots.transform = [
            {"filter": f"floor(datum.run / {len(ranks)}) === target"},  # run = target, rank
            *unpack,
            {"calculate": f"{js_literal(ranks)}[datum.run % {len(ranks)}]", "as": "r"},
            {"calculate": f"{reading} + ' (seed ' + (datum.seed + 1) + ')'", "as": "reading"},
        ]
        layers.append(dots)
    runs = alt.Chart(alt.NamedData(name="runs"))
    mean = (
        runs.mark_line(color=PALETTE[0], strokeWidth=2, point=alt.OverlayMarkDef(size=20))
        .encode(x=x, y=y, tooltip=tooltip)
        .transform_filter("datum.t === target")
    )
    point = (
        runs.mark_point(color=HIGHLIGHT, filled=True, opacity=1, size=130)
        .encode(x=x, y=y, tooltip=tooltip, description=alt.Description("reading:N"))
        .transform_filter("datum.t === target && datum.r === rank")
        .transform_calculate(reading=reading + (" + ' (mean over seeds)'" if unpack else ""))
    )
    return [*layers, mean, point]


def _title(targets: list[str], rank: Select, per_run: dict[str, list], full: dict) -> str:
    """An expression for the two lines of the title: the chosen run's numbers and full
    fine-tuning's, looked up by target set and rank (a title cannot read the data)."""
    n, a, d = (f"{js_literal(per_run[f])}[target][{rank.index_expr()}]" for f in "nad")
    first = (
        f"{js_literal(targets)}[target] + ', rank r = ' + rank + ': ' + format({n}, ',') + "
        f"' trainable parameters (' + format({n} / {full['n']}, '.2~p') + ' of {FULL})'"
    )
    second = (
        f"'mean test accuracy ' + format({a}, '.3f') + ' ({FULL}: ' + format({full['a']}, "
        f"'.3f') + '), mean pretraining loss change ' + format({d}, '+.4f') + ' ({FULL}: ' + "
        f"format({full['d']}, '+.4f') + ')'"
    )
    return f"[{first}, {second}]"


def lora_rank_explorer(
    ranks: Sequence[int],
    trainable: Any,
    accuracy: Any,
    drift: Any,
    *,
    targets: Sequence[str],
    full_trainable: int,
    full_accuracy: Any,
    full_drift: Any,
    description: str,
    target: int = 0,
    rank: int | None = None,
    accuracy_label: str = "test accuracy (dots: seeds)",
    drift_label: str = "change of the pretraining loss",
    width: int = 210,
    height: int = 200,
) -> alt.HConcatChart:
    """Three panels against the LoRA rank ``r`` (log axis): the parameters LoRA trains (log
    axis), the held-out accuracy and the forgetting, for the target set the radio buttons
    choose, with the chosen rank highlighted and full fine-tuning as a dashed line.

    ranks: ``(n_ranks,)`` increasing positive ranks, e.g. ``(1, 2, 4, 8, 16)``;
    trainable: ``(n_targets, n_ranks)`` counts of the weights each run trains;
    accuracy: ``(n_targets, n_ranks, n_seeds)`` held-out accuracy of each seed, in [0, 1];
    drift: ``(n_targets, n_ranks, n_seeds)`` change of the pretraining (masked-LM) validation
    loss that fine-tuning caused (0: nothing forgotten);
    targets: the ``n_targets`` labels of the target sets, e.g. ``["attention in_proj",
    "every Linear"]``; full_trainable, full_accuracy ``(n_full_seeds,)``, full_drift
    ``(n_full_seeds,)``: the same for full fine-tuning (the dashed lines are the means).
    The title reads out the chosen run: target set, rank, its count and the fraction of the
    full count, mean accuracy and mean loss change. ``target`` is the index of the target
    set shown first, ``rank`` the rank shown first (None: the middle one of ``ranks``).

    >>> chart = lora_rank_explorer(
    ...     [1, 2, 4], [[6, 12, 24], [10, 20, 40]],
    ...     np.full((2, 3, 2), 0.75), np.zeros((2, 3, 2)),
    ...     targets=["in_proj", "every Linear"], full_trainable=100,
    ...     full_accuracy=[0.8, 0.9], full_drift=[0.05, 0.07],
    ...     description="LoRA's trainable parameters, accuracy and forgetting by rank.")
    >>> spec = chart.to_dict()
    >>> [(p["name"], p["value"], p["bind"]["options"]) for p in spec["params"]]
    [('target', 0, [0, 1]), ('rank', 2, [1, 2, 4])]
    """
    check_description(description)
    ranks = _check_ranks(ranks)
    n = _check_trainable(trainable, len(ranks))
    targets = check_labels(targets, n.shape[0], "targets")
    acc = _check_seeds(accuracy, "accuracy", n.shape, ndim=3)
    change = _check_seeds(drift, "drift", n.shape, ndim=3)
    if change.shape != acc.shape:
        raise ValueError(f"drift: expected the shape of accuracy {acc.shape}, got {change.shape}")
    full_n = check_positive_int(full_trainable, "full_trainable")
    full_acc = _check_seeds(full_accuracy, "full_accuracy", (), ndim=1)
    full_change = _check_seeds(full_drift, "full_drift", (), ndim=1)
    if full_change.shape != full_acc.shape:
        raise ValueError(
            f"full_drift: expected one value per full fine-tuning seed, {full_acc.size} like "
            f"full_accuracy, got {full_change.size}"
        )
    if check_int(target, "target", minimum=0) >= len(targets):
        raise ValueError(
            f"target: expected the index of a target set, below {len(targets)}, got {target}"
        )
    rank = ranks[len(ranks) // 2] if rank is None else check_positive_int(rank, "rank")
    if rank not in ranks:
        raise ValueError(f"rank: expected one of the ranks {ranks}, got {rank}")
    controls = [
        Select("target", "LoRA on", list(range(len(targets))), targets, value=target, radio=True),
        Select("rank", "rank r", ranks, value=rank, radio=True),
    ]
    # Everything the spec holds comes from the rounded seeds, so that inputs that differ
    # below the rounding give the same spec, and each mean is the mean of the dots drawn.
    acc, full_acc = np.round(acc, DIGITS["a"]), np.round(full_acc, DIGITS["a"])
    change, full_change = np.round(change, DIGITS["d"]), np.round(full_change, DIGITS["d"])
    per_run = {"n": n.tolist(), "a": rounded(acc.mean(2), 3), "d": rounded(change.mean(2), 4)}
    full = {"n": full_n, "a": rounded(full_acc.mean(), 3), "d": rounded(full_change.mean(), 4)}
    runs = [
        {"t": t, "r": r, **{f: per_run[f][t][k] for f in "nad"}}
        for t in range(len(targets))
        for k, r in enumerate(ranks)
    ]
    # Each seed's numbers, packed one row per run (row = target set * n_ranks + rank).
    seeds = {
        f: _flattened(v.reshape(-1, v.shape[2]), DIGITS[f], "run", "seed", f)
        for f, v in (("a", acc), ("d", change))
    }
    datasets = {"runs": runs, "full": [full]}
    datasets.update({f"seeds_{f}": data.values for f, (data, _) in seeds.items()})
    domains = {  # the data range each y axis spans, full fine-tuning included
        "n": _domain(n, include=[full_n], log=True),
        "a": _domain(acc, full_acc),
        "d": _domain(change, full_change, include=[0.0]),
    }
    x = alt.X(
        "r:Q",
        title="LoRA rank r (log scale)",
        scale=alt.Scale(type="log", base=2, domain=[ranks[0], ranks[-1]], nice=False, padding=PAD),
        axis=alt.Axis(values=ranks, format="d"),
    )
    panels = {  # field: (panel title, axis title)
        "n": (NAMES["n"], "parameters trained (log scale)"),
        "a": (NAMES["a"], accuracy_label),
        "d": ("forgetting", drift_label),
    }
    charts = []
    for field, (title, axis_title) in panels.items():
        kind = {"type": "log"} if field == "n" else {"zero": False}
        domain = rounded(domains[field], DIGITS[field] + 1)  # no float noise from the widening
        scale = alt.Scale(domain=domain, nice=False, padding=PAD, **kind)
        axis = alt.Axis(format="~s") if field == "n" else alt.Undefined
        y = alt.Y(f"{field}:Q", title=axis_title, scale=scale, axis=axis)
        unpack = seeds[field][1] if field in seeds else None
        layers = _layers(field, unpack, x, y, ranks)
        charts.append(alt.layer(*layers).properties(width=width, height=height, title=title))
    title = _title(targets, controls[1], per_run, full)
    return (
        alt.hconcat(*charts)
        .add_params(*(c.param() for c in controls))
        .properties(
            datasets=datasets,
            description=description,
            title=alt.TitleParams(text=alt.ExprRef(expr=title), fontSize=12, anchor="start"),
        )
    )
