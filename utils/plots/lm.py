"""Figures of Lesson 09: exposure against repetitions, one canary among its candidates, text-attack ROCs.

Every function takes an optional ``ax`` and returns it. Attack colours come from
`utils.plots.base.ATTACK_STYLES` (the text attacks' registry names), as everywhere in the course.
"""

from __future__ import annotations

import numpy as np

from .bars import plot_grouped_bars
from .base import PALETTE, new_ax
from .layout import legend_below
from .membership import plot_rocs

__all__ = ["STYLE_NAMES", "plot_exposure", "plot_candidate_nll", "plot_text_rocs", "plot_setting_aucs",
           "plot_defences"]

# the lesson's short attack names -> their registry (style) names
STYLE_NAMES = {"loss": "text-loss", "zlib": "zlib", "min-k": "min-k", "min-k++": "min-k++",
               "reference": "text-reference", "blind": "blind"}


def plot_exposure(exposure, *, n_digits: int, ax=None, label: str = "skew-normal estimate"):
    """Each canary's exposure (bits) against how often it was in the training data (Lesson 09).

    Parameters
    ----------
    exposure : utils.lm.exposure.CanaryExposure
    n_digits : int
        The secrets' length: the space holds ``10**n_digits`` candidates (a dotted line at log2 of it).
    ax : matplotlib Axes, optional
    label : str
        Legend entry of the estimate's points.

    Returns
    -------
    ax
    """
    ax = new_ax(ax, figsize=(6, 4.4))
    reps = np.asarray(exposure.repetitions)
    jitter = np.random.default_rng(0).uniform(-0.08, 0.08, len(reps))  # apart, so that no point hides another
    x = reps * 2.0**jitter
    ax.plot(x, exposure.estimated, "o", color=PALETTE["vermillion"], label=f"{label} (one dot per canary)")
    levels = np.unique(reps)
    ax.plot(levels, [np.median(exposure.estimated[reps == r]) for r in levels], "-", color=PALETTE["vermillion"],
            lw=1.2, label="median at each repetition count")
    ax.plot(x, exposure.sampled, "s", mfc="none", color=PALETTE["blue"],
            label=f"rank among {exposure.n_samples:,} sampled candidates")
    ax.axhline(np.log2(exposure.n_samples + 1), ls="--", color=PALETTE["blue"], lw=1,
               label=f"what {exposure.n_samples:,} samples can show: {np.log2(exposure.n_samples + 1):.1f} bits")
    ax.axhline(n_digits * np.log2(10), ls=":", color=PALETTE["black"], lw=1,
               label=f"log2 of all {10**n_digits:,} secrets: {n_digits * np.log2(10):.1f} bits")
    ax.set_xscale("log", base=2)
    ax.set_xticks(levels, [f"{r}x" for r in levels])
    ax.set_xlabel("Repetitions of the canary in the training data")
    ax.set_ylabel("Exposure (bits)")
    ax.set_ylim(0, max(n_digits * np.log2(10), float(np.max(exposure.estimated))) + 2)
    legend_below(ax)
    return ax


def plot_candidate_nll(exposure, index: int, *, name: str = "the canary", ax=None):
    """Histogram of the sampled candidates' log-perplexity, the skew-normal fit, and canary `index` (Lesson 09).

    The canary's exposure is minus log2 of the fitted distribution's area left of its line.
    """
    from scipy.stats import skewnorm

    ax = new_ax(ax, figsize=(6.5, 3.8))
    sample = exposure.sample_nll[index]
    canary = float(exposure.canary_nll[index])
    low = min(sample.min(), canary) - 1
    high = sample.max() + 1
    ax.hist(sample, bins=40, density=True, color=PALETTE["sky"], alpha=0.7,
            label=f"{len(sample):,} random secrets of the same format")
    grid = np.linspace(low, high, 400)
    ax.plot(grid, skewnorm.pdf(grid, *skewnorm.fit(sample)), color=PALETTE["blue"], lw=1.5,
            label="skew-normal fit")
    reps = int(exposure.repetitions[index])
    ax.axvline(canary, color=PALETTE["vermillion"], lw=2,
               label=f"{name}'s real secret ({reps}x): exposure {exposure.estimated[index]:.1f} bits")
    ax.set_xlim(low, high)
    ax.set_xlabel("Log-perplexity of the secret after the prefix (nats; lower = more likely)")
    ax.set_ylabel("Density")
    legend_below(ax)
    return ax


def plot_text_rocs(result, *, ax=None, title: str | None = None, attacks=None):
    """Log-log ROC of every text attack in `result` (a `MembershipScores`), in the course's attack styles."""
    names = list(result.scores) if attacks is None else list(attacks)
    curves = {name: (result.labels, result.scores[name]) for name in names}
    ax = plot_rocs(curves, attacks={n: STYLE_NAMES.get(n, n) for n in names}, ax=ax)
    if title:
        ax.set_title(title)
    return ax


def plot_setting_aucs(summaries: dict, *, ax=None, attacks=None):
    """AUC of each attack in each setting with its 95% bootstrap interval; chance (0.5) dotted.

    Parameters
    ----------
    summaries : dict of str -> dict of str -> AttackRow
        ``{setting name: utils.lm.settings.summarize_scores(...)}``.
    """
    settings = list(summaries)
    names = list(attacks or next(iter(summaries.values())))
    values = np.array([[summaries[s][a].auc for s in settings] for a in names])
    lower = np.array([[summaries[s][a].auc_low for s in settings] for a in names])
    upper = np.array([[summaries[s][a].auc_high for s in settings] for a in names])
    ax = new_ax(ax, figsize=(8, 4))
    # the registry's styles: colour by family, hatched where the family's line is dashed (min-k++ next to min-k)
    plot_grouped_bars(values, lower, upper, groups=settings, series=names, ax=ax,
                      styles=[STYLE_NAMES.get(a, a) for a in names], fmt=None,
                      ylabel="AUC (0.5 = chance)", ylim=(0, 1.25), legend_loc="upper center")
    ax.legend(ncol=len(names), loc="upper center", fontsize="small")  # one row above the bars, covering none
    ax.axhline(0.5, ls=":", color="grey", lw=1)
    return ax


def plot_defences(comparison: dict, *, repetitions: int = 16, axes=None):
    """Two panels per model: its `repetitions`-x canaries' exposure (median, whiskers min-max) and its bits per byte.

    Parameters
    ----------
    comparison : dict of str -> (CanaryExposure, float)
        From `utils.lm.settings.compare_models`.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    names = list(comparison)
    groups = [exposure.by_repetitions()[repetitions] for exposure, _ in comparison.values()]
    plot_grouped_bars(np.array([np.median(g) for g in groups]), np.array([g.min() for g in groups]),
                      np.array([g.max() for g in groups]), groups=names, series=[f"{repetitions}x canaries"],
                      ax=axes[0], colors=[PALETTE["vermillion"]], fmt="{:.1f}", ylabel="Exposure (bits)")
    plot_grouped_bars(np.array([bpb for _, bpb in comparison.values()]), groups=names,
                      series=["fresh records"], ax=axes[1], colors=[PALETTE["blue"]], fmt="{:.2f}",
                      ylabel="Bits per byte (lower = better model)")
    for ax in axes:
        ax.tick_params(axis="x", labelsize="small")
    return axes
