"""How well a property attack did: accuracy over victims, its interval, and n_leaked (Lesson 04).

>>> round(n_leaked(0.9, 0.2, 0.5), 3)
2.174
>>> n_leaked(0.5, 0.2, 0.5)
0.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics import clopper_pearson
from ..validation import as_1d, check_fraction

__all__ = ["n_leaked", "PropertyResult", "evaluate_property_attack", "victim_worlds_check", "familywise_interval"]


def n_leaked(accuracy: float, r0: float, r1: float) -> float:
    """How many samples of the training distribution a property attack is worth (Suri & Evans 2022).

    An attacker who could draw `n` records from the victim's training distribution and count the
    group would tell a world of group fraction `r0` from one of `r1` with some accuracy; `n_leaked`
    is the `n` at which that ideal counter matches the attack's `accuracy`:

        n_leaked = log(1 - (2 acc - 1)^2) / log(max(r_lo / r_hi, (1 - r_hi) / (1 - r_lo)))

    with ``r_lo = min(r0, r1)``, ``r_hi = max(r0, r1)`` (the formula is symmetric in the worlds).

    Parameters
    ----------
    accuracy : float in [0, 1]
        Fraction of victims whose world the attack named correctly.
    r0, r1 : float in [0, 1]
        The two worlds' group fractions.

    Returns
    -------
    float
        0 for an attack at or below chance (accuracy <= 0.5) and for identical worlds (no
        number of samples tells them apart); ``inf`` for a perfect attack or for worlds that a
        single record separates (0 vs 1).
    """
    accuracy = check_fraction(accuracy, "accuracy", low_open=False, high_open=False)
    r0 = check_fraction(r0, "r0", low_open=False, high_open=False)
    r1 = check_fraction(r1, "r1", low_open=False, high_open=False)
    low, high = min(r0, r1), max(r0, r1)
    if accuracy <= 0.5 or low == high:
        return 0.0
    if accuracy == 1.0 or (low == 0.0 and high == 1.0):
        return float("inf")
    ratio = max(low / high, (1.0 - high) / (1.0 - low))
    if ratio == 0.0:  # e.g. 0 vs 0.5: one group record proves world 1
        return float("inf")
    return float(np.log(1.0 - (2.0 * accuracy - 1.0) ** 2) / np.log(ratio))


def victim_worlds_check(worlds, n_scores: int | None = None) -> np.ndarray:
    """`worlds` as an int64 array of 0/1 (one per victim), with both worlds present."""
    arr = np.asarray(worlds)
    if arr.ndim != 1:
        raise ValueError(f"worlds must be 1-D, one 0/1 per victim, got shape {arr.shape}.")
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number) or not np.isin(arr, (0, 1)).all():
        raise ValueError(f"worlds must be 0 (world 0) or 1 (world 1) per victim; found {np.unique(arr)[:5].tolist()}.")
    if n_scores is not None and len(arr) != n_scores:
        raise ValueError(
            f"scores and worlds need one entry per victim, but scores has {n_scores} and worlds has {len(arr)}. "
            "Score the same victims, in the same order."
        )
    if len(np.unique(arr)) < 2:
        raise ValueError("worlds holds victims of one world only; an accuracy needs victims of both worlds.")
    return arr.astype(np.int64)


@dataclass(frozen=True)
class PropertyResult:
    """One property attack's figures over held-out victims.

    Attributes
    ----------
    attack : str
    accuracy : float
        Fraction of victims whose world the attack named (score > 0 means world 1).
    ci_low, ci_high : float
        95% Clopper-Pearson interval of the accuracy.
    n_leaked : float
        `n_leaked(accuracy, r0, r1)`.
    n_victims : int
    seconds : float
        Time the attack took (shadows already trained), for the benchmark.
    """

    attack: str
    accuracy: float
    ci_low: float
    ci_high: float
    n_leaked: float
    n_victims: int
    seconds: float = 0.0

    @property
    def error(self) -> tuple[float, float]:
        """Distances from the accuracy down to `ci_low` and up to `ci_high` (for error bars)."""
        return self.accuracy - self.ci_low, self.ci_high - self.accuracy


def evaluate_property_attack(
    scores, worlds, fractions, *, attack: str = "attack", seconds: float = 0.0
) -> PropertyResult:
    """Accuracy, interval and n_leaked of victim-level `scores` (higher = world 1; > 0 guesses world 1).

    Parameters
    ----------
    scores : array-like of float, shape (n_victims,)
    worlds : array-like of int, shape (n_victims,)
        The true world (0 or 1) of each victim.
    fractions : (float, float)
        The two worlds' group fractions, for n_leaked.
    """
    scores = as_1d(scores, "scores")
    worlds = victim_worlds_check(worlds, len(scores))
    r0, r1 = (check_fraction(f, "fractions", low_open=False, high_open=False) for f in fractions)
    correct = int(((scores > 0).astype(np.int64) == worlds).sum())
    accuracy = correct / len(worlds)
    low, high = clopper_pearson(correct, len(worlds))
    return PropertyResult(attack, accuracy, low, high, n_leaked(accuracy, r0, r1), len(worlds), float(seconds))


def familywise_interval(result: PropertyResult, n_tests: int, confidence: float = 0.95) -> tuple[float, float]:
    """`result`'s accuracy interval widened so that `n_tests` such intervals hold *together* (Bonferroni).

    With identical worlds every attack is at chance, yet each 95% interval misses 0.5 one time in
    20: among 15 attacks x settings, at least one misses about half the time (1 - 0.95^15 = 0.54).
    "Every interval contains 0.5" is a claim about the whole family, so each interval is drawn at
    ``1 - (1 - confidence) / n_tests``: all of them contain the truth with probability >= `confidence`.

    >>> r = PropertyResult("a", 83 / 200, *clopper_pearson(83, 200), 0.0, 200)
    >>> r.ci_high < 0.5 < familywise_interval(r, 15)[1]
    True
    """
    if isinstance(n_tests, (bool, np.bool_)) or not isinstance(n_tests, (int, np.integer)) or n_tests < 1:
        raise ValueError(f"n_tests must be a positive count of intervals, got {n_tests!r}.")
    confidence = check_fraction(confidence, "confidence")
    correct = int(round(result.accuracy * result.n_victims))
    return clopper_pearson(correct, result.n_victims, 1.0 - (1.0 - confidence) / int(n_tests))
