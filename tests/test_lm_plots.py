"""Lesson 09's figures and slider draw what they are given, with labelled axes and the course's attack styles."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils.lm.exposure import CanaryExposure  # noqa: E402
from utils.lm.settings import MembershipScores, summarize_scores  # noqa: E402
from utils.plots import attack_style  # noqa: E402
from utils.plots.lm import (  # noqa: E402
    plot_candidate_nll,
    plot_defences,
    plot_exposure,
    plot_setting_aucs,
    plot_text_rocs,
)


@pytest.fixture
def exposure():
    rng = np.random.default_rng(0)
    reps = np.repeat([16, 4, 1], 2)
    sample = rng.normal(16, 2, size=(6, 200))
    canary = np.array([5.0, 6.0, 12.0, 13.0, 16.0, 15.0])
    return CanaryExposure(reps, np.array([20.0, 18.0, 6.0, 5.0, 1.0, 1.5]), np.zeros(6), np.full(6, 3.0), canary,
                          sample)


@pytest.fixture
def scores():
    rng = np.random.default_rng(1)
    labels = np.r_[np.ones(100, int), np.zeros(300, int)]
    return MembershipScores(labels, {n: rng.normal(size=400) + labels * (n != "blind")
                                     for n in ("loss", "zlib", "min-k", "min-k++", "reference", "blind")})


def test_exposure_plot_marks_the_sample_ceiling_and_the_space(exposure):
    ax = plot_exposure(exposure, n_digits=6)
    levels = sorted(line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() in ("--", ":"))
    assert levels == pytest.approx([np.log2(201), 6 * np.log2(10)])
    assert ax.get_xlabel().startswith("Repetitions") and ax.get_ylabel() == "Exposure (bits)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1x", "4x", "16x"]
    plt.close("all")


def test_candidate_plot_names_the_canary_and_its_exposure(exposure):
    ax = plot_candidate_nll(exposure, 0, name="John Doe")
    assert any("John Doe's real secret (16x): exposure 20.0 bits" in t.get_text()
               for t in ax.get_legend().get_texts()) or any(
        "John Doe's real secret (16x): exposure 20.0 bits" in str(line.get_label()) for line in ax.get_lines())
    plt.close("all")


def test_text_rocs_use_the_registry_styles_on_log_axes(scores):
    ax = plot_text_rocs(scores)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    rocs = [line for line in ax.get_lines() if line.get_gid() == "roc"]
    assert len(rocs) == 6
    assert rocs[1].get_color() == attack_style("zlib")["color"] and rocs[5].get_linestyle() == "--"
    assert any(line.get_gid() == "random-guess" for line in ax.get_lines())
    plt.close("all")


def test_setting_aucs_and_defences_draw_one_bar_per_value(scores, exposure):
    summaries = {"a": summarize_scores(scores), "b": summarize_scores(scores)}
    ax = plot_setting_aucs(summaries)
    assert len(ax.patches) == 12 and ax.get_ylabel().startswith("AUC")
    axes = plot_defences({"target": (exposure, 1.9), "dedup": (exposure, 2.1)})
    assert len(axes[0].patches) == 2 and len(axes[1].patches) == 2
    plt.close("all")


def test_canary_explorer_needs_one_name_per_canary(exposure):
    from utils.widgets import canary_explorer

    with pytest.raises(ValueError, match="one each"):
        canary_explorer(exposure, ["John Doe"])
    explorer = canary_explorer(exposure, [f"person {i}" for i in range(6)], start=4)
    assert explorer.redraws == 1
    explorer.controls.value = 0  # move the slider to the first 16x canary
    assert explorer.redraws == 2
    plt.close("all")
