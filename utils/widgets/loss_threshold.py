"""Lesson 02's slider over the loss attack's threshold, over `utils.plots.plot_loss_threshold`.

Nothing is retrained: each move re-counts the records on either side of the threshold. (The
attack itself is `utils.attacks.threshold`; this module only wires a slider to its figure.)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..plots.membership import plot_loss_threshold
from ..plots.overfitting import LOSS_FLOOR
from ..validation import check_loss_scores, check_max_loss
from .display import Explorer, show_explorer

__all__ = ["threshold_explorer"]


def threshold_explorer(labels, scores, *, max_loss: float = 0.01) -> Explorer:
    """A slider over the loss threshold (log scale) that redraws `plot_loss_threshold` (Lesson 02).

    Displays the slider and the figure at `max_loss` (an ordinary image output, so a saved copy
    shows it); each release of the slider updates the same figure.

    Parameters
    ----------
    labels : array-like of int, shape (n_records,)
        1 = member, 0 = non-member.
    scores : array-like of float, shape (n_records,)
        Minus the loss of each record, in nats (<= 0).
    max_loss : float, default=0.01
        Initial threshold, in nats.

    Returns
    -------
    Explorer
        Already displayed; end the cell with ``;``.
    """
    import ipywidgets as widgets

    labels, scores = check_loss_scores(labels, scores)
    max_loss = check_max_loss(max_loss)
    losses = np.maximum(-scores, LOSS_FLOOR)
    # The range a person can use: from the 1st percentile of the losses (below it the attack flags
    # almost nobody) to the largest, in a wide track (~60 px per decade instead of ~10) and with a
    # box to type an exact value.
    low = np.floor(2 * np.log10(np.quantile(losses, 0.01))) / 2
    high = np.ceil(2 * np.log10(losses.max())) / 2
    if high - low < 1:
        low, high = low - 0.5, high + 0.5
    start = float(np.clip(max_loss, 10**low, 10**high))
    slider = widgets.FloatLogSlider(value=start, base=10, min=low, max=high, step=0.05, description="max loss",
                                    readout_format=".2g", continuous_update=False,
                                    layout=widgets.Layout(width="560px"))
    typed = widgets.BoundedFloatText(value=start, min=10**low, max=10**high, description="or type:",
                                     layout=widgets.Layout(width="210px"))
    widgets.link((slider, "value"), (typed, "value"))

    def draw(max_loss):
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [2, 1]}, layout="constrained")
        plot_loss_threshold(labels, scores, max_loss, axes=axes)
        return fig

    return show_explorer(
        widgets.HBox([slider, typed]), draw, {"max_loss": slider},
        description=f"[slider: the loss threshold, in nats; run the notebook to move it. "
                    f"The figure below is for a threshold of {slider.value:.2g} nats.]",
    )
