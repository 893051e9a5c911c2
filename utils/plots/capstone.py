"""Figures of the capstone audit (Lesson 08): every allowed attack's ROC, the privacy-utility chart,
the ghost of deleted data.

The privacy-utility chart itself is lesson 05's (`utils.plots.defenses.plot_privacy_utility`); this
module feeds it the audit's points.

Each function takes an optional ``ax`` and returns it; attacks keep their course-wide look
(`attack_style`).
"""

from __future__ import annotations

import numpy as np

from .bars import plot_grouped_bars
from .base import PALETTE, attack_style, new_ax
from .defenses import plot_privacy_utility
from .layout import legend_below
from .membership import plot_rocs

__all__ = ["plot_audit_rocs", "plot_audit_tradeoff", "plot_deletion"]


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
    # The course's ROC figure (lessons 02-07): course styles, and the legend under the axes, where
    # it covers none of the six curves (inside, it hid the low-FPR corner that the audit is about).
    return plot_rocs({name: (membership, scores[name]) for name in attacks}, attacks={name: name for name in attacks},
                     ax=ax, fpr_in_legend=fpr_in_legend)


def plot_audit_tradeoff(points, *, ax=None, baseline: str | None = None):
    """The privacy-utility chart of lessons 05-07 for a list of `TradeoffPoint`s (Lesson 08).

    Accuracy on unseen records (x) against the TPR at low FPR of the strongest attack allowed
    against each model (y, log scale, with 95% intervals); drawn by `plot_privacy_utility`, so the
    capstone's chart looks like the defence lessons' charts.

    Parameters
    ----------
    points : sequence of `utils.capstone.TradeoffPoint`
        All measured at the same FPR; each is labelled "name (attack)".
    ax : matplotlib Axes, optional
    baseline : str, optional
        Name of the undefended point (e.g. the released model), drawn as a black square.

    Returns
    -------
    ax : matplotlib Axes
    """
    points = list(points)
    if not points:
        raise ValueError("points is empty; pass at least one TradeoffPoint (e.g. the released model's).")
    for p in points:
        if not all(hasattr(p, a) for a in ("name", "accuracy", "tpr", "tpr_low", "tpr_high", "fpr", "attack")):
            raise ValueError(f"each point must be a utils.capstone.TradeoffPoint, got {type(p).__name__}.")
    fprs = {p.fpr for p in points}
    if len(fprs) != 1:
        raise ValueError(f"every point must be measured at the same FPR to share an axis, got {sorted(fprs)}.")
    names = [p.name for p in points]
    if baseline is not None and baseline not in names:
        raise ValueError(f"baseline={baseline!r} is not one of the points {names}.")
    ax = plot_privacy_utility(
        [p.accuracy for p in points], [p.tpr for p in points], labels=[f"{p.name} ({p.attack})" for p in points],
        lower=[p.tpr_low for p in points], upper=[p.tpr_high for p in points], fpr=fprs.pop(),
        baseline=None if baseline is None else names.index(baseline), ax=ax,
        attack_name=points[0].attack if len({p.attack for p in points}) == 1 else "attack",
    )
    # Points at (nearly) the same accuracy, e.g. a model and its masked API: alternate their labels
    # above and below the point, so that they do not print over each other.
    labels = ax.texts[-len(points):]
    for i, (p, label) in enumerate(zip(points, labels)):
        crowded = [q for q in points[:i] if abs(q.accuracy - p.accuracy) < 0.003]
        if len(crowded) % 2 == 1:
            label.xyann = (5, -12)
        if crowded:
            # The same model behind another API sits on the other point's marker and hid under it: a larger,
            # hollow diamond on top rings the point beneath, and the legend names it.
            style = attack_style(p.attack)
            ax.plot([p.accuracy], [p.tpr], "D", ms=14, mfc="none", mew=2.2, color=style["color"], zorder=5,
                    label=f"{p.name}: same accuracy as {crowded[0].name}", gid="same-accuracy")
    if any(line.get_gid() == "same-accuracy" for line in ax.get_lines()):
        legend_below(ax, ncol=2)
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
    ax.axhline(fpr, ls=":", color="grey", lw=1, label="random guess")
    ax.legend(fontsize="small", loc="upper right")
    return ax
