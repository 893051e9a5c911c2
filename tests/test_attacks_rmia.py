"""RMIA (utils.attacks.rmia): known answers computed by hand, the paper's offline correction, a real run, bad input."""

from functools import partial

import numpy as np
import pytest

from utils.attacks import lira, registry, rmia, shadow
from utils.metrics import auc
from utils.models import MLP
from utils.train import init_model, train_model


def test_reference_mean_and_offline_correction_by_hand():
    ref = np.log([[0.2, 0.9, 0.5], [0.4, 0.5, 0.1]])  # 2 reference models, 3 records
    np.testing.assert_allclose(np.exp(rmia.reference_log_prob(ref)), [0.3, 0.7, 0.3])
    out = np.array([[True, False, True], [True, True, False]])
    np.testing.assert_allclose(np.exp(rmia.reference_log_prob(ref, out)), [0.3, 0.5, 0.5])
    # p(x) = ((1 + a) m + (1 - a)) / 2 with a = 0.2: m = 0.3 -> 0.58, m = 0.5 -> 0.7
    np.testing.assert_allclose(np.exp(rmia.offline_log_prob(np.log([0.3, 0.5]), a=0.2)), [0.58, 0.7])
    # a = 1 keeps the OUT mean; a = 0 moves it half way to 1
    np.testing.assert_allclose(np.exp(rmia.offline_log_prob(np.log([0.3]), a=1.0)), [0.3])
    np.testing.assert_allclose(np.exp(rmia.offline_log_prob(np.log([0.3]), a=0.0)), [0.65])


def test_dominance_counts_population_records_beaten_by_gamma():
    log_x = np.log([1.0, 3.0, 0.1])
    log_z = np.log([0.5, 1.0, 2.0, 4.0])
    # LR(x) / LR(z) >= gamma; ties count (the paper's >=)
    np.testing.assert_allclose(rmia.dominance(log_x, log_z, 1.0), [2 / 4, 3 / 4, 0.0])
    np.testing.assert_allclose(rmia.dominance(log_x, log_z, 2.0), [1 / 4, 2 / 4, 0.0])
    pairwise = (np.exp(log_x)[:, None] / np.exp(log_z)[None, :] >= 1.5).mean(axis=1)
    np.testing.assert_allclose(rmia.dominance(log_x, log_z, 1.5), pairwise)


def test_full_formula_on_a_hand_computed_case():
    # 2 candidates, 2 population records, 2 reference models (all OUT), a = 0.5, gamma = 1.
    target_x, target_z = np.log([0.9, 0.3]), np.log([0.6, 0.2])
    reference_x = np.log([[0.5, 0.3], [0.7, 0.5]])  # OUT means 0.6, 0.4
    reference_z = np.log([[0.6, 0.1], [0.6, 0.3]])  # OUT means 0.6, 0.2
    # offline p = (1.5 m + 0.5) / 2: x -> 0.7, 0.55; z -> 0.7, 0.4
    # LR(x) = 0.9 / 0.7 = 1.286, 0.3 / 0.55 = 0.545; LR(z) = 0.6 / 0.7 = 0.857, 0.2 / 0.4 = 0.5
    offline = rmia.rmia_from_log_probs(target_x, reference_x, target_z, reference_z, offline=True, a=0.5)
    np.testing.assert_allclose(offline, [1.0, 0.5])
    # online: p = plain means; LR(x) = 1.5, 0.75; LR(z) = 1.0, 1.0 -> x1 beats both, x2 neither
    online = rmia.rmia_from_log_probs(target_x, reference_x, target_z, reference_z, offline=False)
    np.testing.assert_allclose(online, [1.0, 0.0])
    # gamma = 1.6 > 1.286 / 0.857 = 1.5: x1 now dominates only z2 (1.286 / 0.5 = 2.57)
    strict = rmia.rmia_from_log_probs(target_x, reference_x, target_z, reference_z, offline=True, a=0.5, gamma=1.6)
    np.testing.assert_allclose(strict, [0.5, 0.0])


def test_offline_uses_only_out_models_when_an_in_mask_is_given():
    target_x, target_z = np.log([0.8]), np.log([0.5, 0.5])
    reference_x = np.log([[0.99], [0.4]])  # model 0 trained on x: ignored offline
    reference_z = np.log([[0.5, 0.5], [0.5, 0.5]])
    scores = rmia.rmia_from_log_probs(target_x, reference_x, target_z, reference_z,
                                      in_mask_x=[[True], [False]], offline=True, a=1.0)
    # p(x) = 0.4 -> LR(x) = 2 > LR(z) = 1 for both z
    np.testing.assert_allclose(scores, [1.0])


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    X, y = rng.random((500, 20), dtype=np.float32), rng.integers(0, 4, 500)
    toy_model = partial(MLP, in_features=20, hidden=(128,), n_classes=4)
    recipe = dict(epochs=60, lr=2e-2, batch_size=50)
    candidates, pool = np.arange(200), np.arange(200, 500)
    labels = np.zeros(200, int)
    labels[rng.choice(200, 100, replace=False)] = 1
    members = candidates[labels == 1]
    target = train_model(init_model(toy_model, 0), X[members], y[members], seed=0, **recipe)
    references = shadow.train_shadow_models(toy_model, X[pool], y[pool], n_shadows=4, seed=1, **recipe)
    online = shadow.train_shadow_models(toy_model, X[candidates], y[candidates], n_shadows=8, seed=2, **recipe)
    return target, references, online, X[candidates], y[candidates], X[pool], y[pool], labels


def test_rmia_flags_members_of_a_real_model(toy):
    target, references, online, X, y, X_pool, y_pool, labels = toy
    offline = rmia.score_offline(target, X, y, shadows=references, population=(X_pool, y_pool))
    on = rmia.score_online(target, X, y, shadows=online, population=(X_pool, y_pool))
    for scores in (offline, on):
        assert scores.shape == (200,) and scores.dtype == np.float64
        assert 0 <= scores.min() and scores.max() <= 1
        assert auc(labels, scores) > 0.75
    assert registry.get("rmia-offline") is rmia.score_offline and registry.get("rmia-online") is rmia.score_online
    # with the same few reference models, RMIA does at least as well as offline LiRA here
    lira_scores = lira.score_offline(target, X, y, shadows=references, global_variance=True)
    assert auc(labels, offline) >= auc(labels, lira_scores) - 0.02


def test_rmia_bad_input(toy):
    target, references, online, X, y, X_pool, y_pool, labels = toy
    with pytest.raises(ValueError, match=r"population must be a pair \(X_z, y_z\)"):
        rmia.score_offline(target, X, y, shadows=references, population=X_pool)
    with pytest.raises(ValueError, match="population holds the candidates themselves"):
        rmia.score_online(target, X, y, shadows=online, population=(X, y))
    with pytest.raises(ValueError, match="trained on other records than the candidates"):
        rmia.score_online(target, X[::-1].copy(), y[::-1].copy(), shadows=online, population=(X_pool, y_pool))
    with pytest.raises(ValueError, match=r"a must lie in \[0, 1\]"):
        rmia.score_offline(target, X, y, shadows=references, population=(X_pool, y_pool), a=1.5)
    with pytest.raises(ValueError, match="gamma must be > 0"):
        rmia.dominance([0.0], [0.0], gamma=0.0)
    with pytest.raises(ValueError, match="population is empty"):
        rmia.dominance([0.0], np.zeros(0))
    with pytest.raises(ValueError, match="ModelBatch"):
        rmia.score_offline(target, X, y, shadows=target, population=(X_pool, y_pool))
    with pytest.raises(ValueError, match="no reference model to average over"):
        rmia.reference_log_prob(np.zeros((2, 3)), np.zeros((2, 3), bool))



def test_tune_offline_a_follows_what_the_reference_models_know(monkeypatch):
    """Synthetic answers of 4 reference models on 4,000 records. When every model shares each record's
    difficulty (its OUT probability) and training multiplies it, dividing by the OUT mean is right: a = 1.
    When each model's answers have nothing to do with the others' (no shared difficulty), the OUT mean is
    noise and the least weight on it wins: a = 0."""
    rng = np.random.default_rng(0)
    n, k = 4000, 4
    subsets = shadow.balanced_halves(n, k, seed=0)
    batch = shadow.ModelBatch(base=None, params={}, seeds=list(range(k)), subsets=subsets, n_records=n, fingerprint="x")
    in_mask = batch.in_mask
    X, y = np.zeros((n, 1), np.float32), np.zeros(n, np.int64)
    shared = rng.uniform(0.05, 0.6, n)
    cases = {
        "shared difficulty": (np.where(in_mask, 1.6, 1.0) * shared * rng.lognormal(0, 0.05, (k, n)), 1.0),
        "nothing shared": (np.where(in_mask, 0.1, 0.0) + rng.uniform(0.05, 0.6, (k, n)), 0.0),
    }
    monkeypatch.setattr(shadow.ModelBatch, "check_trained_on", lambda self, X, y, **kw: None)
    monkeypatch.setattr(rmia, "predict_logits", lambda model, X: None)
    for name, (p, expected) in cases.items():
        monkeypatch.setattr(rmia, "true_class_log_prob", lambda logits, y, p=p: np.log(p))
        assert rmia.tune_offline_a(batch, X, y) == expected, name
    with pytest.raises(ValueError, match="at least 2 reference models"):
        one = shadow.ModelBatch(base=None, params={}, seeds=[0], subsets=subsets[:1], n_records=n, fingerprint="x")
        rmia.tune_offline_a(one, X, y)

