"""Figures of Lesson 06b: private training on public features against epsilon, and an audit's ceiling."""

from __future__ import annotations

import numpy as np

from .base import PALETTE, new_ax
from .layout import legend_below

__all__ = ["PRIVATE_TRAINING_STYLES", "plot_public_features", "plot_audit_ceiling"]

# One look per way of training privately, in both figures of the lesson.
PRIVATE_TRAINING_STYLES = {
    "from scratch": {"color": PALETTE["blue"], "marker": "o"},
    "public features + DP head": {"color": PALETTE["green"], "marker": "s"},
    "DP fine-tuning": {"color": PALETTE["purple"], "marker": "D"},
}


def plot_public_features(epsilons, accuracy: dict, *, public_only: float, nonprivate: dict | None = None, ax=None):
    """Test accuracy against epsilon (log axis), one line per way of training, the public-only model flat.

    Parameters
    ----------
    epsilons : array-like of float, shape (n_eps,)
        The private runs' epsilons (finite).
    accuracy : dict name -> array-like of float, shape (n_eps,)
        Names as in `PRIVATE_TRAINING_STYLES` (others are drawn in black).
    public_only : float
        Accuracy of the network trained on public data only: a dashed grey line.
    nonprivate : dict name -> float, optional
        The same training without privacy: a dotted line in the name's colour.
    """
    ax = new_ax(ax, figsize=(6.5, 4.2))
    eps = np.asarray(epsilons, dtype=float)
    for name, values in accuracy.items():
        style = PRIVATE_TRAINING_STYLES.get(name, {"color": PALETTE["black"], "marker": "x"})
        ax.plot(eps, values, "-", label=name, **style)
        if nonprivate and name in nonprivate:
            ax.axhline(nonprivate[name], color=style["color"], ls=":", lw=1.2)
    ax.axhline(public_only, color="grey", ls="--", lw=1.5, label="public-only (no private data)")
    if nonprivate:
        ax.plot([], [], color="grey", ls=":", lw=1.2, label="dotted: the same without privacy")
    ax.set_xscale("log")
    ax.set_xticks(eps)
    ax.set_xticklabels([f"{e:g}" for e in eps])
    ax.minorticks_off()
    ax.set_xlabel("epsilon (PRV accountant, delta = 1e-5)")
    ax.set_ylabel("Test accuracy")
    legend_below(ax, ncol=2)
    return ax


def plot_audit_ceiling(guesses, ceiling, *, marks: dict | None = None, ax=None):
    """The most epsilon an audit with r guesses can certify at 95%, against r (log axis).

    Parameters
    ----------
    guesses : array-like of int, shape (n,)
    ceiling : array-like of float, shape (n,)
        `utils.audit_limits.one_run_ceiling` of each.
    marks : dict label -> (guesses, epsilon), optional
        Points to mark on the figure, e.g. an audit the lesson ran.
    """
    ax = new_ax(ax, figsize=(6, 4))
    ax.plot(guesses, ceiling, "-", color=PALETTE["black"], lw=2, label="most a perfect attack can certify (95%)")
    ax.fill_between(guesses, ceiling, np.max(ceiling) * 1.15, color="grey", alpha=0.15, lw=0,
                    label="out of reach for this many guesses")
    for (label, (r, eps)), color in zip((marks or {}).items(), (PALETTE["vermillion"], PALETTE["blue"],
                                                                  PALETTE["green"])):
        ax.plot([r], [eps], "o", color=color, ms=8, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("Guesses the auditor makes (canaries, all guessed right)")
    ax.set_ylabel("Largest epsilon certifiable")
    ax.set_ylim(0, np.max(ceiling) * 1.15)
    legend_below(ax, ncol=1)
    return ax
