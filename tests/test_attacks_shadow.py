"""Shadow models and Shokri's attack: balanced halves, a tiny attack that beats random, bad input."""

from functools import partial

import numpy as np
import pytest

from utils.attacks import shadow
from utils.metrics import auc
from utils.models import MLP
from utils.train import init_model, predict_logits, train_model

TOY = partial(MLP, in_features=20, hidden=(128,), n_classes=4)
RECIPE = dict(epochs=60, lr=2e-2, batch_size=50)


@pytest.mark.parametrize("n_records, n_models", [(10, 4), (11, 6), (9, 3)])
def test_balanced_halves(n_records, n_models):
    halves = shadow.balanced_halves(n_records, n_models, seed=0)
    assert halves.shape == (n_models, n_records // 2) and halves.dtype == np.int64
    assert all(len(np.unique(row)) == len(row) and np.all(np.diff(row) > 0) for row in halves)
    counts = np.bincount(halves[: n_models - n_models % 2].ravel(), minlength=n_records)
    if n_records % 2 == 0:
        assert np.all(counts == n_models // 2)  # every record IN for exactly half of the paired models
    else:
        assert counts.max() <= n_models // 2 and counts.sum() == (n_models - n_models % 2) * (n_records // 2)
    assert not np.array_equal(halves, shadow.balanced_halves(n_records, n_models, seed=1))


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    X, y = rng.random((400, 20), dtype=np.float32), rng.integers(0, 4, 400)
    members, nonmembers, pool = np.arange(100), np.arange(100, 200), np.arange(200, 400)
    target = train_model(init_model(TOY, 0), X[members], y[members], seed=0, **RECIPE)
    shadows = shadow.train_shadow_models(TOY, X[pool], y[pool], n_shadows=4, seed=1, **RECIPE)
    idx, labels = np.r_[members, nonmembers], np.r_[np.ones(100, int), np.zeros(100, int)]
    return target, shadows, X, y, idx, labels, pool


def test_shadow_models_train_on_their_halves(toy):
    _, shadows, X, y, _, _, pool = toy
    assert len(shadows) == 4 and shadows.in_mask.shape == (4, 200)
    assert np.all(shadows.in_mask.sum(axis=0) == 2)
    logits = predict_logits(shadows, X[pool])
    correct = logits.argmax(-1) == y[pool]
    assert correct[shadows.in_mask].mean() > 0.9 > 0.5 > correct[~shadows.in_mask].mean()  # memorised, not learned


def test_shokri_beats_random_guessing(toy):
    target, shadows, X, y, idx, labels, pool = toy
    attack = shadow.fit_attack_models(shadows, X[pool], y[pool])
    assert sorted(attack.attack_models) == [0, 1, 2, 3] and attack.n_shadows == 4
    assert sum(attack.n_train.values()) == 4 * 200
    scores = shadow.score(attack, target, X[idx], y[idx])
    assert scores.shape == (200,) and scores.dtype == np.float64
    assert auc(labels, scores) > 0.75
    assert auc(1 - labels, scores) < 0.25  # the direction matters: higher = member


def test_select_models_keeps_the_chosen_models(toy):
    _, shadows, X, _, _, _, pool = toy
    pair = shadow.select_models(shadows, [2, 3])
    assert len(pair) == 2
    np.testing.assert_array_equal(pair.in_mask, shadows.in_mask[2:4])
    np.testing.assert_allclose(predict_logits(pair, X[pool]), predict_logits(shadows, X[pool])[2:4])
    with pytest.raises(ValueError, match="at least one"):
        shadow.select_models(shadows, [])


def test_bad_input_is_reported(toy):
    target, shadows, X, y, idx, labels, pool = toy
    with pytest.raises(ValueError, match="at least 2 shadow models"):
        shadow.fit_attack_models(shadow.select_models(shadows, [0]), X[pool], y[pool])
    with pytest.raises(ValueError, match="trained on 200 records but X has 199"):
        shadow.fit_attack_models(shadows, X[pool][:-1], y[pool][:-1])
    with pytest.raises(ValueError, match="ModelBatch"):
        shadow.fit_attack_models(target, X[pool], y[pool])
    with pytest.raises(ValueError, match="n_shadows must be an integer >= 1"):
        shadow.train_shadow_models(TOY, X[pool], y[pool], n_shadows=0)
    with pytest.raises(ValueError, match="empty"):
        shadow.train_shadow_models(TOY, X[:0], y[:0], n_shadows=2)
    only_two_classes = shadow.fit_attack_models(shadows, X[pool], np.where(y[pool] > 1, 1, 0))
    with pytest.raises(ValueError, match=r"no attack model for classes \[2, 3\]"):
        shadow.score(only_two_classes, target, X[idx], y[idx])
    with pytest.raises(ValueError, match="ShokriAttack"):
        shadow.score("attack", target, X[idx], y[idx])
