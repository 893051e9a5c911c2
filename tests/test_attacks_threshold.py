"""Threshold attacks: known answers for each score, the float64 log-odds, threshold choice, bad input."""

from functools import partial

import numpy as np
import pytest

from utils.attacks import threshold
from utils.metrics import advantage, auc
from utils.models import MLP
from utils.train import init_model, train_model

TOY = partial(MLP, in_features=20, hidden=(128,), n_classes=4)
RECIPE = dict(epochs=60, lr=2e-2, batch_size=50)


def toy_data(n, seed):
    """Random features with random labels: a model can only memorise them, so it overfits hard."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 20), dtype=np.float32), rng.integers(0, 4, n)


@pytest.fixture(scope="module")
def overfit():
    X, y = toy_data(400, seed=0)
    members, nonmembers, pool = np.arange(0, 100), np.arange(100, 200), np.arange(200, 400)
    model = train_model(init_model(TOY, 0), X[members], y[members], seed=0, **RECIPE)
    idx = np.r_[members, nonmembers]
    labels = np.r_[np.ones(100, int), np.zeros(100, int)]
    return model, X, y, idx, labels, pool


def test_scores_known_answers():
    logits = np.array([[2.0, 0.0], [0.0, 0.0], [0.0, 3.0]])
    y = np.array([0, 0, 0])
    p = np.array([np.exp(2) / (1 + np.exp(2)), 0.5, 1 / (1 + np.exp(3))])
    np.testing.assert_allclose(threshold.score_loss(logits, y), np.log(p))
    np.testing.assert_allclose(threshold.score_confidence(logits, y), p)
    np.testing.assert_allclose(threshold.score_log_odds(logits, y), np.log(p / (1 - p)))
    entropy = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    np.testing.assert_allclose(threshold.score_entropy(logits), -entropy)
    # Two classes: Mentr = -(1 - p) log p - (1 - p) log(1 - (1 - p)) = -2 (1 - p) log p.
    np.testing.assert_allclose(threshold.score_modified_entropy(logits, y), 2 * (1 - p) * np.log(p))


def test_log_odds_keeps_order_where_confidence_saturates():
    logits = np.array([[40.0, 0.0, 0.0], [45.0, 0.0, 0.0], [50.0, 0.0, 0.0]])
    y = np.zeros(3, int)
    confidence = threshold.score_confidence(logits, y)
    assert np.all(confidence == 1.0)  # float64 rounds p to exactly 1: three-way tie
    log_odds = threshold.score_log_odds(logits, y)
    np.testing.assert_allclose(log_odds, [40 - np.log(2), 45 - np.log(2), 50 - np.log(2)], rtol=1e-12)
    assert np.all(np.diff(log_odds) > 0)


def test_log_odds_ranks_like_loss_and_works_with_a_model_axis():
    rng = np.random.default_rng(1)
    logits, y = rng.normal(0, 4, (3, 50, 10)), rng.integers(0, 10, 50)
    for kind in threshold.SIGNALS:
        assert threshold.scores_from_logits(logits, y, kind).shape == (3, 50)
    loss_order = np.argsort(threshold.score_loss(logits, y), axis=-1)
    np.testing.assert_array_equal(np.argsort(threshold.score_log_odds(logits, y), axis=-1), loss_order)


def test_modified_entropy_separates_confidently_wrong_from_right():
    logits, y = np.array([[10.0, 0.0, 0.0], [10.0, 0.0, 0.0]]), np.array([0, 1])
    entropy, mentr = threshold.score_entropy(logits, y), threshold.score_modified_entropy(logits, y)
    assert entropy[0] == pytest.approx(entropy[1])  # entropy ignores the label
    assert mentr[0] > mentr[1] + 5  # right and sure: member-like; wrong and sure: not


def test_every_score_points_towards_members_on_an_overfit_model(overfit):
    model, X, y, idx, labels, _ = overfit
    for kind in threshold.SIGNALS:
        scores = threshold.score(model, X[idx], y[idx], kind=kind)
        assert scores.dtype == np.float64 and scores.shape == (200,)
        assert scores[labels == 1].mean() > scores[labels == 0].mean(), kind
        assert auc(labels, scores) > 0.6, kind


def test_choose_threshold_known_answer():
    labels = np.array([0, 0, 1, 0, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    # 0.5 (TPR 2/3, FPR 0) and 0.3 (TPR 1, FPR 1/3) tie on TPR - FPR: the stricter one wins.
    assert threshold.choose_threshold(labels, scores) == 0.5
    assert threshold.choose_threshold([0, 1, 0, 1, 1, 1], scores) == 0.4  # TPR 1, FPR 1/2 beats the rest
    result = threshold.evaluate_threshold(labels, scores, 0.3)
    assert (result.tpr, result.fpr) == (1.0, pytest.approx(1 / 3))
    assert threshold.choose_threshold(labels, scores, max_fpr=0.34) == 0.3
    # A budget no threshold meets: flag nothing.
    none = threshold.evaluate_threshold(labels, [0.9, 0.2, 0.3, 0.4, 0.5, 0.6], threshold.choose_threshold(
        labels, [0.9, 0.2, 0.3, 0.4, 0.5, 0.6], max_fpr=0.1))
    assert none.tpr == 0.0 and none.fpr == 0.0


def test_oracle_threshold_bounds_the_honest_one(overfit):
    model, X, y, idx, labels, pool = overfit
    scores = threshold.score(model, X[idx], y[idx], kind="log-odds")
    oracle = threshold.evaluate_threshold(labels, scores, threshold.choose_threshold(labels, scores))
    assert oracle.advantage == pytest.approx(advantage(labels, scores))
    honest_threshold = threshold.calibrate_threshold(
        TOY, X[pool], y[pool], kind="log-odds", n_shadows=2, seed=3, **RECIPE
    )
    honest = threshold.evaluate_threshold(labels, scores, honest_threshold)
    assert honest.advantage <= oracle.advantage + 1e-12
    assert honest.advantage > 0.2  # the attacker's own shadows give a useful threshold on this toy


def test_bad_input_is_reported(overfit):
    model, X, y, idx, labels, _ = overfit
    with pytest.raises(ValueError, match="one entry per record"):
        threshold.choose_threshold(labels, np.zeros(199))
    with pytest.raises(ValueError, match="kind must be one of"):
        threshold.score(model, X[idx], y[idx], kind="losss")
    with pytest.raises(ValueError, match="class labels"):
        threshold.score_loss(np.zeros((2, 3)), [0, 3])
    with pytest.raises(ValueError, match="one class label per record"):
        threshold.score_loss(np.zeros((2, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match="NaN"):
        threshold.score_log_odds(np.array([[np.nan, 0.0]]), [0])
    with pytest.raises(ValueError, match="max_fpr"):
        threshold.choose_threshold(labels, np.arange(200.0), max_fpr=1.0)
    with pytest.raises(ValueError, match=r"must be a torch.nn.Module"):
        threshold.score("model", X[idx], y[idx])
    model.train()
    try:
        with pytest.raises(ValueError, match=r"training mode.*\.eval\(\)"):
            threshold.score(model, X[idx], y[idx])
    finally:
        model.eval()


def test_flag_nobody_is_threshold_inf_everywhere():
    labels, scores = [0, 1, 1, 0], [0.9, 0.8, 0.7, 0.1]
    # the top score is a non-member's: within FPR 10% nobody may be flagged, and the library says so with +inf
    nobody = threshold.choose_threshold(labels, scores, max_fpr=0.1)
    assert nobody == np.inf
    result = threshold.evaluate_threshold(labels, scores, nobody)  # used to raise "must be a finite number"
    assert (result.tpr, result.fpr, result.advantage) == (0.0, 0.0, 0.0)
    everybody = threshold.evaluate_threshold(labels, scores, -np.inf)
    assert (everybody.tpr, everybody.fpr) == (1.0, 1.0)
    assert threshold.choose_threshold(labels, scores, max_fpr=0.5) == 0.7
    with pytest.raises(ValueError, match="NaN"):
        threshold.evaluate_threshold(labels, scores, np.nan)
    with pytest.raises(ValueError, match="must be a number"):
        threshold.evaluate_threshold(labels, scores, True)


def test_threshold_score_names_a_wrong_feature_count_or_dtype():
    from utils.models import MLP

    model = MLP(in_features=4, hidden=(8,), n_classes=3).eval()
    with pytest.raises(ValueError, match="takes records of 4 features, but X has records of shape \\(5,\\)"):
        threshold.score(model, np.zeros((2, 5), np.float32), [0, 1])
    with pytest.raises(ValueError, match="X must hold numbers, got dtype <U1"):
        threshold.score(model, np.array([["a"] * 4] * 2), [0, 1])
    with pytest.raises(ValueError, match="real numbers"):
        threshold.score(model, np.zeros((2, 4), complex), [0, 1])
