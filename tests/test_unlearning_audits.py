"""utils.unlearning.audits: U-LiRA's maths on known distributions, the pooled game, the population test."""

import numpy as np
import pytest
from scipy.stats import norm

from utils.metrics import auc
from utils.unlearning import audits
from utils.unlearning.audits import (
    fit_logistic_1d,
    gaussian_log_ratio,
    pooled_ulira,
    population_test,
    tpr_with_interval,
    ulira_scores,
)


def test_gaussian_log_ratio_is_the_difference_of_normal_log_densities():
    rng = np.random.default_rng(0)
    x, m1, m0 = rng.normal(size=(3, 50))
    s1, s0 = rng.uniform(0.2, 3.0, size=(2, 50))
    expected = norm.logpdf(x, m1, s1) - norm.logpdf(x, m0, s0)
    np.testing.assert_allclose(gaussian_log_ratio(x, m1, s1, m0, s0), expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="standard deviations must be > 0"):
        gaussian_log_ratio(0.0, 0.0, 0.0, 0.0, 1.0)


def test_ulira_scores_converge_to_the_true_likelihood_ratio_on_known_gaussians():
    # Unlearned references ~ N(2, 1), retrained ~ N(0, 1) for every record: with many references the
    # fitted test is the analytic one, log N(x; 2, 1) - log N(x; 0, 1) = 2x - 2.
    rng = np.random.default_rng(1)
    n_refs, n_records = 40000, 20
    is_in = np.zeros((n_refs, n_records), bool)
    is_in[: n_refs // 2] = True
    obs = np.where(is_in, rng.normal(2.0, 1.0, is_in.shape), rng.normal(0.0, 1.0, is_in.shape))
    x = np.linspace(-2, 4, n_records)
    scores = ulira_scores(x, obs, is_in, ~is_in)
    np.testing.assert_allclose(scores, 2 * x - 2, atol=0.15)
    # the per-record fit (not global) reaches the same answer
    np.testing.assert_allclose(ulira_scores(x, obs, is_in, ~is_in, global_variance=False), 2 * x - 2, atol=0.15)


def test_ulira_scores_ignore_references_in_neither_mask():
    rng = np.random.default_rng(2)
    obs = rng.normal(size=(12, 5))
    in_mask = np.zeros((12, 5), bool)
    in_mask[:4] = True
    out_mask = np.zeros((12, 5), bool)
    out_mask[4:8] = True
    base = ulira_scores(np.zeros(5), obs, in_mask, out_mask)
    obs[8:] = 1e6  # models that retained the record: neither IN nor OUT
    np.testing.assert_array_equal(ulira_scores(np.zeros(5), obs, in_mask, out_mask), base)
    with pytest.raises(ValueError, match="overlap"):
        ulira_scores(np.zeros(5), obs, in_mask, in_mask)


def _toy_shadows(shift, n_models=16, n_records=200, seed=0):
    """K shadows: trained on halves, forgetting a quarter of what they trained on. The unlearned answer on a
    forgotten record is the retrained one plus `shift` (0: perfect unlearning)."""
    rng = np.random.default_rng(seed)
    trained = np.zeros((n_models, n_records), bool)
    for k in range(0, n_models, 2):
        half = rng.permutation(n_records)[: n_records // 2]
        trained[k, half] = True
        trained[k + 1] = ~trained[k]
    forget = trained & (rng.random(trained.shape) < 0.25)
    difficulty = rng.normal(0, 2, n_records)  # each record its own typical answer
    retrained = difficulty + rng.normal(0, 0.5, trained.shape) + 3.0 * (trained & ~forget)
    unlearned = difficulty + rng.normal(0, 0.5, trained.shape) + 3.0 * (trained & ~forget) + shift * forget
    return unlearned, retrained, trained, forget


def test_pooled_ulira_is_chance_for_perfect_unlearning_and_finds_a_shift():
    perfect = pooled_ulira(*_toy_shadows(0.0))
    assert abs(auc(perfect.labels, perfect.scores) - 0.5) < 0.06
    tpr, low, high = tpr_with_interval(perfect.labels, perfect.scores)[0.01]
    assert low <= 0.01 <= high + 0.01 and tpr < 0.04
    traces = pooled_ulira(*_toy_shadows(1.5))
    assert auc(traces.labels, traces.scores) > 0.9
    assert tpr_with_interval(traces.labels, traces.scores)[0.01][1] > 0.2
    # positives and negatives are the same (target, record) pairs, in the same order
    n = len(traces.targets)
    assert traces.labels[:n].all() and not traces.labels[n:].any() and traces.per_record().shape == (n,)
    unlearned, retrained, trained, forget = _toy_shadows(1.5)
    assert forget[traces.targets, traces.records].all()


def test_pooled_ulira_refuses_forget_records_never_trained_and_reports_skips():
    unlearned, retrained, trained, forget = _toy_shadows(0.0)
    bad = forget.copy()
    bad[0, np.flatnonzero(~trained[0])[0]] = True
    with pytest.raises(ValueError, match="never trained on"):
        pooled_ulira(unlearned, retrained, trained, bad)
    only = np.zeros_like(forget)
    only[0, np.flatnonzero(trained[0])[:3]] = True  # forgotten by one shadow only: no IN reference left
    with pytest.raises(ValueError, match="no forget record was unlearned by two shadows"):
        pooled_ulira(unlearned, retrained, trained, only)


def test_logistic_1d_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    x = rng.normal(size=800)
    labels = (x + rng.normal(size=800) < -0.2).astype(int)  # a falling relation: negative weight
    weight, intercept = fit_logistic_1d(x, labels)
    reference = LogisticRegression(tol=1e-10, max_iter=1000).fit(x[:, None], labels)
    assert weight < 0
    np.testing.assert_allclose([weight, intercept], [reference.coef_[0, 0], reference.intercept_[0]], rtol=1e-6)


def test_population_test_is_chance_on_equal_losses_and_finds_either_direction():
    rng = np.random.default_rng(4)
    labels = np.r_[np.ones(500, int), np.zeros(2000, int)]
    same = population_test(rng.lognormal(-2, 1.5, 2500), labels)
    assert abs(same.auc - 0.5) < 0.05 and same.tpr_low <= 0.01
    lower = population_test(np.r_[rng.lognormal(-4, 1, 500), rng.lognormal(-1, 1, 2000)], labels)
    higher = population_test(np.r_[rng.lognormal(1, 1, 500), rng.lognormal(-1, 1, 2000)], labels)
    assert lower.auc > 0.9 and higher.auc > 0.8  # over-unlearned forget sets (higher losses) are found too
    assert lower.tpr_low <= lower.tpr <= lower.tpr_high
    with pytest.raises(ValueError, match="losses must be cross-entropies"):
        population_test(-np.ones(2500), labels)


def test_audit_method_pools_both_tests_over_the_shadows():
    unlearned, retrained, trained, forget = _toy_shadows(1.5)
    # losses: a record's loss falls as its log-odds rise
    observations = {name: {"log_odds": lo, "loss": np.log1p(np.exp(-lo)), "heldout_accuracy": np.full(16, 0.9)}
                    for name, lo in (("unlearned", unlearned), ("retrained", retrained))}
    result = audits.audit_method(observations["unlearned"], observations["retrained"], trained, forget)
    row = result.row()
    assert row["ulira_tpr@1%fpr_low"] <= row["ulira_tpr@1%fpr"] <= row["ulira_tpr@1%fpr_high"]
    assert row["ulira_auc"] > 0.9 and row["test_acc"] == pytest.approx(0.9)
    assert len(result.population.labels) == int(forget.sum() + (~trained).sum())
