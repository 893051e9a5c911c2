"""Figures of lesson 02's membership attacks: the game, one threshold, ROC pairs, imperfect copies.

Scores follow the course convention (higher = more likely member); for the loss attack a score is
minus the loss. Each function takes an optional ``ax``/``axes`` and returns the axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..metrics import roc
from ..validation import check_loss_scores, check_max_loss
from .base import ATTACK_STYLES, PALETTE, attack_style, new_ax, plot_histograms, plot_roc
from .layout import legend_below as legend_below_axes
from .overfitting import LOSS_FLOOR

__all__ = ["plot_membership_game", "plot_loss_threshold", "plot_rocs", "plot_roc_pair", "plot_degradation"]


def plot_membership_game(result, *, ax=None):
    """The attacker's running win rate over the rounds of the game, against a coin flip (Lesson 02).

    Parameters
    ----------
    result : utils.experiments.GameResult

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = new_ax(ax, figsize=(6, 3.6))
    rounds = np.arange(1, len(result.coins) + 1)
    running = np.cumsum(result.coins == result.guesses) / rounds
    ax.plot(rounds, running, color=PALETTE["vermillion"], label="attacker's win rate so far")
    ax.axhline(result.expected_win_rate, color=PALETTE["black"], ls=":",
               label=f"(1 + TPR - FPR) / 2 = {result.expected_win_rate:.1%}")
    ax.axhline(0.5, color="grey", ls="--", label="guessing with a coin (50%)")
    ax.set_xscale("log")
    ax.set_xlabel("rounds played (log scale)")
    ax.set_ylabel("fraction of rounds won")
    ax.set_ylim(0.3, 0.8)
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_loss_threshold(labels, scores, max_loss: float, *, axes=None):
    """The loss attack at one threshold: histograms with the threshold line, and the confusion matrix (Lesson 02).

    Every record whose loss is at most `max_loss` is flagged as a member (the score rule
    ``score >= -max_loss``). The title gives the TPR, the FPR and their difference, the advantage.

    Parameters
    ----------
    labels : array-like of int, shape (n_records,)
        1 = member, 0 = non-member.
    scores : array-like of float, shape (n_records,)
        Minus the loss of each record, in nats (<= 0).
    max_loss : float
        The threshold, in nats (> 0).
    axes : sequence of two matplotlib Axes, optional

    Returns
    -------
    axes : ndarray of two matplotlib Axes
    """
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

    labels, scores = check_loss_scores(labels, scores)
    max_loss = check_max_loss(max_loss)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [2, 1]}, layout="constrained")
    axes = np.asarray(axes).ravel()
    if len(axes) != 2:
        raise ValueError(f"axes must hold two Axes (histograms, confusion matrix), got {len(axes)}.")
    losses = np.maximum(-scores, LOSS_FLOOR)
    flagged = (scores >= -max_loss).astype(np.int64)
    tpr, fpr = flagged[labels == 1].mean(), flagged[labels == 0].mean()
    ax = plot_histograms(losses[labels == 1], losses[labels == 0], ax=axes[0], xlabel="loss (nats, log scale)",
                         log_x=True)
    ax.axvspan(ax.get_xlim()[0], max_loss, color="grey", alpha=0.12, label="flagged as member")
    ax.axvline(max_loss, color=PALETTE["black"], ls="--", label=f"threshold: loss <= {max_loss:.2g}")
    ax.legend(fontsize="small", loc="upper left")
    matrix = confusion_matrix(labels, flagged, labels=[0, 1])
    ConfusionMatrixDisplay(matrix, display_labels=["non-member", "member"]).plot(
        ax=axes[1], colorbar=False, cmap="Blues", values_format="d")
    axes[1].set_xlabel("attack says")
    axes[1].set_ylabel("truth")
    axes[1].set_title(f"TPR {tpr:.1%}, FPR {fpr:.1%}\nadvantage {tpr - fpr:.1%}", fontsize="medium")
    return axes


def plot_rocs(curves, *, attacks=None, ax=None, log: bool = True, fpr_in_legend: float = 0.01,
              legend_below: bool = True):
    """Several ROC curves on one Axes, each attack in its course-wide style, legend clear of the curves.

    Parameters
    ----------
    curves : mapping of str -> (labels, scores)
        Legend label -> membership labels (1 = member) and attack scores (higher = member). A label
        that is an attack's registry name (e.g. ``"lira-online"``) takes that attack's colour and
        line style (`attack_style`); a label ``"<name>, <details>"`` too (e.g. ``"shokri, 64 shadows"``).
    attacks : mapping of str -> str, optional
        Legend label -> the attack's registry name, for labels that do not start with it
        (e.g. ``{"your LiRA": "lira-online"}``).
    ax : matplotlib Axes, optional
    log : bool, default=True
        Log-log axes (where the low-FPR corner shows); linear otherwise.
    fpr_in_legend : float, default=0.01
        The legend gives each curve's AUC and its TPR at this FPR.
    legend_below : bool, default=True
        Put the legend under the panel, so it covers no part of the curves (in particular not the
        low-FPR corner); False keeps `plot_roc`'s lower-right placement.

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    A log axis cannot show 0: where an attack flags no member at all (TPR 0) its curve is not
    drawn. When that happens at the left edge of the plot, the curve's legend entry says up to
    which FPR its TPR stays 0.
    """
    if not hasattr(curves, "items") or len(curves) == 0:
        raise ValueError("curves must be a non-empty mapping of label -> (labels, scores).")
    ax = new_ax(ax, figsize=(6.5, 5.2))
    for name, (labels, scores) in curves.items():
        key = (attacks or {}).get(name, str(name).split(",")[0].strip())
        style = attack_style(key) if key in ATTACK_STYLES else {}
        plot_roc(labels, scores, ax=ax, log=log, label=name, fpr_in_legend=fpr_in_legend, color=style.get("color"),
                 legend_below=legend_below)
        line = [line for line in ax.get_lines() if line.get_gid() == "roc"][-1]
        if style:
            line.set_linestyle(style["linestyle"])
        if log:
            curve = roc(labels, scores)
            first = curve.fpr[curve.tpr > 0].min()  # the curve leaves TPR 0 here; a log axis cannot show 0 before
            if first > ax.get_xlim()[0]:
                line.set_label(f"{line.get_label()}\n  (TPR 0 up to FPR {first:.2g}: not drawn on log axes)")
    _reveal_coinciding_curves(ax)
    if legend_below:
        legend_below_axes(ax)
    else:
        ax.legend(loc="lower right", fontsize="small")
    return ax


def _reveal_coinciding_curves(ax, *, step: float = 1.2, max_width: float = 5.4):
    """Widen an ROC curve that a later one would hide, so that it shows on both sides of it.

    Attacks that rank records (almost) the same way, e.g. the loss and the confidence of a
    well-trained model, draw the same curve: the one drawn last hides the others. A curve counts as
    hidden by a later one when their TPRs, on 60 FPRs spread over the plotted range (log-spaced on
    log axes), differ by less than 3% (or 0.01 on linear axes) at 90% of them; each curve gets
    `step` points of width more than the widest curve hiding it.
    """
    curves = [line for line in ax.get_lines() if line.get_gid() == "roc"]
    if len(curves) < 2:
        return
    log = ax.get_xscale() == "log"
    low, high = ax.get_xlim()
    grid = np.logspace(np.log10(low), np.log10(high), 60) if log else np.linspace(low, high, 60)
    # a ROC curve's TPR at each FPR of the grid (the highest TPR reached at that FPR: the upper step)
    tprs = []
    for line in curves:
        fpr, tpr = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        tprs.append(np.maximum.accumulate(tpr)[np.clip(np.searchsorted(fpr, grid, side="right") - 1, 0, len(fpr) - 1)])
    tprs = np.array(tprs)
    widths = [line.get_linewidth() for line in curves]
    for i in range(len(curves) - 2, -1, -1):  # from the last drawn backwards: the top curve keeps its width
        if log:
            close = np.abs(np.log(np.maximum(tprs[i + 1:], 1e-9)) - np.log(np.maximum(tprs[i], 1e-9))) < 0.03
        else:
            close = np.abs(tprs[i + 1:] - tprs[i]) < 0.01
        hiding = [i + 1 + j for j in np.flatnonzero(close.mean(axis=1) >= 0.9)]
        if hiding:
            widths[i] = min(max(widths[j] for j in hiding) + step, max_width)
            curves[i].set_linewidth(widths[i])


def plot_roc_pair(curves, *, fpr_in_legend: float = 0.001, axes=None, titles=("linear axes", "log-log axes")):
    """The same ROC curves twice, on linear and on log-log axes, legends below the panels (Lesson 02).

    Linear axes show the average case (the AUC); log-log axes stretch out the low-FPR corner,
    where privacy is decided. A curve named like an attack in `ATTACK_STYLES` takes its style.

    Parameters
    ----------
    curves : mapping of str -> (labels, scores)
        Legend label -> membership labels (1 = member) and attack scores (higher = member).
    fpr_in_legend : float, default=0.001
        The legend gives the AUC and the TPR at this FPR.
    axes : two matplotlib Axes, optional
    titles : (str, str)

    Returns
    -------
    axes : ndarray of two matplotlib Axes (linear, log-log)
    """
    if not hasattr(curves, "items") or len(curves) == 0:
        raise ValueError("curves must be a non-empty mapping of label -> (labels, scores).")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 5.2), layout="constrained")
    axes = np.asarray(axes).ravel()
    if len(axes) != 2:
        raise ValueError(f"axes must hold two Axes (linear, log-log), got {len(axes)}.")
    for ax, log, title in zip(axes, (False, True), titles):
        plot_rocs(curves, ax=ax, log=log, fpr_in_legend=fpr_in_legend)
        ax.set_title(title)
    return axes


def plot_degradation(curve, *, axes=None, attack: str = "loss", label: str = "loss attack", chance: bool = True):
    """An attack's AUC and TPR at low FPR against how degraded the attacker's copies are (Lesson 02).

    Parameters
    ----------
    curve : utils.experiments.DegradationCurve
    axes : two matplotlib Axes, optional
    attack : str, default="loss"
        The attack's registry name, for its colour (`attack_style`).
    label : str, default="loss attack"
        Legend entry of the curve.
    chance : bool, default=True
        Draw what random guessing achieves (AUC 0.5, TPR = FPR).

    Returns
    -------
    axes : ndarray of two matplotlib Axes (AUC, TPR)
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    axes = np.asarray(axes).ravel()
    if len(axes) != 2:
        raise ValueError(f"axes must hold two Axes (AUC, TPR), got {len(axes)}.")
    what = {"missing": "fraction of the record's features the attacker does not know",
            "noise": "noise added to the attacker's copy (standard deviation)"}.get(curve.kind, "degradation level")
    style = attack_style(attack)
    for ax, values, name, guess in ((axes[0], curve.auc, "AUC", 0.5),
                                    (axes[1], curve.tpr, f"TPR at {curve.fpr:.1%} FPR", curve.fpr)):
        ax.plot(curve.levels, values, marker="o", label=label, **style)
        if chance:
            ax.axhline(guess, ls=":", color="grey", label="random guess")
        ax.set_xlabel(what)
        ax.set_ylabel(name)
        ax.legend(fontsize="small", loc="best")  # a fixed corner covered a point whenever the curve rose there
    return axes
