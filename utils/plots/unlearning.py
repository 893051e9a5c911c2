"""Figures of lesson 10: unlearning methods under the population test and U-LiRA, the budget, the onion.

Each function takes an optional ``ax`` (or ``axes``) and returns it. The audits keep their
course-wide look (``"population-test"`` and ``"u-lira"`` in `ATTACK_STYLES`); each unlearning
method has one colour (`METHOD_COLORS`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .bars import plot_grouped_bars
from .base import PALETTE, attack_style, new_ax
from .membership import plot_rocs

__all__ = ["METHOD_COLORS", "plot_method_rocs", "plot_audit_bars", "plot_budget", "plot_onion"]

METHOD_COLORS = {
    "retrain": PALETTE["black"], "sisa": PALETTE["sky"], "finetune": PALETTE["green"],
    "gradient-ascent": PALETTE["vermillion"], "ascent-descent": PALETTE["purple"], "original": PALETTE["orange"],
}


def _check_audits(audits):
    if not hasattr(audits, "items") or not audits:
        raise ValueError("audits must be a non-empty dict of method name -> MethodAudit "
                         "(utils.unlearning.audit_method).")
    for name, audit in audits.items():
        if not (hasattr(audit, "ulira") and hasattr(audit, "population")):
            raise ValueError(f"audits[{name!r}] must be a MethodAudit, got {type(audit).__name__}.")


def plot_method_rocs(audits: dict, *, ax=None, fpr_in_legend: float = 0.01):
    """U-LiRA's log-log ROC curve for each method: unlearned vs retrained targets (Lesson 10).

    Parameters
    ----------
    audits : dict str -> MethodAudit
        Method name (a key of `METHOD_COLORS`, or ``"name, details"``) -> its audit.
    ax : matplotlib Axes, optional
    fpr_in_legend : float, default=0.01

    Returns
    -------
    ax : matplotlib Axes
    """
    _check_audits(audits)
    ax = new_ax(ax, figsize=(6.5, 5.2))
    curves = {name: (a.ulira.labels, a.ulira.scores) for name, a in audits.items()}
    plot_rocs(curves, ax=ax, fpr_in_legend=fpr_in_legend)
    rocs = [line for line in ax.get_lines() if line.get_gid() == "roc"]
    for line, name in zip(rocs, audits):
        line.set_color(METHOD_COLORS.get(name.split(",")[0].strip(), PALETTE["black"]))
    ax.legend_.remove()
    from .layout import legend_below

    legend_below(ax)
    return ax


def plot_audit_bars(audits: dict, *, ax=None, fpr: float = 0.01):
    """The two audits side by side: each method's TPR at `fpr` under the population test and U-LiRA (Lesson 10).

    Bars with 95% Clopper-Pearson whiskers on a log y-axis; the dotted line is a random guess (TPR = FPR).

    Returns
    -------
    ax : matplotlib Axes
    """
    _check_audits(audits)
    names = list(audits)
    pop = [(a.population.tpr, a.population.tpr_low, a.population.tpr_high) for a in audits.values()]
    per = [a.ulira_summary[fpr] for a in audits.values()]
    values = np.array([[p[0] for p in pop], [u[0] for u in per]])
    lower = np.array([[p[1] for p in pop], [u[1] for u in per]])
    upper = np.array([[p[2] for p in pop], [u[2] for u in per]])
    ax = plot_grouped_bars(values, np.minimum(lower, values), np.maximum(upper, values), groups=names,
                           series=["population test", "U-LiRA (per example)"],
                           colors=[attack_style("population-test")["color"], attack_style("u-lira")["color"]],
                           ax=ax, ylabel=f"TPR at {fpr:.0%} FPR", legend_loc="outside")
    ax.axhline(fpr, ls=":", color="grey", lw=1)
    return ax


def plot_budget(grid: dict, budget: int, *, method: str, axes=None, fpr: float = 0.01):
    """One approximate method at one budget: both audits' ROCs, and both audits along the budget (Lesson 10).

    Parameters
    ----------
    grid : dict int -> MethodAudit
        The method's audit at every budget (steps) of the grid.
    budget : int
        The budget drawn on the left and marked on the right.
    method : str
        The method's name (titles).
    axes : two matplotlib Axes, optional
    fpr : float, default=0.01

    Returns
    -------
    axes : ndarray of two Axes (ROC curves, audits against the budget)
    """
    if budget not in grid:
        raise ValueError(f"budget {budget} is not on the grid; choose one of {sorted(grid)}.")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11.5, 4.8), layout="constrained")
    axes = np.asarray(axes).ravel()
    audit = grid[budget]
    plot_rocs({"u-lira": (audit.ulira.labels, audit.ulira.scores),
               "population-test": (audit.population.labels, audit.population.scores)}, ax=axes[0],
              fpr_in_legend=fpr)
    axes[0].set_title(f"{method}, {budget} steps: {audit.heldout_accuracy:.1%} test accuracy", fontsize="medium")
    steps = np.array(sorted(grid))
    for name, values in (("u-lira", [grid[s].ulira_summary[fpr] for s in steps]),
                         ("population-test", [(grid[s].population.tpr, grid[s].population.tpr_low,
                                               grid[s].population.tpr_high) for s in steps])):
        values = np.array(values)
        style = attack_style(name)
        axes[1].plot(steps, values[:, 0], marker="o", color=style["color"], label=name)
        axes[1].fill_between(steps, values[:, 1], values[:, 2], color=style["color"], alpha=0.2, lw=0)
    axes[1].axhline(fpr, ls=":", color="grey", lw=1, label="random guess")
    axes[1].axvline(budget, color=PALETTE["black"], lw=1, ls="--")
    axes[1].set_yscale("log")
    axes[1].set_ylim(fpr / 3, 1.05)
    axes[1].set_xlabel("unlearning budget (optimiser steps)")
    axes[1].set_ylabel(f"TPR at {fpr:.0%} FPR (95% interval shaded)")
    axes[1].legend(fontsize="small", loc="upper left")
    return axes


def plot_onion(before, peeled, random_removed, *, ax=None):
    """Mean LiRA exposure of the next-in-line records: before, after peeling the most exposed, after a random
    removal of as many records (Lesson 10).

    Parameters
    ----------
    before, peeled, random_removed : array-like of float, shape (n_next,)
        The next-in-line records' exposure in the three worlds.

    Returns
    -------
    ax : matplotlib Axes
    """
    values = [np.asarray(v, dtype=np.float64) for v in (before, peeled, random_removed)]
    if len({len(v) for v in values}) != 1 or np.isnan(np.concatenate(values)).any():
        raise ValueError("before, peeled and random_removed need one finite exposure per next-in-line record each.")
    means = np.array([v.mean() for v in values])
    errors = np.array([1.96 * v.std(ddof=1) / np.sqrt(len(v)) for v in values])
    ax = plot_grouped_bars(means, means - errors, means + errors,
                           groups=["all records\n(before)", "most exposed\nremoved", "as many random\nremoved"],
                           series=["next in line"], colors=[PALETTE["vermillion"]], ax=ax, fmt="{:.1f}",
                           ylabel="mean LiRA exposure (nats)")
    return ax
