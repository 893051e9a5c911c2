"""Lesson 05's widget: a slider over precomputed defence settings on the privacy-utility chart.

The chart itself is `utils.plots.defenses.plot_privacy_utility`; this module only wires a slider to
it (see `utils.widgets.display` for how the figure stays visible without a running kernel).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from ..plots.defenses import plot_privacy_utility
from .display import Explorer, show_explorer

__all__ = ["privacy_utility_explorer"]


def privacy_utility_explorer(accuracies, tprs, *, labels, grid_labels, grid_accuracies, grid_tprs, fpr: float = 0.01,
                             slider_name: str = "weight decay", start: int = 0, xlim=None, ylim=None) -> Explorer:
    """A slider over precomputed settings that moves a point on the privacy-utility chart (Lesson 05).

    The fixed points (`accuracies`, `tprs`, `labels`; the first is the undefended model) stay;
    the slider picks one of the grid's settings (`grid_labels`, each with its accuracy and TPR)
    and draws it highlighted. Nothing is trained on a move. The figure is an ordinary image
    output that the slider updates in place, so a saved copy shows it.

    Parameters
    ----------
    accuracies, tprs : sequences of float, one per fixed point
        Test accuracy (fraction) and the attack's TPR at `fpr` (fraction) of each fixed point.
    labels : sequence of str, one per fixed point
    grid_labels : sequence of str, one per grid setting, at least one
        The slider's stops (e.g. ``["none", "1e-05", ...]``).
    grid_accuracies, grid_tprs : sequences of float, one per grid setting
    fpr : float, default=0.01
        The FPR the TPRs were measured at (for the axis label).
    slider_name : str, default="weight decay"
    start : int, default=0
        Index of the grid setting shown first.
    xlim, ylim : pairs of float, optional
        Fixed axis limits, so the chart does not jump as the slider moves.

    Returns
    -------
    utils.widgets.Explorer
        Already displayed; end the cell with ``;``.
    """
    import ipywidgets as widgets

    if not (len(grid_labels) == len(grid_accuracies) == len(grid_tprs)) or not len(grid_labels):
        raise ValueError("grid_labels, grid_accuracies and grid_tprs need one entry per grid setting (at least one).")
    if not -len(grid_labels) <= start < len(grid_labels):
        raise ValueError(f"start must index one of the {len(grid_labels)} grid settings, got {start}.")
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
