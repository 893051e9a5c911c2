"""LiRA: known answers against the Neyman-Pearson optimum on synthetic Gaussians, a real run, bad input."""

from functools import partial

import numpy as np
import pytest
from scipy.stats import norm

from utils.attacks import lira, shadow, threshold
from utils.metrics import auc, tpr_at_fpr
from utils.models import MLP
from utils.train import init_model, train_model

N_RECORDS, N_SHADOWS = 20_000, 256


def synthetic(mu_out, mu_in, sd_out, sd_in, seed):
    """Shadow and target observations drawn from known per-record IN/OUT Gaussians."""
    rng = np.random.default_rng(seed)
    n = len(mu_out)
    in_mask = np.zeros((N_SHADOWS, n), bool)
    np.put_along_axis(in_mask, shadow.balanced_halves(n, N_SHADOWS, seed=seed), True, axis=1)
    shadows = np.where(in_mask, mu_in + sd_in * rng.normal(size=in_mask.shape),
                       mu_out + sd_out * rng.normal(size=in_mask.shape))
    labels = rng.permutation(np.r_[np.ones(n // 2, int), np.zeros(n - n // 2, int)])
    target = np.where(labels == 1, mu_in + sd_in * rng.normal(size=n), mu_out + sd_out * rng.normal(size=n))
    return target, shadows, in_mask, labels


def test_equal_variance_gaussians_reach_the_analytic_optimal_roc():
    # Every record has its own OUT mean; members shift it by d = 1.5 standard deviations. The
    # optimal test thresholds (x - mu_out) and has TPR = Phi(d - Phi^-1(1 - FPR)), AUC = Phi(d / sqrt 2).
    rng = np.random.default_rng(0)
    d = 1.5
    mu_out = rng.normal(0, 3, N_RECORDS)
    target, shadows, in_mask, labels = synthetic(mu_out, mu_out + d, 1.0, 1.0, seed=1)
    optimal_auc = norm.cdf(d / np.sqrt(2))
    for name, scores in {
        "online": lira.likelihood_ratio_online(target, shadows, in_mask),
        "online-global": lira.likelihood_ratio_online(target, shadows, in_mask, global_variance=True),
        "offline": lira.likelihood_ratio_offline(target, shadows, in_mask=in_mask),
    }.items():
        assert auc(labels, scores) == pytest.approx(optimal_auc, abs=0.015), name
        for fpr in (0.01, 0.1):
            optimal_tpr = norm.cdf(d - norm.ppf(1 - fpr))
            assert tpr_at_fpr(labels, scores, fpr) == pytest.approx(optimal_tpr, abs=0.04), (name, fpr)
    # Without the per-record calibration the same observations are a weak attack (the loss attack's problem).
    assert auc(labels, target) < optimal_auc - 0.2


def test_unequal_variances_match_the_true_likelihood_ratio():
    rng = np.random.default_rng(2)
    mu_out = rng.normal(0, 3, N_RECORDS)
    mu_in = mu_out + rng.uniform(0, 3, N_RECORDS)
    sd_out, sd_in = rng.uniform(0.5, 2, N_RECORDS), rng.uniform(0.5, 2, N_RECORDS)
    target, shadows, in_mask, labels = synthetic(mu_out, mu_in, sd_out, sd_in, seed=3)
    # Neyman-Pearson: the likelihood ratio with the *true* parameters is the best possible score.
    optimal = norm.logpdf(target, mu_in, sd_in) - norm.logpdf(target, mu_out, sd_out)
    scores = lira.likelihood_ratio_online(target, shadows, in_mask)
    assert auc(labels, scores) == pytest.approx(auc(labels, optimal), abs=0.015)
    assert tpr_at_fpr(labels, scores, 0.01) == pytest.approx(tpr_at_fpr(labels, optimal, 0.01), abs=0.04)
    # A single global variance is the wrong model here, and it costs power.
    pooled_variance = lira.likelihood_ratio_online(target, shadows, in_mask, global_variance=True)
    assert auc(labels, pooled_variance) < auc(labels, optimal) - 0.01


def test_fit_gaussians_known_answer():
    obs = np.array([[1.0, 10.0], [3.0, 20.0], [5.0, 0.0]])
    mask = np.array([[True, True], [True, True], [True, False]])
    mean, std = lira.fit_gaussians(obs, mask)
    np.testing.assert_allclose(mean, [3.0, 15.0])
    np.testing.assert_allclose(std, [2.0, np.sqrt(50.0)])
    _, pooled = lira.fit_gaussians(obs, mask, global_variance=True)
    np.testing.assert_allclose(pooled, np.sqrt((8.0 + 50.0) / 3))  # residual sums over (3 - 1) + (2 - 1)


@pytest.fixture(scope="module")
def toy_attack():
    rng = np.random.default_rng(0)
    X, y = rng.random((200, 20), dtype=np.float32), rng.integers(0, 4, 200)
    toy = partial(MLP, in_features=20, hidden=(128,), n_classes=4)
    recipe = dict(epochs=60, lr=2e-2, batch_size=50)
    labels = np.zeros(200, int)
    labels[rng.choice(200, 100, replace=False)] = 1
    target = train_model(init_model(toy, 0), X[labels == 1], y[labels == 1], seed=0, **recipe)
    shadows = shadow.train_shadow_models(toy, X, y, n_shadows=8, seed=1, **recipe)
    return target, shadows, X, y, labels


def test_online_and_offline_flag_members_of_a_real_model(toy_attack):
    target, shadows, X, y, labels = toy_attack
    online = lira.score_online(target, X, y, shadows=shadows)
    offline = lira.score_offline(target, X, y, shadows=shadows)  # trained on X: only each record's OUT shadows
    np.testing.assert_array_equal(offline, lira.likelihood_ratio_offline(
        threshold.score(target, X, y, "log-odds"), lira.shadow_log_odds(shadows, X, y), in_mask=shadows.in_mask))
    for scores in (online, offline):
        assert scores.shape == (200,) and scores.dtype == np.float64
        assert auc(labels, scores) > 0.75
    one_by_one = [threshold.score(shadows.model(k), X[:5], y[:5], "log-odds") for k in range(8)]
    np.testing.assert_allclose(lira.shadow_log_odds(shadows, X, y)[:, :5], one_by_one, atol=1e-4)


def test_bad_input_is_reported(toy_attack):
    target, shadows, X, y, labels = toy_attack
    obs = lira.shadow_log_odds(shadows, X, y)
    target_obs = threshold.score(target, X, y, "log-odds")
    with pytest.raises(ValueError, match=r"in_mask must have shape \(8, 200\)"):
        lira.likelihood_ratio_online(target_obs, obs, shadows.in_mask[:, :10])
    few = np.zeros((8, 200), bool)
    few[0] = True
    with pytest.raises(ValueError, match="IN shadow models.*global_variance=True"):
        lira.likelihood_ratio_online(target_obs, obs, few)
    with pytest.raises(ValueError, match="same records"):
        lira.likelihood_ratio_offline(np.zeros(5), np.zeros((4, 6)))
    with pytest.raises(ValueError, match="no shadow models"):
        lira.likelihood_ratio_offline(np.zeros(5), np.zeros((0, 5)))
    with pytest.raises(ValueError, match="ModelBatch"):
        lira.score_offline(target, X, y, shadows=target)
    with pytest.raises(ValueError, match="one entry per record"):
        lira.score_offline(target, X, y[:-1], shadows=shadows)
    with pytest.raises(TypeError):
        lira.score_online(target, shadows, X, y)  # the old argument order: shadows are a keyword now
    target.train()
    try:
        with pytest.raises(ValueError, match="training mode"):
            lira.score_offline(target, X, y, shadows=shadows)
    finally:
        target.eval()


def test_online_refuses_shadows_trained_on_other_records_of_the_same_size(toy_attack):
    target, shadows, X, y, labels = toy_attack
    other = X[::-1].copy()  # same 200 records, another order: in_mask would describe the wrong records
    with pytest.raises(ValueError, match="trained on other records than the candidates"):
        lira.score_online(target, other, y[::-1].copy(), shadows=shadows)
    with pytest.raises(ValueError, match="trained on 200 records but the candidates X, y has 199"):
        lira.score_online(target, X[:-1], y[:-1], shadows=shadows)


@pytest.mark.parametrize("min_count", [0, -1, 1, 1.5, True])
def test_fit_gaussians_refuses_counts_that_cannot_fit(min_count):
    obs, mask = np.zeros((4, 3)), np.ones((4, 3), bool)
    mask[:, 0] = False  # record 0 has no observation: min_count=0 used to return a NaN mean for it
    with pytest.raises(ValueError, match="min_count must be an integer >= 2"):
        lira.fit_gaussians(obs, mask, min_count=min_count)
    mean, std = lira.fit_gaussians(obs, np.ones((4, 3), bool), min_count=3)
    assert np.isfinite(mean).all() and np.isfinite(std).all()


def test_likelihood_ratios_are_scipy_stats_normal_densities_bit_for_bit():
    from scipy.stats import norm

    from utils.attacks.lira import fit_gaussians, likelihood_ratio_offline, likelihood_ratio_online

    rng = np.random.default_rng(5)
    obs = rng.normal(2.0, 3.0, (16, 300))
    in_mask = np.argsort(rng.random((16, 300)), axis=0) < 8  # every record IN for 8 shadows, OUT for 8
    target = rng.normal(2.0, 4.0, 300)
    mean_in, std_in = fit_gaussians(obs, in_mask)
    mean_out, std_out = fit_gaussians(obs, ~in_mask, what="OUT")
    expected = norm.logpdf(target, mean_in, std_in) - norm.logpdf(target, mean_out, std_out)
    np.testing.assert_array_equal(likelihood_ratio_online(target, obs, in_mask), expected)
    mean_all, std_all = fit_gaussians(obs, np.ones_like(in_mask), what="OUT")
    np.testing.assert_array_equal(likelihood_ratio_offline(target, obs), -norm.logsf(target, mean_all, std_all))


def test_scoring_attacks_does_not_import_scipy_stats():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, utils.attacks, utils.metrics; import numpy as np; "
            "utils.metrics.clopper_pearson(3, 10); sys.exit(int('scipy.stats' in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1]).returncode == 0
