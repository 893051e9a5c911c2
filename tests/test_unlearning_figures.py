"""Lesson 10's figures, its budget slider (precomputed: a move trains nothing) and the onion's exposure."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

widgets = pytest.importorskip("ipywidgets")
from IPython.utils.capture import capture_output  # noqa: E402

from utils.plots.base import ATTACK_STYLES  # noqa: E402
from utils.plots.unlearning import METHOD_COLORS, plot_audit_bars, plot_budget, plot_method_rocs, plot_onion  # noqa: E402
from utils.unlearning import audit_method  # noqa: E402
from utils.unlearning.onion import lira_exposure  # noqa: E402
from utils.widgets.unlearning import budget_explorer  # noqa: E402


def _observations(shift, seed=0, n_models=12, n_records=240):
    rng = np.random.default_rng(seed)
    trained = np.zeros((n_models, n_records), bool)
    for k in range(0, n_models, 2):
        trained[k, rng.permutation(n_records)[: n_records // 2]] = True
        trained[k + 1] = ~trained[k]
    forget = trained & (rng.random(trained.shape) < 0.3)
    base = rng.normal(0, 2, n_records) + rng.normal(0, 0.5, trained.shape) + 3.0 * (trained & ~forget)
    unlearned = base + shift * forget
    obs = {name: {"log_odds": lo, "loss": np.log1p(np.exp(-lo)), "heldout_accuracy": np.full(n_models, 0.9)}
           for name, lo in (("unlearned", unlearned), ("retrained", base + rng.normal(0, 0.5, trained.shape)))}
    return audit_method(obs["unlearned"], obs["retrained"], trained, forget)


@pytest.fixture(scope="module")
def grid():
    return {0: _observations(0.0), 5: _observations(1.0), 10: _observations(2.5)}


def test_method_rocs_take_each_methods_colour_on_log_axes(grid):
    ax = plot_method_rocs({"retrain": grid[0], "gradient-ascent": grid[10]})
    rocs = [line for line in ax.get_lines() if line.get_gid() == "roc"]
    assert [matplotlib.colors.to_hex(line.get_color()) for line in rocs] == [
        METHOD_COLORS["retrain"].lower(), METHOD_COLORS["gradient-ascent"].lower()]
    assert ax.get_xscale() == ax.get_yscale() == "log" and ax.get_xlabel() == "False positive rate"
    assert any(line.get_gid() == "random-guess" for line in ax.get_lines())
    plt.close("all")


def test_audit_bars_show_both_audits_with_intervals(grid):
    ax = plot_audit_bars({"retrain": grid[0], "gradient-ascent": grid[10]})
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 4 and heights[3] > heights[1]  # U-LiRA finds the shifted method's traces
    assert "population-test" in ATTACK_STYLES and "u-lira" in ATTACK_STYLES
    with pytest.raises(ValueError, match="MethodAudit"):
        plot_audit_bars({"retrain": 0.5})
    plt.close("all")


def test_budget_figure_marks_the_budget_and_refuses_one_off_the_grid(grid):
    axes = plot_budget(grid, 5, method="gradient-ascent")
    assert "5 steps" in axes[0].get_title() and axes[1].get_yscale() == "log"
    assert axes[1].get_xlabel() == "unlearning budget (optimiser steps)"
    with pytest.raises(ValueError, match="not on the grid"):
        plot_budget(grid, 7, method="gradient-ascent")
    plt.close("all")


def test_budget_explorer_redraws_from_the_precomputed_grid(shell, grid):
    with capture_output() as shown:
        explorer = budget_explorer(grid, method="gradient-ascent", start=5)
    controls, figure = shown.outputs
    assert controls.data["text/plain"].startswith("[slider: gradient-ascent's unlearning budget")
    assert "image/png" in figure.data
    slider = explorer.controls.children[0]
    assert list(slider.options) == [0, 5, 10] and slider.value == 5
    with capture_output() as updated:
        slider.value = 10
    assert explorer.redraws == 2 and updated.outputs[0].update and "image/png" in updated.outputs[0].data
    with pytest.raises(ValueError, match="not a budget of the grid"):
        budget_explorer(grid, method="gradient-ascent", start=7)


def test_onion_bars_and_lira_exposure():
    ax = plot_onion(np.full(10, 6.0), np.full(10, 11.0) + np.arange(10) * 0.1, np.full(10, 6.5) + np.arange(10) * 0.1)
    assert [round(p.get_height(), 2) for p in ax.patches] == [6.0, 11.45, 6.95]
    with pytest.raises(ValueError, match="one finite exposure"):
        plot_onion([1.0, np.nan], [1.0, 2.0], [1.0, 2.0])
    plt.close("all")
    # exposure: a record whose members answer higher than its non-members is exposed; one that answers alike is not
    rng = np.random.default_rng(0)
    n_models, n_records = 16, 60
    mask = np.zeros((n_models, n_records), bool)
    for k in range(0, n_models, 2):
        mask[k, rng.permutation(n_records)[:30]] = True
        mask[k + 1] = ~mask[k]
    gap = np.r_[np.full(30, 4.0), np.zeros(30)]
    obs = rng.normal(0, 1, mask.shape) + gap * mask
    exposure = lira_exposure(obs, mask)
    assert exposure[:30].mean() > 3.0 and abs(exposure[30:].mean()) < 1.0
