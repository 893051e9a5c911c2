"""The course's basic plots and colours: ROC curves, histograms, digits (Lessons 01-03).

Every function takes an optional matplotlib ``ax`` and returns it, so cells can combine plots.
Colours come from the Okabe-Ito palette, which stays distinguishable for colour-blind readers.
Importing this module changes no matplotlib settings.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..metrics import roc
from ..validation import as_1d, check_fraction, check_positive_int
from .layout import legend_below as _legend_below

__all__ = [
    "PALETTE",
    "COLOR_CYCLE",
    "MEMBER_COLOR",
    "NONMEMBER_COLOR",
    "ATTACK_STYLES",
    "attack_style",
    "new_ax",
    "plot_roc",
    "plot_histograms",
    "plot_digits",
]

# Okabe & Ito (2008), "Color Universal Design".
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
MEMBER_COLOR = PALETTE["vermillion"]
NONMEMBER_COLOR = PALETTE["blue"]
# the colours of curves that carry no attack style, in the order they are drawn
COLOR_CYCLE = [PALETTE[c] for c in ("blue", "vermillion", "green", "orange", "purple", "sky", "black")]

# One look per attack across the whole course, so a reader recognises an attack from lesson to
# lesson. Okabe-Ito has eight colours; attacks of one family share a colour and differ by line style.
# Keys are the attacks' registry names (utils.attacks); add a new attack here when it is taught.
ATTACK_STYLES = {
    # confidence-based (lessons 02, 07)
    "loss": {"color": PALETTE["blue"], "linestyle": "-"},
    "confidence": {"color": PALETTE["sky"], "linestyle": "-"},
    "log-odds": {"color": PALETTE["sky"], "linestyle": "--"},
    "entropy": {"color": PALETTE["yellow"], "linestyle": "-"},
    "modified-entropy": {"color": PALETTE["yellow"], "linestyle": "--"},
    # shadow-model attacks (lesson 03)
    "shokri": {"color": PALETTE["green"], "linestyle": "-"},
    "lira-online": {"color": PALETTE["vermillion"], "linestyle": "-"},
    "lira-offline": {"color": PALETTE["vermillion"], "linestyle": "--"},
    "rmia-online": {"color": PALETTE["purple"], "linestyle": "-"},
    "rmia-offline": {"color": PALETTE["purple"], "linestyle": "--"},
    # label-only attacks (lesson 07)
    "gap": {"color": PALETTE["black"], "linestyle": ":"},
    # dash-dotted: where it runs along LiRA (vermillion, solid), as in lesson 07, both stay visible
    "label-robustness": {"color": PALETTE["orange"], "linestyle": "-."},
    "boundary-distance": {"color": PALETTE["orange"], "linestyle": "--"},
    # property-inference attacks (lesson 04): victim-level, dotted
    "property-loss": {"color": PALETTE["blue"], "linestyle": ":"},
    "property-threshold": {"color": PALETTE["sky"], "linestyle": ":"},
    "property-kl": {"color": PALETTE["vermillion"], "linestyle": ":"},
    "meta-blackbox": {"color": PALETTE["green"], "linestyle": ":"},
    "meta-whitebox": {"color": PALETTE["purple"], "linestyle": ":"},
    # unlearning audits (lesson 10): one attacker for all records vs one test per record
    "population-test": {"color": PALETTE["blue"], "linestyle": "-."},
    "u-lira": {"color": PALETTE["vermillion"], "linestyle": "-."},
    # text attacks on a language model (lesson 09); "blind" never queries the model
    "text-loss": {"color": PALETTE["blue"], "linestyle": "-"},
    "zlib": {"color": PALETTE["green"], "linestyle": "--"},
    "min-k": {"color": PALETTE["orange"], "linestyle": "-"},
    "min-k++": {"color": PALETTE["orange"], "linestyle": "--"},
    "text-reference": {"color": PALETTE["vermillion"], "linestyle": "-."},
    "blind": {"color": PALETTE["black"], "linestyle": "--"},
}


def attack_style(name: str) -> dict:
    """Matplotlib keywords (``color``, ``linestyle``) of attack `name`, the same in every figure.

    An attack the table does not know gets black, dash-dotted, so it stands out as unstyled.
    """
    return dict(ATTACK_STYLES.get(name, {"color": PALETTE["black"], "linestyle": "-."}))


def new_ax(ax=None, *, figsize=(5, 4)):
    """`ax` itself, or a fresh Axes of `figsize` inches when `ax` is None: every plot helper starts here."""
    return plt.subplots(figsize=figsize)[1] if ax is None else ax



def plot_roc(labels, scores, *, ax=None, label: str = "attack", log: bool = True, color=None,
             fpr_in_legend: float = 0.01, legend_below: bool = True):
    """Draw an attack's ROC curve; log-log axes by default, where low-FPR differences show (Lesson 02).

    Parameters
    ----------
    labels : array-like of int, shape (n_records,)
        1 = member, 0 = non-member.
    scores : array-like of float, shape (n_records,)
        Higher = more likely member.
    ax : matplotlib Axes, optional
        Draw into it (call again on the same `ax` to compare attacks).
    label : str, default="attack"
        Legend entry; the AUC and the TPR at `fpr_in_legend` are appended.
    log : bool, default=True
        Log-log axes from ``1 / n_nonmembers`` (at least 1e-4) to 1; linear axes otherwise.
    color : str, optional
        Defaults to the next Okabe-Ito colour.
    fpr_in_legend : float, default=0.01
    legend_below : bool, default=True
        Put the legend under the x-axis label, where it covers no curve (curves of strong and weak
        attacks fill every corner of a log-log ROC); False puts it in the lower right corner.

    Returns
    -------
    ax : matplotlib Axes
    """
    curve = roc(labels, scores)
    fpr_in_legend = check_fraction(fpr_in_legend, "fpr_in_legend")
    # The legend's two figures off the curve drawn (summarize_attack would add intervals nobody reads here).
    area, tpr = curve.area(), curve.tpr_at(fpr_in_legend)
    ax = new_ax(ax)
    if color is None:
        color = COLOR_CYCLE[sum(line.get_gid() == "roc" for line in ax.get_lines()) % len(COLOR_CYCLE)]
    text = f"{label} (AUC {area:.3f}, TPR@{fpr_in_legend:.1%} FPR {tpr:.1%})"
    ax.plot(curve.fpr, curve.tpr, color=color, label=text, lw=1.8, gid="roc")
    lowest = max(1.0 / curve.n_nonmembers, 1e-4)  # the smallest FPR this many non-members can show
    if log and sum(line.get_gid() == "roc" for line in ax.get_lines()) > 1:
        lowest = min(lowest, ax.get_xlim()[0])
    if not any(line.get_gid() == "random-guess" for line in ax.get_lines()):
        grid = np.logspace(-4, 0, 50) if log else np.array([0.0, 1.0])
        ax.plot(grid, grid, ls="--", color="grey", lw=1, label="random guess", gid="random-guess")
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lowest, 1)
        ax.set_ylim(lowest, 1.02)
    else:
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    if legend_below:
        _legend_below(ax)
    else:
        ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_histograms(
    member_values,
    nonmember_values,
    *,
    ax=None,
    xlabel: str = "score",
    bins: int = 40,
    log_x: bool = False,
    labels=("members (trained on)", "non-members (never seen)"),
):
    """Overlaid, normalised histograms of a per-record quantity for members and non-members (Lesson 01).

    Parameters
    ----------
    member_values, nonmember_values : array-like of float, shapes (n_members,), (n_nonmembers,)
        E.g. per-record losses or confidences.
    xlabel : str
        What the values are, with units (e.g. "loss (nats)").
    log_x : bool, default=False
        Log-spaced bins on a log x-axis: use it for losses, which span many orders of magnitude.
        Values must then be > 0.

    Returns
    -------
    ax : matplotlib Axes
    """
    bins = check_positive_int(bins, "bins")
    members = as_1d(member_values, "member_values")
    nonmembers = as_1d(nonmember_values, "nonmember_values")
    both = np.concatenate([members, nonmembers])
    if len(members) == 0 or len(nonmembers) == 0:
        raise ValueError(
            f"need at least one member and one non-member value, got {len(members)} and {len(nonmembers)}."
        )
    if log_x and np.any(both <= 0):
        raise ValueError(
            f"log_x=True needs values > 0, found {int(np.sum(both <= 0))} values <= 0 (smallest {both.min():.3g}); "
            "clip them first, e.g. np.maximum(values, 1e-12)."
        )
    ax = new_ax(ax)
    if log_x:
        low, high = np.log10(both.min()), np.log10(both.max())
        if high == low:  # every value equal: give the single bar some width
            low, high = low - 0.5, high + 0.5
        edges = np.logspace(low, high, bins + 1)
        ax.set_xscale("log")
    else:
        low, high = both.min(), both.max()
        if high == low:
            low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, bins + 1)
    for values, color, label in ((members, MEMBER_COLOR, labels[0]), (nonmembers, NONMEMBER_COLOR, labels[1])):
        weights = np.full(len(values), 1 / len(values)) if log_x else None  # log bins: fractions, not densities
        ax.hist(values, bins=edges, density=not log_x, weights=weights, alpha=HIST_ALPHA, color=color, label=label)
        # an outline in each colour, so that each histogram's shape shows through the other
        ax.hist(values, bins=edges, density=not log_x, weights=weights, histtype="step", color=color, lw=1.2)
    from matplotlib.patches import Patch

    handles, names = ax.get_legend_handles_labels()
    handles.append(Patch(color=_overlap_colour(MEMBER_COLOR, NONMEMBER_COLOR), label="both (where they overlap)"))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of records" if log_x else "density")
    ax.legend(handles=handles, labels=[*names, "both (where they overlap)"], fontsize="small")
    return ax


HIST_ALPHA = 0.6


def _overlap_colour(first: str, second: str) -> tuple:
    """The colour matplotlib paints where `second` (alpha HIST_ALPHA) lies over `first` (same alpha) on white."""
    from matplotlib.colors import to_rgb

    under = HIST_ALPHA * np.array(to_rgb(first)) + (1 - HIST_ALPHA)  # first over white
    return tuple(HIST_ALPHA * np.array(to_rgb(second)) + (1 - HIST_ALPHA) * under)


def plot_digits(images, titles=None, *, ncols: int = 8, axes=None, cmap="gray_r"):
    """Show a row (or grid) of digit images, each with an optional title.

    Parameters
    ----------
    images : array-like, shape (n, side, side) or (n, side * side)
    titles : list of str, optional, length n

    Returns
    -------
    axes : ndarray of matplotlib Axes
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"flattened images must have a square number of pixels, got {images.shape[1]}.")
        images = images.reshape(-1, side, side)
    n = len(images)
    if n == 0:
        raise ValueError("images is empty; pass at least one image.")
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles has {len(titles)} entries but there are {n} images.")
    if axes is None:
        nrows = int(np.ceil(n / ncols))
        _, axes = plt.subplots(nrows, min(n, ncols), figsize=(1.3 * min(n, ncols), 1.5 * nrows), squeeze=False)
    axes = np.asarray(axes).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap, vmin=0, vmax=1)
            if titles is not None:
                ax.set_title(titles[i], fontsize="small")
    return axes
