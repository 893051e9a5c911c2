"""Tests for utils.metrics: known answers (closed-form Gaussian ROC, perfect and random scorers,
brute-force counts on tiny data, textbook Clopper-Pearson values, the DP bound) and bad input."""

import re
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binom, multivariate_normal, norm

from utils import metrics
from utils.metrics import (
    advantage,
    auc,
    best_balanced_accuracy,
    clopper_pearson,
    dp_max_tpr,
    roc,
    summarize_attack,
    tpr_at_fpr,
)

N_GAUSS = 50_000  # records per class for the closed-form checks


def gaussian_attack(mu, n=N_GAUSS, seed=0):
    """Members score N(mu, 1), non-members N(0, 1); members first."""
    rng = np.random.default_rng(seed)
    scores = np.concatenate([rng.normal(mu, 1.0, n), rng.normal(0.0, 1.0, n)])
    labels = np.concatenate([np.ones(n, np.int64), np.zeros(n, np.int64)])
    return labels, scores


def brute_force_roc_points(labels, scores):
    """(fpr, tpr) for every threshold 'flag score >= t', plus the flag-nothing point; no sklearn."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    points = [(0.0, 0.0)]
    for t in np.unique(scores):
        flagged = scores >= t
        points.append((flagged[labels == 0].mean(), flagged[labels == 1].mean()))
    return np.array(points)


# ----------------------------------------------------------------------------- closed-form Gaussian ROC


@pytest.mark.parametrize("mu", [0.5, 1.0, 2.0])
def test_auc_of_equal_variance_gaussians_is_phi_of_mu_over_sqrt2(mu):
    labels, scores = gaussian_attack(mu)
    expected = norm.cdf(mu / np.sqrt(2))
    # DeLong: Var(AUC) = Var(Phi(X)) / n1 + Var(Phi(-Y + mu)) / n0 with X ~ N(mu, 1), Y ~ N(0, 1);
    # both equal P(Z1 < X, Z2 < X) - A^2, a bivariate normal CDF with correlation 1/2.
    both = multivariate_normal(mean=[0, 0], cov=[[1, 0.5], [0.5, 1]]).cdf([mu / np.sqrt(2)] * 2)
    tol = 5 * np.sqrt(2 * (both - expected**2) / N_GAUSS)
    assert auc(labels, scores) == pytest.approx(expected, abs=tol)


@pytest.mark.parametrize("mu, fpr", [(1.0, 0.1), (1.0, 0.01), (2.0, 0.01), (2.0, 0.001)])
def test_tpr_at_fpr_of_gaussians_matches_closed_form(mu, fpr):
    labels, scores = gaussian_attack(mu, seed=1)
    z = norm.ppf(1 - fpr)
    expected = 1 - norm.cdf(z - mu)
    # Delta method: TPR's own binomial noise plus the threshold's noise times the ROC slope.
    slope = norm.pdf(z - mu) / norm.pdf(z)
    sd = np.sqrt(expected * (1 - expected) / N_GAUSS + slope**2 * fpr * (1 - fpr) / N_GAUSS)
    tol = 5 * sd + slope / N_GAUSS  # plus one step of the empirical curve
    assert tpr_at_fpr(labels, scores, fpr=fpr) == pytest.approx(expected, abs=tol)


@pytest.mark.parametrize("mu", [1.0, 2.0])
def test_advantage_of_gaussians_is_2_phi_mu_over_2_minus_1(mu):
    labels, scores = gaussian_attack(mu, seed=2)
    expected = 2 * norm.cdf(mu / 2) - 1  # best threshold halfway between the means
    assert advantage(labels, scores) == pytest.approx(expected, abs=0.015)
    assert best_balanced_accuracy(labels, scores) == pytest.approx(norm.cdf(mu / 2), abs=0.0075)


def test_roc_curve_of_gaussians_follows_closed_form_along_its_length():
    labels, scores = gaussian_attack(1.5, seed=3)
    curve = roc(labels, scores)
    grid = np.array([0.001, 0.01, 0.05, 0.2, 0.5, 0.8])
    measured = np.interp(grid, curve.fpr, curve.tpr)
    expected = 1 - norm.cdf(norm.ppf(1 - grid) - 1.5)
    np.testing.assert_allclose(measured, expected, atol=0.03)
    assert curve.n_members == N_GAUSS and curve.n_nonmembers == N_GAUSS


# ----------------------------------------------------------------------------- perfect, inverted, random, constant


def test_perfect_scorer_gets_every_metric_at_its_maximum():
    rng = np.random.default_rng(0)
    labels = rng.permutation(np.r_[np.ones(500), np.zeros(1000)]).astype(int)
    scores = labels + rng.uniform(0, 0.9, len(labels))  # members always above non-members
    assert auc(labels, scores) == 1.0
    for f in (1e-4, 1e-3, 0.01, 0.5):
        assert tpr_at_fpr(labels, scores, fpr=f) == 1.0
    assert advantage(labels, scores) == 1.0
    assert best_balanced_accuracy(labels, scores) == 1.0


def test_inverted_perfect_scorer_gets_zero():
    rng = np.random.default_rng(1)
    labels = rng.permutation(np.r_[np.ones(500), np.zeros(1000)]).astype(int)
    scores = -(labels + rng.uniform(0, 0.9, len(labels)))  # members always *below*
    assert auc(labels, scores) == 0.0
    assert tpr_at_fpr(labels, scores, fpr=0.01) == 0.0
    assert advantage(labels, scores) == 0.0  # flagging nobody is always allowed


def test_random_scores_give_tpr_equal_to_fpr_and_auc_one_half():
    n = 20_000
    rng = np.random.default_rng(2)
    labels = np.r_[np.ones(n, int), np.zeros(n, int)]
    scores = rng.uniform(size=2 * n)
    assert tpr_at_fpr(labels, scores, fpr=0.01) == pytest.approx(0.01, abs=0.005)
    assert tpr_at_fpr(labels, scores, fpr=0.1) == pytest.approx(0.1, abs=0.015)
    # Null standard deviation of the AUC: sqrt((n0 + n1 + 1) / (12 n0 n1)) ~= 0.0029.
    assert auc(labels, scores) == pytest.approx(0.5, abs=0.015)
    assert advantage(labels, scores) < 0.03


def test_constant_scores_cannot_beat_random_guessing():
    labels = np.r_[np.ones(50, int), np.zeros(50, int)]
    scores = np.full(100, 0.3)
    assert auc(labels, scores) == 0.5
    assert tpr_at_fpr(labels, scores, fpr=0.5) == 0.0  # one threshold: flag all or nobody
    assert advantage(labels, scores) == 0.0


# ----------------------------------------------------------------------------- symmetries and invariances


def test_flipping_score_sign_gives_one_minus_auc():
    labels, scores = gaussian_attack(0.8, n=2000, seed=4)
    assert auc(labels, -scores) == pytest.approx(1 - auc(labels, scores), abs=1e-12)


def test_swapping_member_labels_makes_the_attack_worse():
    labels, scores = gaussian_attack(1.0, n=2000, seed=5)
    assert auc(1 - labels, scores) == pytest.approx(1 - auc(labels, scores), abs=1e-12)
    assert tpr_at_fpr(1 - labels, scores, 0.01) < tpr_at_fpr(labels, scores, 0.01)


def test_metrics_are_invariant_to_monotone_transforms_of_scores():
    labels, scores = gaussian_attack(1.0, n=2000, seed=6)
    squashed = 1 / (1 + np.exp(-scores))  # a sigmoid keeps the order
    assert auc(labels, squashed) == pytest.approx(auc(labels, scores), abs=1e-12)
    assert tpr_at_fpr(labels, squashed, 0.01) == tpr_at_fpr(labels, scores, 0.01)
    assert advantage(labels, squashed) == pytest.approx(advantage(labels, scores), abs=1e-12)


def test_tpr_at_fpr_is_monotone_in_fpr():
    labels, scores = gaussian_attack(1.0, n=3000, seed=7)
    fprs = np.logspace(-4, -0.01, 60)
    tprs = np.array([tpr_at_fpr(labels, scores, f) for f in fprs])
    assert np.all(np.diff(tprs) >= 0)
    assert tprs[0] < tprs[-1]


# ----------------------------------------------------------------------------- tiny hand-checked examples


def test_roc_docstring_example():
    curve = roc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert curve.fpr.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert curve.tpr.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert np.all(np.diff(curve.thresholds) < 0) and np.isinf(curve.thresholds[0])
    assert (curve.n_members, curve.n_nonmembers) == (2, 2)


def test_tiny_example_by_hand():
    labels, scores = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    assert tpr_at_fpr(labels, scores, fpr=0.4) == 0.5  # only 0.8 can be flagged without a false positive
    assert tpr_at_fpr(labels, scores, fpr=0.5) == 1.0
    assert auc(labels, scores) == 0.75  # 3 of the 4 member/non-member pairs are ordered right
    assert advantage(labels, scores) == 0.5


@pytest.mark.parametrize("seed", range(5))
def test_metrics_agree_with_brute_force_counting_on_tied_scores(seed):
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.r_[np.ones(23, int), np.zeros(37, int)])
    scores = rng.integers(0, 8, size=60).astype(float) + 0.5 * labels * rng.integers(0, 2, 60)  # many ties
    points = brute_force_roc_points(labels, scores)
    for f in (0.03, 0.1, 0.25, 0.6):
        assert tpr_at_fpr(labels, scores, fpr=f) == pytest.approx(points[points[:, 0] <= f, 1].max())
    assert advantage(labels, scores) == pytest.approx(np.max(points[:, 1] - points[:, 0]))
    members, nonmembers = scores[labels == 1], scores[labels == 0]
    mann_whitney = np.mean((members[:, None] > nonmembers) + 0.5 * (members[:, None] == nonmembers))
    assert auc(labels, scores) == pytest.approx(mann_whitney)


def test_inputs_may_be_lists_bools_or_torch_tensors():
    import torch

    labels, scores = [False, True, False, True], [0.1, 0.9, 0.2, 0.8]
    assert auc(labels, scores) == 1.0
    assert auc(torch.tensor([0, 1, 0, 1]), torch.tensor(scores)) == 1.0


# ----------------------------------------------------------------------------- Clopper-Pearson


def test_clopper_pearson_textbook_values():
    alpha = 0.05
    # 0 of n: upper end 1 - (alpha/2)^(1/n) (the "rule of three" is its approximation 3/n).
    assert clopper_pearson(0, 10) == pytest.approx((0.0, 1 - (alpha / 2) ** (1 / 10)))
    assert clopper_pearson(0, 10)[1] == pytest.approx(0.3085, abs=1e-4)
    assert clopper_pearson(10, 10) == pytest.approx(((alpha / 2) ** (1 / 10), 1.0))
    assert clopper_pearson(5, 10) == pytest.approx((0.1871, 0.8129), abs=1e-4)
    assert clopper_pearson(1, 1000)[1] == pytest.approx(0.00556, abs=1e-5)


def test_clopper_pearson_is_symmetric_and_contains_the_estimate():
    for k, n in [(0, 7), (3, 7), (7, 7), (13, 250), (1, 1250)]:
        low, high = clopper_pearson(k, n)
        assert 0 <= low <= k / n <= high <= 1
        mirror_low, mirror_high = clopper_pearson(n - k, n)
        assert low == pytest.approx(1 - mirror_high) and high == pytest.approx(1 - mirror_low)


def test_clopper_pearson_narrows_with_less_confidence_and_more_trials():
    wide, narrow = clopper_pearson(30, 100, 0.99), clopper_pearson(30, 100, 0.9)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]
    small, large = clopper_pearson(3, 10), clopper_pearson(300, 1000)
    assert large[1] - large[0] < small[1] - small[0]


@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_clopper_pearson_exact_coverage_is_at_least_nominal(confidence):
    n = 20
    intervals = np.array([clopper_pearson(k, n, confidence) for k in range(n + 1)])
    for p in np.linspace(0.01, 0.99, 99):
        covered = (intervals[:, 0] <= p) & (p <= intervals[:, 1])
        assert binom.pmf(np.arange(n + 1), n, p)[covered].sum() >= confidence - 1e-9, p


def test_clopper_pearson_coverage_in_a_small_simulation():
    rng = np.random.default_rng(0)
    n, p, reps = 50, 0.3, 2000
    intervals = {k: clopper_pearson(k, n) for k in range(n + 1)}
    hits = [intervals[k][0] <= p <= intervals[k][1] for k in rng.binomial(n, p, size=reps)]
    assert np.mean(hits) >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / reps)


@pytest.mark.parametrize(
    "successes, trials, confidence, match",
    [
        (11, 10, 0.95, r"0 <= successes <= trials.*11 of 10"),
        (-1, 10, 0.95, r"0 <= successes <= trials"),
        (0, 0, 0.95, r"trials >= 1"),
        (3, 10, 95, r"confidence must lie in \(0, 1\).*0\.01"),
        (3, 10, 1.0, r"confidence must lie in \(0, 1\)"),
    ],
)
def test_clopper_pearson_rejects_bad_input(successes, trials, confidence, match):
    with pytest.raises(ValueError, match=match):
        clopper_pearson(successes, trials, confidence)


# ----------------------------------------------------------------------------- summary


def test_summarize_attack_agrees_with_the_single_metrics():
    labels, scores = gaussian_attack(1.0, n=1500, seed=8)
    summary = summarize_attack(labels, scores, fprs=(0.1, 0.01))
    assert summary.auc == pytest.approx(auc(labels, scores))
    assert summary.advantage == pytest.approx(advantage(labels, scores))
    assert summary.balanced_accuracy == pytest.approx(best_balanced_accuracy(labels, scores))
    assert (summary.n_members, summary.n_nonmembers) == (1500, 1500)
    for f in (0.1, 0.01):
        tpr = summary.tpr_at_fpr[f]
        assert tpr == tpr_at_fpr(labels, scores, f)
        low, high = summary.tpr_interval[f]
        assert (low, high) == pytest.approx(clopper_pearson(round(tpr * 1500), 1500))
        assert low < tpr < high


# ----------------------------------------------------------------------------- the DP bound


def test_dp_bound_is_e_eps_fpr_plus_delta_at_small_fpr():
    fpr = np.array([1e-5, 1e-4, 1e-3])
    for epsilon, delta in [(0.5, 0.0), (1.0, 1e-5), (4.0, 1e-6)]:
        np.testing.assert_allclose(dp_max_tpr(fpr, epsilon, delta), np.exp(epsilon) * fpr + delta, rtol=1e-12)


def test_dp_bound_known_values_for_epsilon_ln2():
    # e^eps = 2: TPR <= min(1, 2 FPR, 1 - (1 - FPR) / 2)
    assert dp_max_tpr(0.1, np.log(2)) == pytest.approx(0.2)
    assert dp_max_tpr(0.5, np.log(2)) == pytest.approx(0.75)
    assert dp_max_tpr(0.9, np.log(2)) == pytest.approx(0.95)


def test_dp_bound_lies_between_the_diagonal_and_one():
    fpr = np.linspace(0, 1, 201)
    for epsilon, delta in [(0.1, 0.0), (1.0, 1e-3), (8.0, 0.1), (50.0, 0.0)]:
        bound = dp_max_tpr(fpr, epsilon, delta)
        assert bound.shape == fpr.shape
        assert np.all(bound <= 1.0) and np.all(bound >= fpr - 1e-15)
        assert np.all(np.diff(bound) >= -1e-15)  # more false positives never lowers the bound
    assert dp_max_tpr(0.5, 50.0) == 1.0


def test_dp_bound_with_no_privacy_loss_is_the_diagonal():
    fpr = np.linspace(0, 1, 11)
    np.testing.assert_allclose(dp_max_tpr(fpr, 0.0, 0.0), fpr, atol=1e-15)


def test_dp_bound_returns_a_float_for_a_scalar():
    assert isinstance(dp_max_tpr(0.01, 1.0), float)


@pytest.mark.parametrize(
    "fpr, epsilon, delta, match",
    [
        (1.5, 1.0, 0.0, r"fpr must lie in \[0, 1\], found \[1\.5\].*0\.01"),
        ([0.1, -0.2], 1.0, 0.0, r"fpr must lie in \[0, 1\], found \[-0\.2\]"),
        (np.nan, 1.0, 0.0, r"fpr must lie in \[0, 1\]"),
        (0.1, -1.0, 0.0, r"epsilon must be a finite number >= 0, got -1\.0"),
        (0.1, np.inf, 0.0, r"epsilon must be a finite number >= 0"),
        (0.1, 1.0, 1.0, r"delta must lie in \[0, 1\), got 1\.0.*1e-5"),
        (0.1, 1.0, -0.1, r"delta must lie in \[0, 1\)"),
    ],
)
def test_dp_bound_rejects_bad_input(fpr, epsilon, delta, match):
    with pytest.raises(ValueError, match=match):
        dp_max_tpr(fpr, epsilon, delta)


# ----------------------------------------------------------------------------- bad input, every scoring function

SCORERS = {
    "roc": roc,
    "auc": auc,
    "tpr_at_fpr": tpr_at_fpr,
    "advantage": advantage,
    "best_balanced_accuracy": best_balanced_accuracy,
    "summarize_attack": summarize_attack,
}

BAD_INPUTS = [
    ("lengths differ", [0, 1, 0, 1], [0.1, 0.2, 0.3],
     r"labels has 4 entries and scores has 3\. Compute scores on the same records, in the same order"),
    ("scores a column", [0, 1, 0], [[0.1], [0.2], [0.3]], r"scores must be 1-D.*Flatten it with np\.ravel\(scores\)"),
    ("scores per class", [0, 1, 0], np.ones((3, 10)), r"scores must be 1-D.*got shape \(3, 10\).*single number"),
    ("labels 2-D", [[0, 1, 0]], [0.1, 0.2, 0.3], r"labels must be 1-D.*np\.ravel\(labels\)"),
    ("NaN score", [0, 1, 0, 1], [0.1, np.nan, 0.3, 0.4], r"scores contains 1 NaN or infinite.*positions \[1\].*fl"
        r"oat64"),
    ("inf score", [0, 1, 0, 1], [0.1, 0.2, np.inf, -np.inf], r"scores contains 2 NaN or infinite.*drop those records"),
    ("only members", [1, 1, 1], [0.1, 0.2, 0.3], r"labels holds only members \(1\).*Evaluate the attack on a mix"),
    ("only non-members", [0, 0, 0], [0.1, 0.2, 0.3], r"labels holds only non-members \(0\).*mix of both"),
    ("labels -1/+1", [-1, 1, -1], [0.1, 0.2, 0.3], r"found \[-1, 1\]\. If you used -1/\+1, convert with \(labels \+ "
        r"1\) // 2"),
    ("labels 0/2", [0, 2, 0], [0.1, 0.2, 0.3], r"must be 0 \(non-member\) or 1 \(member\); found \[0, 2\]\. Use 1 for"),
    ("labels fractional", [0.5, 1.0, 0.0], [0.1, 0.2, 0.3], r"found \[0\.0, 0\.5, 1\.0\]"),
    ("labels text", ["in", "out", "in"], [0.1, 0.2, 0.3], r"got dtype <U3\. Encode membership as integers"),
    ("scores text", [0, 1, 0], ["a", "b", "c"], r"scores must hold numbers.*np\.asarray\(scores, dtype=float\)"),
]


@pytest.mark.parametrize("name", SCORERS)
@pytest.mark.parametrize("case, labels, scores, match", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_every_scoring_function_rejects_bad_input_with_a_fix(name, case, labels, scores, match):
    with pytest.raises(ValueError, match=match):
        SCORERS[name](labels, scores)


@pytest.mark.parametrize("fpr", [0.0, 1.0, 1.5, 10, -0.01])
def test_fpr_outside_zero_one_is_rejected(fpr):
    labels, scores = [0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4]
    expected = re.escape(f"fpr must lie in (0, 1), got {fpr}. Rates are fractions: 1% is 0.01, not 1.")
    with pytest.raises(ValueError, match=expected):
        tpr_at_fpr(labels, scores, fpr=fpr)
    with pytest.raises(ValueError, match=expected):
        summarize_attack(labels, scores, fprs=(0.1, fpr))


@pytest.mark.parametrize("fpr", [np.nan, "0.01", None, True])
def test_fpr_that_is_not_a_number_is_rejected(fpr):
    with pytest.raises(ValueError, match=r"fpr must be a number in \(0, 1\)"):
        tpr_at_fpr([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], fpr=fpr)


def test_metrics_module_exports_what_it_documents():
    for name in metrics.__all__:
        assert hasattr(metrics, name), name


# ----------------------------------------------------------------------------- issue 8: one ROC primitive, odd input
def test_roc_steps_known_answer_and_equal_to_scikit_learn():
    from sklearn.metrics import roc_curve

    from utils.metrics import roc_steps

    curve = roc_steps([0, 1, 1, 0, 1], [0.9, 0.8, 0.8, 0.1, 0.1])
    assert curve.thresholds.tolist() == [np.inf, 0.9, 0.8, 0.1]
    assert curve.fpr.tolist() == [0.0, 0.5, 0.5, 1.0]
    assert np.allclose(curve.tpr, [0.0, 0.0, 2 / 3, 1.0])
    by_record = roc_steps([0, 1, 1, 0, 1], [0.9, 0.8, 0.8, 0.1, 0.1], group_ties=False)
    assert len(by_record.fpr) == 6 and np.allclose(by_record.tpr, [0, 0, 1 / 3, 2 / 3, 2 / 3, 1])
    rng = np.random.default_rng(0)
    labels, scores = rng.integers(0, 2, 500), np.round(rng.normal(size=500), 1)
    fpr, tpr, thresholds = roc_curve(labels, scores, drop_intermediate=False)
    ours = roc_steps(labels, scores)
    np.testing.assert_allclose(ours.fpr, fpr)
    np.testing.assert_allclose(ours.tpr, tpr)
    np.testing.assert_array_equal(ours.thresholds[1:], thresholds[1:])
    assert ours.thresholds[0] == np.inf


@pytest.mark.parametrize("successes, trials, match", [
    (2.6, 5, "whole number"),  # used to be rounded to 3 silently
    (True, 5, "count"),
    (2, 5.0, "trials must be a count"),
    (np.nan, 5, "whole number"),
])
def test_clopper_pearson_refuses_non_counts(successes, trials, match):
    with pytest.raises(ValueError, match=match):
        clopper_pearson(successes, trials)


def test_clopper_pearson_accepts_a_rate_times_a_count_up_to_rounding():
    assert clopper_pearson(0.3 * 10, 10) == clopper_pearson(3, 10)
    assert clopper_pearson(np.int64(3), 10) == clopper_pearson(3, 10)


@pytest.mark.parametrize("fprs, match", [
    (0.01, r"tuple of false-positive rates, e\.g\. \(0\.01,\)"),  # used to fail with "float is not iterable"
    ((), "at least one"),
    ((0.01, 0.01), "more than once"),
    ((0.01, 1.5), "fpr must lie in"),
])
def test_summarize_attack_refuses_odd_fprs(fprs, match):
    with pytest.raises(ValueError, match=match):
        summarize_attack([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], fprs=fprs)


def test_complex_scores_are_refused_not_truncated():
    with pytest.raises(ValueError, match="complex"):
        auc([0, 1], np.array([0.1 + 1j, 0.9 + 0j]))


@pytest.mark.parametrize("case", range(40))
def test_auc_and_summary_equal_scikit_learns_roc_auc_score(case):
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(case)
    n = int(rng.integers(2, 400))
    labels = rng.integers(0, 2, n)
    labels[:2] = [0, 1]
    # Coarse scores on even cases: many ties, which a wrong AUC would split.
    scores = rng.normal(labels * rng.uniform(0, 2), 1, n)
    if case % 2 == 0:
        scores = np.round(scores, 1)
    expected = roc_auc_score(labels, scores)
    assert metrics.auc(labels, scores) == pytest.approx(expected, abs=1e-12)
    assert metrics.summarize_attack(labels, scores).auc == pytest.approx(expected, abs=1e-12)


def test_importing_metrics_loads_neither_scikit_learn_nor_scipy_stats():
    import subprocess
    import sys

    code = "import sys, utils.metrics; sys.exit(int('sklearn' in sys.modules) + 2 * int('scipy.stats' in sys.modules))"
    root = Path(__file__).resolve().parents[1]
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0


def test_clopper_pearson_is_scipy_stats_beta_quantiles_bit_for_bit():
    from scipy.stats import beta

    rng = np.random.default_rng(3)
    for trials in rng.integers(1, 3000, 200):
        successes = int(rng.integers(0, trials + 1))
        for confidence in (0.95, 0.99):
            alpha = 1 - confidence
            low = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, trials - successes + 1))
            high = 1.0 if successes == trials else float(beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
            assert metrics.clopper_pearson(successes, int(trials), confidence) == (low, high)
