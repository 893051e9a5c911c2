"""Lesson 06's widget: a slider over the precomputed DP targets, each with its ROC curves and bounds.

The figure is `utils.plots.dp.plot_dp_roc`; this module only wires a slider to it (see
`utils.widgets.display` for how the figure stays visible without a running kernel).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt

from ..plots.dp import plot_dp_roc
from .display import Explorer, show_explorer

__all__ = ["epsilon_label", "dp_roc_explorer"]


def epsilon_label(epsilon: float) -> str:
    """How the slider names a target epsilon: ``"4"``, ``"0.5"``, or ``"non-private"`` for infinity.

    >>> [epsilon_label(e) for e in (1.0, 0.5, math.inf)]
    ['1', '0.5', 'non-private']
    """
    return "non-private" if math.isinf(epsilon) else f"{epsilon:g}"


def dp_roc_explorer(runs: dict, *, delta: float, start: float = 4.0) -> Explorer:
    """A slider over trained DP targets: the attacks' ROC curves under each target's bounds (Lesson 06).

    Parameters
    ----------
    runs : dict of float -> run
        Target epsilon (``math.inf`` for the non-private model) -> the result of
        `utils.defenses.dp_experiment.run_epsilon`: its ``labels``, ``scores`` (attack name -> scores),
        ``training.epsilon`` (spent, from the accountant) and ``mu`` (Gaussian-DP) are drawn.
        Nothing is trained on a move; the slider's stops follow the dict's order.
    delta : float
        The DP delta of the targets.
    start : float, default=4.0
        The key of `runs` shown first.

    Returns
    -------
    utils.widgets.Explorer
        Already displayed; end the cell with ``;``.
    """
    import ipywidgets as widgets

    if not runs:
        raise ValueError("runs is empty; pass {epsilon: run_epsilon(...)} for at least one target.")
    if start not in runs:
        raise ValueError(f"start must be one of the runs' epsilons {list(runs)}, got {start!r}.")
    names = [epsilon_label(e) for e in runs]
    slider = widgets.SelectionSlider(options=list(zip(names, runs)), value=start, description="epsilon")

    def draw(epsilon):
        r = runs[epsilon]
        fig, ax = plt.subplots(figsize=(6, 5))
        plot_dp_roc(r.labels, r.scores, epsilon=r.training.epsilon, delta=delta, mu=r.mu, ax=ax)
        fig.tight_layout()
        return fig

    return show_explorer(widgets.VBox([slider]), draw, {"epsilon": slider},
                         description=f"[slider: epsilon of the DP target, one of {', '.join(names)}]")
