"""Pooled low-FPR targets (utils.attacks.pooled): any registered attack against the same shadows."""

from functools import partial

import numpy as np
import pytest

from utils.attacks import pooled, rmia
from utils.metrics import auc
from utils.models import MLP


@pytest.fixture(scope="module")
def experiment():
    rng = np.random.default_rng(0)
    X, y = rng.random((120, 20), dtype=np.float32), rng.integers(0, 4, 120)
    toy = partial(MLP, in_features=20, hidden=(128,), n_classes=4)
    return pooled.train_pooled(toy, X, y, n_shadows=8, n_targets=4, seed=0, epochs=60, lr=2e-2, batch_size=50)


def test_pooled_targets_multiply_the_non_members(experiment):
    assert experiment.logits.shape == (12, 120, 4) and experiment.n_targets == 4 and experiment.n_shadows == 8
    assert not set(experiment.target_ids) & set(experiment.shadow_ids)
    for attack in ("lira-online", "lira-offline", "loss"):
        labels, scores = pooled.pooled_scores(experiment, attack)
        assert labels.shape == scores.shape == (4 * 120,)
        assert labels.sum() == 2 * 120  # each record a member of exactly half the targets
        assert auc(labels, scores) > 0.75, attack
    labels, scores = pooled.pooled_scores(experiment, "loss")
    np.testing.assert_array_equal(labels[:120], experiment.in_mask[0])


def test_pooled_bad_input(experiment):
    with pytest.raises(KeyError, match="no attack named 'lira'; known attacks: .*lira-online"):
        pooled.pooled_scores(experiment, "lira")
    with pytest.raises(ValueError, match="PooledExperiment"):
        pooled.pooled_scores("experiment")
    with pytest.raises(ValueError, match="must be even"):
        pooled.train_pooled(MLP, np.zeros((10, 196), np.float32), np.zeros(10, int), n_shadows=5, n_targets=2)
    with pytest.raises(ValueError, match="n_targets must be an integer >= 2"):
        pooled.train_pooled(MLP, np.zeros((10, 196), np.float32), np.zeros(10, int), n_targets=1)


def test_pooled_runs_any_registered_attack_with_its_options(experiment):
    X, y = experiment.X, experiment.y
    population = (X[::-1].copy(), np.roll(y[::-1], 1))  # not the candidates (other order and labels)
    labels, scores = pooled.pooled_scores(experiment, "rmia-offline", population=population, a=0.5)
    assert labels.shape == scores.shape == (4 * 120,) and 0 <= scores.min() and scores.max() <= 1
    # the same as scoring each target by hand with that attack
    first = rmia.score_offline(experiment.target(0), X, y, shadows=experiment.shadows(), population=population, a=0.5)
    np.testing.assert_array_equal(scores[:120], first)
    with pytest.raises(TypeError, match="unexpected keyword"):
        pooled.pooled_scores(experiment, "loss", population=population)



@pytest.mark.parametrize(
    "attack, options",
    [
        ("loss", {}),
        ("log-odds", {}),
        ("modified-entropy", {}),
        ("lira-online", {}),
        ("lira-online", {"global_variance": True}),
        ("lira-offline", {}),
        ("rmia-online", {"gamma": 1.5}),
        ("rmia-offline", {"a": 0.5}),
    ],
)
def test_pooled_scores_from_cached_logits_equal_each_attack_called_per_target(experiment, attack, options):
    """The shadows' logits are computed once and reused; the scores stay bit-identical to the attack's own."""
    from utils.attacks import registry

    X, y = experiment.X, experiment.y
    if attack.startswith("rmia"):
        options = options | {"population": (X[::-1].copy(), np.roll(y[::-1], 1))}
    labels, scores = pooled.pooled_scores(experiment, attack, **options)
    shadows = experiment.shadows()
    by_hand = [registry.get(attack)(experiment.target(t), X, y, shadows=shadows, **options) for t in range(4)]
    np.testing.assert_array_equal(scores, np.concatenate(by_hand))
    np.testing.assert_array_equal(labels, experiment.in_mask[experiment.target_ids].ravel().astype(np.int64))
    # and again, now from the cache filled by the first call
    np.testing.assert_array_equal(pooled.pooled_scores(experiment, attack, **options)[1], scores)


def test_pooled_cache_keeps_the_attacks_errors(experiment):
    X, y = experiment.X, experiment.y
    with pytest.raises(ValueError, match="population holds the candidates themselves"):
        pooled.pooled_scores(experiment, "rmia-online", population=(X, y))
    with pytest.raises(ValueError, match="population must be a pair"):
        pooled.pooled_scores(experiment, "rmia-offline", population=X)
    with pytest.raises(TypeError, match="unexpected keyword"):
        pooled.pooled_scores(experiment, "lira-online", gamma=2.0)
    with pytest.raises(TypeError, match="population"):
        pooled.pooled_scores(experiment, "rmia-offline")


def test_pooled_computes_the_shadows_logits_once(experiment, monkeypatch):
    """Scoring 4 targets with three attacks queries the shadow batch once, not once per target and attack."""
    from utils.attacks import pooled as module

    fresh = pooled.PooledExperiment(**{f: getattr(experiment, f) for f in (
        "logits", "y", "in_mask", "target_ids", "shadow_ids", "train_seconds", "models", "X")})
    calls = []
    real = module.predict_logits
    monkeypatch.setattr(module, "predict_logits", lambda model, X: calls.append(type(model).__name__) or real(model, X))
    for attack in ("loss", "lira-offline", "lira-online"):
        pooled.pooled_scores(fresh, attack)
    assert calls.count("ModelBatch") == 1 and len(calls) == 1 + fresh.n_targets
