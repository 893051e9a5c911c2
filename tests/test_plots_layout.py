"""Readability of the course's figures, measured on the rendered figure (renderer extents in pixels).

Each test draws a chart with deliberately crowded data and checks what a reader would see: no two
point labels overlap, no label covers a marker or leaves the axes, legends cover no curve or marker,
every plotted point lies inside the figure and on top of the lines. These tests fail on the helpers
as they were before the layout work (labels at a fixed offset, legends in the lower right corner).
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from utils.capstone import TradeoffPoint  # noqa: E402
from utils.plots import (  # noqa: E402
    attack_style,
    legend_below,
    overlapping_pairs,
    place_labels,
    plot_audit,
    plot_dp_roc,
    plot_grouped_bars,
    plot_privacy_utility,
    plot_roc,
    plot_rocs,
    text_boxes,
)
from utils.plots.capstone import plot_audit_rocs, plot_audit_tradeoff  # noqa: E402
from utils.plots.layout import _markers  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def rendered(ax):
    ax.figure.canvas.draw()
    return ax.figure.canvas.get_renderer()


def overlap_area(a, b):
    w, h = min(a.x1, b.x1) - max(a.x0, b.x0), min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def inside(box, frame, tol=1.0):
    return (box.x0 >= frame.x0 - tol and box.x1 <= frame.x1 + tol
            and box.y0 >= frame.y0 - tol and box.y1 <= frame.y1 + tol)


def curve_pixels(ax, gid=None):
    """Pixel coordinates of every visible vertex of the Axes' lines (optionally only those with `gid`)."""
    xy = []
    for line in ax.get_lines():
        if gid is not None and line.get_gid() != gid:
            continue
        data = np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float)
        data = data[np.all(np.isfinite(data), axis=1) & np.all(data > 0, axis=1)] if ax.get_xscale() == "log" else data
        xy.append(line.get_transform().transform(data))
    return np.concatenate(xy) if xy else np.empty((0, 2))


def clustered_settings(n=8, seed=0):
    """n settings squeezed into a small corner of accuracy and TPR: labels at a fixed offset collide."""
    rng = np.random.default_rng(seed)
    acc = 0.9 + rng.uniform(-0.002, 0.002, n)
    tpr = 0.05 * np.exp(rng.uniform(-0.1, 0.1, n))
    return acc, tpr, [f"setting number {i}" for i in range(n)]


# ----------------------------------------------------------------------------- place_labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_privacy_utility_labels_never_overlap_each_other_markers_or_the_axes_edge(seed):
    acc, tpr, names = clustered_settings(seed=seed)
    ax = plot_privacy_utility(acc, tpr, labels=names, lower=tpr * 0.8, upper=tpr * 1.2, xlim=(0.85, 0.95),
                              ylim=(0.005, 0.3), highlight=3)
    renderer = rendered(ax)
    boxes = [box for _, box in text_boxes(ax, renderer)]
    assert len(boxes) == len(names)
    assert overlapping_pairs(boxes) == [], "two point labels print over each other"
    frame = ax.get_window_extent(renderer)
    assert all(inside(box, frame) for box in boxes), "a label leaves the axes"
    for box in boxes:
        assert all(overlap_area(box, marker) < 1.0 for marker in _markers(ax, renderer)), "a label covers a marker"


def test_the_same_crowded_chart_without_placement_does_overlap():
    """The check above can fail: fixed offsets (the old helper) on the same data do overlap."""
    acc, tpr, names = clustered_settings(seed=0)
    _, ax = plt.subplots(figsize=(6, 4.2))
    ax.scatter(acc, tpr)
    ax.set_yscale("log")
    ax.set_xlim(0.85, 0.95)
    ax.set_ylim(0.005, 0.3)
    for x, y, text in zip(acc, tpr, names):
        ax.annotate(text, (x, y), textcoords="offset points", xytext=(5, 4), fontsize="small")
    assert overlapping_pairs([box for _, box in text_boxes(ax)]) != []


def test_labels_are_placed_again_after_the_limits_change_and_the_result_is_deterministic():
    acc, tpr, names = clustered_settings(seed=1)
    ax = plot_privacy_utility(acc, tpr, labels=names)
    ax.set_xlim(0.895, 0.905)  # set after the plot call, as lesson 08 does
    rendered(ax)
    first = [(tuple(np.round(t.xyann, 6)), t.get_ha(), t.get_va()) for t in ax.texts]
    assert overlapping_pairs([box for _, box in text_boxes(ax)]) == []
    again = plot_privacy_utility(acc, tpr, labels=names)
    again.set_xlim(0.895, 0.905)
    rendered(again)
    rendered(again)  # a second draw (savefig with bbox_inches="tight" draws twice) places them the same way
    assert [(tuple(np.round(t.xyann, 6)), t.get_ha(), t.get_va()) for t in again.texts] == first


def test_a_label_moved_away_from_its_point_gets_a_leader_line_and_a_near_one_does_not():
    acc, tpr, names = clustered_settings(seed=2)
    ax = plot_privacy_utility(acc, tpr, labels=names)
    rendered(ax)
    far = [np.hypot(*t.xyann) > 16 for t in ax.texts]
    shown = [t.arrow_patch.get_visible() for t in ax.texts]
    assert any(far), "clustered labels must move away from some points"
    assert shown == far


def test_a_label_keeps_its_preferred_place_when_it_is_free():
    ax = plot_privacy_utility([0.8, 0.9], [0.02, 0.1], labels=["a", "b"], xlim=(0.7, 1.0), ylim=(0.001, 1))
    rendered(ax)
    assert [t.xyann for t in ax.texts] == [(5, 4), (5, 4)]
    assert not any(t.arrow_patch.get_visible() for t in ax.texts)


def test_capstone_tradeoff_labels_at_one_accuracy_do_not_overlap():
    points = [TradeoffPoint("released", 0.8943, 0.06, 0.047, 0.09, 0.01, "lira-online"),
              TradeoffPoint("labels only (masked API)", 0.8943, 0.074, 0.05, 0.09, 0.01, "label-robustness"),
              TradeoffPoint("early stopping (3)", 0.891, 0.033, 0.026, 0.04, 0.01, "lira-online"),
              TradeoffPoint("weight decay 0.01", 0.8865, 0.035, 0.028, 0.043, 0.01, "lira-online")]
    ax = plot_audit_tradeoff(points, baseline="released")
    ax.set_xlim(0.86, 0.92)
    renderer = rendered(ax)
    boxes = [box for _, box in text_boxes(ax, renderer)]
    assert overlapping_pairs(boxes) == []
    assert all(inside(box, ax.get_window_extent(renderer)) for box in boxes)
    # the long label has no room on one line beside its whisker: it is wrapped, and no whisker crosses a label
    whiskers = [Bbox(ax.transData.transform(np.asarray(seg))) for coll in ax.collections
                if coll.__class__.__name__ == "LineCollection" for seg in coll.get_segments()]
    assert all(overlap_area(box, w.padded(0.5)) == 0 for box in boxes for w in whiskers), "a whisker crosses a label"
    assert "labels only (masked API)\n(label-robustness)" in [text for text, _ in text_boxes(ax, renderer)]


def test_privacy_utility_legend_sits_below_the_axes_clear_of_every_point():
    acc, tpr, names = clustered_settings()
    ax = plot_privacy_utility(np.r_[acc, 0.86], np.r_[tpr, 0.2], labels=names + ["useless and leaky"])
    renderer = rendered(ax)
    legend = ax.get_legend().get_window_extent(renderer)
    frame = ax.get_window_extent(renderer)
    assert legend.y1 < frame.y0, "the legend must sit under the axes"
    xlabel = ax.xaxis.label.get_window_extent(renderer)
    assert overlap_area(legend, xlabel) == 0, "the legend covers the x-axis label"


def test_place_labels_checks_against_other_texts_and_the_legend():
    _, ax = plt.subplots(figsize=(4, 3))
    ax.scatter([0.5, 0.5], [0.5, 0.52], label="points")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.text(0.52, 0.52, "fixed note", transform=ax.transData)
    notes = [ax.annotate(t, (0.5, y), textcoords="offset points", xytext=(5, 4)) for t, y in (("A", 0.5), ("B", 0.52))]
    place_labels(ax, notes)
    renderer = rendered(ax)
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert overlapping_pairs(boxes) == []


# ----------------------------------------------------------------------------- legends


def crowded_rocs(n_attacks=6, seed=0):
    """Curves from weak to strong: together they pass through every corner of a log-log ROC."""
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(2000, int), np.zeros(2000, int)]
    scores = {}
    for name, mu in zip(["gap", "loss", "shokri", "label-robustness", "lira-online", "rmia-online"][:n_attacks],
                        [0.05, 0.2, 0.5, 0.9, 1.4, 2.0]):
        scores[name] = np.r_[rng.normal(mu, 1, 2000), rng.normal(0, 1, 2000)]
    return labels, scores


def assert_legend_clear_of_curves(ax):
    renderer = rendered(ax)
    legend = ax.get_legend().get_window_extent(renderer)
    xy = curve_pixels(ax)
    covered = (xy[:, 0] > legend.x0) & (xy[:, 0] < legend.x1) & (xy[:, 1] > legend.y0) & (xy[:, 1] < legend.y1)
    assert not covered.any(), f"the legend covers {int(covered.sum())} curve vertices"
    for text in (ax.xaxis.label, ax.title):
        if text.get_text():
            assert overlap_area(legend, text.get_window_extent(renderer)) == 0, f"legend on {text.get_text()!r}"


def test_capstone_roc_legend_covers_no_curve_and_keeps_course_styles():
    labels, scores = crowded_rocs()
    ax = plot_audit_rocs(labels, scores)
    ax.set_title("the released model")
    assert_legend_clear_of_curves(ax)
    curves = [line for line in ax.get_lines() if line.get_gid() == "roc"]
    assert [c.get_color() for c in curves] == [attack_style(n)["color"] for n in scores]
    assert [c.get_linestyle() for c in curves] == [attack_style(n)["linestyle"] for n in scores]


def test_roc_legend_in_the_lower_right_would_cover_curves():
    """The check above can fail: the old placement (lower right, inside) covers these curves."""
    labels, scores = crowded_rocs()
    ax = None
    for name, s in scores.items():
        ax = plot_roc(labels, s, ax=ax, label=name, legend_below=False)
    with pytest.raises(AssertionError, match="covers"):
        assert_legend_clear_of_curves(ax)


def test_plot_roc_in_a_loop_keeps_its_legend_clear_of_curves():
    labels, scores = crowded_rocs(4)
    ax = None
    for name, s in scores.items():
        ax = plot_roc(labels, s, ax=ax, label=f"LiRA vs {name}")
    ax.figure.set_size_inches(6.5, 5)
    assert_legend_clear_of_curves(ax)


@pytest.mark.parametrize(("height", "tight"), [(3.5, False), (5.0, False), (8.0, False), (5.0, True)])
def test_dp_roc_legend_is_below_the_x_label_whatever_the_figure_height(height, tight):
    labels, scores = crowded_rocs(3)
    fig, ax = plt.subplots(figsize=(6, height))
    plot_dp_roc(labels, scores, epsilon=4.0, delta=1e-5, mu=0.9, ax=ax)
    if tight:  # as lesson 06's epsilon slider draws it: tight_layout shrinks the axes to make room for the legend
        fig.tight_layout()
    assert_legend_clear_of_curves(ax)


def test_legend_below_clears_two_line_tick_labels():
    _, ax = plt.subplots(figsize=(5, 3))
    ax.plot([1, 2], [1, 2], label="a line")
    ax.set_xticks([1, 2], ["one\nline two", "two"])
    ax.set_xlabel("x")
    legend = legend_below(ax)
    renderer = rendered(ax)
    box = legend.get_window_extent(renderer)
    for t in [*ax.get_xticklabels(), ax.xaxis.label]:
        assert overlap_area(box, t.get_window_extent(renderer)) == 0


def test_coinciding_roc_curves_stay_visible():
    labels, scores = crowded_rocs(2)
    same = scores["loss"]
    ax = plot_rocs({"loss": (labels, same), "confidence": (labels, same * 2 + 1), "shokri": (labels, scores["gap"])})
    loss, confidence, shokri = [line for line in ax.get_lines() if line.get_gid() == "roc"]
    assert loss.get_linewidth() > confidence.get_linewidth(), "the curve drawn first must show around the one on top"
    assert shokri.get_linewidth() == confidence.get_linewidth() == pytest.approx(1.8)


# ----------------------------------------------------------------------------- markers


def test_audit_points_with_equal_values_are_all_visible():
    eps = [0.991, 3.99, 7.99, np.inf]
    audits = {"CP audit (LiRA)": [0.0, 0.0, 0.0, 0.3], "one-run audit (canaries)": [0.0, 0.0, 0.0, 3.2]}
    ax = plot_audit(eps, audits, {"CP audit (LiRA)": 5.1, "one-run audit (canaries)": 3.7})
    renderer = rendered(ax)
    points = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    assert len(points) == 2 and points[0].get_marker() != points[1].get_marker()
    xy = [line.get_transform().transform(np.column_stack([line.get_xdata(), line.get_ydata()])) for line in points]
    radius = renderer.points_to_pixels(points[0].get_markersize()) / 2
    # at every x, the two audits' markers are side by side, not on top of each other
    assert np.all(np.abs(xy[0][:, 0] - xy[1][:, 0]) >= radius), "one audit's marker hides the other's"
    lines_z = max(line.get_zorder() for line in ax.get_lines() if line not in points)
    assert all(p.get_zorder() > lines_z for p in points), "markers must be drawn above the lines"
    frame = ax.get_window_extent(renderer)
    for pts in xy:
        assert np.all((pts[:, 0] >= frame.x0) & (pts[:, 0] <= frame.x1) & (pts[:, 1] >= frame.y0)
                      & (pts[:, 1] <= frame.y1)), "a point lies outside the axes"
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.y1 < frame.y0


# ----------------------------------------------------------------------------- grouped bars


def test_bar_value_labels_sit_past_the_whiskers():
    values = np.array([[0.0024, 0.0584], [0.0009, 0.0467]]).T
    ax = plot_grouped_bars(values, values * 0.5, values * 1.3, groups=["one target", "pooled"],
                           series=["loss", "lira-online"], fmt="{:.2%}")
    renderer = rendered(ax)
    labels = [box for _, box in text_boxes(ax, renderer)]
    whiskers = [seg for coll in ax.collections for seg in coll.get_segments()]
    assert len(labels) == 4 and len(whiskers) == 4
    for seg in whiskers:
        (x0, y0), (x1, y1) = ax.transData.transform(np.asarray(seg))
        box = Bbox([[min(x0, x1) - 0.5, min(y0, y1)], [max(x0, x1) + 0.5, max(y0, y1)]])
        assert all(overlap_area(box, label) == 0 for label in labels), "a whisker runs through a value label"


def test_negative_bars_keep_their_labels_inside_the_axes():
    ax = plot_grouped_bars([[-0.82, 0.07], [-0.5, 0.05]], groups=["a", "b"], series=["x", "y"], fmt="{:+.0%}",
                           legend_loc="outside")
    renderer = rendered(ax)
    frame = ax.get_window_extent(renderer)
    assert all(inside(box, frame) for _, box in text_boxes(ax, renderer))
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.x0 >= frame.x1, "legend_loc='outside' puts the legend right of the axes"


# ----------------------------------------------------------------------------- property accuracy vs distance


class _Result:
    def __init__(self, attack, accuracy):
        self.attack, self.accuracy, self.ci_low, self.ci_high = attack, accuracy, accuracy - 0.1, accuracy + 0.1


def test_tied_accuracies_show_every_attacks_colour_and_the_legend_sits_below():
    from utils.plots import plot_accuracy_vs_distance

    names = ["property-loss", "property-kl", "meta-blackbox"]
    per_point = [[_Result(n, a) for n, a in zip(names, accs)] for accs in ([0.5, 0.58, 0.65], [0.87, 0.87, 0.77])]
    ax = plot_accuracy_vs_distance([0.2, 0.5], per_point, marker_at=0.5)
    renderer = rendered(ax)
    # at x = 0.5, property-loss and property-kl tie at 0.87: property-loss (drawn first) must show as a ring
    rings = [c for c in ax.collections if c.__class__.__name__ == "PathCollection"]
    assert len(rings) == 1
    ring = rings[0]
    np.testing.assert_allclose(ring.get_offsets(), [[0.5, 0.87]])
    assert matplotlib.colors.to_hex(ring.get_facecolor()[0]) == attack_style("property-loss")["color"].lower()
    top = [line for line in ax.get_lines() if line.get_label() == "property-kl"][0]
    ring_px = np.sqrt(ring.get_sizes()[0]) * renderer.points_to_pixels(1.0)
    assert ring_px > renderer.points_to_pixels(top.get_markersize()) + 2, "the ring must stick out of the top marker"
    assert ring.get_zorder() < min(line.get_zorder() for line in ax.get_lines())
    # property-kl and meta-blackbox do not tie anywhere: no ring for them
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.y1 < ax.get_window_extent(renderer).y0


# ----------------------------------------------------------------------------- keep_legend_clear


def bars_of_both_signs():
    return plot_grouped_bars([[-0.29, -0.61, -0.45, -0.68, -0.82], [0.07, -0.75, -0.07, -0.42, -0.75],
                              [0.05, -0.38, -0.09, -0.33, -0.48]], groups=list("abcde"), fmt="{:+.0%}",
                             series=["average loss gap", "LiRA TPR at 1% FPR", "exposure of the top 1% of records"])


def assert_legend_covers_no_bar_or_label(ax):
    renderer = rendered(ax)
    legend = ax.get_legend().get_window_extent(renderer)
    assert all(overlap_area(legend, p.get_window_extent(renderer)) == 0 for p in ax.patches), "legend on a bar"
    assert all(overlap_area(legend, box) == 0 for _, box in text_boxes(ax, renderer)), "legend on a value label"
    return legend, ax.get_window_extent(renderer)


def test_grouped_bars_default_legend_covers_no_bar_or_value_label():
    ax = bars_of_both_signs()
    ax.figure.set_size_inches(10, 4)  # as lesson 05 resizes it after the call
    legend, frame = assert_legend_covers_no_bar_or_label(ax)
    assert legend.x0 >= frame.x1, "no corner is free here: the legend goes right of the axes"


def test_grouped_bars_legend_stays_inside_when_a_corner_is_free():
    ax = plot_grouped_bars([[0.976, 0.838, 0.138], [0.978, 0.838, 0.14]], groups=["TPR", "FPR", "advantage"],
                           series=["attacker's threshold", "oracle threshold"], ylabel="rate")
    legend, frame = assert_legend_covers_no_bar_or_label(ax)
    assert frame.x0 <= legend.x0 and legend.x1 <= frame.x1 and legend.y1 <= frame.y1


def test_matplotlibs_best_legend_would_cover_a_value_label_here():
    """The checks above can fail: matplotlib's own "best" ignores texts and lands on a label or bar."""
    ax = bars_of_both_signs()
    ax.legend(fontsize="small", loc="best")
    ax.figure.set_size_inches(10, 4)
    with pytest.raises(AssertionError, match="legend on a"):
        assert_legend_covers_no_bar_or_label(ax)


def test_a_legend_the_caller_replaces_is_left_where_the_caller_put_it():
    ax = bars_of_both_signs()
    mine = ax.legend(loc="upper left", fontsize="small")
    rendered(ax)
    assert ax.get_legend() is mine and mine._loc == 2  # "upper left"
