"""Figures of lesson 01: the generalisation gap, member and non-member losses, their tails.

Each function takes the result of an experiment in `utils.experiments` (an `OverfitReport` or a
`GapCurve`, read by attribute) and an optional ``ax``/``axes``, and returns the axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullLocator

from .base import MEMBER_COLOR, NONMEMBER_COLOR, PALETTE, new_ax, plot_histograms

__all__ = ["LOSS_FLOOR", "plot_overfitting", "plot_loss_tails", "plot_loss_with_record", "plot_generalization_gap"]

LOSS_FLOOR = 1e-12  # losses of perfectly memorised records round to 0 in float64; log axes need > 0


def plot_overfitting(report, *, axes=None):
    """Two panels: train vs test accuracy (the gap), and member vs non-member losses (Lesson 01).

    Parameters
    ----------
    report : utils.experiments.OverfitReport
    axes : sequence of two matplotlib Axes, optional

    Returns
    -------
    axes : ndarray of two matplotlib Axes
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1, 2]}, layout="constrained")
    axes = np.asarray(axes).ravel()
    if len(axes) != 2:
        raise ValueError(f"axes must hold two Axes (accuracy, losses), got {len(axes)}.")
    ax = axes[0]
    values = [report.train_accuracy, report.test_accuracy]
    bars = ax.bar(["members\n(train)", "non-members\n(test)"], values, color=[MEMBER_COLOR, NONMEMBER_COLOR], alpha=0.8)
    ax.bar_label(bars, labels=[f"{v:.1%}" for v in values])
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("accuracy")
    ax.set_title(f"generalisation gap = {report.gap:.1%}", fontsize="medium")
    plot_histograms(report.member_loss, report.nonmember_loss, ax=axes[1], xlabel="loss (nats, log scale)", log_x=True)
    epochs = f"{report.epochs} epoch{'' if report.epochs == 1 else 's'}"
    size = f"{report.n_train} training records, {epochs}\n" if report.n_train else ""
    axes[1].set_title(
        f"{size}median loss: members {np.median(report.member_loss):.2g}, non-members "
        f"{np.median(report.nonmember_loss):.2g}\nmean loss: members {np.mean(report.member_loss):.2g}, "
        f"non-members {np.mean(report.nonmember_loss):.2g}",
        fontsize="medium",
    )
    return axes


def plot_loss_tails(report, *, ax=None):
    """Fraction of members and of non-members whose loss exceeds each value, log-log (Lesson 01).

    Where the curves sit apart, the loss tells members from non-members. For a model that
    generalises fairly well (like lesson 01's target) that happens only on the right: records with
    a high loss are almost all non-members. A curve ends where no record of its group is left.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = new_ax(ax, figsize=(6, 4))
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
    ax.legend(fontsize="small", loc="lower left")
    return ax


def plot_loss_with_record(report, record_loss: float, *, ax=None, name: str = "John Doe's record"):
    """Member and non-member loss histograms with one record's loss marked (Lesson 01).

    The title gives the fractions of members and of non-members whose loss is at most the
    record's: the evidence that loss carries for that record.

    Returns
    -------
    ax : matplotlib Axes
    """
    record_loss = float(record_loss)
    if not np.isfinite(record_loss) or record_loss < 0:
        raise ValueError(f"record_loss must be a loss in nats (>= 0), got {record_loss!r}.")
    ax = plot_histograms(report.member_loss, report.nonmember_loss, ax=new_ax(ax, figsize=(6.5, 4)),
                         xlabel="loss (nats, log scale)", log_x=True)
    ax.axvline(max(record_loss, LOSS_FLOOR), color=PALETTE["black"], ls=":", lw=2, label=name)
    members, nonmembers = np.mean(report.member_loss <= record_loss), np.mean(report.nonmember_loss <= record_loss)
    ax.set_title(f"loss {record_loss:.2g} nats or lower: {members:.1%} of members, {nonmembers:.1%} of non-members",
                 fontsize="medium")
    ax.legend(fontsize="small", loc="upper left")
    return ax


def plot_generalization_gap(curve, *, ax=None):
    """Train and test accuracy (mean and each model) against training-set size, log x-axis (Lesson 01).

    Parameters
    ----------
    curve : utils.experiments.GapCurve

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = new_ax(ax, figsize=(6, 4))
    for values, color, label in (
        (curve.train_accuracy, MEMBER_COLOR, "members (train accuracy)"),
        (curve.test_accuracy, NONMEMBER_COLOR, "non-members (test accuracy)"),
    ):
        ax.plot(np.repeat(curve.sizes, values.shape[1]), values.ravel(), ".", color=color, alpha=0.4)
        ax.plot(curve.sizes, values.mean(axis=1), "-o", color=color, label=label)
    ax.fill_between(curve.sizes, curve.test_accuracy.mean(axis=1), curve.train_accuracy.mean(axis=1), color="grey",
                    alpha=0.15, label="generalisation gap")
    ax.set_xscale("log")
    # Label the sizes themselves: a log axis from 50 to 1,250 would only label 10^2 and 10^3.
    ax.set_xticks(curve.sizes, [f"{int(size):,}" for size in curve.sizes])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("training-set size (records, log scale)")
    ax.set_ylabel("accuracy")
    ax.legend(loc="lower right", fontsize="small")
    return ax
