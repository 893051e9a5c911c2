"""Checks of single numbers: fractions, reals, counts, seeds, loss thresholds."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_fraction",
    "check_real",
    "check_positive_int",
    "check_seed",
    "check_max_loss",
    "check_delta",
]


def check_fraction(value, name: str, *, low_open=True, high_open=True) -> float:
    """`value` as a float strictly inside (0, 1) (or closed ends as requested)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}.")
    ok_low = value > 0 if low_open else value >= 0
    ok_high = value < 1 if high_open else value <= 1
    if not (ok_low and ok_high):
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(
            f"{name} must lie in {lo}0, 1{hi}, got {value}. Rates are fractions: 1% is 0.01, not 1."
        )
    return float(value)


def check_real(value, name: str, *, minimum: float | None = None, positive: bool = False) -> float:
    """`value` as a finite float (numpy scalars welcome, booleans not), >= `minimum` or > 0 if `positive`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    if positive and not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}.")
    return float(value)


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """`value` as an int >= `minimum` (numpy integers welcome; booleans and floats such as 3.0 are not)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_seed(value, name: str = "seed") -> int:
    """`value` as a seed: an integer in [0, 2**63) (numpy's generators reject negative seeds)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}. Pick any fixed number, e.g. {name}=0.")
    if not 0 <= value < 2**63:
        raise ValueError(f"{name} must be a non-negative integer below 2**63, got {value}.")
    return int(value)


def check_max_loss(max_loss) -> float:
    """A loss threshold in nats: a positive finite number."""
    if isinstance(max_loss, (bool, np.bool_)) or not isinstance(max_loss, (int, float, np.floating, np.integer)) \
            or not np.isfinite(max_loss) or max_loss <= 0:
        raise ValueError(f"max_loss must be a positive number of nats, got {max_loss!r}. Try 0.01.")
    return float(max_loss)


def check_delta(delta) -> float:
    """DP's delta: a probability in [0, 1), typically below 1 / n_records."""
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not 0 <= delta < 1:
        raise ValueError(f"delta must lie in [0, 1), got {delta!r}. Typical values are below 1 / n_records, e.g. 1e-5.")
    return float(delta)
