"""Lesson 02, course question 3: how an attack's power falls when the attacker holds only a noisy or partial copy
of the record."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics import summarize_attack
from ..validation import check_fraction, check_membership

__all__ = [
    "DEGRADATIONS",
    "degrade_records",
    "DegradationCurve",
    "degraded_copy_power",
]


DEGRADATIONS = ("noise", "missing")


def degrade_records(X, level: float, *, kind: str = "missing", fill=None, seed: int = 0) -> np.ndarray:
    """The attacker's imperfect copies of records `X`: noisy or partly unknown (Lesson 02, question 3).

    Parameters
    ----------
    X : array of float, shape (n_records, n_features), values in [0, 1]
        The true records.
    level : float in [0, 1]
        How bad the copy is. ``kind="missing"``: the fraction of features the attacker does not
        know (chosen at random per record) and fills with `fill`, its best guess. ``kind="noise"``:
        the standard deviation of Gaussian noise added to every feature (a scraped, re-encoded
        copy), clipped back to [0, 1].
    kind : {"missing", "noise"}
    fill : array of float, shape (n_features,), optional
        The attacker's guess for an unknown feature, e.g. the mean of its own pool. Defaults to
        the mean of `X` over records.
    seed : int, default=0

    Returns
    -------
    ndarray of float32, shape (n_records, n_features)
        A new array; ``level=0`` returns an exact copy.
    """
    X = np.asarray(X)
    if X.ndim != 2 or len(X) == 0 or not np.issubdtype(X.dtype, np.floating):
        raise ValueError(
            f"X must be a non-empty float array of shape (n_records, n_features), got {X.dtype} {X.shape}."
        )
    level = check_fraction(level, "level", low_open=False, high_open=False)
    if kind not in DEGRADATIONS:
        raise ValueError(f"kind must be one of {DEGRADATIONS}, got {kind!r}.")
    rng = np.random.default_rng(seed)
    copy = X.astype(np.float32, copy=True)
    if kind == "noise":
        return np.clip(copy + rng.normal(0.0, level, size=X.shape).astype(np.float32), 0.0, 1.0) if level else copy
    fill = X.mean(axis=0) if fill is None else np.asarray(fill, dtype=np.float32)
    if fill.shape != (X.shape[1],):
        raise ValueError(f"fill must hold one value per feature, shape ({X.shape[1]},), got {fill.shape}.")
    unknown = rng.random(X.shape) < level
    copy[unknown] = np.broadcast_to(fill, X.shape)[unknown]
    return copy


@dataclass(frozen=True)
class DegradationCurve:
    """An attack's power against the quality of the attacker's copies of the records (Lesson 02).

    Attributes
    ----------
    kind : str
        How the copies were degraded ("missing" or "noise", see `degrade_records`).
    levels : ndarray of float64, shape (n_levels,)
    auc : ndarray of float64, shape (n_levels,)
    tpr : ndarray of float64, shape (n_levels,)
        TPR at FPR `fpr` at each level.
    fpr : float
    record_scores : ndarray of float64, shape (n_levels,) or None
        The score of one chosen record (e.g. John Doe's) at each level, when asked for.
    """

    kind: str
    levels: np.ndarray
    auc: np.ndarray
    tpr: np.ndarray
    fpr: float
    record_scores: np.ndarray | None = None


def degraded_copy_power(score_records, X, labels, levels, *, kind: str = "missing", fpr: float = 0.01, fill=None,
                        seed: int = 0, record: int | None = None) -> DegradationCurve:
    """Run an attack on degraded copies of the evaluation records, one degradation level at a time.

    The target and the true membership never change; only the records the attacker queries with
    do. At level 0 the attacker holds the exact records, as everywhere else in the course.

    Parameters
    ----------
    score_records : callable
        ``score_records(X_copy) -> scores`` of shape (n_records,), higher = more likely member,
        e.g. ``lambda Xc: threshold.score(target, Xc, y_eval, kind="loss")``.
    X : array of float, shape (n_records, n_features)
        The true evaluation records.
    labels : array of int, shape (n_records,)
        1 = member, 0 = non-member.
    levels : sequence of float in [0, 1]
        Degradation levels (see `degrade_records`).
    kind : {"missing", "noise"}
    fpr : float, default=0.01
        The FPR at which the TPR is reported.
    fill, seed
        As in `degrade_records`; every level uses the same seed, so the unknown features at a
        higher level include those of a lower one for "missing".
    record : int, optional
        Index of one record whose score is also returned per level.

    Returns
    -------
    DegradationCurve
    """
    labels = np.asarray(labels)
    levels = np.asarray([check_fraction(v, "level", low_open=False, high_open=False) for v in levels], dtype=np.float64)
    if len(levels) == 0:
        raise ValueError("levels is empty; pass degradation levels such as [0, 0.1, 0.3].")
    if record is not None:
        if isinstance(record, (bool, np.bool_)) or not isinstance(record, (int, np.integer)) \
                or not 0 <= record < len(labels):
            raise ValueError(f"record must index one of the {len(labels)} records, got {record}.")
    aucs, tprs, chosen = [], [], []
    for level in levels:
        scores = np.asarray(score_records(degrade_records(X, level, kind=kind, fill=fill, seed=seed)), dtype=np.float64)
        labels_checked, scores = check_membership(labels, scores)
        summary = summarize_attack(labels_checked, scores, fprs=(fpr,))
        aucs.append(summary.auc)
        tprs.append(summary.tpr_at_fpr[fpr])
        if record is not None:
            chosen.append(scores[record])
    return DegradationCurve(kind, levels, np.array(aucs), np.array(tprs), float(fpr),
                            None if record is None else np.array(chosen))
