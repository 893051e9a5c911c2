"""One tidy table to compare attacks: AUC, advantage, TPR at low FPR with intervals, time (Lessons 02-03).

    table = report.compare_attacks({"loss": loss_scores, "lira-online": lira_scores}, labels=labels,
                                   seconds={"loss": 0.1, "lira-online": 21.0})
    print(report.format_markdown(table))
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..metrics import check_fprs, clopper_pearson, summarize_attack
from ..validation import check_fraction

__all__ = ["fpr_column", "compare_attacks", "format_markdown"]


def fpr_column(fpr: float) -> str:
    """Column name of the TPR at `fpr`, e.g. ``"tpr@1%fpr"`` for 0.01 and ``"tpr@0.1%fpr"`` for 0.001."""
    return f"tpr@{check_fraction(fpr, 'fpr') * 100:g}%fpr"


def compare_attacks(
    results: Mapping, *, labels=None, seconds: Mapping | None = None, fprs=(0.01, 0.001), confidence: float = 0.95
) -> pd.DataFrame:
    """Score several attacks the same way, one row per attack (Lessons 02-03).

    Parameters
    ----------
    results : mapping str -> scores, or str -> (labels, scores)
        Attack name to its scores, shape (n_records,), higher = more likely member. Give
        ``(labels, scores)`` pairs instead when attacks were scored on different records
        (e.g. pooled targets), and leave `labels` as None.
    labels : array-like of int, shape (n_records,), optional
        Shared membership truth (1 = member, 0 = non-member) when `results` holds bare scores.
    seconds : mapping str -> float, optional
        Wall time of each attack (NaN where missing).
    fprs : tuple of float, default=(0.01, 0.001)
        FPRs at which to read the TPR.
    confidence : float, default=0.95
        Level of the Clopper-Pearson intervals of each TPR.

    Returns
    -------
    pandas.DataFrame
        One row per attack, in the order given, with columns ``attack, auc, advantage``, then for
        each FPR ``tpr@<fpr>fpr``, ``tpr@<fpr>fpr_low``, ``tpr@<fpr>fpr_high``, then ``seconds,
        n_members, n_nonmembers``.

    Raises
    ------
    ValueError
        No attacks, missing or extra labels, or any invalid labels/scores (see `utils.metrics`).
    """
    if not isinstance(results, Mapping) or len(results) == 0:
        raise ValueError("results must be a non-empty dict mapping attack name -> scores (or -> (labels, scores)).")
    confidence = check_fraction(confidence, "confidence")
    fprs = check_fprs(fprs)
    columns = [fpr_column(f) for f in fprs]
    if len(set(columns)) != len(columns):
        raise ValueError(
            f"fprs {list(fprs)} give the columns {columns}: two rates would write one column. "
            "Pass rates that differ in their first 6 significant digits."
        )
    seconds = {} if seconds is None else dict(seconds)
    unknown = sorted(set(seconds) - set(results))
    if unknown:
        raise ValueError(f"seconds names attacks that are not in results: {unknown}.")
    rows = []
    for name, value in results.items():
        if labels is None:
            if not (isinstance(value, tuple) and len(value) == 2):
                raise ValueError(
                    f"results[{name!r}] holds bare scores but no labels were given; pass labels=... "
                    "or give (labels, scores) pairs."
                )
            attack_labels, scores = value
        else:
            if isinstance(value, tuple):
                raise ValueError(
                    f"results[{name!r}] is a (labels, scores) pair but labels=... was also given; use one."
                )
            attack_labels, scores = labels, value
        summary = summarize_attack(attack_labels, scores, fprs=fprs)
        row = {"attack": str(name), "auc": summary.auc, "advantage": summary.advantage}
        for f in fprs:
            col, tpr = fpr_column(f), summary.tpr_at_fpr[f]
            low, high = clopper_pearson(round(tpr * summary.n_members), summary.n_members, confidence)
            row[col], row[col + "_low"], row[col + "_high"] = tpr, low, high
        row["seconds"] = float(seconds.get(name, np.nan))
        row["n_members"], row["n_nonmembers"] = summary.n_members, summary.n_nonmembers
        rows.append(row)
    return pd.DataFrame(rows)


def format_markdown(table: pd.DataFrame, *, columns=None, digits: int = 3, intervals: bool = True) -> str:
    """Render a `compare_attacks` table as a markdown table (Lesson 03, benchmarks).

    Parameters
    ----------
    table : pandas.DataFrame
        From `compare_attacks`.
    columns : list of str, optional
        Numeric columns to show after ``attack``; default ``auc, advantage``, every ``tpr@...fpr``, ``seconds``.
    digits : int, default=3
    intervals : bool, default=True
        Append one ``<tpr column> 95% CI`` column per TPR column, as ``[low, high]``.

    Returns
    -------
    str
        Header, separator and one line per attack.
    """
    tpr_cols = [c for c in table.columns if c.startswith("tpr@") and c.endswith("fpr")]
    if columns is None:
        columns = ["auc", "advantage", *tpr_cols, "seconds"]
    missing = [c for c in ["attack", *columns] if c not in table.columns]
    if missing:
        raise ValueError(f"table has no columns {missing}; build it with compare_attacks.")
    header = ["attack", *columns] + ([f"{c} 95% CI" for c in tpr_cols] if intervals else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for _, row in table.iterrows():
        cells = [str(row["attack"])]
        cells += [_cell(row[c], 1 if c == "seconds" else digits) for c in columns]
        if intervals:
            cells += [
                "n/a" if pd.isna(row[c + "_low"]) else f"[{row[c + '_low']:.{digits}f}, {row[c + '_high']:.{digits}f}]"
                for c in tpr_cols
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value, digits: int) -> str:
    return "n/a" if pd.isna(value) else f"{value:.{digits}f}"
