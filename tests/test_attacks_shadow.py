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


@pytest.mark.parametrize("n_records, n_models", [(10, 4), (11, 6), (9, 3), (7, 2), (5, 12)])
def test_balanced_halves(n_records, n_models):
    halves = shadow.balanced_halves(n_records, n_models, seed=0)
    assert halves.shape == (n_models, (n_records + 1) // 2) and halves.dtype == np.int64
    assert all(len(np.unique(row)) == len(row) and np.all(np.diff(row) > 0) for row in halves)
    paired = n_models - n_models % 2
    counts = np.bincount(halves[:paired].ravel(), minlength=n_records)
    if n_records % 2 == 0:
        assert np.all(counts == n_models // 2)  # every record IN for exactly half of the paired models
    else:
        # Each pair covers every record (the old version left one record IN for neither model of a pair:
        # with 7 records and 2 models, one record trained no model at all) and shares one record;
        # shared records differ from pair to pair while there are at most n_records pairs.
        for k in range(0, paired, 2):
            pair = np.bincount(halves[k : k + 2].ravel(), minlength=n_records)
            assert pair.min() == 1 and np.sum(pair == 2) == 1
        assert counts.min() >= n_models // 2
        assert counts.max() <= n_models // 2 + -(-(paired // 2) // n_records)
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
    scores = shadow.score(target, X[idx], y[idx], shadows=attack)
    assert scores.shape == (200,) and scores.dtype == np.float64
    one_call = shadow.score(target, X[idx], y[idx], shadows=shadows, pool=(X[pool], y[pool]))
    np.testing.assert_array_equal(one_call, scores)
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
    np.testing.assert_array_equal(shadow.select_models(shadows, [-1]).in_mask, shadows.in_mask[3:])
    assert shadow.select_models(shadows, range(2)).fingerprint == shadows.fingerprint


@pytest.mark.parametrize("indices, message", [
    ([True, False, True, True], "booleans"),  # used to select models 1, 0, 1, 1
    ([0.0, 1.9], "integer positions"),  # used to truncate 1.9 to 1
    ([1, 1], "more than once"),  # used to return the same model twice
    ([4], r"positions in \[-4, 4\)"),
])
def test_select_models_refuses_odd_indices(toy, indices, message):
    shadows = toy[1]
    with pytest.raises(ValueError, match=message):
        shadow.select_models(shadows, indices)


def test_shokri_refuses_shadows_trained_on_another_pool_of_the_same_size(toy):
    target, shadows, X, y, idx, labels, pool = toy
    other_pool = idx  # 200 records, like the pool, but not the ones that trained the shadows
    with pytest.raises(ValueError, match="trained on other records"):
        shadow.fit_attack_models(shadows, X[other_pool], y[other_pool])
    with pytest.raises(ValueError, match="trained on other records"):
        shadow.score(target, X[idx], y[idx], shadows=shadows, pool=(X[other_pool], y[other_pool]))


def test_bad_input_is_reported(toy):
    target, shadows, X, y, idx, labels, pool = toy
    with pytest.raises(ValueError, match="trained on 200 records but X, y has 199"):
        shadow.fit_attack_models(shadows, X[pool][:-1], y[pool][:-1])
    with pytest.raises(ValueError, match="ModelBatch"):
        shadow.fit_attack_models(target, X[pool], y[pool])
    with pytest.raises(ValueError, match="n_shadows must be an integer >= 1"):
        shadow.train_shadow_models(TOY, X[pool], y[pool], n_shadows=0)
    with pytest.raises(ValueError, match="empty"):
        shadow.train_shadow_models(TOY, X[:0], y[:0], n_shadows=2)
    full = shadow.fit_attack_models(shadows, X[pool], y[pool])
    only_two_classes = shadow.ShokriAttack({c: m for c, m in full.attack_models.items() if c < 2}, n_shadows=4)
    with pytest.raises(ValueError, match=r"no attack model for classes \[2, 3\]"):
        shadow.score(target, X[idx], y[idx], shadows=only_two_classes)
    with pytest.raises(ValueError, match="ShokriAttack"):
        shadow.score(target, X[idx], y[idx], shadows="attack")
    with pytest.raises(ValueError, match="pass pool="):
        shadow.score(target, X[idx], y[idx], shadows=shadows)
