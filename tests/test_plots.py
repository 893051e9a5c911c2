"""Tests for utils.plots: what each plot draws, its axes and labels, and bad input."""

import importlib

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

from utils import plots
from utils.plots import (
    MEMBER_COLOR,
    NONMEMBER_COLOR,
    PALETTE,
    plot_digits,
    plot_grouped_bars,
    plot_histograms,
    plot_roc,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def attack(n_members=300, n_nonmembers=1000, mu=1.0, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(n_members, int), np.zeros(n_nonmembers, int)]
    scores = np.r_[rng.normal(mu, 1, n_members), rng.normal(0, 1, n_nonmembers)]
    return labels, scores


def lines_with_gid(ax, gid):
    return [line for line in ax.get_lines() if line.get_gid() == gid]


# ----------------------------------------------------------------------------- plot_roc


def test_plot_roc_draws_a_log_log_curve_with_labels():
    labels, scores = attack()
    ax = plot_roc(labels, scores, label="loss attack")
    assert isinstance(ax, Axes)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "False positive rate" and ax.get_ylabel() == "True positive rate"
    assert ax.get_xlim()[0] == pytest.approx(1 / 1000) and ax.get_xlim()[1] == pytest.approx(1)
    (curve,) = lines_with_gid(ax, "roc")
    assert curve.get_xdata()[-1] == 1.0 and curve.get_ydata()[-1] == 1.0
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("loss attack (AUC 0.") and "TPR@1.0% FPR" in t for t in legend)
    assert "random guess" in legend


def test_plot_roc_draws_the_random_guess_diagonal_exactly_once():
    ax = plot_roc(*attack(seed=0), label="first")
    returned = plot_roc(*attack(seed=1, mu=2.0), ax=ax, label="second")
    assert returned is ax
    (diagonal,) = lines_with_gid(ax, "random-guess")
    np.testing.assert_allclose(diagonal.get_xdata(), diagonal.get_ydata())
    assert diagonal.get_linestyle() == "--" and diagonal.get_label() == "random guess"
    curves = lines_with_gid(ax, "roc")
    assert len(curves) == 2 and curves[0].get_color() != curves[1].get_color()
    assert [t.get_text() for t in ax.get_legend().get_texts()].count("random guess") == 1


def test_plot_roc_legend_reports_auc_and_tpr_at_the_requested_fpr():
    labels = np.r_[np.ones(100, int), np.zeros(100, int)]
    scores = np.r_[np.full(100, 2.0), np.full(100, 1.0)]  # perfect attack
    ax = plot_roc(labels, scores, label="perfect", fpr_in_legend=0.05)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "perfect (AUC 1.000, TPR@5.0% FPR 100.0%)" in legend


def test_plot_roc_lower_limit_follows_the_number_of_nonmembers():
    ax = plot_roc(*attack(n_nonmembers=50_000, n_members=500))
    assert ax.get_xlim()[0] == pytest.approx(1e-4)  # never below 1e-4
    ax = plot_roc(*attack(n_nonmembers=200, n_members=200))
    assert ax.get_xlim()[0] == pytest.approx(1 / 200)


def test_plot_roc_on_linear_axes():
    ax = plot_roc(*attack(), log=False, color=PALETTE["green"])
    assert ax.get_xscale() == "linear" and ax.get_yscale() == "linear"
    assert ax.get_xlim() == (0, 1)
    (curve,) = lines_with_gid(ax, "roc")
    assert curve.get_color() == PALETTE["green"]
    assert len(lines_with_gid(ax, "random-guess")) == 1


def test_plot_roc_rejects_bad_input_before_drawing():
    with pytest.raises(ValueError, match=r"only members"):
        plot_roc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"NaN or infinite"):
        plot_roc([0, 1, 1], [0.1, np.nan, 0.3])
    with pytest.raises(ValueError, match=r"fpr_in_legend must lie in \(0, 1\)"):
        plot_roc([0, 1, 1], [0.1, 0.2, 0.3], fpr_in_legend=1)
    assert plt.get_fignums() == []  # no empty figure left behind


# ----------------------------------------------------------------------------- plot_histograms


def test_plot_histograms_overlays_two_normalised_histograms():
    rng = np.random.default_rng(0)
    ax = plot_histograms(rng.exponential(0.1, 500), rng.exponential(1.0, 800), xlabel="loss (nats)")
    assert isinstance(ax, Axes) and ax.get_xlabel() == "loss (nats)" and ax.get_ylabel() == "density"
    bars = [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]
    members = [p for p in bars if p.get_facecolor()[:3] == matplotlib.colors.to_rgb(MEMBER_COLOR)]
    nonmembers = [p for p in bars if p.get_facecolor()[:3] == matplotlib.colors.to_rgb(NONMEMBER_COLOR)]
    assert len(members) == len(nonmembers) == 40
    for group in (members, nonmembers):  # each is a density: total area 1
        assert sum(p.get_width() * p.get_height() for p in group) == pytest.approx(1.0)
    outlines = [p for p in ax.patches if not isinstance(p, matplotlib.patches.Rectangle)]
    assert len(outlines) == 2  # each histogram's outline, so its shape shows through the other
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        "members (trained on)", "non-members (never seen)", "both (where they overlap)"]
    # the legend's overlap swatch is the colour painted where the two translucent histograms overlap
    fig = ax.figure
    fig.canvas.draw()
    swatch = legend.legend_handles[2].get_facecolor()[:3]
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255
    overlap = members[0]  # the smallest losses: members and non-members both have some
    x, y = ax.transData.transform((overlap.get_x() + overlap.get_width() / 2,
                                   min(overlap.get_height(), nonmembers[0].get_height()) / 2))
    painted = image[int(fig.bbox.height - y), int(x)]
    np.testing.assert_allclose(painted, swatch, atol=0.02)


def test_plot_histograms_log_x_uses_log_bins_and_fractions():
    rng = np.random.default_rng(1)
    ax = plot_histograms(10 ** rng.uniform(-8, -1, 300), 10 ** rng.uniform(-3, 1, 400), log_x=True, bins=20)
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "fraction of records"
    members = [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)
               and p.get_facecolor()[:3] == matplotlib.colors.to_rgb(MEMBER_COLOR)]
    assert len(members) == 20
    assert sum(p.get_height() for p in members) == pytest.approx(1.0)  # fractions of members sum to 1
    lefts = np.array([p.get_x() for p in members])
    np.testing.assert_allclose(np.diff(np.log10(lefts)), np.diff(np.log10(lefts))[0])  # equal widths in log space


@pytest.mark.parametrize("bad", [0.0, -1e-3])
def test_plot_histograms_log_x_rejects_non_positive_values(bad):
    message = r"log_x=True needs values > 0, found 1 values <= 0.*np\.maximum\(values, 1e-12\)"
    with pytest.raises(ValueError, match=message):
        plot_histograms([0.1, 0.2, bad], [0.5, 1.0], log_x=True)
    assert plt.get_fignums() == []  # no empty figure left behind


def test_plot_histograms_survives_identical_values():
    ax = plot_histograms([1.0, 1.0], [1.0, 1.0, 1.0])
    assert len(ax.patches) == 80 + 2  # 40 bars and one outline per histogram
    ax = plot_histograms([1e-3] * 4, [1e-3] * 2, log_x=True)
    assert ax.get_xscale() == "log"


@pytest.mark.parametrize(
    "members, nonmembers, kwargs, match",
    [
        ([0.1, np.nan], [0.2], {}, r"member_values contains 1 NaN"),
        ([0.1], np.ones((3, 2)), {}, r"nonmember_values must be 1-D"),
        ([], [0.2], {}, r"need at least one member and one non-member value, got 0 and 1"),
        ([0.1], [0.2], {"bins": 0}, r"bins must be an integer >= 1, got 0"),
    ],
)
def test_plot_histograms_rejects_bad_input(members, nonmembers, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_histograms(members, nonmembers, **kwargs)


# ----------------------------------------------------------------------------- plot_digits


def test_plot_digits_accepts_flat_and_square_images():
    images = np.random.default_rng(0).uniform(size=(3, 14, 14)).astype(np.float32)
    square = plot_digits(images, titles=["a", "b", "c"])
    flat = plot_digits(images.reshape(3, -1))
    assert isinstance(square, np.ndarray) and all(isinstance(ax, Axes) for ax in square)
    for ax_square, ax_flat, image in zip(square, flat, images):
        np.testing.assert_array_equal(ax_square.images[0].get_array(), image)
        np.testing.assert_array_equal(ax_flat.images[0].get_array(), image)
    assert [ax.get_title() for ax in square] == ["a", "b", "c"]


def test_plot_digits_wraps_into_rows_and_hides_spare_axes():
    axes = plot_digits(np.zeros((10, 7, 7)), ncols=4)
    assert len(axes) == 12  # 3 rows of 4
    assert sum(len(ax.images) for ax in axes) == 10
    assert all(not ax.axison for ax in axes)


def test_plot_digits_draws_into_given_axes():
    _, given = plt.subplots(1, 2)
    axes = plot_digits(np.zeros((2, 196)), axes=given)
    assert list(axes) == list(given)


@pytest.mark.parametrize(
    "images, titles, match",
    [
        (np.zeros((2, 10)), None, r"flattened images must have a square number of pixels, got 10"),
        (np.zeros((0, 14, 14)), None, r"images is empty; pass at least one image"),
        (np.zeros((2, 14, 14)), ["only one"], r"titles has 1 entries but there are 2 images"),
    ],
)
def test_plot_digits_rejects_bad_input(images, titles, match):
    with pytest.raises(ValueError, match=match):
        plot_digits(images, titles)


# ----------------------------------------------------------------------------- plot_grouped_bars


def _bars(ax):
    return [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]


def test_plot_grouped_bars_places_each_series_within_each_group():
    values = np.array([[0.9, 0.4, 0.5], [0.95, 0.45, 0.5]])
    ax = plot_grouped_bars(values, groups=["TPR", "FPR", "advantage"], series=["honest", "oracle"], ylabel="rate")
    bars = _bars(ax)
    assert [round(b.get_height(), 3) for b in bars] == [0.9, 0.4, 0.5, 0.95, 0.45, 0.5]
    centres = np.array([b.get_x() + b.get_width() / 2 for b in bars]).reshape(2, 3)
    np.testing.assert_allclose(centres.mean(axis=0), [0, 1, 2])  # each group centred on its tick
    assert np.all(centres[0] < centres[1])  # series in legend order, left to right
    assert [t.get_text() for t in ax.get_xticklabels()] == ["TPR", "FPR", "advantage"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["honest", "oracle"]
    assert {t.get_text() for t in ax.texts} >= {"90.0%", "95.0%", "40.0%"}  # value labels
    assert ax.get_ylabel() == "rate" and ax.get_ylim()[1] == pytest.approx(0.95 * 1.15)


def test_plot_grouped_bars_uses_each_attacks_colour_and_hatches_the_dashed_one():
    ax = plot_grouped_bars([[0.1], [0.05], [0.02]], groups=["TPR@1%"],
                           series=["lira-online", "lira-offline", "made-up"])
    online, offline, other = _bars(ax)
    assert matplotlib.colors.to_hex(online.get_facecolor()) == plots.attack_style("lira-online")["color"].lower()
    assert matplotlib.colors.to_hex(offline.get_facecolor()) == plots.attack_style("lira-offline")["color"].lower()
    assert not online.get_hatch() and offline.get_hatch() == "//"
    assert other.get_facecolor() != online.get_facecolor()


def test_plot_grouped_bars_draws_interval_whiskers():
    values, lower, upper = [[0.2, 0.5]], [[0.1, 0.45]], [[0.35, 0.6]]
    ax = plot_grouped_bars(values, lower, upper, groups=["a", "b"], series=["x"], fmt=None)
    (whiskers,) = [c for c in ax.containers if isinstance(c, matplotlib.container.ErrorbarContainer)]
    segments = whiskers.lines[2][0].get_segments()
    np.testing.assert_allclose([(s[0][1], s[1][1]) for s in segments], [(0.1, 0.35), (0.45, 0.6)])
    assert len(ax.texts) == 0 and ax.get_ylim()[1] == pytest.approx(0.6 * 1.15)


def test_plot_grouped_bars_accepts_one_series_as_a_vector():
    ax = plot_grouped_bars([0.3, 0.7], groups=["a", "b"], series=["only"])
    assert len(_bars(ax)) == 2


@pytest.mark.parametrize(
    "values, kwargs, match",
    [
        ([[0.1, 0.2]], {"groups": ["a"], "series": ["s"]}, r"2 groups \(columns\).*1 group names"),
        ([[0.1, 0.2]], {"groups": ["a", "b"], "series": ["s", "t"]}, r"1 series \(rows\).*2 series"),
        ([[0.1, np.nan]], {"groups": ["a", "b"], "series": ["s"]},
         r"values contains NaN at \(series, group\) \(0, 1\)"),
        ([], {"groups": [], "series": []}, r"non-empty table"),
        ([[0.1, 0.2]], {"groups": ["a", "b"], "series": ["s"], "lower": [[0.0, 0.1]]}, r"both lower and upper"),
        ([[0.1, 0.2]], {"groups": ["a", "b"], "series": ["s"], "lower": [[0.2, 0.1]], "upper": [[0.3, 0.3]]},
         r"must contain its value"),
        ([[0.1, 0.2]], {"groups": ["a", "b"], "series": ["s"], "lower": [0.0], "upper": [0.3]}, r"shape of values"),
        ([[0.1, 0.2]], {"groups": ["a", "b"], "series": ["s"], "colors": ["red", "blue"]}, r"one colour per series"),
    ],
    ids=["groups", "series", "nan", "empty", "half-interval", "outside", "interval-shape", "colors"],
)
def test_plot_grouped_bars_rejects_bad_input(values, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_grouped_bars(values, **kwargs)
    assert plt.get_fignums() == []  # no empty figure left behind


# ----------------------------------------------------------------------------- no hidden global state


def test_importing_plots_changes_no_matplotlib_settings():
    before = dict(matplotlib.rcParams)
    importlib.reload(plots)
    assert dict(matplotlib.rcParams) == before
    assert plt.get_fignums() == []


def test_overfitting_title_says_1_epoch_not_1_epochs():
    from utils.experiments import OverfitReport
    from utils.plots.overfitting import plot_overfitting

    rng = np.random.default_rng(0)
    for epochs, expected in ((1, "200 training records, 1 epoch\n"), (2, "200 training records, 2 epochs\n")):
        report = OverfitReport(rng.uniform(1e-4, 1, 200), rng.uniform(1e-4, 1, 50), np.ones(200), np.ones(50),
                               1.0, 0.9, 200, epochs)
        axes = plot_overfitting(report)
        assert axes[1].get_title().startswith(expected)
        plt.close("all")


def test_generalization_gap_labels_every_training_set_size():
    from utils.experiments import GapCurve
    from utils.plots.overfitting import plot_generalization_gap

    sizes = np.array([50, 100, 200, 400, 800, 1250])
    curve = GapCurve(sizes, np.ones((6, 2)), np.full((6, 2), 0.8), 50)
    ax = plot_generalization_gap(curve)
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_visible()]
    assert labels == ["50", "100", "200", "400", "800", "1,250"]
    assert ax.get_xscale() == "log" and len(ax.xaxis.get_minorticklocs()) == 0
    plt.close("all")


def test_a_masked_api_point_at_the_released_models_accuracy_is_ringed_and_named():
    from utils.capstone.tradeoff import TradeoffPoint
    from utils.plots.capstone import plot_audit_tradeoff

    points = [TradeoffPoint("released", 0.8943, 0.074, 0.06, 0.09, 0.01, "lira-online"),
              TradeoffPoint("labels only (masked API)", 0.8943, 0.074, 0.05, 0.09, 0.01, "label-robustness"),
              TradeoffPoint("weight decay 0.01", 0.886, 0.055, 0.047, 0.065, 0.01, "lira-online")]
    ax = plot_audit_tradeoff(points, baseline="released")
    rings = [line for line in ax.get_lines() if line.get_gid() == "same-accuracy"]
    assert len(rings) == 1 and rings[0].get_marker() == "D" and rings[0].get_markerfacecolor() == "none"
    assert rings[0].get_zorder() > max(c.get_zorder() for c in ax.collections)  # drawn over the square
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "labels only (masked API): same accuracy as released" in legend
    plt.close(ax.figure)


def test_grouped_bars_take_colour_and_hatch_from_named_styles():
    from utils.plots import plot_grouped_bars

    ax = plot_grouped_bars([[0.6], [0.7]], groups=["overfit"], series=["min-k", "min-k++"],
                           styles=["min-k", "min-k++"], fmt=None)
    first, second = ax.patches[:2]
    assert first.get_facecolor() == second.get_facecolor()  # one family, one colour ...
    assert not first.get_hatch() and second.get_hatch()  # ... the dashed member hatched
    with pytest.raises(ValueError, match="styles must name one attack style per series"):
        plot_grouped_bars([[0.6]], groups=["a"], series=["x"], styles=["min-k"], colors=["red"])
    plt.close(ax.figure)
