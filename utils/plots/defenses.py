"""Figures of the defence lessons: the privacy-utility chart (Lessons 05-07).

Grouped bars (attack AUCs per masking mode, TPRs per defence) come from `plot_grouped_bars`;
Lesson 05's slider over this chart is `utils.widgets.privacy_utility_explorer`.
"""

from __future__ import annotations

import numpy as np

from .base import PALETTE, new_ax
from .layout import legend_below, place_labels

__all__ = ["plot_privacy_utility"]


def plot_privacy_utility(accuracies, tprs, *, labels, lower=None, upper=None, fpr: float = 0.01,
                         baseline: int | None = 0, highlight: int | None = None, ax=None, attack_name: str = "LiRA",
                         xlim=None, ylim=None):
    """Test accuracy (x) against an attack's TPR at `fpr` (y, log scale), one point per setting (Lesson 05).

    Up and left is private but useless, down and right is the goal: as accurate as the undefended
    model, with the attack pushed down to the random-guess line ``TPR = FPR``.

    Parameters
    ----------
    accuracies : array-like of float, shape (n_settings,)
        Test accuracy of each setting, in [0, 1].
    tprs : array-like of float, shape (n_settings,)
        The attack's TPR at `fpr` against each setting.
    labels : sequence of str, length n_settings
        Each point's annotation (e.g. ``"dropout 0.5"``).
    lower, upper : array-like of float, shape (n_settings,), optional
        95% interval of each TPR, drawn as a vertical whisker.
    fpr : float, default=0.01
        The FPR the TPRs were read at; the random-guess line is drawn at TPR = `fpr`.
    baseline : int or None, default=0
        Index of the undefended setting, drawn as a black square.
    highlight : int or None
        Index of a setting to emphasise (e.g. the one a slider points at), drawn large in vermillion.
    ax : matplotlib Axes, optional

    Each point's label is placed when the figure is drawn (after any later ``set_xlim``), where it
    overlaps no other label and no marker (`utils.plots.layout.place_labels`); a label that had to
    move away from its point is joined to it by a grey leader line. The legend sits under the axes.

    Returns
    -------
    ax : matplotlib Axes
    """
    acc = np.asarray(accuracies, dtype=np.float64)
    tpr = np.asarray(tprs, dtype=np.float64)
    if acc.ndim != 1 or tpr.shape != acc.shape or len(labels) != len(acc) or len(acc) == 0:
        raise ValueError(
            f"accuracies, tprs and labels need one entry per setting, got shapes {acc.shape}, {tpr.shape} and "
            f"{len(labels)} labels."
        )
    if (lower is None) != (upper is None):
        raise ValueError("pass both lower and upper (the interval of each TPR), or neither.")
    floor = fpr / 10  # a TPR of 0 cannot sit on a log axis: draw it at the floor
    ax = new_ax(ax, figsize=(6, 4.2))
    shown = np.maximum(tpr, floor)
    if lower is not None:
        lo, hi = np.maximum(np.asarray(lower, float), floor), np.maximum(np.asarray(upper, float), floor)
        ax.errorbar(acc, shown, yerr=[shown - lo, hi - shown], fmt="none", ecolor="grey", elinewidth=1, capsize=3)
    ax.scatter(acc, shown, s=36, color=PALETTE["blue"], zorder=3, label="a defended setting")
    sizes = np.full(len(acc), 36.0)  # marker areas (points^2): labels start outside each marker
    if baseline is not None:
        ax.scatter(acc[baseline], shown[baseline], s=70, marker="s", color=PALETTE["black"], zorder=4,
                   label="undefended")
        sizes[baseline] = 70.0
    if highlight is not None:
        ax.scatter(acc[highlight], shown[highlight], s=140, color=PALETTE["vermillion"], zorder=5,
                   label=f"selected: {labels[highlight]}")
        sizes[highlight] = max(sizes[highlight], 140.0)
    # Settings often sit close together (a model and its masked API share an accuracy): each label is
    # placed at draw time where it overlaps no other label, marker or the legend, with a leader line
    # when it had to move away from its point (utils.plots.layout.place_labels).
    notes = [ax.annotate(text, (x, y_), textcoords="offset points", xytext=(5, 4), fontsize="small",
                         arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.7, "shrinkA": 1,
                                     "shrinkB": float(np.sqrt(size) / 2 + 1)})
             for x, y_, text, size in zip(acc, shown, labels, sizes)]
    place_labels(ax, notes, marker_sizes=sizes)
    ax.axhline(fpr, ls="--", color="grey", lw=1, label=f"random guess (TPR = {fpr:g})")
    ax.set_yscale("log")
    ax.set_xlabel("test accuracy (utility) →")
    ax.set_ylabel(f"{attack_name} TPR at {fpr:.0%} FPR (privacy risk)")
    if xlim is not None:
        ax.set_xlim(*xlim)
    if ylim is not None:
        ax.set_ylim(*ylim)
    legend_below(ax, ncol=2)  # inside, it could hide a setting that is up and to the left
    return ax
