"""Exercise 06's judges name each usual slip (issue: several got "matches none of the usual slips")."""

import math

import numpy as np
import pytest

from utils.audit_limits import one_run_ceiling
from utils.checks import ex06
from utils.metrics import clopper_pearson

# ----------------------------------------------------------------------------- 6.1 and 6.2


def _tpr_bound(fpr, epsilon, delta, *, sign=-1, pick=min):
    first = math.exp(epsilon) * fpr + delta
    mirror = 1 - math.exp(sign * epsilon) * (1 - delta - fpr)
    return float(max(fpr, min(1.0, pick(first, mirror))))


@pytest.mark.parametrize("slip, named", [
    (lambda fpr, epsilon, delta: _tpr_bound(fpr, epsilon, delta, sign=+1), "wrong sign in its exponent"),
    (lambda fpr, epsilon, delta: _tpr_bound(fpr, epsilon, delta, pick=max), "the larger of the two bounds"),
    (lambda fpr, epsilon, delta: min(1.0, math.exp(epsilon) * fpr + delta), "reverse test"),
])
def test_ex06_q1_names_each_usual_slip(slip, named):
    verdict = ex06.q1.evaluate(slip)
    assert not verdict.passed and named in verdict.message, verdict.message


def _certified(first, mirror, *, use_delta=True, floor_fpr=False):
    """A student's cp_epsilon_lower_bound that picks interval ends with `first` and `mirror`."""
    def student(true_positives, n_members, false_positives, n_nonmembers, delta):
        d = delta if use_delta else 0.0
        tpr = clopper_pearson(true_positives, n_members, 0.95)
        fpr = clopper_pearson(false_positives, n_nonmembers, 0.95)
        if floor_fpr:  # the point estimate, with a tiny number for a zero FPR
            tpr = (true_positives / n_members,) * 2
            fpr = (max(false_positives / n_nonmembers, 1e-12),) * 2
        (t1, f1), (f2, t2) = first(tpr, fpr), mirror(tpr, fpr)
        out = [0.0]
        if t1 - d > 0 and f1 > 0:
            out.append(math.log((t1 - d) / f1))
        if 1 - f2 - d > 0 and t2 < 1:
            out.append(math.log((1 - f2 - d) / (1 - t2)))
        return max(out)
    return student


RIGHT_FIRST = lambda tpr, fpr: (tpr[0], fpr[1])  # noqa: E731 (TPR low, FPR high)
RIGHT_MIRROR = lambda tpr, fpr: (fpr[1], tpr[0])  # noqa: E731


@pytest.mark.parametrize("slip, named", [
    (_certified(lambda t, f: (t[1], f[0]), lambda t, f: (f[0], t[1])), "pessimistic ends"),
    (_certified(RIGHT_FIRST, lambda t, f: (f[0], t[1])), "the mirror one"),
    (_certified(RIGHT_FIRST, RIGHT_MIRROR, use_delta=False), "delta was left out"),
    (_certified(RIGHT_FIRST, RIGHT_MIRROR, floor_fpr=True), "point estimate"),
])
def test_ex06_q2_names_each_usual_slip(slip, named):
    verdict = ex06.q2.evaluate(slip)
    assert not verdict.passed and named in verdict.message, verdict.message


def test_ex06_q2_student_built_from_the_right_ends_passes():
    assert ex06.q2.evaluate(_certified(RIGHT_FIRST, RIGHT_MIRROR)).passed


# ----------------------------------------------------------------------------- exercise 6.4


def test_ex06_q4_reference_agrees_with_the_library_on_public_and_hidden_cases():
    cases = ex06.q4.public_cases() + ex06.q4.hidden_cases(np.random.default_rng(0))
    for case in cases:
        assert ex06.audit_ceiling(**case) == pytest.approx(one_run_ceiling(case["guesses"], case["confidence"]),
                                                           rel=1e-12, abs=1e-12)
    assert any(case["guesses"] < 5 for case in cases)  # the floor at 0 is checked, publicly and hidden
    assert ex06.q4.evaluate(ex06.audit_ceiling).passed


def _odds(q):
    return math.log(q / (1 - q))


@pytest.mark.parametrize("slip, named", [
    (lambda guesses, confidence: math.log2((q := (1 - confidence) ** (1 / guesses)) / (1 - q)), "base 2"),
    (lambda guesses, confidence: math.log10((q := (1 - confidence) ** (1 / guesses)) / (1 - q)), "base 10"),
    (lambda guesses, confidence: math.log((1 - confidence) ** (1 / guesses)), "log of the odds"),
    (lambda guesses, confidence: _odds(confidence ** (1 / guesses)), "You used the confidence"),
    (lambda guesses, confidence: _odds((1 - confidence) ** (1 / guesses)), "return 0"),
])
def test_ex06_q4_names_each_usual_slip(slip, named):
    verdict = ex06.q4.evaluate(slip)
    assert not verdict.passed and named in verdict.message, verdict.message
