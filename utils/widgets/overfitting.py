"""Lesson 01: how a model treats its members versus records it never saw, and the sliders to explore it.

Each control is a thin `ipywidgets` layer over a plain function that a notebook can also call
without widgets, so an executed notebook shows its figure even where no widget frontend runs:

- `measure_overfitting` / `train_and_measure`: how a target model treats its members versus
  records it never saw (per-record loss, confidence, accuracy).
- `plot_overfitting`: the generalisation gap and the member / non-member loss histograms.
- `plot_loss_tails`: where in the loss distribution members and non-members differ.
- `generalization_curve` / `plot_generalization_gap`: the gap as the training set grows.
- `overfitting_explorer`: sliders for training-set size and epochs that retrain and re-plot.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from ..data import MembershipSplit
from ..models import MLP
from ..plots import MEMBER_COLOR, NONMEMBER_COLOR, plot_histograms
from ..seed import spawn_seeds
from ..inference import per_record_loss, predict_logits
from ..train import init_model, train_batched, train_model
from ..validation import check_features_labels, check_positive_int

__all__ = [
    "OverfitReport",
    "member_subset",
    "measure_overfitting",
    "train_and_measure",
    "plot_overfitting",
    "plot_loss_tails",
    "GapCurve",
    "generalization_curve",
    "plot_generalization_gap",
    "overfitting_explorer",
]

_LOSS_FLOOR = 1e-12  # losses of perfectly memorised records round to 0 in float64; log axes need > 0


@dataclass(frozen=True)
class OverfitReport:
    """How one model treats its training records (members) and records it never saw (Lesson 01).

    Attributes
    ----------
    member_loss, nonmember_loss : ndarray of float64, shapes (n_members,), (n_nonmembers,)
        Cross-entropy of each record, in nats (floored at 1e-12 so that log axes work).
    member_confidence, nonmember_confidence : ndarray of float64, same shapes
        The highest softmax probability of each record: what a prediction API reports.
    train_accuracy, test_accuracy : float
        Accuracy on the members and on the non-members.
    n_train, epochs : int
        Training-set size and epochs of the model (0 when unknown).
    """

    member_loss: np.ndarray
    nonmember_loss: np.ndarray
    member_confidence: np.ndarray
    nonmember_confidence: np.ndarray
    train_accuracy: float
    test_accuracy: float
    n_train: int = 0
    epochs: int = 0

    @property
    def gap(self) -> float:
        """The generalisation gap: train accuracy minus test accuracy."""
        return self.train_accuracy - self.test_accuracy


def member_subset(split: MembershipSplit, n_train: int, *, seed: int = 0) -> np.ndarray:
    """The first `n_train` members in a seeded random order, shape (n_train,).

    Subsets are nested: the 100 records used for ``n_train=100`` include the 50 used for 50, so a
    slider over `n_train` changes one thing only. (The digits file is sorted by class, so
    ``members[:n_train]`` would hold few classes.)
    """
    n_train = check_positive_int(n_train, "n_train")
    if n_train > len(split.members):
        raise ValueError(
            f"n_train must be at most the {len(split.members)} members of the split, got {n_train}. "
            "Make a split with more members: make_membership_split(y, n_members=...)."
        )
    order = np.random.default_rng(seed).permutation(split.members)
    return order[:n_train]


def _loss_and_confidence(logits, y):
    loss = np.maximum(per_record_loss(logits, y), _LOSS_FLOOR)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    confidence = 1.0 / shifted.sum(axis=-1)  # the top class's softmax probability
    correct = logits.argmax(axis=-1) == y
    return loss, confidence, correct


def measure_overfitting(model, X_members, y_members, X_nonmembers, y_nonmembers, *, n_train: int = 0, epochs: int = 0) -> OverfitReport:
    """Per-record loss and confidence of `model` on its members and on non-members (Lesson 01).

    Parameters
    ----------
    model : nn.Module
        A trained classifier.
    X_members, y_members : arrays of shapes (n_members, n_features), (n_members,)
        The records `model` was trained on.
    X_nonmembers, y_nonmembers : arrays of shapes (n_nonmembers, n_features), (n_nonmembers,)
        Records from the same distribution that `model` never saw.
    n_train, epochs : int, optional
        Stored in the report for titles.

    Returns
    -------
    OverfitReport
    """
    X_members, y_members = check_features_labels(X_members, y_members, X_name="X_members", y_name="y_members")
    X_nonmembers, y_nonmembers = check_features_labels(X_nonmembers, y_nonmembers, X_name="X_nonmembers", y_name="y_nonmembers")
    m_loss, m_conf, m_ok = _loss_and_confidence(predict_logits(model, X_members), y_members)
    n_loss, n_conf, n_ok = _loss_and_confidence(predict_logits(model, X_nonmembers), y_nonmembers)
    return OverfitReport(m_loss, n_loss, m_conf, n_conf, float(m_ok.mean()), float(n_ok.mean()), n_train, epochs)


def train_and_measure(X, y, split: MembershipSplit, *, n_train: int, epochs: int = 50, seed: int = 0, build_model=MLP) -> OverfitReport:
    """Train a target on `n_train` members (see `member_subset`) and measure it on every non-member.

    Parameters
    ----------
    X : array of float, shape (n_records, n_features); y : array of int, shape (n_records,)
    split : MembershipSplit
    n_train : int
        Training-set size, 1 .. len(split.members).
    epochs : int, default=50
    seed : int, default=0
        Seeds the subset, the initial weights and the batch order.
    build_model : callable, default=MLP

    Returns
    -------
    OverfitReport
    """
    X, y = check_features_labels(X, y)
    epochs = check_positive_int(epochs, "epochs")
    members = member_subset(split, n_train, seed=seed)
    model = train_model(init_model(build_model, seed), X[members], y[members], epochs=epochs, seed=seed)
    return measure_overfitting(model, X[members], y[members], X[split.nonmembers], y[split.nonmembers], n_train=len(members), epochs=epochs)


def plot_overfitting(report: OverfitReport, axes=None):
    """Two panels: train vs test accuracy (the gap), and member vs non-member losses (Lesson 01).

    Parameters
    ----------
    report : OverfitReport
    axes : sequence of two matplotlib Axes, optional

    Returns
    -------
    axes : ndarray of two matplotlib Axes
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1, 2]})
    axes = np.asarray(axes).ravel()
    if len(axes) != 2:
        raise ValueError(f"axes must hold two Axes (accuracy, losses), got {len(axes)}.")
    ax = axes[0]
    values = [report.train_accuracy, report.test_accuracy]
    bars = ax.bar(["members\n(train)", "non-members\n(test)"], values, color=[MEMBER_COLOR, NONMEMBER_COLOR], alpha=0.8)
    ax.bar_label(bars, labels=[f"{v:.1%}" for v in values])
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("accuracy")
    ax.set_title(f"gap = {report.gap:.1%}")
    plot_histograms(report.member_loss, report.nonmember_loss, ax=axes[1], xlabel="loss (nats, log scale)", log_x=True)
    size = f"{report.n_train} training records, {report.epochs} epochs: " if report.n_train else ""
    axes[1].set_title(
        f"{size}mean loss {np.mean(report.member_loss):.3g} (members) vs {np.mean(report.nonmember_loss):.3g}", fontsize="medium"
    )
    return axes


def plot_loss_tails(report: OverfitReport, ax=None):
    """Fraction of members and of non-members whose loss exceeds each value, log-log (Lesson 01).

    Where the curves sit apart, the loss tells members from non-members. For a model that
    generalises fairly well (like lesson 01's target) that happens only on the right: records with
    a high loss are almost all non-members. A curve ends where no record of its group is left.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = plt.subplots(figsize=(6, 4))[1] if ax is None else ax
    both = np.concatenate([report.member_loss, report.nonmember_loss])
    grid = np.logspace(np.log10(both.min()), np.log10(both.max()), 200)
    for losses, color, label in (
        (report.member_loss, MEMBER_COLOR, "members (trained on)"),
        (report.nonmember_loss, NONMEMBER_COLOR, "non-members (never seen)"),
    ):
        above = 1.0 - np.searchsorted(np.sort(losses), grid, side="right") / len(losses)
        ax.step(grid, np.where(above > 0, above, np.nan), where="post", color=color, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("loss x (nats, log scale)")
    ax.set_ylabel("fraction of records with loss > x")
    ax.legend(fontsize="small")
    return ax


@dataclass(frozen=True)
class GapCurve:
    """Train and test accuracy of several models per training-set size (Lesson 01).

    Attributes
    ----------
    sizes : ndarray of int64, shape (n_sizes,)
    train_accuracy, test_accuracy : ndarray of float64, shape (n_sizes, n_models)
        Accuracy of each model on its own training records and on the split's non-members.
    epochs : int
    """

    sizes: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    epochs: int

    @property
    def gap(self) -> np.ndarray:
        """Mean train minus mean test accuracy per size, shape (n_sizes,)."""
        return self.train_accuracy.mean(axis=1) - self.test_accuracy.mean(axis=1)


def generalization_curve(X, y, split: MembershipSplit, sizes, *, n_models: int = 4, epochs: int = 50, seed: int = 0, build_model=MLP) -> GapCurve:
    """Train `n_models` models per training-set size with `train_batched` and measure the gap.

    Parameters
    ----------
    X : array of float, shape (n_records, n_features); y : array of int, shape (n_records,)
    split : MembershipSplit
        Models train on random subsets of ``split.members`` and are tested on ``split.nonmembers``.
    sizes : sequence of int
        Training-set sizes, each in 1 .. len(split.members).
    n_models : int, default=4
        Models per size (each on its own random subset), to show the spread.
    epochs : int, default=50
    seed : int, default=0

    Returns
    -------
    GapCurve
    """
    X, y = check_features_labels(X, y)
    n_models = check_positive_int(n_models, "n_models")
    epochs = check_positive_int(epochs, "epochs")
    sizes = np.asarray(sizes)
    if sizes.ndim != 1 or len(sizes) == 0 or not np.issubdtype(sizes.dtype, np.integer):
        raise ValueError(f"sizes must be a non-empty list of integers, got {sizes!r}.")
    if sizes.min() < 1 or sizes.max() > len(split.members):
        raise ValueError(f"sizes must lie in 1 .. {len(split.members)} (the number of members), got {sizes.tolist()}.")
    members, nonmembers = split.members, split.nonmembers
    train_acc = np.empty((len(sizes), n_models))
    test_acc = np.empty((len(sizes), n_models))
    for i, (size, size_seed) in enumerate(zip(sizes, spawn_seeds(seed, len(sizes)))):
        rng = np.random.default_rng(size_seed)
        subsets = np.stack([rng.choice(members, int(size), replace=False) for _ in range(n_models)])
        batch = train_batched(build_model, X, y, subsets, epochs=epochs, seed=size_seed)
        logits = predict_logits(batch, X[np.concatenate([members, nonmembers])])  # (K, n, C)
        predicted = logits.argmax(axis=-1)
        position = {int(r): j for j, r in enumerate(members)}
        for k in range(n_models):
            rows = [position[int(r)] for r in subsets[k]]
            train_acc[i, k] = np.mean(predicted[k, rows] == y[subsets[k]])
            test_acc[i, k] = np.mean(predicted[k, len(members):] == y[nonmembers])
    return GapCurve(sizes.astype(np.int64), train_acc, test_acc, epochs)


def plot_generalization_gap(curve: GapCurve, ax=None):
    """Train and test accuracy (mean and each model) against training-set size, log x-axis (Lesson 01).

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = plt.subplots(figsize=(6, 4))[1] if ax is None else ax
    for values, color, label in (
        (curve.train_accuracy, MEMBER_COLOR, "members (train accuracy)"),
        (curve.test_accuracy, NONMEMBER_COLOR, "non-members (test accuracy)"),
    ):
        ax.plot(np.repeat(curve.sizes, values.shape[1]), values.ravel(), ".", color=color, alpha=0.4)
        ax.plot(curve.sizes, values.mean(axis=1), "-o", color=color, label=label)
    ax.fill_between(curve.sizes, curve.test_accuracy.mean(axis=1), curve.train_accuracy.mean(axis=1), color="grey", alpha=0.15, label="generalisation gap")
    ax.set_xscale("log")
    ax.set_xlabel("training-set size (records, log scale)")
    ax.set_ylabel("accuracy")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def overfitting_explorer(X, y, split: MembershipSplit, *, n_train: int = 200, epochs: int = 50, max_epochs: int = 100, seed: int = 0):
    """Sliders for training-set size and epochs that retrain a target and redraw `plot_overfitting`.

    Each change retrains one small MLP (about a second on a laptop for a few hundred records);
    the sliders only fire when released (``continuous_update=False``).

    Parameters
    ----------
    X, y, split
        As in `train_and_measure`.
    n_train : int, default=200
        Initial training-set size; the slider runs from 50 (or fewer members) to all members.
    epochs : int, default=50
        Initial epochs; the slider runs from 1 to `max_epochs`.
    seed : int, default=0

    Returns
    -------
    ipywidgets.VBox
        Display it (make it the last expression of a cell).
    """
    import ipywidgets as widgets
    from IPython.display import display

    X, y = check_features_labels(X, y)
    n_max = len(split.members)
    n_train = check_positive_int(n_train, "n_train")
    max_epochs = check_positive_int(max_epochs, "max_epochs")
    epochs = check_positive_int(epochs, "epochs")
    if n_train > n_max or epochs > max_epochs:
        raise ValueError(f"need n_train <= {n_max} members and epochs <= max_epochs = {max_epochs}, got {n_train} and {epochs}.")
    size_slider = widgets.IntSlider(value=n_train, min=min(50, n_train), max=n_max, step=50 if n_max >= 100 else 1,
                                    description="records", continuous_update=False)
    epoch_slider = widgets.IntSlider(value=epochs, min=1, max=max_epochs, step=1, description="epochs", continuous_update=False)

    def redraw(n_train, epochs):
        report = train_and_measure(X, y, split, n_train=n_train, epochs=epochs, seed=seed)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1, 2]})
        plot_overfitting(report, axes)
        display(fig)
        plt.close(fig)  # shown once, by display, under any matplotlib backend

    output = widgets.interactive_output(redraw, {"n_train": size_slider, "epochs": epoch_slider})
    return widgets.VBox([widgets.HBox([size_slider, epoch_slider]), output])
