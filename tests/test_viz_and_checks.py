"""The figure helpers and the shared argument checks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from genai_notes import _checks, viz  # noqa: E402


def test_palette_colours_are_distinct_and_valid():
    rgb = np.array([mcolors.to_rgb(c) for c in viz.PALETTE])
    distances = np.linalg.norm(rgb[:, None] - rgb[None], axis=-1)
    assert distances[~np.eye(len(rgb), dtype=bool)].min() > 0.15


def test_use_style_sets_the_palette():
    viz.use_style()
    colours = [c["color"] for c in plt.rcParams["axes.prop_cycle"]]
    assert [c.lower() for c in colours] == [c.lower() for c in viz.PALETTE]


def test_heatmap_labels_and_annotations():
    ax = viz.heatmap(
        np.array([[0.0, 1.0], [0.5, 0.25]]),
        ["q1", "q2"],
        ["key1", "key2"],
        xlabel="key",
        ylabel="query",
        annotate=True,
    )
    assert ax.get_xlabel() == "key" and ax.get_ylabel() == "query"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["q1", "q2"]
    assert sorted(t.get_text() for t in ax.texts) == ["0.00", "0.25", "0.50", "1.00"]
    plt.close("all")


def test_heatmap_rejects_bad_input():
    with pytest.raises(ValueError, match="row_labels: expected 2 labels"):
        viz.heatmap(np.zeros((2, 2)), ["a"], ["a", "b"])
    with pytest.raises(ValueError, match="matrix: expected a 2-D array"):
        viz.heatmap(np.zeros(3))
    with pytest.raises(ValueError, match="matrix: expected finite values"):
        viz.heatmap(np.array([[np.nan]]))
    plt.close("all")


def test_plot_curves_with_x_values_and_reference():
    ax = viz.plot_curves({"val": ([0, 10, 20], [3, 2, 1])}, reference={"entropy": 0.5}, logy=True)
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), [0, 10, 20])
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="curves\\['bad'\\]"):
        viz.plot_curves({"bad": ([0, 1], [1, 2, 3])})
    plt.close("all")


def test_token_html_escapes_and_shows_whitespace():
    html = viz.token_html(["<b>", " x", "\n"], [1, 2, 3])
    assert "&lt;b&gt;" in html and "·x" in html and "↵" in html and "<b>" not in html
    with pytest.raises(ValueError, match="ids: expected 3 ids"):
        viz.token_html(["a", "b", "c"], [1])


def test_checks_messages():
    with pytest.raises(TypeError, match="n: expected a positive integer, got True"):
        _checks.check_positive_int(True, "n")
    with pytest.raises(ValueError, match="p: expected a number <= 1.0, got 1.5"):
        _checks.check_probability(1.5, "p")
    with pytest.raises(ValueError, match="x: expected a finite number, got nan"):
        _checks.check_real(float("nan"), "x")
    with pytest.raises(TypeError, match="x: expected an array-like of numbers"):
        _checks.check_array([[1, 2], [3]], "x")
    with pytest.raises(TypeError, match="ids: expected integer or unsigned integer values"):
        _checks.check_array([1.5], "ids", dtype_kind="iu")
    with pytest.raises(ValueError, match=r"w: expected shape \(any, 8\), got \(8, 4\)"):
        _checks.check_shape(np.zeros((8, 4)), "w", (None, 8))
    with pytest.raises(TypeError, match="name: expected a str, got int"):
        _checks.check_str(3, "name")
    assert _checks.check_int(0, "k", minimum=0) == 0
    with pytest.raises(ValueError, match="k: expected an integer >= 1, got 0"):
        _checks.check_int(0, "k", minimum=1)
    rng = np.random.default_rng(1)
    assert _checks.check_rng(rng) is rng


def test_figure_html_embeds_a_decodable_png_with_escaped_alt_text():
    import base64
    import re

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    tag = viz.figure_html(fig, 'a line <rising> & "steep"')
    plt.close(fig)
    alt = re.search(r'alt="([^"]*)"', tag).group(1)
    assert alt == "a line &lt;rising&gt; &amp; &quot;steep&quot;"
    png = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", tag).group(1))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # the PNG's own header gives its size: 2 x 1 inches at the style's 100 dpi
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (200, 100)


def test_figure_html_rejects_missing_alt_text_and_non_figures():
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="alt: expected a description"):
        viz.figure_html(fig, "   ")
    with pytest.raises(TypeError, match="alt: expected a str"):
        viz.figure_html(fig, None)
    plt.close(fig)
    with pytest.raises(TypeError, match="fig: expected a matplotlib Figure"):
        viz.figure_html("figure.png", "a figure")


# --- steppers: token and text explorers over states computed in advance ----------------------

vl_convert = pytest.importorskip("vl_convert")


def _drawn_texts(chart, **values):
    """The texts Vega draws for ``chart`` with its controls set to ``values``, in order."""
    import html
    import re

    spec = viz.explorer_spec(chart)
    for param in spec.get("params", []):
        if param["name"] in values:
            param["value"] = values.pop(param["name"])
    assert not values, f"no such controls: {values}"
    svg = vl_convert.vegalite_to_svg(spec)
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


STAGES = {
    0: viz.TokenView(["t", "h", "e", " ", "k"], [116, 104, 101, 32, 107], "after 0 merges"),
    1: viz.TokenView(["th", "e", " k"], [256, 101, 257], ["after 1 merge", "newest: t + h"]),
    2: viz.TokenView(caption="ValueError: nothing to show"),
}


def _stepper(states=STAGES, **options):
    return viz.token_explorer(
        states,
        viz.Slider("merges", "merges applied", 0, 2, 1, 0),
        description="A test stepper: tokens after the number of merges set by the slider.",
        **options,
    )


@pytest.mark.parametrize("step", [0, 1, 2])
def test_token_explorer_draws_exactly_the_chosen_state(step):
    view = STAGES[step]
    drawn = _drawn_texts(_stepper(), merges=step)
    shown = [p.replace(" ", "·") for p in view.pieces]  # whitespace made visible
    ids = [str(i) for i in view.ids or ()]
    # caption lines, then the pieces, then their ids (one layer after another)
    assert drawn == list(view.caption) + shown + ids


def test_token_explorer_with_several_controls_picks_the_state_by_every_value():
    texts = ["ab", "abc"]
    views = {
        (k, special): viz.TokenView(list(texts[k]), caption=f"{texts[k]} {special}")
        for k in range(2)
        for special in ("raise", "none", "all")
    }
    chart = viz.token_explorer(
        views,
        [
            viz.Select("text", "text", [0, 1], texts),
            viz.Select("special", "allowed_special", ["raise", "none", "all"], radio=True),
        ],
        description="A test explorer: a text chosen from a list, with a choice of policy.",
    )
    assert _drawn_texts(chart) == ["ab raise", "a", "b"]
    assert _drawn_texts(chart, text=1, special="all") == ["abc all", "a", "b", "c"]
    assert _drawn_texts(chart, special="none")[0] == "ab none"


def test_token_explorer_stores_each_state_in_at_most_two_records():
    spec = viz.explorer_spec(_stepper())
    records = spec["data"]["values"]
    assert len(records) == 5  # 2 + 2 + 1: the last state has a caption and no tokens
    assert not list(viz.display.find_urls(spec))
    assert {r["s"] for r in records} == {0, 1, 2}


def test_a_separator_inside_a_piece_does_not_split_it():
    sep = "a\x1fb"
    states = {0: viz.TokenView([sep, "c"], [1, 2]), 1: viz.TokenView(["x"]), 2: viz.TokenView()}
    drawn = _drawn_texts(_stepper(states), merges=0)
    assert drawn == ["a\u241fb", "c", "1", "2"]


def test_token_boxes_wrap_inside_the_width():
    pieces = [f"w{k}" for k in range(40)]
    states = {0: viz.TokenView(pieces, list(range(40))), 1: viz.TokenView(), 2: viz.TokenView()}
    chart = _stepper(states, line_chars=20)
    spec = viz.explorer_spec(chart)
    (tokens,) = [r for r in spec["data"]["values"] if r["k"] == "token"]
    right = [float(x) for x in tokens["x2"].split("\x1f")]
    rows = sorted({float(y) for y in tokens["y"].split("\x1f")})
    assert max(right) <= spec["width"] and len(rows) > 1
    assert spec["height"] >= rows[-1] + 30  # the last row of boxes fits
    assert _drawn_texts(chart)[:40] == pieces


def test_text_explorer_draws_the_lines_of_the_chosen_state():
    chart = viz.text_explorer(
        {0.5: ["cold sample", "second line"], 1.0: "warm sample"},
        viz.Slider("T", "temperature", 0.5, 1.0, 0.5, 0.5),
        description="Test samples at the temperature set by the slider.",
    )
    assert _drawn_texts(chart) == ["cold sample", "second line"]
    assert _drawn_texts(chart, T=1.0) == ["warm sample"]


def test_token_explorer_rejects_bad_states():
    slider = viz.Slider("merges", "merges applied", 0, 2, 1, 0)
    description = "A test stepper: tokens after the number of merges set by the slider."
    with pytest.raises(ValueError, match=r"states: expected a state for every setting.*\(2,\)"):
        viz.token_explorer({0: STAGES[0], 1: STAGES[1]}, slider, description=description)
    with pytest.raises(ValueError, match="no setting of the controls reaches: \\[\\(7,\\)\\]"):
        viz.token_explorer({**STAGES, 7: STAGES[0]}, slider, description=description)
    with pytest.raises(TypeError, match="states: expected TokenView objects, got 'the'"):
        viz.token_explorer({**STAGES, 2: "the"}, slider, description=description)
    with pytest.raises(TypeError, match="states: expected a mapping"):
        viz.token_explorer([STAGES[0]], slider, description=description)
    with pytest.raises(ValueError, match="controls: expected at least one control"):
        viz.token_explorer(STAGES, [], description=description)
    with pytest.raises(ValueError, match="description"):
        viz.token_explorer(STAGES, slider, description="tokens")


def test_token_view_rejects_bad_pieces_ids_and_captions():
    with pytest.raises(TypeError, match="pieces: expected a sequence of strings, got 'the'"):
        viz.TokenView("the")
    with pytest.raises(ValueError, match="ids: expected 2 ids to match pieces, got 1"):
        viz.TokenView(["a", "b"], [1])
    with pytest.raises(TypeError, match="caption: expected a string or strings"):
        viz.TokenView(["a"], caption=[1])
