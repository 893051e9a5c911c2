"""What differential privacy promises about attacks, and empirical audits that test the promise (Lesson 06).

Three kinds of statement, from strongest to weakest:

- **The DP bound** (`utils.metrics.dp_max_tpr`): against an (epsilon, delta)-DP training run, *no*
  membership attack, on *any* data set, beats ``TPR <= e^eps * FPR + delta`` (and its mirror).
- **The Gaussian-DP curve** of one DP-SGD run: its Poisson-subsampled Gaussian steps are close to
  mu-GDP (Bu, Dong, Long & Su 2020, a central-limit approximation, not a bound) with
  ``mu = sample_rate * sqrt(steps * (exp(sigma^-2) - 1))``, and a mu-GDP mechanism allows at most
  ``TPR = Phi(Phi^-1(FPR) + mu)``: much tighter than the (epsilon, delta) bound at low FPR.
- **Audits**: one attacker on one data set gives a *lower* bound on epsilon, with a confidence level:
  - `audit_clopper_pearson` (Jagielski, Ullman & Oprea 2020; Nasr et al. 2021): TPR and FPR of a
    threshold chosen on one half of the records, measured on the other half, turned into the
    smallest epsilon consistent with their Clopper-Pearson intervals;
  - `audit_one_run` (Steinke, Nasr & Jagielski 2023): m canaries, each put in the training set with
    probability 1/2, one training run; the auditor guesses IN/OUT for some canaries and the
    number of correct guesses gives epsilon at 95%.

Each audit can certify at most some epsilon with a given number of records, even against a model
that leaks everything (`cp_max_epsilon`, `one_run_max_epsilon`): a small audit cannot show a large
epsilon, which is one reason an audit's epsilon sits below the accountant's.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .metrics import clopper_pearson, clopper_pearson_ends, dp_max_tpr, roc
from .validation import (
    check_features_labels,
    check_fraction,
    check_membership,
    check_positive_int,
    check_real,
    check_seed,
)

__all__ = [
    "dp_max_tpr",
    "gdp_mu",
    "gdp_max_tpr",
    "epsilon_from_rates",
    "cp_epsilon",
    "cp_max_epsilon",
    "CPAudit",
    "audit_clopper_pearson",
    "naive_epsilon",
    "roc_exceeds_bound",
    "one_run_p_value",
    "one_run_epsilon",
    "one_run_max_epsilon",
    "OneRunAudit",
    "audit_one_run",
    "make_canaries",
    "small_audits",
]


def _check_delta(delta) -> float:
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not 0 <= delta < 1:
        raise ValueError(f"delta must lie in [0, 1), got {delta!r}. Typical values are below 1 / n_records, e.g. 1e-5.")
    return float(delta)


def gdp_mu(noise_multiplier: float, sample_rate: float, steps: int) -> float:
    """mu of the Gaussian-DP approximation of DP-SGD (Opacus's `compute_mu_poisson`).

    ``mu = sample_rate * sqrt(steps * (exp(noise_multiplier^-2) - 1))``; 0 means no leak at all.
    """
    from opacus.accountants.analysis.gdp import compute_mu_poisson

    noise_multiplier = check_real(noise_multiplier, "noise_multiplier", positive=True)
    sample_rate = check_fraction(sample_rate, "sample_rate", high_open=False)
    steps = check_positive_int(steps, "steps")
    return float(compute_mu_poisson(steps=steps, noise_multiplier=noise_multiplier, sample_rate=sample_rate))


def gdp_max_tpr(fpr, mu: float):
    """Highest TPR at `fpr` against a mu-GDP mechanism: ``Phi(Phi^-1(fpr) + mu)``.

    Parameters
    ----------
    fpr : float or array-like of float in [0, 1]
    mu : float >= 0

    Returns
    -------
    float or ndarray of float64, same shape as `fpr`

    Examples
    --------
    >>> round(gdp_max_tpr(0.5, 0.0), 6), round(gdp_max_tpr(0.05, 1.0), 4)
    (0.5, 0.2595)
    """
    f = np.asarray(fpr, dtype=np.float64)
    if np.any(~np.isfinite(f)) or np.any((f < 0) | (f > 1)):
        raise ValueError("fpr must lie in [0, 1]. Rates are fractions: 1% is 0.01, not 1.")
    mu = check_real(mu, "mu", minimum=0.0)
    from scipy.stats import norm  # here, not at the top: scipy.stats takes most of a second to import

    out = norm.cdf(norm.ppf(f) + mu)
    return float(out) if out.ndim == 0 else out


def epsilon_from_rates(tpr: float, fpr: float, delta: float = 0.0) -> float:
    """The smallest epsilon an (epsilon, delta)-DP run needs to allow a test with these rates.

    DP forces ``TPR <= e^eps FPR + delta`` and ``1 - FPR <= e^eps (1 - TPR) + delta`` (Kairouz et al.
    2015), so ``eps >= max(log((TPR - delta) / FPR), log((1 - FPR - delta) / (1 - TPR)), 0)``.
    Returns ``inf`` when a rate of 0 makes a ratio unbounded.
    """
    tpr = check_fraction(tpr, "tpr", low_open=False, high_open=False)
    fpr = check_fraction(fpr, "fpr", low_open=False, high_open=False)
    delta = _check_delta(delta)
    candidates = [0.0]
    for num, den in ((tpr - delta, fpr), (1.0 - fpr - delta, 1.0 - tpr)):
        if num > 0:
            candidates.append(math.inf if den <= 0 else math.log(num / den))
    return max(candidates)


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
    delta = _check_delta(delta)
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
    delta = _check_delta(delta)
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
    delta = _check_delta(delta)
    confidence = check_fraction(confidence, "confidence")
    curve = roc(labels, scores)
    n_points = len(curve.tpr) - 1
    per_point = 1.0 - (1.0 - confidence) / max(n_points, 1)
    tpr_low, _ = clopper_pearson_ends(np.rint(curve.tpr[1:] * curve.n_members), curve.n_members, per_point)
    _, fpr_high = clopper_pearson_ends(np.rint(curve.fpr[1:] * curve.n_nonmembers), curve.n_nonmembers, per_point)
    return bool(np.any(tpr_low > dp_max_tpr(fpr_high, epsilon, delta) + 1e-12))


# --------------------------------------------------------------------- one-run audit (Steinke et al. 2023)


def _check_counts(m, r, v):
    m, r = check_positive_int(m, "m (canaries)"), check_positive_int(r, "r (guesses)")
    v = check_positive_int(v, "v (correct guesses)", minimum=0)
    if not v <= r <= m:
        raise ValueError(f"need correct guesses v <= guesses r <= canaries m, got v={v}, r={r}, m={m}.")
    return m, r, v


def one_run_p_value(m: int, r: int, v: int, epsilon: float, delta: float = 0.0) -> float:
    """Probability of >= `v` correct guesses out of `r` if the run were (epsilon, delta)-DP.

    Steinke, Nasr & Jagielski (2023), Theorem 5.2: with m canaries each included with probability
    1/2, the number of correct guesses is dominated by Binomial(r, e^eps / (1 + e^eps)), plus a
    delta term ``2 m delta max_i P[v - i <= Binomial < v] / i``.
    """
    m, r, v = _check_counts(m, r, v)
    epsilon = check_real(epsilon, "epsilon", minimum=0.0)
    delta = _check_delta(delta)
    q = 1.0 / (1.0 + math.exp(-epsilon))
    from scipy.stats import binom  # here, not at the top: scipy.stats takes most of a second to import

    p = float(binom.sf(v - 1, r, q))  # P[Binomial(r, q) >= v]
    if delta > 0 and v > 0:
        below = np.cumsum(binom.pmf(v - np.arange(1, v + 1), r, q))  # P[v - i <= B < v], i = 1..v
        p += 2.0 * m * delta * float(np.max(below / np.arange(1, v + 1)))
    return min(p, 1.0)


def one_run_epsilon(m: int, r: int, v: int, delta: float = 0.0, confidence: float = 0.95) -> float:
    """The largest epsilon rejected at `confidence` by `v` correct guesses of `r` (0 if none is).

    Examples
    --------
    Ten guesses, all right, delta = 0: the bound solves ``q^10 = 0.05`` for ``q = 1 / (1 + e^-eps)``.

    >>> round(one_run_epsilon(10, 10, 10), 4)
    1.0519
    """
    m, r, v = _check_counts(m, r, v)
    alpha = 1.0 - check_fraction(confidence, "confidence")
    if one_run_p_value(m, r, v, 0.0, delta) >= alpha:
        return 0.0
    low, high = 0.0, 1.0
    while one_run_p_value(m, r, v, high, delta) < alpha:
        low, high = high, 2 * high
        if high > 1e3:
            return math.inf
    for _ in range(60):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if one_run_p_value(m, r, v, mid, delta) < alpha else (low, mid)
    return low


def one_run_max_epsilon(m: int, r: int, delta: float = 0.0, confidence: float = 0.95) -> float:
    """The largest epsilon a one-run audit with `r` guesses among `m` canaries can certify (all correct)."""
    return one_run_epsilon(m, r, r, delta, confidence)


@dataclass(frozen=True)
class OneRunAudit:
    """A one-run audit: epsilon >= `epsilon` with probability `confidence`.

    Attributes
    ----------
    epsilon, max_epsilon : float
        The certified bound, and what all-correct guesses would certify.
    m, guesses, correct : int
        Canaries, guesses made (the rest abstain), correct guesses.
    confidence : float
    """

    epsilon: float
    max_epsilon: float
    m: int
    guesses: int
    correct: int
    confidence: float


def audit_one_run(included, scores, *, n_guesses: int | None = None, delta: float = 0.0,
                  confidence: float = 0.95) -> OneRunAudit:
    """Steinke et al.'s one-run audit from canary scores.

    Parameters
    ----------
    included : array-like of int, shape (m,)
        1 where the canary was put in the training set (each with probability 1/2), else 0.
    scores : array-like of float, shape (m,)
        Attack score of each canary; higher = more likely included.
    n_guesses : int, default ``m // 2``
        Fixed *before* looking at the scores: the top ``n_guesses // 2`` are guessed IN, the
        bottom ``n_guesses - n_guesses // 2`` OUT, the rest abstain.
    delta, confidence : float

    Returns
    -------
    OneRunAudit
    """
    included, scores = check_membership(included, scores, labels_name="included")
    m = len(included)
    n_guesses = m // 2 if n_guesses is None else check_positive_int(n_guesses, "n_guesses")
    if n_guesses > m:
        raise ValueError(f"n_guesses must be at most the number of canaries ({m}), got {n_guesses}.")
    order = np.argsort(scores, kind="stable")
    k_in = n_guesses // 2
    guessed_out, guessed_in = order[: n_guesses - k_in], order[m - k_in :] if k_in else order[:0]
    correct = int(included[guessed_in].sum() + (1 - included[guessed_out]).sum())
    return OneRunAudit(
        epsilon=one_run_epsilon(m, n_guesses, correct, delta, confidence),
        max_epsilon=one_run_max_epsilon(m, n_guesses, delta, confidence),
        m=m, guesses=n_guesses, correct=correct, confidence=confidence,
    )


def make_canaries(X, y, m: int, *, n_classes: int = 10, mislabel: bool = True, seed: int = 0):
    """m mislabelled canaries from ``(X, y)``, each included with probability 1/2 (Lesson 06's audit).

    A wrong label is what a model can only learn by memorising that one record, so the canary's
    loss tells IN from OUT far better than an ordinary record's does. ``mislabel=False`` keeps the true
    labels: *natural* canaries, the same records and draws (Lesson 06b compares the two designs).

    Returns
    -------
    X_canary : ndarray, shape (m, ...)
        Copies of m randomly chosen records.
    y_canary : ndarray of int64, shape (m,)
        A wrong label for each (uniform over the other classes), or the true one if not `mislabel`.
    included : ndarray of int64, shape (m,)
        1 for the canaries to add to the training set.
    """
    n_classes = check_positive_int(n_classes, "n_classes", minimum=2)  # a wrong label needs another class
    X, y = check_features_labels(X, y, n_classes=n_classes)
    m = check_positive_int(m, "m")
    if m > len(y):
        raise ValueError(f"m must be at most the {len(y)} records available, got {m}.")
    rng = np.random.default_rng(check_seed(seed))
    pick = rng.choice(len(y), size=m, replace=False)
    shift = rng.integers(1, n_classes, size=m) * bool(mislabel)  # drawn either way: same picks, same inclusion
    return X[pick].copy(), ((y[pick] + shift) % n_classes).astype(np.int64), (rng.random(m) < 0.5).astype(np.int64)


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
