"""The Gaussian-DP curve of a DP-SGD run, and the epsilon that a pair of attack rates implies (Lesson 06)."""

from __future__ import annotations

import math

import numpy as np

from ..validation import (
    check_delta,
    check_fraction,
    check_positive_int,
    check_real,
)

__all__ = [
    "gdp_mu",
    "gdp_max_tpr",
    "epsilon_from_rates",
]


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
    delta = check_delta(delta)
    candidates = [0.0]
    for num, den in ((tpr - delta, fpr), (1.0 - fpr - delta, 1.0 - tpr)):
        if num > 0:
            candidates.append(math.inf if den <= 0 else math.log(num / den))
    return max(candidates)
