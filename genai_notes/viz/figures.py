"""One figure style for the whole book: the static (matplotlib and HTML) figures.

Colours come from the Okabe-Ito palette, which stays distinguishable under the common forms of
colour blindness; heatmaps use ``cividis``, a sequential map designed for the same purpose.
Every helper labels its axes, because a figure without units teaches little.

>>> use_style()
>>> len(PALETTE)
8
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from genai_notes._checks import check_array, check_real, check_str

__all__ = [
    "PALETTE",
    "SEQUENTIAL_CMAP",
    "DIVERGING_CMAP",
    "TOKEN_TINTS",
    "use_style",
    "heatmap",
    "plot_curves",
    "visible_piece",
    "token_html",
    "figure_html",
    "show_figure",
    "heatmap_panels",
    "bar_panels",
    "curve_panels",
]

# Okabe & Ito (2008), "Color Universal Design": black first for reference lines.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
SEQUENTIAL_CMAP = "cividis"
DIVERGING_CMAP = "PuOr"  # purple-orange is readable with red-green colour blindness

_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.constrained_layout.use": True,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.frameon": False,
    "image.cmap": SEQUENTIAL_CMAP,
    "font.size": 10,
}


def use_style() -> None:
    """Apply the book's matplotlib style to every figure drawn after this call."""
    mpl.rcParams.update(_STYLE)


def heatmap(
    matrix: np.ndarray,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "",
    ylabel: str = "",
    colorbar_label: str | None = None,
    annotate: bool = False,
    fmt: str = "{:.2f}",
    cmap: str = SEQUENTIAL_CMAP,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Axes:
    """Draw a labelled heatmap of a ``(rows, cols)`` matrix, such as attention weights.

    ``row_labels`` and ``col_labels`` (for example tokens) name every row and column.
    ``annotate=True`` writes each value in its cell, in a colour that stays readable.

    >>> ax = heatmap(np.eye(2), ["a", "b"], ["a", "b"], xlabel="key", ylabel="query")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['a', 'b']
    >>> plt.close("all")
    """
    values = check_array(matrix, "matrix", ndim=2, dtype_kind="fiub")
    n_rows, n_cols = values.shape
    for labels, size, name in (
        (row_labels, n_rows, "row_labels"),
        (col_labels, n_cols, "col_labels"),
    ):
        if labels is not None and len(labels) != size:
            raise ValueError(f"{name}: expected {size} labels to match matrix, got {len(labels)}")
    if ax is None:
        _, ax = plt.subplots()
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.grid(False)
    if row_labels is not None:
        ax.set_yticks(range(n_rows), labels=list(row_labels))
    if col_labels is not None:
        rotate = 0 if max((len(str(c)) for c in col_labels), default=0) <= 2 else 60
        ax.set_xticks(
            range(n_cols),
            labels=list(col_labels),
            rotation=rotate,
            ha="right" if rotate else "center",
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    colorbar = ax.figure.colorbar(image, ax=ax)
    if colorbar_label:
        colorbar.set_label(colorbar_label)
    if annotate:
        low, high = image.get_clim()
        middle = (low + high) / 2
        for (i, j), value in np.ndenumerate(values):
            # cividis is dark at the bottom, light at the top
            colour = "white" if value < middle else "black"
            ax.text(j, i, fmt.format(value), ha="center", va="center", color=colour, fontsize=8)
    return ax


def plot_curves(
    curves: Mapping[str, Sequence[float] | tuple[Sequence[float], Sequence[float]]],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "step",
    ylabel: str = "loss (nats per token)",
    reference: Mapping[str, float] | None = None,
    logy: bool = False,
) -> Axes:
    """Plot named curves, such as training and validation loss, with optional reference lines.

    Each value in ``curves`` is either a sequence of y values (x = 0, 1, 2, ...) or a pair
    ``(x values, y values)``. ``reference`` maps a label to a horizontal line, such as the
    entropy floor of the data source.

    >>> ax = plot_curves({"train": [3.0, 2.0, 1.5]}, reference={"floor": 1.0})
    >>> [line.get_label() for line in ax.get_lines()]
    ['train', 'floor']
    >>> plt.close("all")
    """
    if ax is None:
        _, ax = plt.subplots()
    for label, curve in curves.items():
        if isinstance(curve, tuple) and len(curve) == 2:
            x, y = np.asarray(curve[0]), np.asarray(curve[1])
        else:
            y = np.asarray(curve)
            x = np.arange(len(y))
        if x.shape != y.shape:
            raise ValueError(f"curves[{label!r}]: x has shape {x.shape} but y has {y.shape}")
        ax.plot(x, y, label=label)
    for k, (label, level) in enumerate((reference or {}).items()):
        ax.axhline(level, linestyle="--", color=PALETTE[-1 - k], label=label, linewidth=1)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


# Light tints of the palette, so dark text stays readable on every token.
TOKEN_TINTS = ("#CCE3F0", "#FAE7BF", "#BFE7DC", "#F2DDE9", "#D5ECFA", "#F5D7BF")


def visible_piece(piece: str) -> str:
    """``piece`` with its whitespace made visible: a space shows as ``·``, a newline as ``↵``
    and a tab as ``→``. Token views use it, so that a token holding only a space is seen.

    >>> visible_piece(" the\\n")
    '·the↵'
    """
    return piece.replace(" ", "·").replace("\n", "↵").replace("\t", "→")


def token_html(pieces: Sequence[str], ids: Sequence[int] | None = None) -> str:
    """Render tokens as coloured boxes (HTML), with each id shown under its token.

    Whitespace is made visible: a space shows as ``·`` and a newline as ``↵``.

    >>> token_html(["Hi", "!"], [17, 0]).count("<span")
    2
    """
    if ids is not None and len(ids) != len(pieces):
        raise ValueError(f"ids: expected {len(pieces)} ids to match pieces, got {len(ids)}")
    boxes = []
    for k, piece in enumerate(pieces):
        shown = html.escape(visible_piece(piece))
        label = "" if ids is None else f"<sub style='color:#444'>{int(ids[k])}</sub>"
        boxes.append(
            f"<span style='background:{TOKEN_TINTS[k % len(TOKEN_TINTS)]};color:#000;"
            f"padding:1px 3px;margin:1px;border-radius:3px;font-family:monospace;"
            f"display:inline-block'>{shown}{label}</span>"
        )
    return "<div style='line-height:2.0'>" + "".join(boxes) + "</div>"


def figure_html(fig: mpl.figure.Figure, alt: str) -> str:
    """The figure as an HTML ``<img>`` holding an inline PNG, with ``alt`` as its text
    alternative.

    Interactive explorers draw into widget outputs, and the HTML book shows their stored
    images; a plain ``plt.show()`` there gives an image without alt text, which a screen reader
    cannot describe. ``alt`` should say what the figure shows for the current settings.

    >>> fig, ax = plt.subplots()
    >>> tag = figure_html(fig, 'A "blank" plot')
    >>> tag.startswith('<img alt="A &quot;blank&quot; plot" src="data:image/png;base64,')
    True
    >>> plt.close(fig)
    """
    check_str(alt, "alt")
    if not alt.strip():
        raise ValueError("alt: expected a description of the figure, got an empty string")
    if not isinstance(fig, mpl.figure.Figure):
        raise TypeError(f"fig: expected a matplotlib Figure, got {type(fig).__name__}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=mpl.rcParams["figure.dpi"])
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<img alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,{data}" '
        'style="max-width:100%">'
    )


def show_figure(fig: mpl.figure.Figure, alt: str) -> None:
    """Display ``fig`` with alt text (see :func:`figure_html`) and close it."""
    from IPython.display import HTML, display  # IPython comes with ipywidgets

    tag = figure_html(fig, alt)
    plt.close(fig)
    display(HTML(tag))


# --- panels of figures side by side (Chapter 5 and later) ---------------------------------------


def _panel_labels(labels: Sequence[str] | Sequence[Sequence[str]] | None, n: int, name: str):
    """One list of labels for every panel: ``labels`` is one list shared by all the panels,
    one list per panel, or None."""
    if labels is None:
        return [None] * n
    if len(labels) and all(isinstance(item, str) for item in labels):
        return [list(labels)] * n
    if len(labels) != n:
        raise ValueError(f"{name}: expected one list of labels or {n} lists, got {len(labels)}")
    return [None if item is None else list(item) for item in labels]


def _panel_texts(texts: str | Sequence[str], n: int, name: str) -> list[str]:
    if isinstance(texts, str):
        return [texts] * n
    if len(texts) != n:
        raise ValueError(f"{name}: expected one text or {n} texts, got {len(texts)}")
    return [check_str(text, f"{name}[{i}]") for i, text in enumerate(texts)]


def heatmap_panels(
    matrices: Sequence[np.ndarray],
    row_labels: Sequence[str] | Sequence[Sequence[str]] | None = None,
    col_labels: Sequence[str] | Sequence[Sequence[str]] | None = None,
    *,
    titles: Sequence[str],
    xlabel: str = "key",
    ylabel: str = "query",
    colorbar_label: str = "weight",
    annotate: bool = False,
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
    panel_size: tuple[float, float] = (5.0, 4.4),
) -> mpl.figure.Figure:
    """Heatmaps side by side, one ``(rows, cols)`` matrix per panel, such as the attention
    weights of several heads or masks, on one colour scale (``vmin`` to ``vmax``).

    ``row_labels`` and ``col_labels`` are one list of labels shared by every panel, or one
    list per panel. Returns the figure (end the cell with ``plt.show()``).

    >>> fig = heatmap_panels([np.eye(2), np.ones((2, 2)) / 2], ["a", "b"], ["a", "b"],
    ...                      titles=["itself", "even"])
    >>> [ax.get_title() for ax in fig.axes[:2]]  # the panels, then their colour bars
    ['itself', 'even']
    >>> plt.close(fig)
    """
    if isinstance(matrices, np.ndarray) and matrices.ndim == 2:
        raise TypeError("matrices: expected a list of 2-D arrays, got one 2-D array")
    n = len(matrices)
    if n == 0:
        raise ValueError("matrices: expected at least one matrix, got none")
    rows = _panel_labels(row_labels, n, "row_labels")
    cols = _panel_labels(col_labels, n, "col_labels")
    titles = _panel_texts(titles, n, "titles")
    width, height = panel_size
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    for ax, matrix, r, c, title in zip(axes[0], matrices, rows, cols, titles):
        heatmap(
            matrix,
            r,
            c,
            ax=ax,
            title=title,
            xlabel=xlabel,
            ylabel=ylabel,
            colorbar_label=colorbar_label,
            annotate=annotate,
            vmin=vmin,
            vmax=vmax,
        )
    return fig


def bar_panels(
    values: Sequence[Sequence[float]],
    labels: Sequence[str],
    *,
    titles: Sequence[str],
    ylabels: str | Sequence[str],
    xlabel: str = "token",
    ylim: tuple[float, float] | None = None,
    panel_size: tuple[float, float] = (4.5, 3.4),
) -> mpl.figure.Figure:
    """Bar charts side by side over the same ``labels`` (such as the tokens of a sentence),
    one sequence of ``len(labels)`` values per panel, each panel in its own palette colour.

    ``ylabels`` is one label for every panel or one per panel; ``ylim`` fixes the value axis
    of every panel. Returns the figure (end the cell with ``plt.show()``).

    >>> fig = bar_panels([[1.0, 3.0], [0.1, 0.9]], ["cat", "mat"], titles=["score", "weight"],
    ...                  ylabels=["score", "weight"])
    >>> [len(ax.patches) for ax in fig.axes]
    [2, 2]
    >>> plt.close(fig)
    """
    n = len(values)
    if n == 0:
        raise ValueError("values: expected at least one sequence of values, got none")
    labels = [str(label) for label in labels]
    bars = [check_array(v, f"values[{i}]", ndim=1, dtype_kind="fiub") for i, v in enumerate(values)]
    for i, v in enumerate(bars):
        if v.size != len(labels):
            raise ValueError(
                f"values[{i}]: expected {len(labels)} values (one per label), got {v.size}"
            )
    titles = _panel_texts(titles, n, "titles")
    ylabels = _panel_texts(ylabels, n, "ylabels")
    width, height = panel_size
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    positions = np.arange(len(labels))
    rotate = max((len(label) for label in labels), default=0) > 3
    for k, (ax, v, title, ylabel) in enumerate(zip(axes[0], bars, titles, ylabels)):
        ax.bar(positions, v, color=PALETTE[k % len(PALETTE)])
        ax.set_xticks(
            positions,
            labels=labels,
            rotation=45 if rotate else 0,
            ha="right" if rotate else "center",
        )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if ylim is not None:
            ax.set_ylim(*ylim)
    return fig


def curve_panels(
    panels: Sequence[Mapping[str, tuple[Sequence[float], Sequence[float]]]],
    *,
    titles: Sequence[str],
    xlabel: str,
    ylabels: str | Sequence[str],
    logx: float | None = None,
    logy: bool | Sequence[bool] = False,
    references: Sequence[Mapping[str, float] | None] | None = None,
    dashed: Sequence[str] = (),
    panel_size: tuple[float, float] = (5.0, 3.8),
) -> mpl.figure.Figure:
    """Line plots side by side: each panel maps curve labels to ``(x values, y values)``, as
    :func:`plot_curves` draws them, with markers at the measured points. A curve whose label
    is in ``dashed`` is a reference (such as ``y = x``): a thin dashed grey line, no markers.

    ``logx`` is the base of a logarithmic x axis for every panel (None: linear); ``logy`` a
    logarithmic y axis for every panel or per panel; ``references`` one mapping per panel of
    horizontal reference lines (or None). Returns the figure (end with ``plt.show()``).

    >>> fig = curve_panels([{"a": ([1, 2, 4], [1, 2, 4])}], titles=["t"], xlabel="d",
    ...                    ylabels="v", logx=2)
    >>> fig.axes[0].get_xscale(), fig.axes[0].get_xlabel()
    ('log', 'd')
    >>> plt.close(fig)
    """
    n = len(panels)
    if n == 0:
        raise ValueError("panels: expected at least one panel of curves, got none")
    titles = _panel_texts(titles, n, "titles")
    ylabels = _panel_texts(ylabels, n, "ylabels")
    logys = [bool(logy)] * n if isinstance(logy, bool) else [bool(v) for v in logy]
    refs = [None] * n if references is None else list(references)
    if len(logys) != n or len(refs) != n:
        raise ValueError(f"logy, references: expected one value per panel ({n})")
    if logx is not None:
        logx = check_real(logx, "logx", low=1.0, low_inclusive=False)
    width, height = panel_size
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    for ax, curves, title, ylabel, log_y, ref in zip(axes[0], panels, titles, ylabels, logys, refs):
        plot_curves(curves, ax=ax, title=title, xlabel=xlabel, ylabel=ylabel, reference=ref)
        for line in ax.get_lines()[: len(curves)]:
            if line.get_label() in dashed:
                line.set(linestyle="--", color="grey", linewidth=1)
            else:
                line.set_marker("o")
        if logx is not None:
            ax.set_xscale("log", base=logx)
        if log_y:
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    return fig
