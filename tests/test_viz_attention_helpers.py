"""The panel helpers of genai_notes.viz (Chapter 5): what they draw is what they were given."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from genai_notes import viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _ticks(labels):
    return [t.get_text() for t in labels]


def test_heatmap_panels_draw_each_matrix_with_its_labels_on_one_scale():
    a = np.array([[0.2, 0.8], [1.0, 0.0]])
    b = np.array([[0.5, 0.5, 0.0], [0.1, 0.2, 0.7]])
    fig = viz.heatmap_panels(
        [a, b],
        [["x", "y"], ["p", "q"]],
        [["x", "y"], ["r", "s", "t"]],
        titles=["first", "second"],
        xlabel="key (attended to)",
        ylabel="query",
    )
    panels = fig.axes[:2]  # the panels first, then their colour bars
    assert len(fig.axes) == 4
    for ax, matrix, title, rows, cols in zip(
        panels, (a, b), ("first", "second"), (["x", "y"], ["p", "q"]), (["x", "y"], list("rst"))
    ):
        np.testing.assert_array_equal(ax.images[0].get_array(), matrix)
        assert ax.images[0].get_clim() == (0.0, 1.0)
        assert ax.get_title() == title
        assert ax.get_xlabel() == "key (attended to)" and ax.get_ylabel() == "query"
        assert _ticks(ax.get_yticklabels()) == rows
        assert _ticks(ax.get_xticklabels()) == cols
    assert [c.get_ylabel() for c in fig.axes[2:]] == ["weight", "weight"]


def test_heatmap_panels_share_one_list_of_labels_and_annotate():
    words = ["the", "cat", "sat"]
    fig = viz.heatmap_panels([np.eye(3), np.full((3, 3), 1 / 3)], words, words,
                             titles=["a", "b"], annotate=True)  # fmt: skip
    for ax in fig.axes[:2]:
        assert _ticks(ax.get_yticklabels()) == words
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert texts == ["0.33"] * 9


def test_heatmap_panels_reject_bad_input():
    with pytest.raises(ValueError, match="titles: expected one text or 2 texts, got 1"):
        viz.heatmap_panels([np.eye(2), np.eye(2)], titles=["only one"])
    with pytest.raises(ValueError, match="row_labels: expected one list of labels or 2 lists"):
        viz.heatmap_panels([np.eye(2), np.eye(2)], [["a", "b"]], titles=["a", "b"])
    with pytest.raises(ValueError, match="row_labels: expected 2 labels to match matrix, got 3"):
        viz.heatmap_panels([np.eye(2)], ["a", "b", "c"], titles=["a"])
    with pytest.raises(TypeError, match="expected a list of 2-D arrays"):
        viz.heatmap_panels(np.eye(2), titles=["a"])
    with pytest.raises(ValueError, match="at least one matrix"):
        viz.heatmap_panels([], titles=[])


def test_bar_panels_draw_the_values_over_the_labels():
    words = ["The", "cat", "it"]
    scores, weights = [0.0, 4.0, 1.0], [0.1, 0.7, 0.2]
    fig = viz.bar_panels(
        [scores, weights], words, titles=["scores", "weights"], ylabels=["score", "weight"],
        ylim=(0.0, 5.0),
    )  # fmt: skip
    assert len(fig.axes) == 2
    for ax, values, ylabel in zip(fig.axes, (scores, weights), ("score", "weight")):
        np.testing.assert_allclose([p.get_height() for p in ax.patches], values)
        assert _ticks(ax.get_xticklabels()) == words
        assert ax.get_xlabel() == "token" and ax.get_ylabel() == ylabel
        assert ax.get_ylim() == (0.0, 5.0)
    colours = {tuple(ax.patches[0].get_facecolor()) for ax in fig.axes}
    assert len(colours) == 2  # each panel in its own colour


def test_bar_panels_reject_a_wrong_number_of_values():
    with pytest.raises(
        ValueError, match=r"values\[1\]: expected 2 values \(one per label\), got 3"
    ):
        viz.bar_panels([[1, 2], [1, 2, 3]], ["a", "b"], titles=["x", "y"], ylabels="v")
    with pytest.raises(ValueError, match="ylabels: expected one text or 2 texts, got 3"):
        viz.bar_panels([[1, 2], [1, 2]], ["a", "b"], titles=["x", "y"], ylabels=["u", "v", "w"])


def test_curve_panels_plot_each_curve_with_markers_scales_and_references():
    dims = [2, 4, 8]
    fig = viz.curve_panels(
        [{"raw": (dims, [2.0, 4.0, 8.0]), "scaled": (dims, [1.0, 1.0, 1.0])},
         {"top": (dims, [0.3, 0.6, 0.9])}],
        titles=["variance", "largest weight"],
        xlabel="d_k",
        ylabels=["variance", "weight"],
        logx=2,
        logy=[True, False],
        references=[None, {"uniform": 0.25}],
    )  # fmt: skip
    left, right = fig.axes
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), [2.0, 4.0, 8.0])
    np.testing.assert_allclose(left.get_lines()[1].get_xdata(), dims)
    assert [line.get_marker() for line in left.get_lines()] == ["o", "o"]
    assert left.get_xscale() == "log" and left.get_yscale() == "log"
    assert right.get_xscale() == "log" and right.get_yscale() == "linear"
    uniform = right.get_lines()[1]
    assert uniform.get_label() == "uniform" and list(uniform.get_ydata()) == [0.25, 0.25]
    assert uniform.get_marker() in ("None", "", None)  # a reference line has no markers
    assert [ax.get_title() for ax in fig.axes] == ["variance", "largest weight"]


def test_curve_panels_draw_a_dashed_reference_curve_without_markers():
    fig = viz.curve_panels(
        [{"measured": ([1, 2], [1.1, 1.9]), "y = x": ([1, 2], [1, 2])}],
        titles=["t"], xlabel="x", ylabels="y", dashed=["y = x"],
    )  # fmt: skip
    measured, reference = fig.axes[0].get_lines()[:2]
    assert measured.get_marker() == "o" and measured.get_linestyle() == "-"
    assert reference.get_linestyle() == "--" and reference.get_marker() in ("None", "")
    np.testing.assert_allclose(reference.get_ydata(), [1, 2])


def test_curve_panels_reject_bad_options():
    curves = [{"a": ([1, 2], [1, 2])}]
    with pytest.raises(ValueError, match="logx: expected"):
        viz.curve_panels(curves, titles=["t"], xlabel="x", ylabels="y", logx=1.0)
    with pytest.raises(ValueError, match="expected one value per panel"):
        viz.curve_panels(curves, titles=["t"], xlabel="x", ylabels="y", logy=[True, False])
