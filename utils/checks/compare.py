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


def likelihood_ratio_problem(answer, expected: float, target, first, second, *, name: str, sign: str):
    """Judge a per-record Gaussian likelihood-ratio score (LiRA, Lesson 03; U-LiRA, Lesson 10).

    The reference is ``log N(logit(target); fit(logit(first))) - log N(logit(target); fit(logit(second)))``
    with sample standard deviations. Returns None when `answer` matches, else a message that names the
    usual slip (sign, ddof, raw confidences, the ratio instead of its log).

    Parameters
    ----------
    target : float
        The confidence under test.
    first, second : array-like of float
        The shadows' confidences of the two hypotheses (IN / OUT, unlearned / retrained).
    name : str
        The student's function name.
    sign : str
        What to say when the sign is flipped (which difference to take, what a high score means).
    """
    from scipy.stats import norm

    problem = scalar_problem(answer, expected, name=name, what="log-likelihood ratio", rtol=1e-5, atol=1e-6)
    if problem is None or answer.values is None or answer.values.size != 1:
        return problem
    value = float(answer.values.reshape(()))
    p, a, b = (np.asarray(v, dtype=np.float64) for v in (target, first, second))

    def ratio(x, u, v, ddof=1):
        return float(norm.logpdf(x, u.mean(), u.std(ddof=ddof)) - norm.logpdf(x, v.mean(), v.std(ddof=ddof)))

    def logit(q):
        return np.log(q) - np.log1p(-q)

    slips = [
        (-expected, sign),
        (ratio(logit(p), logit(a), logit(b), ddof=0),
         "you used np.std's default (ddof=0); use the sample standard deviation, .std(ddof=1)."),
        (ratio(p, a, b), "you fitted the Gaussians to the raw confidences; first move to the logit scale, "
                         "log(p / (1 - p)), where the shadows' confidences look Gaussian."),
        (float(np.exp(expected)) if expected < 700 else np.inf,
         "you returned the likelihood ratio itself; return its logarithm (the difference of the two log-densities)."),
    ]
    for wrong, message in slips:
        if np.isfinite(wrong) and not np.isclose(wrong, expected, rtol=1e-5, atol=1e-6) \
                and np.isclose(value, wrong, rtol=1e-5, atol=1e-6):
            return f"{message} (Expected {fmt(expected)}, got {fmt(value)}.)"
    return problem
