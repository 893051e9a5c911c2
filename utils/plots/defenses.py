"""Figures of the defence lessons: the privacy-utility chart (Lessons 05-07).

Grouped bars (attack AUCs per masking mode, TPRs per defence) come from `plot_grouped_bars`.
`privacy_utility_explorer` is Lesson 05's slider: it moves a highlighted point over a grid of
settings measured beforehand, so a move only redraws.
"""

from __future__ import annotations

import numpy as np

from .base import PALETTE, new_ax

__all__ = ["plot_privacy_utility", "privacy_utility_explorer"]


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
    if baseline is not None:
        ax.scatter(acc[baseline], shown[baseline], s=70, marker="s", color=PALETTE["black"], zorder=4,
                   label="undefended")
    if highlight is not None:
        ax.scatter(acc[highlight], shown[highlight], s=140, color=PALETTE["vermillion"], zorder=5,
                   label=f"selected: {labels[highlight]}")
    for x, y_, text in zip(acc, shown, labels):
        ax.annotate(text, (x, y_), textcoords="offset points", xytext=(5, 4), fontsize="small")
    ax.axhline(fpr, ls="--", color="grey", lw=1, label=f"random guess (TPR = {fpr:g})")
    ax.set_yscale("log")
    ax.set_xlabel("test accuracy (utility) →")
    ax.set_ylabel(f"{attack_name} TPR at {fpr:.0%} FPR (privacy risk)")
    if xlim is not None:
        ax.set_xlim(*xlim)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(fontsize="small", loc="upper left")
    return ax


def privacy_utility_explorer(accuracies, tprs, *, labels, grid_labels, grid_accuracies, grid_tprs, fpr: float = 0.01,
                             slider_name: str = "weight decay", start: int = 0, xlim=None, ylim=None):
    """A slider over precomputed settings that moves a point on the privacy-utility chart (Lesson 05).

    The fixed points (`accuracies`, `tprs`, `labels`; the first is the undefended model) stay;
    the slider picks one of the grid's settings (`grid_labels`, each with its accuracy and TPR)
    and draws it highlighted. Nothing is trained on a move. The figure is an ordinary image
    output that the slider updates in place (`utils.widgets`), so a saved copy shows it.

    Returns
    -------
    utils.widgets.Explorer
        Already displayed; end the cell with ``;``.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from ..widgets._display import show_explorer  # here, not at import: utils.widgets imports utils.plots

    if not (len(grid_labels) == len(grid_accuracies) == len(grid_tprs)) or not len(grid_labels):
        raise ValueError("grid_labels, grid_accuracies and grid_tprs need one entry per grid setting (at least one).")
    slider = widgets.SelectionSlider(options=list(grid_labels), value=grid_labels[start], description=slider_name,
                                     continuous_update=False, style={"description_width": "initial"})

    def draw(choice):
        k = list(grid_labels).index(choice)
        fig, ax = plt.subplots(figsize=(6.5, 4.4), layout="constrained")
        plot_privacy_utility([*accuracies, grid_accuracies[k]], [*tprs, grid_tprs[k]], labels=[*labels, choice],
                             fpr=fpr, baseline=0, highlight=len(labels), ax=ax, xlim=xlim, ylim=ylim)
        return fig

    return show_explorer(widgets.VBox([slider]), draw, {"choice": slider},
                         description=f"[slider: {slider_name}; run the notebook to move it. The figure below shows "
                                     f"{grid_labels[start]}.]")
