"""Lesson 01's sliders: training-set size and epochs, over `train_and_measure` and `plot_overfitting`.

The experiment lives in `utils.experiments` and the figure in `utils.plots`; this module only
wires sliders to them (see `utils.widgets.display` for how the figure stays visible without a
kernel).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from ..data import MembershipSplit
from ..experiments import train_and_measure
from ..plots.overfitting import plot_overfitting
from ..validation import check_features_labels, check_positive_int
from .display import Explorer, show_explorer

__all__ = ["overfitting_explorer"]


def overfitting_explorer(X, y, split: MembershipSplit, *, n_train: int = 200, epochs: int = 50, max_epochs: int = 100,
                         seed: int = 0) -> Explorer:
    """Sliders for training-set size and epochs that retrain a target and redraw `plot_overfitting`.

    Displays the sliders and the figure for the initial values (an ordinary image output, so a
    saved copy of the notebook shows it). Each release of a slider retrains one small MLP (about
    a second for a few hundred records) and updates the same figure; settings already visited are
    redrawn from a cache, without retraining.

    Parameters
    ----------
    X, y, split
        As in `utils.experiments.train_and_measure`.
    n_train : int, default=200
        Initial training-set size; the slider runs from 50 (or fewer members) to all members.
    epochs : int, default=50
        Initial epochs; the slider runs from 1 to `max_epochs`.
    seed : int, default=0

    Returns
    -------
    Explorer
        Already displayed; end the cell with ``;`` or keep it to move the sliders from code.
    """
    import ipywidgets as widgets

    X, y = check_features_labels(X, y)
    n_max = len(split.members)
    n_train = check_positive_int(n_train, "n_train")
    max_epochs = check_positive_int(max_epochs, "max_epochs")
    epochs = check_positive_int(epochs, "epochs")
    if n_train > n_max or epochs > max_epochs:
        raise ValueError(f"need n_train <= {n_max} members and epochs <= max_epochs = {max_epochs}, "
                         f"got {n_train} and {epochs}.")
    size_slider = widgets.IntSlider(value=n_train, min=min(50, n_train), max=n_max, step=50 if n_max >= 100 else 1,
                                    description="records", continuous_update=False)
    epoch_slider = widgets.IntSlider(value=epochs, min=1, max=max_epochs, step=1, description="epochs",
                                     continuous_update=False)
    cache = {}

    def draw(n_train, epochs):
        if (n_train, epochs) not in cache:
            cache[n_train, epochs] = train_and_measure(X, y, split, n_train=n_train, epochs=epochs, seed=seed)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1, 2]}, layout="constrained")
        plot_overfitting(cache[n_train, epochs], axes=axes)
        return fig

    return show_explorer(
        widgets.HBox([size_slider, epoch_slider]), draw, {"n_train": size_slider, "epochs": epoch_slider},
        description=f"[sliders: records (training-set size) and epochs; run the notebook to move them. "
                    f"The figure below is for {n_train} records and {epochs} epoch{'' if epochs == 1 else 's'}.]",
    )
