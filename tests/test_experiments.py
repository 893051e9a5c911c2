"""utils.experiments: the experiments of lessons 01-02 (overfitting, the game, degraded copies)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from utils import experiments
from utils.data import make_membership_split
from utils.experiments import (
    DegradationCurve,
    GapCurve,
    OverfitReport,
    degrade_records,
    degraded_copy_power,
    generalization_curve,
    member_subset,
    membership_game,
    train_and_measure,
)
from utils.plots import (
    plot_degradation,
    plot_generalization_gap,
    plot_loss_tails,
    plot_loss_with_record,
    plot_overfitting,
    plot_roc_pair,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def toy_data(n=400, d=16, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(classes), n // classes)
    centres = rng.uniform(0.2, 0.8, (classes, d))
    X = np.clip(centres[y] + rng.normal(0, 0.15, (n, d)), 0, 1).astype(np.float32)
    return X, y.astype(np.int64)


def toy_mlp():
    import torch.nn as nn

    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))


# ----------------------------------------------------------------------------- OverfitReport
def report(member_loss, nonmember_loss):
    m, n = np.asarray(member_loss, float), np.asarray(nonmember_loss, float)
    return OverfitReport(m, n, np.exp(-m), np.exp(-n), 1.0, 0.9, len(m), 10)


def test_loss_table_known_answer():
    table = report([1, 2, 3, 4, 100], [2, 3, 4, 5, 6]).loss_table(quantiles=(0.5, 0.75))
    assert list(table.index) == ["members", "non-members"] and list(table.columns) == ["mean", "median", "q75"]
    assert table.loc["members"].tolist() == [22.0, 3.0, 4.0]  # the mean is dragged by one record; the median is not
    assert table.loc["non-members"].tolist() == [4.0, 4.0, 5.0]


def test_fraction_at_most_counts_each_group():
    r = report([0.1, 0.2, 0.3, 0.4], [0.2, 0.5])
    assert r.fraction_at_most(0.2) == (0.5, 0.5)
    assert r.fraction_at_most(0.05) == (0.0, 0.0)
    assert r.gap == pytest.approx(0.1)


def test_member_subsets_are_nested_and_checked():
    split = make_membership_split(np.repeat(np.arange(10), 50), n_members=100, n_nonmembers=100)
    small, large = member_subset(split, 20, seed=3), member_subset(split, 60, seed=3)
    assert set(small) <= set(large) and set(large) <= set(split.members)
    with pytest.raises(ValueError, match="n_train must be at most the 100 members"):
        member_subset(split, 101)
    with pytest.raises(ValueError, match="n_train must be an integer >= 1"):
        member_subset(split, True)


def test_train_and_measure_and_the_gap_curve_on_toy_data():
    X, y = toy_data()
    split = make_membership_split(y, n_members=160, n_nonmembers=160)
    r = train_and_measure(X, y, split, n_train=40, epochs=30, build_model=toy_mlp)
    assert r.n_train == 40 and len(r.member_loss) == 40 and len(r.nonmember_loss) == 160
    assert np.all(r.member_loss >= experiments.overfitting.LOSS_FLOOR)
    assert np.all((r.member_confidence >= 0.25) & (r.member_confidence <= 1))  # the top of 4 probabilities
    curve = generalization_curve(X, y, split, [20, 160], n_models=2, epochs=30, build_model=toy_mlp)
    assert isinstance(curve, GapCurve) and curve.train_accuracy.shape == (2, 2)
    assert curve.gap.shape == (2,) and np.all(curve.train_accuracy <= 1)
    axes = plot_overfitting(r)
    assert "median loss" in axes[1].get_title() and "generalisation gap" in axes[0].get_title()
    assert plot_loss_tails(r).get_yscale() == "log"
    ax = plot_loss_with_record(r, float(r.member_loss[0]))
    member_share, nonmember_share = r.fraction_at_most(float(r.member_loss[0]))
    title = ax.get_title()
    assert f"{member_share:.1%} of members" in title and f"{nonmember_share:.1%} of non-members" in title
    assert plot_generalization_gap(curve).get_xscale() == "log"


@pytest.mark.parametrize("sizes, match", [([], "non-empty list of integers"), ([0.5], "non-empty list of integers"),
                                          ([0, 10], r"sizes must lie in 1 \.\. 160")])
def test_generalization_curve_rejects_bad_sizes(sizes, match):
    X, y = toy_data()
    split = make_membership_split(y, n_members=160, n_nonmembers=160)
    with pytest.raises(ValueError, match=match):
        generalization_curve(X, y, split, sizes, build_model=toy_mlp)


# ----------------------------------------------------------------------------- the membership game
def test_game_known_rates_and_bad_threshold():
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.85, 0.2, 0.1, 0.0])
    game = membership_game(labels, scores, 0.5, n_rounds=10)
    assert (game.tpr, game.fpr) == (0.75, 0.25) and game.expected_win_rate == 0.75
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        membership_game(labels, scores, np.nan)


# ----------------------------------------------------------------------------- degraded copies
def test_degrade_records_missing_fills_the_requested_fraction_and_nests():
    X = np.random.default_rng(0).uniform(size=(200, 50)).astype(np.float32)
    fill = np.full(50, -1.0, np.float32)  # impossible pixel value: marks the unknown features
    low, high = (degrade_records(X, level, kind="missing", fill=fill, seed=4) for level in (0.2, 0.6))
    assert abs(np.mean(low == -1) - 0.2) < 0.02 and abs(np.mean(high == -1) - 0.6) < 0.02
    assert np.all(high[low == -1] == -1)  # what is unknown at 20% stays unknown at 60%
    assert np.array_equal(low[low != -1], X[low != -1])
    assert np.array_equal(degrade_records(X, 0.0), X) and degrade_records(X, 0.0) is not X


def test_degrade_records_noise_has_the_requested_spread_and_stays_in_range():
    X = np.full((400, 100), 0.5, np.float32)
    noisy = degrade_records(X, 0.1, kind="noise", seed=1)
    assert abs(np.std(noisy - X) - 0.1) < 0.005 and noisy.min() >= 0 and noisy.max() <= 1
    assert noisy.dtype == np.float32


@pytest.mark.parametrize(
    "kwargs, match",
    [({"level": 1.5}, r"level must lie in \[0, 1\]"), ({"level": True}, "level must be a number"),
     ({"level": 0.1, "kind": "blur"}, r"kind must be one of \('noise', 'missing'\)"),
     ({"level": 0.1, "fill": np.zeros(3)}, r"fill must hold one value per feature, shape \(5,\)")],
)
def test_degrade_records_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        degrade_records(np.zeros((4, 5), np.float32), **kwargs)


def test_degraded_copy_power_falls_to_chance_when_the_copy_carries_no_information():
    # A made-up attack that reads membership off feature 0 of the record it is given: exact copies
    # reveal everything; once every feature is replaced by the fill value, nothing is left.
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(300, int), np.zeros(300, int)]
    X = rng.uniform(0, 0.5, (600, 4)).astype(np.float32)
    X[:300, 0] += 0.5

    def score(copies):
        return copies[:, 0] + 1e-6 * rng.random(len(copies))  # tiny jitter breaks ties at random

    curve = degraded_copy_power(score, X, labels, [0.0, 0.5, 1.0], kind="missing", fpr=0.01, record=0,
                                fill=np.full(4, 0.5))
    assert isinstance(curve, DegradationCurve) and curve.levels.tolist() == [0.0, 0.5, 1.0]
    assert curve.auc[0] == pytest.approx(1.0) and curve.tpr[0] == pytest.approx(1.0)
    # Feature 0 known for half the records (filled with 0.5 otherwise): a known member beats every non-member, an
    # unknown one (0.5) beats the known non-members and ties the unknown ones: AUC = 1/2 + 1/2 (1/2 + 1/4) = 0.875.
    assert curve.auc[1] == pytest.approx(0.875, abs=0.03)
    assert abs(curve.auc[2] - 0.5) < 0.06 and curve.tpr[2] < 0.05
    assert curve.record_scores.shape == (3,) and curve.record_scores[0] >= 0.5
    axes = plot_degradation(curve)
    assert axes[0].get_ylabel() == "AUC" and axes[1].get_ylabel() == "TPR at 1.0% FPR"
    with pytest.raises(ValueError, match="record must index one of the 600 records"):
        degraded_copy_power(score, X, labels, [0.0], record=600)
    with pytest.raises(ValueError, match="levels is empty"):
        degraded_copy_power(score, X, labels, [])


def test_plot_roc_pair_draws_linear_and_log_panels_in_attack_styles():
    from utils.plots import attack_style

    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(200, int), np.zeros(200, int)]
    curves = {"loss": (labels, rng.normal(labels * 0.5)), "lira-offline": (labels, rng.normal(labels * 1.0))}
    linear, log = plot_roc_pair(curves)
    assert linear.get_xscale() == "linear" and log.get_xscale() == "log"
    for ax in (linear, log):
        rocs = [line for line in ax.get_lines() if line.get_gid() == "roc"]
        assert matplotlib.colors.to_hex(rocs[1].get_color()) == attack_style("lira-offline")["color"].lower()
        assert rocs[1].get_linestyle() == "--"
    with pytest.raises(ValueError, match="non-empty mapping"):
        plot_roc_pair({})


def test_plot_rocs_notes_a_tpr_of_zero_that_a_log_axis_cannot_draw():
    from utils.plots import plot_rocs

    labels = np.r_[np.ones(100, int), np.zeros(1000, int)]
    scores = np.r_[np.linspace(0, 1, 100), np.linspace(0, 1, 1000)]
    scores[100:110] += 2.0  # the 10 highest scores are non-members: TPR 0 up to FPR 1%
    ax = plot_rocs({"loss": (labels, scores), "lira-online": (labels, labels + 0.0)})
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("loss") and "TPR 0 up to FPR 0.011" in t for t in texts), texts
    assert not any(t.startswith("lira-online") and "TPR 0" in t for t in texts)  # a perfect attack: nothing to note
    legend_box = ax.get_legend().get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert legend_box.y0 < 0  # below the axes: the low-FPR corner stays clear
    linear = plot_rocs({"loss": (labels, scores)}, log=False)
    assert not any("TPR 0" in t.get_text() for t in linear.get_legend().get_texts())  # linear axes draw 0
