"""Comparisons that exercise judges share: one value per record, or one number (Lesson 01).

Each returns None when the student's `Answer` matches, or a message that names the function,
says what was expected and what came back, and points at the likely slip.
"""

from __future__ import annotations

import numpy as np

__all__ = ["per_record_problem", "scalar_problem", "fmt"]


def fmt(x) -> str:
    """A number for a message: 4 significant digits, thousands separators for integers."""
    x = float(x)
    if np.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:.4g}"


def per_record_problem(answer, expected, *, name: str, what: str, rtol: float, atol: float, record_hint=None):
    """Check that `answer` holds one value per record, close to `expected`.

    Parameters
    ----------
    answer : Answer
    expected : ndarray of float, shape (n_records,)
    name : str
        The student's function name, for the message.
    what : str
        What one value is, plural ("losses", "scores").
    rtol, atol : float
        Tolerances of ``numpy.isclose``.
    record_hint : callable (i) -> str, optional
        Describes record ``i`` of the inputs in a mismatch message.

    Returns
    -------
    str or None
    """
    n = len(expected)
    values = answer.values
    if values is None:
        return f"`{name}` returned a {answer.type_name}, but it should return a NumPy array of {n:,} {what}."
    if values.ndim == 0:
        return (
            f"`{name}` returned a single number ({fmt(values)}), but there are {n:,} records: return one "
            f"value per record. Did you average with .mean()?"
        )
    if values.ndim == 2 and values.shape[0] == n and values.shape[1] > 1:
        return (
            f"`{name}` returned shape {values.shape}: one value per class. Keep only the entry of each "
            "record's true class, so the result has shape "
            f"({n:,},)."
        )
    if values.ndim != 1:
        return f"`{name}` returned shape {values.shape}, expected ({n:,},). Flatten it with np.ravel(...)."
    if len(values) != n:
        return f"`{name}` returns {len(values):,} {what} but there are {n:,} records."
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = f" (first at record {i:,}{': ' + record_hint(i) if record_hint else ''})"
        return (
            f"{int(bad.sum()):,} of your {what} are NaN or infinite{where}. Large numbers overflow np.exp; "
            "compute in a way that never exponentiates a large positive number."
        )
    close = np.isclose(values, expected, rtol=rtol, atol=atol)
    if close.all():
        return None
    i = int(np.flatnonzero(~close)[0])
    where = f"record {i:,}" + (f" ({record_hint(i)})" if record_hint else "")
    return (
        f"{int((~close).sum()):,} of {n:,} {what} differ from the reference. For {where} the expected value "
        f"is {fmt(expected[i])}, yours is {fmt(values[i])}."
    )


def scalar_problem(answer, expected: float, *, name: str, what: str, rtol: float, atol: float):
    """Check that `answer` is one finite number close to `expected`; None when it is."""
    values = answer.values
    if values is None:
        return f"`{name}` returned a {answer.type_name}, but it should return one number (the {what})."
    if values.size != 1:
        return (
            f"`{name}` returned {values.size:,} numbers (shape {values.shape}), but it should return one number, "
            f"the {what}. Average before you subtract."
        )
    value = float(values.reshape(()))
    if not np.isfinite(value):
        return f"`{name}` returned {value}; the {what} is a finite number."
    if np.isclose(value, expected, rtol=rtol, atol=atol):
        return None
    return f"the expected {what} is {fmt(expected)}, yours is {fmt(value)}."
