"""Figures of differential privacy (Lesson 06): attacks' ROCs under the DP bound and the GDP curve,
accuracy and attack power against epsilon, audits against the accountant, point estimates vs intervals.
"""

from __future__ import annotations

import math

import numpy as np

from ..audit import dp_max_tpr, gdp_max_tpr
from .base import PALETTE, attack_style, new_ax
from .layout import legend_below
from .membership import plot_rocs

__all__ = ["DP_BOUND_STYLE", "GDP_STYLE", "plot_dp_bounds", "plot_dp_roc", "plot_epsilon_sweep", "plot_audit",
           "plot_point_vs_interval"]

DP_BOUND_STYLE = {"color": PALETTE["black"], "linestyle": "-", "lw": 2.2}
GDP_STYLE = {"color": PALETTE["green"], "linestyle": "--", "lw": 2.0}
_GRID = np.logspace(-4, 0, 200)


def plot_dp_bounds(epsilon: float, delta: float, mu: float | None = None, *, ax=None):
    """Draw the (epsilon, delta)-DP bound on any attack's TPR and, given mu, the run's Gaussian-DP curve."""
    ax = new_ax(ax)
    if math.isfinite(epsilon):
        label = f"({epsilon:.3g}, {delta:.0e})-DP bound: no attack above"
        ax.plot(_GRID, dp_max_tpr(_GRID, epsilon, delta), label=label, gid="dp-bound", **DP_BOUND_STYLE)
    if mu is not None and math.isfinite(mu):
        ax.plot(_GRID, gdp_max_tpr(_GRID, mu), label=f"Gaussian-DP curve of this run (mu = {mu:.2f})", gid="gdp",
                **GDP_STYLE)
    return ax


def plot_dp_roc(labels, scores: dict, *, epsilon: float, delta: float, mu: float | None = None, ax=None,
                title: str | None = None):
    """Every attack's ROC (log-log, course styles) under the DP bound and the GDP curve of one run.

    Parameters
    ----------
    labels : array-like of int, shape (n_records,)
        1 = member, 0 = non-member.
    scores : dict attack name -> array-like of float, shape (n_records,)
    epsilon, delta : float
        The run's guarantee (``epsilon = inf``: no bound is drawn).
    mu : float, optional
        The run's Gaussian-DP mu.
    """
    ax = new_ax(ax, figsize=(6, 5))
    plot_rocs({name: (labels, s) for name, s in scores.items()}, ax=ax)
    plot_dp_bounds(epsilon, delta, mu, ax=ax)
    ax.set_ylim(1e-4, 1.02)
    ax.set_xlim(1e-4, 1)
    # Under the x label at a fixed distance in points: a fraction of the axes' height (as before) put
    # it on the label in a short figure (the epsilon slider's).
    legend_below(ax, frameon=False)
    ax.set_title(title or (f"epsilon = {epsilon:.3g}" if math.isfinite(epsilon) else "non-private"))
    return ax


def _epsilon_ticks(ax, eps):
    ax.set_xscale("log")
    ax.set_xticks(eps)
    ax.set_xticklabels([f"{e:.3g}" for e in eps])
    ax.minorticks_off()


def plot_epsilon_sweep(epsilons, test_accuracy, tpr_at_1pct, *, nonprivate_accuracy: float, nonprivate_tpr: float,
                       delta: float, mus=None, axes=None):
    """Two panels against epsilon (log axis): test accuracy, and LiRA's TPR at 1% FPR under its bounds.

    Parameters
    ----------
    epsilons, test_accuracy, tpr_at_1pct : array-like of float, shape (n_runs,)
        The private runs only (finite epsilons).
    nonprivate_accuracy, nonprivate_tpr : float
        Drawn as horizontal dotted lines.
    delta : float
    mus : array-like of float, optional
        Each run's Gaussian-DP mu: its curve's TPR at 1% FPR is marked too.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    eps = np.asarray(epsilons, dtype=float)
    ax = axes[0]
    ax.plot(eps, test_accuracy, "o-", color=PALETTE["blue"], label="DP-SGD")
    ax.axhline(nonprivate_accuracy, color=PALETTE["blue"], ls=":", label="non-private")
    _epsilon_ticks(ax, eps)
    ax.set_xlabel("epsilon (accountant)")
    ax.set_ylabel("Test accuracy")
    ax.legend(fontsize="small")
    ax = axes[1]
    fine = np.logspace(np.log10(eps.min()), np.log10(eps.max()), 50)
    ax.plot(fine, [dp_max_tpr(0.01, e, delta) for e in fine], label="DP bound at 1% FPR", **DP_BOUND_STYLE)
    if mus is not None:
        ax.plot(eps, [gdp_max_tpr(0.01, m) for m in mus], "s", color=GDP_STYLE["color"],
                label="Gaussian-DP curve at 1% FPR")
    style = attack_style("lira-online")
    ax.plot(eps, tpr_at_1pct, "o-", color=style["color"], label="LiRA (online) measured")
    ax.axhline(nonprivate_tpr, color=style["color"], ls=":", label="LiRA, non-private target")
    ax.axhline(0.01, color="grey", ls="--", lw=1, label="random guess")
    _epsilon_ticks(ax, eps)
    ax.set_yscale("log")
    ax.set_xlabel("epsilon (accountant)")
    ax.set_ylabel("True positive rate at 1% FPR")
    legend_below(ax, ncol=2)  # inside, the rising DP bound ran under it
    return axes


def plot_audit(accountant_epsilon, audits: dict, max_epsilon: dict, *, ax=None):
    """Each audit's certified epsilon against the accountant's, with the most each audit could certify.

    Parameters
    ----------
    accountant_epsilon : array-like of float, shape (n_runs,)
        x positions (``inf`` for the non-private run is drawn at the right edge, labelled).
    audits : dict audit name -> array-like of float, shape (n_runs,)
    max_epsilon : dict audit name -> float
        Drawn as a dashed horizontal line per audit.

    Each audit has its own marker shape and is nudged sideways by a constant factor (12% on the log
    axis per audit), so that audits certifying the same epsilon at one run (often 0) all show.
    """
    ax = new_ax(ax, figsize=(6, 4))
    x = np.asarray(accountant_epsilon, dtype=float)
    finite = x[np.isfinite(x)]
    right = finite.max() * 4 if len(finite) else 10.0
    xs = np.where(np.isfinite(x), x, right)
    grid = np.logspace(np.log10(min(finite.min() if len(finite) else 1, 1) / 2), np.log10(right * 1.5), 20)
    ax.plot(grid, grid, color="grey", lw=1, label="audit = accountant")
    colours = [PALETTE["vermillion"], PALETTE["purple"], PALETTE["orange"]]
    markers = ["o", "D", "s"]
    # Audits often certify the same epsilon (0 for every private run): at one x, the last one drawn
    # hid the others. Each audit is nudged sideways (by a constant factor on the log axis), has its own
    # marker shape, and draws above the lines, unclipped, so every point shows.
    dodge = 1.12 ** (np.arange(len(audits)) - (len(audits) - 1) / 2)
    for k, ((name, values), colour) in enumerate(zip(audits.items(), colours)):
        ax.plot(xs * dodge[k], values, markers[k % len(markers)], color=colour, ms=8, mec="white", mew=0.8,
                zorder=4, clip_on=False, label=name)
        if name in max_epsilon:
            ax.axhline(max_epsilon[name], color=colour, ls="--", lw=1, label=f"most {name} can certify")
    ax.set_xscale("log")
    ticks = list(finite) + ([right] if (~np.isfinite(x)).any() else [])
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:.3g}" for t in finite] + (["non-\nprivate"] if (~np.isfinite(x)).any() else []))
    ax.minorticks_off()
    ax.set_ylim(-0.2, 1.4 * max([*max_epsilon.values(), *[np.max(v) for v in audits.values()], 1.0]))
    ax.set_xlabel("epsilon spent (accountant)")
    ax.set_ylabel("epsilon certified by the audit (95%)")
    legend_below(ax, ncol=2)  # inside, it covered the identity line and the dashed ceilings
    return ax


def plot_point_vs_interval(point_estimates, lower_bounds, epsilon: float, *, ax=None):
    """Histograms of naive point estimates and of interval lower bounds over many small audits of one run."""
    ax = new_ax(ax, figsize=(6, 3.6))
    top = max(np.max(point_estimates), epsilon) * 1.1 + 0.1
    bins = np.linspace(0, top, 30)
    ax.hist(point_estimates, bins=bins, color=PALETTE["orange"], alpha=0.7, label="point estimate (no interval)")
    ax.hist(lower_bounds, bins=bins, color=PALETTE["blue"], alpha=0.7, label="Clopper-Pearson lower bound (95%)")
    ax.axvline(epsilon, color=PALETTE["black"], lw=2, label=f"accountant's epsilon = {epsilon:.3g}")
    ax.set_xlabel("epsilon estimated from one small audit")
    ax.set_ylabel("Audits")
    ax.legend(fontsize="small")
    return ax
