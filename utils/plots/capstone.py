"""Figures of the capstone audit: every allowed attack's ROC, the privacy-utility chart, the ghost of deleted data (Lesson 08).

Each function takes an optional ``ax`` and returns it; attacks keep their course-wide look
(`attack_style`).
"""

from __future__ import annotations

import numpy as np

from .bars import plot_grouped_bars
from .base import _CYCLE, PALETTE, attack_style, new_ax, plot_roc

__all__ = ["plot_audit_rocs", "plot_privacy_utility", "plot_deletion"]


def plot_audit_rocs(membership, scores: dict, *, ax=None, attacks=None, fpr_in_legend: float = 0.01):
    """Log-log ROC curves of several attacks on the same records, each in its course colour (Lesson 08).

    Parameters
    ----------
    membership : array-like of int, shape (n_records,)
        1 = member, 0 = non-member.
    scores : dict str -> array-like of float, shape (n_records,)
        Attack name -> scores (higher = more likely member), e.g. ``AuditResult.scores``.
    ax : matplotlib Axes, optional
    attacks : sequence of str, optional
        Which entries of `scores` to draw, in order; default all.
    fpr_in_legend : float, default=0.01

    Returns
    -------
    ax : matplotlib Axes
    """
    if not isinstance(scores, dict) or not scores:
        raise ValueError("scores must be a non-empty dict mapping attack name -> scores (e.g. AuditResult.scores).")
    attacks = list(scores) if attacks is None else list(attacks)
    unknown = [a for a in attacks if a not in scores]
    if unknown:
        raise ValueError(f"no scores for {unknown}; scores has {list(scores)}.")
    ax = new_ax(ax, figsize=(6.5, 5))
    for name in attacks:
        style = attack_style(name)
        plot_roc(membership, scores[name], ax=ax, label=name, color=style["color"], fpr_in_legend=fpr_in_legend)
    for line in ax.get_lines():
        if line.get_gid() == "roc":
            line.set_linestyle(attack_style(line.get_label().split(" (AUC")[0])["linestyle"])
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_privacy_utility(points, *, ax=None, highlight: str | None = None):
    """The privacy-utility chart: accuracy on unseen records (x) against attack TPR at low FPR (y) (Lesson 08).

    Up and to the left is worse on both counts; the ideal sits bottom right. Each point carries a
    whisker for its TPR's 95% interval; a dotted line marks what a random guess achieves.

    Parameters
    ----------
    points : sequence of `utils.capstone.TradeoffPoint`
        All measured at the same FPR.
    ax : matplotlib Axes, optional
    highlight : str, optional
        Name of the point to mark with a star (e.g. the released model).

    Returns
    -------
    ax : matplotlib Axes
    """
    points = list(points)
    if not points:
        raise ValueError("points is empty; pass at least one TradeoffPoint (e.g. the released model's).")
    for p in points:
        if not all(hasattr(p, a) for a in ("name", "accuracy", "tpr", "tpr_low", "tpr_high", "fpr")):
            raise ValueError(f"each point must be a utils.capstone.TradeoffPoint, got {type(p).__name__}.")
    fprs = {p.fpr for p in points}
    if len(fprs) != 1:
        raise ValueError(f"every point must be measured at the same FPR to share an axis, got {sorted(fprs)}.")
    names = [p.name for p in points]
    if highlight is not None and highlight not in names:
        raise ValueError(f"highlight={highlight!r} is not one of the points {names}.")
    fpr = fprs.pop()
    ax = new_ax(ax, figsize=(6.5, 4.2))
    for i, p in enumerate(points):
        color = _CYCLE[i % len(_CYCLE)]
        marker = "*" if p.name == highlight else "o"
        ax.errorbar(p.accuracy, p.tpr, yerr=[[p.tpr - p.tpr_low], [p.tpr_high - p.tpr]], fmt=marker, color=color,
                    markersize=14 if marker == "*" else 8, capsize=4, label=f"{p.name} ({p.attack})")
    ax.axhline(fpr, ls=":", color="grey", lw=1, label="random guess")
    ax.set_xlabel("accuracy on records it never saw (utility, higher is better)")
    ax.set_ylabel(f"attack TPR at {fpr:.1%} FPR (risk, lower is better)")
    ax.set_ylim(0, max(p.tpr_high for p in points) * 1.15 + 1e-3)
    ax.legend(fontsize="small", loc="upper left")
    return ax


def plot_deletion(result, *, ax=None):
    """The ghost of deleted data: attack TPR on the deleted group and on the kept members (Lesson 08).

    Three states of the world: the released model, the same model after the group's rows were
    deleted from the dataset (same weights: same answers), and a model retrained without them.

    Parameters
    ----------
    result : `utils.capstone.DeletionResult`
    ax : matplotlib Axes, optional

    Returns
    -------
    ax : matplotlib Axes
    """
    if not all(hasattr(result, a) for a in ("before", "after", "remaining_before", "remaining_after")):
        raise ValueError(f"result must be a utils.capstone.DeletionResult, got {type(result).__name__}.")
    fpr = next(iter(result.before.tpr_at_fpr))
    summaries = [
        [result.before, result.before, result.after],
        [result.remaining_before, result.remaining_before, result.remaining_after],
    ]
    values = np.array([[s.tpr_at_fpr[fpr] for s in row] for row in summaries])
    lower = np.array([[min(s.tpr_interval[fpr][0], s.tpr_at_fpr[fpr]) for s in row] for row in summaries])
    upper = np.array([[max(s.tpr_interval[fpr][1], s.tpr_at_fpr[fpr]) for s in row] for row in summaries])
    ax = plot_grouped_bars(
        values, lower, upper,
        groups=["released model", "rows deleted\n(same weights)", "retrained\nwithout them"],
        series=[f"deleted group ({result.n_train_before - result.n_train_after:,} records)", "members kept"],
        colors=[PALETTE["vermillion"], PALETTE["blue"]], ax=ax, ylabel=f"attack TPR at {fpr:.0%} FPR",
        legend_loc="upper right",
    )
    ax.axhline(fpr, ls=":", color="grey", lw=1)
    ax.text(2.45, fpr, "random guess", va="bottom", ha="right", fontsize="small", color="grey")
    return ax
