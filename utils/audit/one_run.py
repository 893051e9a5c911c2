"""Auditing epsilon in one training run with canaries (Steinke, Nasr & Jagielski 2023; Lesson 06)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..validation import (
    check_delta,
    check_features_labels,
    check_fraction,
    check_membership,
    check_positive_int,
    check_real,
    check_seed,
)

__all__ = [
    "one_run_p_value",
    "one_run_epsilon",
    "one_run_max_epsilon",
    "OneRunAudit",
    "audit_one_run",
    "make_canaries",
]


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
    delta = check_delta(delta)
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
