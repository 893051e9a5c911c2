"""What an audit can and cannot certify (Lesson 06b).

An audit turns an attack's success into a *lower* bound on epsilon (`utils.audit`). Two limits decide
what such a bound means:

- **The ceiling.** With r guesses, even an attack that gets every one right certifies at most
  `one_run_ceiling(r)`: the epsilon at which r right guesses out of r stop being surprising at 95%.
  Under epsilon-DP a guess is right with probability at most ``p = e^eps / (1 + e^eps)``
  (Steinke, Nasr & Jagielski 2023), so all r right is rejected while ``p^r < 1 - confidence``:

      eps_max(r) = log(q / (1 - q)),   q = (1 - confidence)^(1 / r)

  1,000 perfect guesses certify 5.81; 100 certify 3.49. A model with no privacy at all, audited with
  a few hundred canaries, can therefore *never* show an epsilon above 4 or so: **a low audited
  epsilon is not evidence of privacy**; it may only be evidence of a small audit.
- **The shape of the attack.** A Clopper-Pearson audit asks only that one threshold's (TPR, FPR) be
  consistent with (epsilon, delta)-DP. If the attack's trade-off curve is Gaussian, as it is close to
  for DP-SGD (Nasr et al. 2023, "Tight auditing of differentially private machine learning"), the same
  counts give a mu-Gaussian-DP lower bound ``mu >= Phi^-1(TPR_low) - Phi^-1(FPR_high)``, and that mu
  implies a far larger epsilon at the same delta (`gdp_audit_epsilon`). It is an *estimate*, not a
  certificate: it holds only as far as the Gaussian assumption does.
"""

from __future__ import annotations

import math

import numpy as np

from .audit import one_run_max_epsilon
from .metrics import clopper_pearson
from .validation import check_fraction, check_positive_int

__all__ = ["one_run_ceiling", "ceiling_table", "gdp_mu_lower", "gdp_audit_epsilon"]


def one_run_ceiling(guesses, confidence: float = 0.95) -> float | np.ndarray:
    """The most epsilon `guesses` correct guesses can certify at `confidence` (delta = 0), in nats.

    Parameters
    ----------
    guesses : int or array-like of int >= 1
        Guesses the auditor makes (canaries it does not abstain on), all of them right.
    confidence : float in (0, 1), default=0.95

    Returns
    -------
    float, or ndarray of float64 of the shape of `guesses`
        ``log(q / (1 - q))`` with ``q = (1 - confidence)^(1 / guesses)``, or 0 where that is negative
        (at 95%, fewer than 5 guesses certify nothing: 4 right out of 4 happen by chance 6% of the time).

    Examples
    --------
    >>> round(one_run_ceiling(1000), 3), round(one_run_ceiling(10), 4)
    (5.809, 1.0519)
    """
    confidence = check_fraction(confidence, "confidence")
    r = np.asarray(guesses)
    if r.dtype == bool or not np.issubdtype(r.dtype, np.integer) or r.size == 0 or np.any(r < 1):
        raise ValueError(f"guesses must be whole numbers >= 1 (how many canaries the auditor guesses on), "
                         f"got {guesses!r}.")
    log_q = math.log(1.0 - confidence) / r.astype(np.float64)  # log q, below 0
    out = np.maximum(log_q - np.log(-np.expm1(log_q)), 0.0)  # log(q / (1 - q)), stable for large r
    return float(out) if out.ndim == 0 else out


def ceiling_table(guesses=(10, 100, 1000, 10_000, 100_000), *, canaries=None, delta: float = 1e-5,
                  confidence: float = 0.95) -> list[dict]:
    """One row per guess count: the ceiling at delta = 0 (closed form) and at `delta` (Theorem 5.2).

    Parameters
    ----------
    guesses : sequence of int
    canaries : sequence of int, default: as many canaries as guesses
        With delta > 0 the bound depends on the number of canaries m too (its delta term is 2 m delta).
    delta, confidence : float

    Returns
    -------
    list of dict with keys ``guesses``, ``canaries``, ``max_epsilon`` (delta = 0) and
    ``max_epsilon_delta`` (at `delta`).
    """
    guesses = [check_positive_int(r, "guesses") for r in guesses]
    canaries = guesses if canaries is None else [check_positive_int(m, "canaries") for m in canaries]
    if len(canaries) != len(guesses):
        raise ValueError(f"canaries needs one entry per guess count ({len(guesses)}), got {len(canaries)}.")
    rows = []
    for r, m in zip(guesses, canaries):
        if r > m:
            raise ValueError(f"an auditor cannot make {r} guesses on {m} canaries; use guesses <= canaries.")
        rows.append({"guesses": r, "canaries": m, "max_epsilon": one_run_ceiling(r, confidence),
                     "max_epsilon_delta": one_run_max_epsilon(m, r, delta, confidence)})
    return rows


def gdp_mu_lower(true_positives: int, n_members: int, false_positives: int, n_nonmembers: int,
                 confidence: float = 0.95) -> float:
    """A lower bound on mu from one test's counts, if its trade-off curve is Gaussian (Nasr et al. 2023).

    ``mu >= Phi^-1(TPR_low) - Phi^-1(FPR_high)`` with the Clopper-Pearson ends (each one-sided at
    ``(1 + confidence) / 2``), floored at 0.
    """
    from scipy.special import ndtri

    tpr_low, _ = clopper_pearson(true_positives, n_members, confidence)
    _, fpr_high = clopper_pearson(false_positives, n_nonmembers, confidence)
    if tpr_low <= 0.0 or fpr_high >= 1.0:
        return 0.0
    return max(0.0, float(ndtri(tpr_low) - ndtri(fpr_high)))


def gdp_audit_epsilon(true_positives: int, n_members: int, false_positives: int, n_nonmembers: int,
                      delta: float = 1e-5, confidence: float = 0.95) -> float:
    """The epsilon at `delta` of the mu that `gdp_mu_lower` certifies: an audit's Gaussian-DP estimate.

    The (epsilon, delta) pairs of mu-GDP are ``delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2)``
    (Dong, Roth & Su 2019); Opacus's `eps_from_mu` inverts it.

    Examples
    --------
    All 100 members flagged and none of 100 non-members: Clopper-Pearson certifies 3.28 (delta 0), while
    the Gaussian assumption turns the same counts into mu >= 3.59, i.e. epsilon 21 at delta 1e-5:

    >>> round(gdp_audit_epsilon(100, 100, 0, 100), 2)
    21.12
    """
    from opacus.accountants.analysis.gdp import eps_from_mu

    delta = check_fraction(delta, "delta")
    mu = gdp_mu_lower(true_positives, n_members, false_positives, n_nonmembers, confidence)
    return 0.0 if mu <= 0.0 else float(eps_from_mu(mu=mu, delta=delta))
