"""How well does a membership attack work? (Lesson 02; DP bounds: lesson 06)

Conventions for every function here:

- ``labels``: membership truth, one per record, 1 = member of the training set, 0 = non-member.
- ``scores``: one float per record, **higher = more likely member**.

- a *threshold* t flags every record whose score is >= t; **t = +inf flags nobody** (TPR 0,
  FPR 0) and is the first step of every ROC curve, so "flag nobody" is an ordinary threshold
  (`utils.attacks.threshold.choose_threshold` returns it, `evaluate_threshold` accepts it).

`roc_steps` is the one ROC primitive of the course (the lessons' curves, the attacks' threshold
choice and the exercise checks all step through it; it equals scikit-learn's ``roc_curve`` with
``drop_intermediate=False``). This module adds the numbers that matter for privacy: the
true-positive rate at a *low* false-positive rate, the attacker's advantage, and honest
(Clopper-Pearson) intervals for rates measured on few records.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .validation import check_fraction, check_membership, check_real

__all__ = [
    "RocCurve",
    "roc_steps",
    "roc",
    "check_fprs",
    "auc",
    "tpr_at_fpr",
    "advantage",
    "best_balanced_accuracy",
    "clopper_pearson",
    "clopper_pearson_ends",
    "AttackSummary",
    "summarize_attack",
    "dp_max_tpr",
]


@dataclass(frozen=True)
class RocCurve:
    """An ROC curve.

    Attributes
    ----------
    fpr, tpr : ndarray of float64, shape (n_points,)
        False- and true-positive rates, both non-decreasing, from (0, 0) to (1, 1).
    thresholds : ndarray of float64, shape (n_points,)
        Decreasing; point i flags records with ``score >= thresholds[i]`` (the first is +inf).
    n_members, n_nonmembers : int
        How many records each rate was measured on (the resolution of the curve: the smallest
        non-zero FPR is ``1 / n_nonmembers``).
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    n_members: int
    n_nonmembers: int

    def area(self) -> float:
        """The area under the curve (AUC): its trapezoids, what scikit-learn's roc_auc_score computes (a test
        holds them equal)."""
        return float(np.trapezoid(self.tpr, self.fpr))

    def tpr_at(self, fpr: float) -> float:
        """TPR at the best threshold whose FPR is <= `fpr` (`fpr` already checked to lie in (0, 1))."""
        return float(self.tpr[self.fpr <= fpr].max())  # the first step (flag nobody) always qualifies


def roc_steps(labels, scores, *, group_ties: bool = True) -> RocCurve:
    """The ROC curve as the steps of a falling threshold: the one ROC primitive of the course.

    Lower the threshold from +inf (flag nobody) through every distinct score, highest first;
    after each step, TPR = flagged members / members and FPR = flagged non-members / non-members.

    Parameters
    ----------
    labels : array-like of int, shape (n_records,)
        1 = member, 0 = non-member; both must occur.
    scores : array-like of float, shape (n_records,)
        Higher = more likely member.
    group_ties : bool, default=True
        Records with equal scores are flagged together (a threshold cannot split them). False
        takes one step per record instead: what a *wrong* implementation computes (exercise
        checks use it to recognise that mistake).

    Returns
    -------
    RocCurve
        ``thresholds[0] = +inf`` with ``(fpr, tpr) = (0, 0)``, then one point per distinct score
        (per record with ``group_ties=False``), ending at (1, 1).

    Examples
    --------
    >>> curve = roc_steps([0, 1, 1, 0], [0.9, 0.8, 0.8, 0.1])
    >>> curve.thresholds.tolist(), curve.fpr.tolist(), curve.tpr.tolist()
    ([inf, 0.9, 0.8, 0.1], [0.0, 0.5, 0.5, 1.0], [0.0, 0.0, 1.0, 1.0])
    """
    labels, scores = check_membership(labels, scores)
    order = np.argsort(-scores, kind="stable")  # highest score (most member-like) first
    s, lab = scores[order], labels[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1] if group_ties else np.arange(len(s))
    n_members = int(lab.sum())
    n_nonmembers = len(lab) - n_members
    tpr = np.r_[0.0, np.cumsum(lab)[last] / n_members]
    fpr = np.r_[0.0, np.cumsum(1 - lab)[last] / n_nonmembers]
    return RocCurve(fpr, tpr, np.r_[np.inf, s[last]], n_members, n_nonmembers)


def roc(labels, scores) -> RocCurve:
    """The full ROC curve of an attack, every threshold kept (`roc_steps` with ties grouped).

    Parameters
    ----------
    labels : array-like of int, shape (n_records,)
        1 = member, 0 = non-member.
    scores : array-like of float, shape (n_records,)
        Higher = more likely member.

    Returns
    -------
    RocCurve

    Raises
    ------
    ValueError
        If `labels` holds only one class, labels are not 0/1, shapes differ, or scores are NaN/inf.

    Examples
    --------
    >>> curve = roc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> curve.fpr.tolist(), curve.tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    return roc_steps(labels, scores)


def check_fprs(fprs, name: str = "fprs") -> tuple:
    """`fprs` as a tuple of distinct FPRs in (0, 1): ``(0.01, 0.001)``, not ``0.01``.

    >>> check_fprs([0.01, 0.001])
    (0.01, 0.001)
    """
    if isinstance(fprs, (numbers.Real, np.generic, str)):
        raise ValueError(
            f"{name} must be a tuple of false-positive rates, e.g. ({fprs!r},), got the single value {fprs!r}."
        )
    try:
        values = tuple(fprs)
    except TypeError:
        raise ValueError(
            f"{name} must be a tuple of false-positive rates such as (0.01, 0.001), got {fprs!r}."
        ) from None
    if not values:
        raise ValueError(f"{name} must name at least one false-positive rate, e.g. (0.01,).")
    checked = tuple(check_fraction(f, "fpr") for f in values)
    if len(set(checked)) != len(checked):
        raise ValueError(f"{name} lists a rate more than once: {list(values)}.")
    return tuple(values)


def auc(labels, scores) -> float:
    """Area under the ROC curve (0.5 = random guessing, 1 = perfect). Same inputs as `roc`."""
    # Computed here rather than by scikit-learn, which would be imported into every lesson for it.
    return roc_steps(labels, scores).area()


def tpr_at_fpr(labels, scores, fpr: float = 1e-3) -> float:
    """Attack true-positive rate at a fixed false-positive rate (Lesson 02).

    Parameters
    ----------
    labels : array-like of int, shape (n_records,)
        Membership truth: 1 = member of the training set, 0 = non-member.
    scores : array-like of float, shape (n_records,)
        One attack score per record; higher = more likely member.
    fpr : float, default=1e-3
        Largest false-positive rate allowed, in (0, 1).

    Returns
    -------
    tpr : float
        Fraction of members flagged at the best threshold whose FPR is <= `fpr`
        (0.0 when even the strictest threshold flags more non-members than that).

    Raises
    ------
    ValueError
        If `labels` holds only one class (no ROC exists), or shapes, values or `fpr` are invalid.

    Notes
    -----
    With n non-members the curve moves in steps of 1/n: with 1,250 non-members, FPR = 0.1%
    means *one* false positive, so report `clopper_pearson` intervals next to such numbers.
    """
    fpr = check_fraction(fpr, "fpr")
    return roc_steps(labels, scores).tpr_at(fpr)


def advantage(labels, scores) -> float:
    """Membership advantage (Yeom et al. 2018): max over thresholds of TPR - FPR, in [0, 1]."""
    curve = roc_steps(labels, scores)
    return float(np.max(curve.tpr - curve.fpr))


def best_balanced_accuracy(labels, scores) -> float:
    """Balanced accuracy (mean of TPR and TNR) at the best threshold, ``(1 + advantage) / 2``.

    This is the *oracle* threshold, chosen with the answers in hand: an upper bound on what an
    attacker who must pick a threshold in advance achieves.
    """
    return 0.5 * (1.0 + advantage(labels, scores))


def clopper_pearson(successes, trials, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval for a rate measured as successes / trials.

    Parameters
    ----------
    successes : int
        E.g. members flagged (for a TPR) or non-members flagged (for an FPR). A float is accepted
        only when it is a whole number up to rounding (``tpr * n``), never rounded silently.
    trials : int
        Members (for a TPR) or non-members (for an FPR); at least 1.
    confidence : float, default=0.95

    Returns
    -------
    (low, high) : tuple of float
        Contains the true rate with probability >= `confidence`.
    """
    if isinstance(successes, (bool, np.bool_)) or not isinstance(successes, numbers.Real):
        raise ValueError(f"successes must be a count (an integer), got {successes!r}.")
    if not isinstance(successes, numbers.Integral):
        if not np.isfinite(successes) or abs(successes - round(successes)) > 1e-6:
            raise ValueError(
                f"successes must be a count (a whole number), got {successes!r}. Pass the number of records "
                "flagged, e.g. round(tpr * n_members) if you start from a rate."
            )
    if isinstance(trials, (bool, np.bool_)) or not isinstance(trials, numbers.Integral):
        raise ValueError(f"trials must be a count (an integer), got {trials!r}.")
    successes, trials = int(round(successes)), int(trials)
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1, got {successes} of {trials}.")
    low, high = clopper_pearson_ends(successes, trials, check_fraction(confidence, "confidence"))
    return float(low), float(high)


def clopper_pearson_ends(successes, trials, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """`clopper_pearson` for arrays of counts at once, which the caller has checked (whole numbers, 0 <= successes
    <= trials, trials >= 1).

    Returns
    -------
    (low, high) : ndarrays of float64, shaped like ``successes`` and ``trials`` broadcast together.
    """
    # The beta quantiles through scipy.special (the function scipy.stats.beta.ppf evaluates, bit for bit; a test
    # holds them equal): importing scipy.stats would add most of a second before a lesson's first table.
    from scipy.special import betaincinv

    k, n = np.asarray(successes, dtype=np.float64), np.asarray(trials, dtype=np.float64)
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore"):  # np.where evaluates both branches; the unused one may be NaN
        low = np.where(k == 0, 0.0, betaincinv(np.maximum(k, 1), n - k + 1, alpha / 2))
        high = np.where(k == n, 1.0, betaincinv(k + 1, np.maximum(n - k, 1), 1 - alpha / 2))
    return low, high


@dataclass(frozen=True)
class AttackSummary:
    """The numbers to report for one attack.

    Attributes
    ----------
    auc, advantage, balanced_accuracy : float
    tpr_at_fpr : dict float -> float
        TPR at each requested FPR.
    tpr_interval : dict float -> (float, float)
        95% Clopper-Pearson interval of each of those TPRs.
    n_members, n_nonmembers : int
    """

    auc: float
    advantage: float
    balanced_accuracy: float
    tpr_at_fpr: dict = field(default_factory=dict)
    tpr_interval: dict = field(default_factory=dict)
    n_members: int = 0
    n_nonmembers: int = 0


def summarize_attack(labels, scores, fprs=(0.01, 0.001)) -> AttackSummary:
    """AUC, advantage, balanced accuracy and TPR at each FPR in `fprs` (with intervals) in one pass."""
    fprs = check_fprs(fprs)
    labels, scores = check_membership(labels, scores)
    curve = roc_steps(labels, scores)
    tprs, intervals = {}, {}
    for f in fprs:
        tpr = curve.tpr_at(f)
        tprs[f] = tpr
        intervals[f] = clopper_pearson(round(tpr * curve.n_members), curve.n_members)
    adv = float(np.max(curve.tpr - curve.fpr))
    return AttackSummary(
        auc=curve.area(),
        advantage=adv,
        balanced_accuracy=0.5 * (1 + adv),
        tpr_at_fpr=tprs,
        tpr_interval=intervals,
        n_members=curve.n_members,
        n_nonmembers=curve.n_nonmembers,
    )


def dp_max_tpr(fpr, epsilon: float, delta: float = 0.0):
    """The highest TPR any membership attack can reach at `fpr` against an (epsilon, delta)-DP model.

    Differential privacy bounds every test between "member" and "non-member" (Kairouz et al. 2015):
    ``TPR <= min(1, e^eps * FPR + delta, 1 - e^-eps * (1 - delta - FPR))``. Lesson 06 draws it under
    measured ROC curves.

    Parameters
    ----------
    fpr : float or array-like of float, in [0, 1]
    epsilon : float, >= 0
    delta : float, in [0, 1)

    Returns
    -------
    float or ndarray of float64, same shape as `fpr`
    """
    f = np.asarray(fpr, dtype=np.float64)
    if np.any(~np.isfinite(f)) or np.any((f < 0) | (f > 1)):
        bad = f[~(np.isfinite(f) & (f >= 0) & (f <= 1))].ravel()[:5].tolist()
        raise ValueError(
            f"fpr must lie in [0, 1], found {bad}. Rates are fractions: 1% is 0.01, not 1."
        )
    try:
        epsilon = check_real(epsilon, "epsilon", minimum=0.0)
    except ValueError:
        raise ValueError(
            f"epsilon must be a finite number >= 0, got {epsilon!r}. Use 0 for perfect privacy; "
            "larger values mean weaker guarantees."
        ) from None
    try:
        delta = check_fraction(delta, "delta", low_open=False)
    except ValueError:
        raise ValueError(
            f"delta must lie in [0, 1), got {delta!r}. Typical values are below 1 / n_records, e.g. 1e-5."
        ) from None
    bound = np.minimum.reduce(
        [np.ones_like(f), np.exp(epsilon) * f + delta, 1 - np.exp(-epsilon) * (1 - delta - f)]
    )
    bound = np.maximum(bound, f)  # never below the random-guess diagonal
    return float(bound) if bound.ndim == 0 else bound
