"""Lesson 10's widget: a slider over the unlearning budget that redraws both audits.

Every budget's audits are computed beforehand (`utils.unlearning.audit_method` on the shadow
experiment's grid), so moving the slider only draws; the figure is `utils.plots.unlearning.plot_budget`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from ..plots.unlearning import plot_budget
from .display import Explorer, show_explorer

__all__ = ["budget_explorer"]


def budget_explorer(grid: dict, *, method: str, start: int | None = None, fpr: float = 0.01) -> Explorer:
    """A slider over the budgets (steps) of `grid`, redrawing the population test and U-LiRA (Lesson 10).

    Parameters
    ----------
    grid : dict int -> MethodAudit
        The method's audits, one per budget (precomputed: the slider trains nothing).
    method : str
        The method's name, for the titles.
    start : int, optional
        The budget shown first (default: the smallest).
    fpr : float, default=0.01

    Returns
    -------
    utils.widgets.Explorer
        Already displayed; end the cell with ``;``.
    """
    import ipywidgets as widgets

    if not hasattr(grid, "keys") or not grid:
        raise ValueError("grid must be a non-empty dict of budget (steps) -> MethodAudit.")
    budgets = sorted(grid)
    start = budgets[0] if start is None else start
    if start not in grid:
        raise ValueError(f"start={start} is not a budget of the grid; choose one of {budgets}.")
    slider = widgets.SelectionSlider(options=budgets, value=start, description=f"{method} steps",
                                     continuous_update=False, style={"description_width": "initial"})

    def draw(steps):
        fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.8), layout="constrained")
        plot_budget(grid, steps, method=method, axes=axes, fpr=fpr)
        return fig

    return show_explorer(widgets.VBox([slider]), draw, {"steps": slider},
                         description=f"[slider: {method}'s unlearning budget in steps; run the notebook to move it. "
                                     f"The figure below shows {start} steps.]")
