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
