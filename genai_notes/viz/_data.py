"""Helpers shared by the explorer builders: data as plain JSON, labels, descriptions.

Explorer data goes into the spec inline, as JSON numbers rounded to a few decimals: enough for
what a chart shows, and the same on every CPU, so a notebook's stored spec matches a fresh run.

>>> rounded([[0.123456, -0.0], [1.0, 2.5]], 3)
[[0.123, 0], [1, 2.5]]
>>> js_literal(["a", "\\n"])
'["a","\\\\n"]'
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from genai_notes._checks import check_str, describe

__all__ = ["clean", "rounded", "check_labels", "check_description", "js_literal"]


def clean(x: float) -> float | int:
    """A number as JSON should hold it: integral floats become ints, -0.0 becomes 0.

    >>> clean(2.0), clean(-0.0), clean(0.25)
    (2, 0, 0.25)
    """
    x = float(x)
    if math.isfinite(x) and x == int(x):
        return int(x)
    return x + 0.0


def rounded(values: Any, digits: int) -> Any:
    """``values`` (a number or a nested array) as nested lists of numbers rounded to
    ``digits`` decimals, ready for JSON."""
    array = np.round(np.asarray(values, dtype=float), digits)
    if array.ndim == 0:
        return clean(array)
    return [rounded(row, digits) for row in array] if array.ndim > 1 else [clean(x) for x in array]


def check_labels(labels: Any, size: int, name: str, unique: bool = True) -> list[str]:
    """``labels`` as a list of ``size`` non-empty strings (distinct if ``unique``)."""
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise TypeError(f"{name}: expected a sequence of {size} strings, got {describe(labels)}")
    labels = list(labels)
    if len(labels) != size:
        raise ValueError(f"{name}: expected {size} labels, got {len(labels)}")
    for label in labels:
        if not isinstance(label, str) or not label:
            raise TypeError(f"{name}: expected non-empty strings, got {describe(label)}")
    if unique and len(set(labels)) != len(labels):
        repeated = sorted({x for x in labels if labels.count(x) > 1})
        raise ValueError(f"{name}: expected distinct labels, got repeats of {repeated}")
    return labels


def check_description(description: Any) -> str:
    """The text alternative of an explorer: what it shows and what its controls do."""
    check_str(description, "description")
    if len(description.strip()) < 20:
        raise ValueError(
            "description: expected a sentence saying what the explorer shows and what its "
            f"controls change, got {description!r}"
        )
    return description.strip()


def js_literal(value: Any) -> str:
    """``value`` (strings, numbers, lists) written as a JavaScript literal for an expression."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
