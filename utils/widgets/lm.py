"""Lesson 09's slider over the canaries: one canary's secret among its random candidates.

Nothing is retrained or re-queried: each move redraws `utils.plots.lm.plot_candidate_nll` for
the canary chosen, from the log-perplexities `utils.lm.exposure.canary_exposures` measured.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..plots.lm import plot_candidate_nll
from .display import Explorer, show_explorer

__all__ = ["canary_explorer"]


def canary_explorer(exposure, names, *, start: int = 0) -> Explorer:
    """A slider over the canaries, fewest repetitions to most, redrawing their candidates' histogram (Lesson 09).

    Parameters
    ----------
    exposure : utils.lm.exposure.CanaryExposure
    names : sequence of str, one per canary
        Who each canary is about (shown in the legend and on the slider).
    start : int, default=0
        Index of the canary shown first.

    Returns
    -------
    Explorer
        Already displayed; end the cell with ``;``.
    """
    import ipywidgets as widgets

    if len(names) != len(exposure.repetitions):
        raise ValueError(f"names has {len(names)} entries for {len(exposure.repetitions)} canaries; give one each.")
    order = np.argsort(exposure.repetitions, kind="stable")  # the slider runs from 1x to 16x
    options = [(f"{names[i]} ({int(exposure.repetitions[i])}x)", int(i)) for i in order]
    slider = widgets.SelectionSlider(options=options, value=int(start), description="canary",
                                     continuous_update=False, layout=widgets.Layout(width="560px"))

    def draw(index):
        fig, ax = plt.subplots(figsize=(7, 4.6), layout="constrained")
        plot_candidate_nll(exposure, index, name=names[index], ax=ax)
        return fig

    return show_explorer(
        slider, draw, {"index": slider},
        description=f"[slider: one canary at a time, from 1 to 16 repetitions; run the notebook to move it. "
                    f"The figure below is for {names[start]} ({int(exposure.repetitions[start])}x).]",
    )
