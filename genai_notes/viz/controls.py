"""The controls of an explorer: sliders, drop-down lists, radio buttons and checkboxes.

Each control becomes a Vega-Lite *parameter* bound to an HTML input. Moving the input changes
the parameter, and the chart recomputes from it in the browser, with no Python kernel. The
explorer builders in :mod:`genai_notes.viz.explorers` and :mod:`genai_notes.viz.steppers` take
these controls and write the expressions that use them.

>>> Slider("T", "temperature", 0.5, 2.0, 0.5, 1.0).values()
(0.5, 1, 1.5, 2)
>>> Select("word", "word", ["king", "queen"], value="queen").index_expr()
'indexof(["king","queen"], word)'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt

from genai_notes._checks import check_real, check_str, describe
from genai_notes.viz._data import clean as _clean
from genai_notes.viz._data import js_literal

__all__ = ["Slider", "Select", "Checkbox", "Control", "check_controls", "state_index"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Names Vega already uses for its own signals and expression variables.
_RESERVED = frozenset(
    "datum event item parent width height padding autosize background cursor style "
    "true false null undefined NaN Infinity this".split()
)


def _check_name(name: Any) -> str:
    check_str(name, "name")
    if not _IDENTIFIER.match(name) or name in _RESERVED:
        raise ValueError(
            f"name: expected an identifier such as 'temperature' that Vega does not reserve, "
            f"got {name!r}"
        )
    return name


def _check_label(label: Any) -> str:
    check_str(label, "label")
    if not label.strip():
        raise ValueError("label: expected the text shown next to the control, got an empty string")
    return label


@dataclass(frozen=True)
class Slider:
    """A range slider over ``min, min + step, ..., max``, starting at ``value``."""

    name: str  # the parameter's name inside the spec: an identifier
    label: str  # the text the reader sees next to the slider
    min: float
    max: float
    step: float
    value: float

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_label(self.label)
        low = check_real(self.min, "min")
        high = check_real(self.max, "max")
        step = check_real(self.step, "step", low=0.0, low_inclusive=False)
        if high <= low:
            raise ValueError(f"max: expected a number > min = {low}, got {high}")
        stops = (high - low) / step
        if abs(stops - round(stops)) > 1e-6:
            raise ValueError(
                f"step: expected a step that divides max - min = {high - low}, got {step}"
            )
        value = check_real(self.value, "value", low=low, high=high)
        if abs((value - low) / step - round((value - low) / step)) > 1e-6:
            raise ValueError(f"value: expected one of the slider's stops, got {value}")

    def values(self) -> tuple[float, ...]:
        """Every stop of the slider, rounded to 10 decimals as the browser reads them."""
        n = round((self.max - self.min) / self.step)
        return tuple(_clean(round(self.min + k * self.step, 10)) for k in range(n + 1))

    def param(self) -> alt.Parameter:
        binding = alt.binding_range(
            min=_clean(self.min), max=_clean(self.max), step=_clean(self.step), name=self.label
        )
        return alt.param(name=self.name, value=_clean(self.value), bind=binding)

    def index_expr(self) -> str:
        """An expression for the position of the current value among :meth:`values`."""
        return f"round(({self.name} - {_clean(self.min)}) / {_clean(self.step)})"


@dataclass(frozen=True)
class Select:
    """A drop-down list (or, with ``radio=True``, radio buttons) over ``options``.

    ``options`` are the values the parameter takes (numbers or strings); ``labels``, if given,
    are what the reader sees for each. ``value`` defaults to the first option.
    """

    name: str
    label: str
    options: Sequence[Any]
    labels: Sequence[str] | None = None
    value: Any = None
    radio: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_label(self.label)
        options = list(self.options) if not isinstance(self.options, str) else None
        if not options:
            raise ValueError(
                f"options: expected a non-empty sequence, got {describe(self.options)}"
            )
        for option in options:
            if isinstance(option, bool) or not isinstance(option, (int, float, str)):
                raise TypeError(f"options: expected numbers or strings, got {describe(option)}")
        if len(set(options)) != len(options):
            raise ValueError(f"options: expected distinct values, got {options}")
        if self.labels is not None:
            labels = list(self.labels)
            if len(labels) != len(options) or not all(isinstance(x, str) for x in labels):
                raise ValueError(
                    f"labels: expected {len(options)} strings, one per option, got {describe(self.labels)}"
                )
        object.__setattr__(self, "options", tuple(options))
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))
        if self.value is None:
            object.__setattr__(self, "value", options[0])
        elif self.value not in options:
            raise ValueError(f"value: expected one of the options, got {describe(self.value)}")

    def values(self) -> tuple[Any, ...]:
        return tuple(self.options)

    def param(self) -> alt.Parameter:
        kind = alt.binding_radio if self.radio else alt.binding_select
        extra = {} if self.labels is None else {"labels": list(self.labels)}
        binding = kind(options=list(self.options), name=self.label, **extra)
        return alt.param(name=self.name, value=self.value, bind=binding)

    def index_expr(self) -> str:
        return f"indexof({js_literal(list(self.options))}, {self.name})"


@dataclass(frozen=True)
class Checkbox:
    """A checkbox: the parameter is ``true`` when it is ticked."""

    name: str
    label: str
    value: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_label(self.label)
        if not isinstance(self.value, bool):
            raise TypeError(f"value: expected True or False, got {describe(self.value)}")

    def values(self) -> tuple[bool, ...]:
        return (False, True)

    def param(self) -> alt.Parameter:
        return alt.param(
            name=self.name, value=self.value, bind=alt.binding_checkbox(name=self.label)
        )

    def index_expr(self) -> str:
        return f"({self.name} ? 1 : 0)"


Control = Slider | Select | Checkbox


def check_controls(controls: Any, name: str = "controls") -> tuple[Control, ...]:
    """``controls`` as a tuple of controls with distinct names."""
    if isinstance(controls, (Slider, Select, Checkbox)):
        controls = (controls,)
    try:
        controls = tuple(controls)
    except TypeError:
        raise TypeError(
            f"{name}: expected a sequence of controls, got {describe(controls)}"
        ) from None
    for control in controls:
        if not isinstance(control, (Slider, Select, Checkbox)):
            raise TypeError(
                f"{name}: expected Slider, Select or Checkbox objects, got {describe(control)}"
            )
    names = [c.name for c in controls]
    if len(set(names)) != len(names):
        raise ValueError(f"{name}: expected controls with distinct names, got {names}")
    return controls


def state_index(controls: Sequence[Control]) -> tuple[list[tuple[Any, ...]], str]:
    """Every combination of the controls' values, in order, and an expression for the
    position of the current combination in that list (the first control varies slowest).

    >>> keys, expr = state_index([Checkbox("on", "on"), Slider("n", "n", 0, 2, 1, 0)])
    >>> keys[:4], expr
    ([(False, 0), (False, 1), (False, 2), (True, 0)], '(on ? 1 : 0) * 3 + round((n - 0) / 1)')
    """
    keys: list[tuple[Any, ...]] = [()]
    for control in controls:
        keys = [key + (value,) for key in keys for value in control.values()]
    terms, stride = [], 1
    for control in reversed(controls):
        terms.append(control.index_expr() if stride == 1 else f"{control.index_expr()} * {stride}")
        stride *= len(control.values())
    return keys, " + ".join(reversed(terms))
