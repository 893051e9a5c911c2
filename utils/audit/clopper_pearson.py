"""Auditing epsilon with Clopper-Pearson intervals on an attack's TPR and FPR (Lesson 06).

Jagielski, Ullman & Oprea 2020; Nasr et al. 2021: a threshold chosen on one half of the records, its rates
measured on the other half, turned into the smallest epsilon their intervals allow."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics import clopper_pearson, clopper_pearson_ends, dp_max_tpr, roc
from ..validation import (
    check_delta,
    check_fraction,
    check_membership,
    check_positive_int,
    check_real,
    check_seed,
)
from .bounds import epsilon_from_rates

__all__ = [
    "cp_epsilon",
    "cp_max_epsilon",
    "CPAudit",
    "audit_clopper_pearson",
    "naive_epsilon",
    "roc_exceeds_bound",
    "small_audits",
]


def cp_epsilon(true_positives: int, n_members: int, false_positives: int, n_nonmembers: int,
               delta: float = 0.0, confidence: float = 0.95) -> float:
    """Epsilon lower bound from one test's counts, at `confidence` (Jagielski et al. 2020).

    The TPR's Clopper-Pearson lower end and the FPR's upper end (each one-sided at
    ``(1 + confidence) / 2``, so both hold together with probability >= `confidence`) go into
    `epsilon_from_rates`.

    Examples
    --------
    All 100 members flagged and none of 100 non-members: TPR >= 0.025^(1/100), FPR <= 1 - 0.025^(1/100)

    >>> round(cp_epsilon(100, 100, 0, 100), 3)
    3.281
    """
    tpr_low, _ = clopper_pearson(true_positives, n_members, confidence)
    _, fpr_high = clopper_pearson(false_positives, n_nonmembers, confidence)
    return epsilon_from_rates(tpr_low, fpr_high, delta)


def cp_max_epsilon(n_members: int, n_nonmembers: int, delta: float = 0.0, confidence: float = 0.95) -> float:
    """The largest epsilon `cp_epsilon` can certify with this many records (a perfect attack)."""
    return cp_epsilon(n_members, n_members, 0, n_nonmembers, delta, confidence)


@dataclass(frozen=True)
class CPAudit:
    """A Clopper-Pearson audit: epsilon >= `epsilon` with probability `confidence`.

    Attributes
    ----------
    epsilon : float
        The certified lower bound (0 when nothing is certified).
    max_epsilon : float
        What a perfect attack could certify with the evaluation half's record counts.
    threshold : float
        Chosen on the selection half; records with ``score >= threshold`` are called members.
    true_positives, n_members, false_positives, n_nonmembers : int
        Counts on the evaluation half.
    confidence : float
    """

    epsilon: float
    max_epsilon: float
    threshold: float
    true_positives: int
    n_members: int
    false_positives: int
    n_nonmembers: int
    confidence: float


def _counts(labels, scores, threshold):
    flagged = scores >= threshold
    return int((flagged & (labels == 1)).sum()), int((flagged & (labels == 0)).sum())


def audit_clopper_pearson(labels, scores, *, delta: float = 0.0, confidence: float = 0.95, seed: int = 0) -> CPAudit:
    """Empirical epsilon lower bound of one attack, threshold chosen on separate records.

    The records are split in two stratified halves. On the first, every threshold's `cp_epsilon`
    is computed and the best threshold kept; on the second, only that threshold is evaluated. The
    choice therefore does not bias the bound (choosing the best of many thresholds on the same
    records would: see `naive_epsilon`).

    Parameters
    ----------
    labels : array-like of int, shape (n_records,)
        1 = member, 0 = non-member.
    scores : array-like of float, shape (n_records,)
        Higher = more likely member.
    delta : float, default=0
        The delta of the guarantee being tested.
    confidence : float, default=0.95
    seed : int
        Seeds the split.

    Returns
    -------
    CPAudit
    """
    labels, scores = check_membership(labels, scores)
    delta = check_delta(delta)
    confidence = check_fraction(confidence, "confidence")
    rng = np.random.default_rng(check_seed(seed))
    first = np.zeros(len(labels), dtype=bool)
    for value in (0, 1):
        where = np.flatnonzero(labels == value)
        if len(where) < 2:
            raise ValueError(f"audit_clopper_pearson needs at least 2 records of each class, found {len(where)} "
                             f"with label {value}.")
        first[rng.permutation(where)[: len(where) // 2]] = True
    sel_labels, sel_scores = labels[first], scores[first]
    curve = roc(sel_labels, sel_scores)
    tps = np.rint(curve.tpr[1:] * curve.n_members)
    fps = np.rint(curve.fpr[1:] * curve.n_nonmembers)
    tpr_low, _ = clopper_pearson_ends(tps, curve.n_members, confidence)
    _, fpr_high = clopper_pearson_ends(fps, curve.n_nonmembers, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = np.maximum.reduce([np.zeros_like(tpr_low), np.log(np.maximum(tpr_low - delta, 1e-300) / fpr_high),
                                 np.log(np.maximum(1 - fpr_high - delta, 1e-300) / (1 - tpr_low))])
    threshold = float(curve.thresholds[1:][int(np.argmax(eps))])
    ev_labels, ev_scores = labels[~first], scores[~first]
    n1 = int(ev_labels.sum())
    n0 = len(ev_labels) - n1
    tp, fp = _counts(ev_labels, ev_scores, threshold)
    return CPAudit(
        epsilon=cp_epsilon(tp, n1, fp, n0, delta, confidence),
        max_epsilon=cp_max_epsilon(n1, n0, delta, confidence),
        threshold=threshold, true_positives=tp, n_members=n1, false_positives=fp, n_nonmembers=n0,
        confidence=confidence,
    )


def naive_epsilon(labels, scores, *, delta: float = 0.0) -> float:
    """The tempting *point estimate*: max over thresholds of `epsilon_from_rates`, with no interval.

    Only thresholds that flag at least one non-member and miss at least one member count (at the
    others the ratio is infinite). Not a valid bound: the best of many noisy ratios is biased upward,
    and with few false positives one lucky record moves it a lot; it can "exceed" the accountant's
    epsilon on a genuinely DP model (Lesson 06).
    """
    labels, scores = check_membership(labels, scores)
    delta = check_delta(delta)
    curve = roc(labels, scores)
    ok = (curve.fpr > 0) & (curve.tpr < 1)
    return max([0.0] + [epsilon_from_rates(t, f, delta) for t, f in zip(curve.tpr[ok], curve.fpr[ok])])


def roc_exceeds_bound(labels, scores, epsilon: float, delta: float = 0.0, *, confidence: float = 0.95) -> bool:
    """Does the attack's ROC lie above the (epsilon, delta) bound where the sample size resolves it?

    At each threshold the TPR's Clopper-Pearson lower end is compared with the bound at the FPR's
    upper end, with a Bonferroni correction over the thresholds tried, so a True is a real
    violation (with probability >= `confidence`), not a lucky point.
    """
    labels, scores = check_membership(labels, scores)
    epsilon = check_real(epsilon, "epsilon", minimum=0.0)
    delta = check_delta(delta)
    confidence = check_fraction(confidence, "confidence")
    curve = roc(labels, scores)
    n_points = len(curve.tpr) - 1
    per_point = 1.0 - (1.0 - confidence) / max(n_points, 1)
    tpr_low, _ = clopper_pearson_ends(np.rint(curve.tpr[1:] * curve.n_members), curve.n_members, per_point)
    _, fpr_high = clopper_pearson_ends(np.rint(curve.fpr[1:] * curve.n_nonmembers), curve.n_nonmembers, per_point)
    return bool(np.any(tpr_low > dp_max_tpr(fpr_high, epsilon, delta) + 1e-12))


def small_audits(labels, scores, n_per_class: int, n_draws: int, *, delta: float = 0.0, seed: int = 0):
    """Many small audits of one run: `n_draws` random subsets of `n_per_class` members and non-members.

    Returns
    -------
    point_estimates : ndarray of float64, shape (n_draws,)
        `naive_epsilon` of each subset (no interval: biased upward).
    lower_bounds : ndarray of float64, shape (n_draws,)
        `audit_clopper_pearson` of each subset (95%, threshold chosen on half of it).
    """
    labels, scores = check_membership(labels, scores)
    n_per_class = check_positive_int(n_per_class, "n_per_class", minimum=4)
    n_draws = check_positive_int(n_draws, "n_draws")
    members, nonmembers = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    if n_per_class > min(len(members), len(nonmembers)):
        raise ValueError(f"n_per_class must be at most {min(len(members), len(nonmembers))} (the smaller class), "
                         f"got {n_per_class}.")
    rng = np.random.default_rng(check_seed(seed))
    naive, bounds = np.empty(n_draws), np.empty(n_draws)
    for i in range(n_draws):
        pick = np.r_[rng.choice(members, n_per_class, replace=False),
                     rng.choice(nonmembers, n_per_class, replace=False)]
        naive[i] = naive_epsilon(labels[pick], scores[pick], delta=delta)
        split_seed = int(rng.integers(2**31))
        bounds[i] = audit_clopper_pearson(labels[pick], scores[pick], delta=delta, seed=split_seed).epsilon
    return naive, bounds
