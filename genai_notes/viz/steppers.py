"""Steppers: explorers over states computed in advance, one state per setting of the controls.

Some views need Python to compute (a tokenizer encoding a text, a model writing samples). An
explorer can still be live in the browser if the states the reader can reach are computed
ahead: a slider over the merges of a BPE trainer, or a list of preset texts and tokenizers.
The builders lay every state out in Python and the chart only shows the chosen one.

>>> from genai_notes.viz.controls import Slider
>>> view = TokenView(["the", " king"], [257, 290], caption="2 tokens")
>>> chart = token_explorer(
...     {0: TokenView(["t", "h", "e"], [116, 104, 101]), 1: view},
...     [Slider("merges", "merges applied", 0, 1, 1, 0)],
...     description="The text as tokens before and after one merge of the pair (t, h).")
>>> len(chart.layer)
4
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt

from genai_notes._checks import check_int, describe
from genai_notes.viz._data import check_description, js_literal
from genai_notes.viz._data import clean as _clean
from genai_notes.viz.controls import Control, check_controls, state_index
from genai_notes.viz.figures import TOKEN_TINTS, visible_piece

__all__ = ["TokenView", "token_explorer", "text_explorer"]

CHAR_PX = 8.5  # the width of one character of the 13 px monospace font, with some slack
LINE_PX = 18  # the height of one line of caption text
TOKEN_PX = 38  # the height of one line of token boxes (the piece, and its id below it)
PAD_PX = 3  # inside each box, left and right


@dataclass(frozen=True)
class TokenView:
    """One state of a token explorer: tokens (``pieces``, with their ``ids``) under a few
    lines of ``caption``, such as "merge 3: ' ' + '.' -> id 258" or "9 tokens"."""

    pieces: Sequence[str] = ()
    ids: Sequence[int] | None = None
    caption: str | Sequence[str] = ()

    def __post_init__(self) -> None:
        pieces = list(self.pieces) if not isinstance(self.pieces, str) else None
        if pieces is None or not all(isinstance(p, str) for p in pieces):
            raise TypeError(f"pieces: expected a sequence of strings, got {describe(self.pieces)}")
        if self.ids is not None:
            ids = [check_int(i, "ids") for i in self.ids]
            if len(ids) != len(pieces):
                raise ValueError(f"ids: expected {len(pieces)} ids to match pieces, got {len(ids)}")
            object.__setattr__(self, "ids", tuple(ids))
        caption = [self.caption] if isinstance(self.caption, str) else list(self.caption)
        if not all(isinstance(line, str) for line in caption):
            raise TypeError(f"caption: expected a string or strings, got {describe(self.caption)}")
        object.__setattr__(self, "pieces", tuple(pieces))
        object.__setattr__(self, "caption", tuple(caption))


SEP = "\x1f"  # joins the values of one state's marks into one string (the unit separator)


def _packed(values: Sequence[Any]) -> str:
    """Values joined by :data:`SEP`; a separator inside a value is shown as the symbol ␟."""
    return SEP.join(str(v).replace(SEP, "\u241f") for v in values)


def _records(view: TokenView, state: int, line_chars: int) -> tuple[list[dict], int]:
    """The marks of one state, and the height in pixels they need.

    A state is stored as (at most) two records, one for its caption lines and one for its
    tokens, each field holding the values of all its marks packed into one string (see
    :func:`_packed`); the chart unpacks them with ``split`` and ``flatten``. A notebook stores
    the spec with one line per field, so this keeps a stepper's stored output short.
    """
    records = []
    lines = [part for line in view.caption for part in (textwrap.wrap(line, line_chars) or [""])]
    if lines:
        ys = [n * LINE_PX for n in range(len(lines))]
        records.append({"s": state, "k": "caption", "y": _packed(ys), "t": _packed(lines)})
    top = len(lines) * LINE_PX + (6 if lines and view.pieces else 0)
    x, width = 0.0, line_chars * CHAR_PX
    marks: dict[str, list[Any]] = {"x": [], "x2": [], "y": [], "t": [], "n": [], "c": []}
    for n, piece in enumerate(view.pieces):
        shown = visible_piece(piece)
        label = "" if view.ids is None else str(view.ids[n])
        box = max(len(shown), len(label), 1) * CHAR_PX + 2 * PAD_PX
        if x > 0 and x + box > width:
            x, top = 0.0, top + TOKEN_PX
        for key, value in zip(marks, (_clean(round(x, 1)), _clean(round(x + box, 1)), top)):
            marks[key].append(value)
        marks["t"].append(shown)
        marks["n"].append(label)
        marks["c"].append(n % len(TOKEN_TINTS))
        x += box + 3
    if view.pieces:
        records.append({"s": state, "k": "token", **{k: _packed(v) for k, v in marks.items()}})
    height = top + (TOKEN_PX if view.pieces else 0)
    return records, height


def _unpack(chart: alt.Chart, fields: Sequence[str], numbers: Sequence[str]) -> alt.Chart:
    """``chart`` with each packed record split back into one datum per mark."""
    split = {f"{f}_": f"split(datum.{f}, {js_literal(SEP)})" for f in fields}
    chart = chart.transform_calculate(**split).transform_flatten(
        [f"{f}_" for f in fields], as_=list(fields)
    )
    return chart.transform_calculate(**{f: f"toNumber(datum.{f})" for f in numbers})


def _check_states(states: Any, controls: Sequence[Control]) -> list[Any]:
    """The states in the order of :func:`state_index`, one for every setting of the controls."""
    if not isinstance(states, Mapping):
        raise TypeError(
            f"states: expected a mapping from control values to states, got {describe(states)}"
        )
    keyed = {(k if isinstance(k, tuple) else (k,)): v for k, v in states.items()}
    keys, _ = state_index(controls)
    missing = [key for key in keys if key not in keyed]
    if missing:
        raise ValueError(
            f"states: expected a state for every setting of the controls, "
            f"{[c.name for c in controls]}; missing {missing[:3]}"
        )
    extra = [key for key in keyed if key not in set(keys)]
    if extra:
        raise ValueError(f"states: got keys that no setting of the controls reaches: {extra[:3]}")
    return [keyed[key] for key in keys]


def token_explorer(
    states: Mapping[Any, TokenView],
    controls: Sequence[Control] | Control,
    *,
    description: str,
    line_chars: int = 64,
) -> alt.LayerChart:
    """Tokens as coloured boxes with their ids, for the state the controls choose.

    ``states`` maps each setting of ``controls`` (a tuple of their values, in order; a single
    value for one control) to a :class:`TokenView`. Every setting needs a state. Whitespace is
    made visible as in :func:`~genai_notes.viz.figures.token_html`; boxes wrap at
    ``line_chars`` characters.
    """
    check_description(description)
    controls = check_controls(controls)
    if not controls:
        raise ValueError("controls: expected at least one control, got none")
    line_chars = check_int(line_chars, "line_chars", minimum=8)
    views = _check_states(states, controls)
    records, height = [], LINE_PX
    for n, view in enumerate(views):
        if not isinstance(view, TokenView):
            raise TypeError(f"states: expected TokenView objects, got {describe(view)}")
        rows, needed = _records(view, n, line_chars)
        records += rows
        height = max(height, needed)
    _, index = state_index(controls)
    base = alt.Chart(alt.Data(values=records)).transform_filter(f"datum.s === {index}")
    px = {"scale": None}
    caption = (
        _unpack(base.transform_filter("datum.k === 'caption'"), ["y", "t"], ["y"])
        .mark_text(align="left", baseline="top", font="monospace", fontSize=13, color="#000000")
        .encode(
            x=alt.value(0), y=alt.Y("y:Q", **px), text="t:N", description=alt.Description("t:N")
        )
    )
    tokens = _unpack(
        base.transform_filter("datum.k === 'token'"),
        ["x", "x2", "y", "t", "n", "c"],
        ["x", "x2", "y", "c"],
    )
    boxes = (
        tokens.mark_rect(cornerRadius=3, aria=False)
        .encode(
            x=alt.X("x:Q", **px),
            x2="x2:Q",
            y=alt.Y("y:Q", **px),
            y2=alt.Y2("bottom:Q"),
            color=alt.Color(
                "c:N",
                scale=alt.Scale(domain=list(range(len(TOKEN_TINTS))), range=list(TOKEN_TINTS)),
                legend=None,
            ),
        )
        .transform_calculate(bottom=f"datum.y + {TOKEN_PX - 4}")
    )
    text_x = alt.X("middle:Q", **px)
    pieces = (
        tokens.transform_calculate(middle="(datum.x + datum.x2) / 2", top="datum.y + 3")
        .mark_text(baseline="top", font="monospace", fontSize=13, color="#000000")
        .encode(
            x=text_x, y=alt.Y("top:Q", **px), text="t:N", description=alt.Description("reading:N")
        )
    )
    pieces = pieces.transform_calculate(
        reading="'token ' + datum.t + (datum.n ? ', id ' + datum.n : '')"
    )
    ids = (
        tokens.transform_calculate(middle="(datum.x + datum.x2) / 2", top="datum.y + 19")
        .mark_text(baseline="top", fontSize=10, color="#444444", aria=False)
        .encode(x=text_x, y=alt.Y("top:Q", **px), text="n:N")
    )
    return (
        alt.layer(caption, boxes, pieces, ids)
        .add_params(*(c.param() for c in controls))
        .properties(width=round(line_chars * CHAR_PX), height=height, description=description)
    )


def text_explorer(
    states: Mapping[Any, str | Sequence[str]],
    controls: Sequence[Control] | Control,
    *,
    description: str,
    line_chars: int = 80,
) -> alt.LayerChart:
    """Lines of text, such as a model's samples, for the state the controls choose.

    ``states`` maps each setting of ``controls`` to a string or a list of lines; long lines
    wrap at ``line_chars`` characters.
    """
    views = {}
    if isinstance(states, Mapping):
        for key, lines in states.items():
            if not isinstance(lines, (str, Sequence)):
                raise TypeError(
                    f"states: expected strings or lists of lines, got {describe(lines)}"
                )
            views[key] = TokenView(caption=lines)
    else:
        raise TypeError(
            f"states: expected a mapping from control values to text, got {describe(states)}"
        )
    return token_explorer(views, controls, description=description, line_chars=line_chars)
