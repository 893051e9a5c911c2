"""Grouped bar charts with optional interval whiskers (every lesson that compares a few numbers).

One call draws what lessons 02-07 used to build by hand: several series (attacks, thresholds,
models) side by side for each group (a rate, a class, a defence), each bar labelled with its value,
with an optional interval (e.g. a 95% Clopper-Pearson interval) as a whisker. A series named like
an attack in `ATTACK_STYLES` gets that attack's colour (dashed members of a family are hatched),
so a bar chart and an ROC figure of the same attacks match.
"""

from __future__ import annotations

import numpy as np

from .base import ATTACK_STYLES, COLOR_CYCLE, PALETTE, new_ax
from .layout import keep_legend_clear

__all__ = ["plot_grouped_bars"]

_HATCH = {"-": None, "--": "//", ":": "..", "-.": "xx"}


def _as_table(values, name: str, shape=None) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.size == 0:
        raise ValueError(
            f"{name} must be a non-empty table of shape (n_series, n_groups), got shape {np.shape(values)}."
        )
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name} must have the shape of values, {shape}, got {array.shape}.")
    if np.isnan(array).any():
        where = tuple(int(i) for i in np.argwhere(np.isnan(array))[0])
        raise ValueError(f"{name} contains NaN at (series, group) {where}; "
                         "compute the missing value or drop that group.")
    return array


def plot_grouped_bars(
    values,
    lower=None,
    upper=None,
    *,
    groups,
    series,
    ax=None,
    colors=None,
    styles=None,
    ylabel: str = "",
    fmt: str | None = "{:.1%}",
    ylim=None,
    legend_loc: str = "best",
    width: float = 0.8,
):
    """Bars of `values`, one colour per series, side by side within each group.

    Parameters
    ----------
    values : array-like of float, shape (n_series, n_groups), or (n_groups,) for one series
        The height of each bar: row = series (legend entry), column = group (tick label).
    lower, upper : array-like of float, same shape as `values`, optional
        Interval around each value, drawn as a whisker (both or neither); must contain the value.
    groups : sequence of str, length n_groups
        Tick label of each group, e.g. ``["TPR", "FPR", "advantage"]``.
    series : sequence of str, length n_series
        Legend label of each series. A name in `ATTACK_STYLES` (e.g. ``"lira-online"``) takes that
        attack's colour unless `colors` is given.
    ax : matplotlib Axes, optional
    colors : sequence of colours, length n_series, optional
        Defaults to each attack's colour, else the Okabe-Ito cycle.
    styles : sequence of str, length n_series, optional
        The `ATTACK_STYLES` name whose colour and hatch each series takes, where the legend labels
        differ from the registry's names (lesson 09's "loss" is the registry's "text-loss").
    ylabel : str
        What the values are, with units.
    fmt : str or None, default="{:.1%}"
        Format of the value printed above each bar; None prints nothing.
    ylim : (float, float), optional
        Defaults to 0 .. 15% above the highest bar (or upper end), room for the labels (and 15%
        below the lowest negative bar).
    legend_loc : str, default="best"
        Where the legend goes (no legend for a single unnamed series). ``"best"``: at draw time, the
        first corner of the axes where it covers no bar, value label, whisker or line, else right of
        the axes (`utils.plots.layout.keep_legend_clear`); ``"outside"``: right of the axes; any
        other matplotlib location: there, as asked.
    width : float, default=0.8
        Width of a whole group, in units of the distance between groups.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_grouped_bars([[0.9, 0.4], [0.95, 0.5]], groups=["TPR", "FPR"], series=["honest", "oracle"])
    >>> [round(float(p.get_height()), 2) for p in ax.patches]
    [0.9, 0.4, 0.95, 0.5]
    """
    table = _as_table(values, "values")
    n_series, n_groups = table.shape
    groups, series = [str(g) for g in groups], [str(s) for s in series]
    if len(groups) != n_groups or len(series) != n_series:
        raise ValueError(
            f"values has {n_series} series (rows) and {n_groups} groups (columns), but got {len(series)} series "
            f"names and {len(groups)} group names; pass one name per row and per column."
        )
    if (lower is None) != (upper is None):
        raise ValueError("pass both lower and upper (an interval), or neither.")
    if lower is not None:
        lower, upper = _as_table(lower, "lower", table.shape), _as_table(upper, "upper", table.shape)
        if np.any(lower > table + 1e-12) or np.any(upper < table - 1e-12):
            raise ValueError("each interval must contain its value: need lower <= values <= upper.")
    if colors is not None and len(colors) != n_series:
        raise ValueError(f"colors must hold one colour per series ({n_series}), got {len(colors)}.")
    if styles is not None and (colors is not None or len(styles) != n_series):
        raise ValueError(f"styles must name one attack style per series ({n_series}), and colors must then be None.")
    if not 0 < width <= 1:
        raise ValueError(f"width must lie in (0, 1], got {width!r}.")
    ax = new_ax(ax, figsize=(max(4.5, 1.2 * n_groups * max(1, n_series) ** 0.5 + 2), 3.6))
    bar = width / n_series
    x = np.arange(n_groups)
    for i, name in enumerate(series):
        style = ATTACK_STYLES.get(name if styles is None else styles[i], {})
        color = colors[i] if colors is not None else style.get("color", COLOR_CYCLE[i % len(COLOR_CYCLE)])
        hatch = _HATCH.get(style.get("linestyle", "-")) if colors is None else None
        offset = (i - (n_series - 1) / 2) * bar
        bars = ax.bar(x + offset, table[i], bar * 0.95, color=color, hatch=hatch, edgecolor="white" if hatch else None,
                      label=name)
        if lower is not None:
            ax.errorbar(x + offset, table[i], yerr=[table[i] - lower[i], upper[i] - table[i]], fmt="none",
                        ecolor=PALETTE["black"], capsize=3, lw=1)
        if fmt is not None and lower is None:
            ax.bar_label(bars, labels=[fmt.format(v) for v in table[i]], fontsize="small", padding=2)
        elif fmt is not None:
            # Past the whisker's end, not the bar's: a label at the bar's end is crossed by the whisker.
            for xi, v, lo, hi in zip(x + offset, table[i], lower[i], upper[i]):
                ax.annotate(fmt.format(v), (xi, hi if v >= 0 else lo), textcoords="offset points",
                            xytext=(0, 3 if v >= 0 else -3), ha="center", va="bottom" if v >= 0 else "top",
                            fontsize="small")
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    top = float(np.max(upper if upper is not None else table))
    bottom = min(0.0, float(np.min(lower if lower is not None else table)))
    span = max(top, 0.0) - bottom
    # Room for the value labels: above the highest bar, and below the lowest when bars go negative
    # (their labels sit under the bar's end); a little more when labels sit past whiskers.
    room = 0.15 * span + (0.04 * span if lower is not None and fmt is not None else 0.0)
    ax.set_ylim(ylim if ylim is not None else (bottom - room if bottom < 0 else 0.0, top + room if top > 0 else 1.0))
    if n_series > 1 or series[0]:
        if legend_loc == "outside":  # right of the axes: covers no bar whatever the values
            ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
        elif legend_loc == "best":  # matplotlib's "best" ignores the value labels: choose at draw time
            keep_legend_clear(ax, ax.legend(fontsize="small"))
        else:
            ax.legend(fontsize="small", loc=legend_loc)
    return ax
