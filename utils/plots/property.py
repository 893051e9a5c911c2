"""Figures of lesson 04, property inference: attack accuracies with intervals, accuracy against
the distance between the worlds, and a victim-score histogram (Lesson 04).

Every function takes an optional matplotlib ``ax`` and returns it; attacks keep their colours from
`attack_style`. Importing this module changes no matplotlib settings.
"""

from __future__ import annotations

import numpy as np

from .base import PALETTE, attack_style, new_ax
from .layout import legend_below

__all__ = ["plot_property_accuracies", "plot_accuracy_vs_distance", "plot_victim_scores"]

COINCIDE = 0.02  # accuracies closer than this draw their markers (6 points, about 0.025 of the axis) on each other


def plot_property_accuracies(results, *, ax=None, title: str | None = None, groups=None):
    """Bar chart of attack accuracies with their 95% intervals, and the 0.5 of a coin toss.

    Parameters
    ----------
    results : list of PropertyResult, or dict of str -> list of PropertyResult
        One bar per result; a dict draws one cluster of bars per key (e.g. per setting).
    ax : matplotlib Axes, optional
    title : str, optional
    """
    ax = new_ax(ax, figsize=(7, 3.6))
    clusters = results if isinstance(results, dict) else {"": list(results)}
    names = list(dict.fromkeys(r.attack for rs in clusters.values() for r in rs))
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        xs, heights, errors = [], [], []
        for j, rs in enumerate(clusters.values()):
            for r in rs:
                if r.attack == name:
                    xs.append(j + (i - (len(names) - 1) / 2) * width)
                    heights.append(r.accuracy)
                    errors.append(r.error)
        style = attack_style(name)
        ax.bar(
            xs,
            heights,
            width=width * 0.9,
            color=style["color"],
            label=name,
            yerr=np.array(errors).T if errors else None,
            capsize=3,
            edgecolor="black",
            linewidth=0.5,
        )
    ax.axhline(0.5, color=PALETTE["black"], linestyle="--", linewidth=1, label="coin toss")
    if list(clusters) == [""]:  # one unnamed cluster: the legend names the bars, no tick needed
        ax.set_xticks([])
        ax.set_xlabel("attack (one bar each, named in the legend)")
    else:
        ax.set_xticks(range(len(clusters)))
        ax.set_xticklabels(list(clusters))
        ax.set_xlabel("setting")
    ax.set_ylim(0.3, 1.02)
    ax.set_ylabel("Accuracy over held-out victims")
    # Below the axes: inside, it covered the top of the tallest bars and their whiskers.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def plot_accuracy_vs_distance(
    distances,
    results_per_distance,
    *,
    ax=None,
    attacks=None,
    marker_at=None,
    band_for=None,
    xlabel: str = "Fraction of women in world 1 (world 0: 0.2)",
):
    """Accuracy of each attack (with its interval as a band) against the worlds' distance.

    Parameters
    ----------
    distances : array-like of float, shape (n_points,)
        The x value of each point (e.g. world 1's fraction).
    results_per_distance : list of list of PropertyResult, length n_points
    attacks : list of str, optional
        Which attacks to draw (default all in the first list).
    marker_at : float, optional
        Draw a vertical line at this x (the slider's position).
    band_for : str or list of str, optional
        The attacks whose 95% interval is drawn as a band (default: every attack). Five overlapping
        translucent bands hide each other; one band, of the attack the reader should follow, does not.
    """
    ax = new_ax(ax, figsize=(6, 3.6))
    distances = np.asarray(distances, dtype=float)
    names = attacks or [r.attack for r in results_per_distance[0]]
    table = np.array([[next(r for r in rs if r.attack == name).accuracy for rs in results_per_distance]
                      for name in names])  # (n_attacks, n_points)
    for i, name in enumerate(names):
        rows = [next(r for r in rs if r.attack == name) for rs in results_per_distance]
        style = attack_style(name)
        ax.plot(distances, table[i], marker="o", ms=6, label=name, **style)
        if band_for is None or name in ([band_for] if isinstance(band_for, str) else band_for):
            ax.fill_between(distances, [r.ci_low for r in rows], [r.ci_high for r in rows], color=style["color"],
                            alpha=0.15, label=f"{name}: 95% interval")
        # Attacks often tie (two at 0.87): the marker drawn later hid this one. Where later attacks sit
        # within COINCIDE of it, draw this attack's marker larger, under every line: a ring around them.
        covered = (np.abs(table[i + 1:] - table[i]) < COINCIDE).sum(axis=0)
        if covered.any():
            ax.scatter(distances[covered > 0], table[i][covered > 0], s=(6 + 4 * covered[covered > 0]) ** 2,
                       color=style["color"], zorder=1.9, linewidths=0)
    ax.axhline(0.5, color=PALETTE["black"], linestyle="--", linewidth=1, label="coin toss")
    if marker_at is not None:
        ax.axvline(marker_at, color=PALETTE["black"], linewidth=1, alpha=0.6)
    ax.set_ylim(0.3, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Accuracy over held-out victims")
    # Below the axes: inside, it covered the bands and the coin-toss line at the right edge.
    legend_below(ax, fontsize=8, ncol=3, frameon=False)
    return ax


def plot_victim_scores(
    scores, worlds, *, ax=None, label: str = "attack score", bins: int = 30, world_names=("world 0", "world 1")
):
    """Histograms of victim-level scores, one per true world, with the decision threshold at 0."""
    ax = new_ax(ax)
    scores, worlds = np.asarray(scores, dtype=float), np.asarray(worlds)
    edges = np.histogram_bin_edges(scores, bins=bins)
    for w, color in ((0, PALETTE["blue"]), (1, PALETTE["vermillion"])):
        ax.hist(scores[worlds == w], bins=edges, alpha=0.6, color=color, label=f"victims of {world_names[w]}")
    ax.axvline(0, color=PALETTE["black"], linestyle="--", linewidth=1, label="threshold (guess world 1 above)")
    ax.set_xlabel(label)
    ax.set_ylabel("Victim models")
    ax.legend(fontsize=8)
    return ax
