"""Tests for utils.audit: known answers (hand-computed Clopper-Pearson and one-run bounds, the GDP
curve's closed form, the exact DP bound), properties a bug would break, and bad input."""

import math

import numpy as np
import pytest
from scipy.stats import binom, norm

from utils import audit
from utils.audit import (
    audit_clopper_pearson,
    audit_one_run,
    cp_epsilon,
    cp_max_epsilon,
    epsilon_from_rates,
    gdp_max_tpr,
    gdp_mu,
    make_canaries,
    naive_epsilon,
    one_run_epsilon,
    one_run_max_epsilon,
    one_run_p_value,
    roc_exceeds_bound,
)


def test_dp_bound_is_the_metrics_one_and_exact_on_a_hand_case():
    assert audit.dp_max_tpr is __import__("utils.metrics").metrics.dp_max_tpr  # reused, not duplicated
    # eps = ln 2, delta = 0.1 at FPR 0.2: min(1, 2 * 0.2 + 0.1, 1 - 0.5 * (1 - 0.1 - 0.2)) = min(0.5, 0.65) = 0.5
    assert audit.dp_max_tpr(0.2, math.log(2), 0.1) == pytest.approx(0.5)
    # and the mirror branch at FPR 0.5: 1 - 0.5 * 0.4 = 0.8 < 2 * 0.5 + 0.1
    assert audit.dp_max_tpr(0.5, math.log(2), 0.1) == pytest.approx(0.8)


def test_gdp_curve_closed_form():
    assert gdp_max_tpr(0.05, 0.0) == pytest.approx(0.05)  # mu = 0: the diagonal
    # Phi(-1.6448536 + 1) = Phi(-0.6448536) = 0.25951
    assert gdp_max_tpr(0.05, 1.0) == pytest.approx(0.259511, abs=1e-5)
    f = np.array([1e-4, 1e-2, 0.3])
    np.testing.assert_allclose(gdp_max_tpr(f, 2.0), norm.cdf(norm.ppf(f) + 2.0))
    assert np.all(np.diff(gdp_max_tpr(np.linspace(0, 1, 11), 1.5)) >= 0)


def test_gdp_mu_matches_the_formula():
    sigma, q, steps = 1.5, 0.2, 45
    assert gdp_mu(sigma, q, steps) == pytest.approx(q * math.sqrt(steps * (math.exp(sigma ** -2) - 1)))


def test_epsilon_from_rates_hand_cases():
    assert epsilon_from_rates(0.5, 0.1) == pytest.approx(math.log(5))
    assert epsilon_from_rates(0.9, 0.5) == pytest.approx(math.log(0.5 / 0.1))  # mirror: (1 - FPR) / (1 - TPR)
    assert epsilon_from_rates(0.3, 0.3) == 0.0
    assert epsilon_from_rates(0.5, 0.0) == math.inf
    assert epsilon_from_rates(0.5, 0.1, delta=0.1) == pytest.approx(math.log(4))


def test_cp_epsilon_hand_case():
    # 100/100 members flagged, 0/100 non-members: TPR >= 0.025^(1/100), FPR <= 1 - 0.025^(1/100)
    low = 0.025 ** (1 / 100)
    assert cp_epsilon(100, 100, 0, 100) == pytest.approx(math.log(low / (1 - low)), rel=1e-6)
    assert cp_max_epsilon(100, 100) == pytest.approx(3.281, abs=1e-3)
    # more records certify more; a worse attack certifies less
    assert cp_max_epsilon(1000, 1000) > cp_max_epsilon(100, 100)
    assert cp_epsilon(50, 100, 5, 100) < cp_epsilon(50, 100, 1, 100)
    assert cp_epsilon(10, 100, 10, 100) == 0.0


def test_one_run_hand_cases():
    # delta = 0 and all r guesses right: p-value q^r, so the bound solves q^r = 0.05
    for r in (10, 64):
        q = 0.05 ** (1 / r)
        assert one_run_epsilon(r, r, r) == pytest.approx(math.log(q / (1 - q)), abs=1e-6)
    assert one_run_epsilon(10, 10, 10) == pytest.approx(1.0519, abs=1e-4)
    # p-value at eps = 0 is a fair-coin tail
    assert one_run_p_value(20, 20, 15, 0.0) == pytest.approx(binom.sf(14, 20, 0.5))
    # too few correct guesses certify nothing; delta only weakens the bound
    assert one_run_epsilon(100, 50, 25) == 0.0
    assert one_run_epsilon(1000, 100, 95, delta=1e-4) < one_run_epsilon(1000, 100, 95)
    assert one_run_max_epsilon(256, 128, 1e-5) > one_run_max_epsilon(128, 64, 1e-5) > 2.0


def test_one_run_p_value_delta_term_hand_case():
    # m = r = v = 2, eps = 0, delta = 0.01: beta = 1/4; alpha = max(P[B=1]/1, P[0<=B<2]/2) = max(1/2, 3/8)
    assert one_run_p_value(2, 2, 2, 0.0, 0.01) == pytest.approx(0.25 + 0.5 * 0.01 * 2 * 2)


def test_audits_on_separable_and_random_scores():
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(400), np.zeros(400)].astype(int)
    perfect = labels + rng.normal(0, 0.01, 800)
    result = audit_clopper_pearson(labels, perfect)
    assert result.epsilon == pytest.approx(result.max_epsilon)
    assert result.n_members + result.n_nonmembers == 400  # evaluated on the other half only
    random = rng.normal(size=800)
    assert audit_clopper_pearson(labels, random, seed=1).epsilon < 1.0
    included = rng.integers(0, 2, 200)
    audit_perfect = audit_one_run(included, included + rng.normal(0, 0.01, 200))
    assert audit_perfect.correct == audit_perfect.guesses == 100
    assert audit_perfect.epsilon == pytest.approx(audit_perfect.max_epsilon)
    assert audit_one_run(included, rng.normal(size=200)).epsilon < 1.0
    # swapping the score's direction makes every guess wrong
    assert audit_one_run(included, -included + rng.normal(0, 0.01, 200)).correct == 0


def test_naive_estimate_is_biased_up_where_the_interval_is_not():
    """Random scores: no leak at all. The point estimate still reports epsilon > 0; the audit does not."""
    rng = np.random.default_rng(3)
    labels = np.r_[np.ones(100), np.zeros(100)].astype(int)
    naive = [naive_epsilon(labels, rng.normal(size=200)) for _ in range(20)]
    audits = [audit_clopper_pearson(labels, rng.normal(size=200), seed=i).epsilon for i in range(20)]
    assert np.median(naive) > 0.5
    assert max(audits) == 0.0


def test_roc_exceeds_bound():
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(2000), np.zeros(2000)].astype(int)
    strong = labels * 4.0 + rng.normal(size=4000)
    assert roc_exceeds_bound(labels, strong, epsilon=1.0)
    assert not roc_exceeds_bound(labels, strong, epsilon=20.0)
    assert not roc_exceeds_bound(labels, rng.normal(size=4000), epsilon=0.5)


def test_make_canaries():
    X = np.arange(200, dtype=np.float32).reshape(100, 2)
    y = np.arange(100) % 10
    Xc, yc, inc = make_canaries(X, y, 40, seed=0)
    assert Xc.shape == (40, 2) and yc.dtype == np.int64 and set(np.unique(inc)) <= {0, 1}
    original = y[(Xc[:, 0] / 2).astype(int)]
    assert np.all(yc != original)  # every canary is mislabelled
    assert 10 < inc.sum() < 30
    np.testing.assert_array_equal(make_canaries(X, y, 40, seed=0)[1], yc)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: one_run_epsilon(10, 20, 5), "v <= guesses r <= canaries m"),
        (lambda: one_run_epsilon(10, 5, True), "correct guesses"),
        (lambda: one_run_p_value(10, 5, 5, 1.0, delta=1.5), "delta must lie in"),
        (lambda: gdp_max_tpr(1.5, 1.0), "fpr must lie in"),
        (lambda: gdp_max_tpr(0.1, float("nan")), "mu"),
        (lambda: audit_clopper_pearson([1, 0, 0], [0.1, 0.2, 0.3]), "at least 2 records"),
        (lambda: audit_one_run([1, 0, 1], [0.1, 0.2]), "entries"),
        (lambda: audit_one_run([1, 0, 1, 0], [1, 2, 3, 4], n_guesses=5), "at most the number of canaries"),
        (lambda: make_canaries(np.zeros((5, 2)), np.zeros(5, int), 6), "at most the 5 records"),
        (lambda: roc_exceeds_bound([1, 0], [np.nan, 1.0], 1.0), "NaN|finite"),
        # before: NaN gave epsilon 0, a rate above 1 or a boolean gave inf, silently
        (lambda: epsilon_from_rates(float("nan"), 0.1), "tpr must be a number"),
        (lambda: epsilon_from_rates(1.5, 0.1), r"tpr must lie in \[0, 1\]"),
        (lambda: epsilon_from_rates(True, 0.1), "tpr must be a number"),
        (lambda: epsilon_from_rates(0.5, -0.1), r"fpr must lie in \[0, 1\]"),
        (lambda: one_run_epsilon(0, 0, 0), "m \\(canaries\\) must be an integer >= 1"),
        # before: numpy's "low >= high", a silent mismatch, NaN canaries
        (lambda: make_canaries(np.zeros((5, 2)), np.zeros(5, int), 2, n_classes=1), "n_classes must be an integer"),
        (lambda: make_canaries(np.zeros((5, 2)), np.zeros(3, int), 2), "one entry per record"),
        (lambda: make_canaries(np.full((5, 2), np.nan), np.zeros(5, int), 2), "NaN"),
        (lambda: make_canaries(np.zeros((5, 2)), np.full(5, 12), 2), "y"),
        (lambda: make_canaries(np.zeros((5, 2)), np.zeros(5, int), 0), "m must be an integer >= 1"),
    ],
)
def test_bad_input_gets_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------- exercise 06's checks
def test_ex06_references_agree_with_the_library():
    from utils.checks import ex06

    for fpr, eps, delta in [(0.01, 1.0, 0.0), (0.5, math.log(2), 0.1), (0.2, 8.0, 1e-5), (0.3, 0.0, 0.0)]:
        assert ex06.dp_max_tpr(fpr, eps, delta) == pytest.approx(float(audit.dp_max_tpr(fpr, eps, delta)))
    for case in ex06.q2.public_cases() + ex06.q2.hidden_cases(np.random.default_rng(0)):
        args = [case[k] for k in ("true_positives", "n_members", "false_positives", "n_nonmembers", "delta")]
        assert ex06.cp_epsilon_lower_bound(*args) == pytest.approx(cp_epsilon(*args), abs=1e-9)


def test_ex06_reference_passes_and_slips_are_named():
    from scipy.stats import beta

    from utils.checks import ex06

    assert ex06.q1.evaluate(ex06.dp_max_tpr).passed
    assert ex06.q2.evaluate(ex06.cp_epsilon_lower_bound).passed
    one_branch = ex06.q1.evaluate(lambda fpr, epsilon, delta: min(1.0, math.exp(epsilon) * fpr + delta))
    assert not one_branch.passed and "reverse test" in one_branch.message

    def point(true_positives, n_members, false_positives, n_nonmembers, delta):
        return epsilon_from_rates(true_positives / n_members, false_positives / n_nonmembers, delta)

    verdict = ex06.q2.evaluate(point)  # inf on the first public case (no false positive)
    assert not verdict.passed and "Clopper-Pearson upper end" in verdict.message
    verdict = ex06.q2.evaluate(lambda **case: point(**case) if case["false_positives"] else 3.0)
    assert not verdict.passed

    def one_sided_95(true_positives, n_members, false_positives, n_nonmembers, delta):
        tp, n1, fp, n0 = true_positives, n_members, false_positives, n_nonmembers
        low = 0.0 if tp == 0 else beta.ppf(0.05, tp, n1 - tp + 1)
        high = 1.0 if fp == n0 else beta.ppf(0.95, fp + 1, n0 - fp)
        return epsilon_from_rates(low, high, delta)

    verdict = ex06.q2.evaluate(one_sided_95)
    assert not verdict.passed and "97.5%" in verdict.message
