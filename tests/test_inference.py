"""Tests for utils.inference: logits of one model or a batch, per-record losses, accuracy, evaluation, bad input."""

import functools

import numpy as np
import pytest
import torch
from torch import nn

from utils.data import load_digits
from utils.inference import Evaluation, accuracy, evaluate, per_record_loss, predict_logits
from utils.models import MLP
from utils.train import init_model, train_batched

SMALL_MLP = functools.partial(MLP, hidden=(32,))
FAST = dict(epochs=3, batch_size=40)


@pytest.fixture(scope="module")
def digits():
    """300 digits from every class (the full set is sorted by class)."""
    full = load_digits()
    idx = np.random.default_rng(0).permutation(len(full))[:300]
    return full.X[idx], full.y[idx]


@pytest.fixture(scope="module")
def batch(digits):
    X, y = digits
    rng = np.random.default_rng(1)
    subsets = np.stack([rng.choice(300, size=96, replace=False) for _ in range(3)])
    return train_batched(SMALL_MLP, X, y, subsets, seed=11, **FAST)


def test_predict_logits_shapes_and_dtype(batch, digits):
    X, _ = digits
    module = batch.model(0)
    single = predict_logits(module, X)
    assert single.shape == (300, 10) and single.dtype == np.float64
    stacked = predict_logits(batch, X)
    assert stacked.shape == (3, 300, 10) and stacked.dtype == np.float64
    assert predict_logits(module, X[:1]).shape == (1, 10)


def test_predict_logits_does_not_depend_on_chunk_size_or_input_type(batch, digits):
    X, _ = digits
    module = batch.model(1)
    np.testing.assert_allclose(predict_logits(module, X, batch_size=7), predict_logits(module, X), atol=1e-6)
    np.testing.assert_allclose(predict_logits(batch, X, batch_size=7), predict_logits(batch, X), atol=1e-6)
    np.testing.assert_allclose(predict_logits(module, torch.from_numpy(X)), predict_logits(module, X), atol=0)
    np.testing.assert_allclose(predict_logits(module, X.astype(np.float64)), predict_logits(module, X), atol=0)


def test_predict_logits_uses_eval_mode_and_restores_the_mode(digits):
    X, _ = digits
    model = init_model(functools.partial(MLP, dropout=0.5), seed=0).train()
    first = predict_logits(model, X)
    np.testing.assert_array_equal(first, predict_logits(model, X))  # no dropout while predicting
    assert model.training


@pytest.mark.parametrize(
    "model, X, match",
    [
        (MLP(), np.zeros(196), r"X must have shape \(n_records, \.\.\.\), got \(196,\)\. For one record use X\[None\]"),
        ("not a model", np.zeros((2, 196)), r"model must be a torch.nn.Module or a ModelBatch, got str"),
    ],
)
def test_predict_logits_rejects_bad_input(model, X, match):
    with pytest.raises(ValueError, match=match):
        predict_logits(model, X)


def test_per_record_loss_matches_torch_cross_entropy():
    rng = np.random.default_rng(0)
    logits, y = rng.normal(0, 3, size=(50, 7)), rng.integers(0, 7, 50)
    expected = nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(y), reduction="none").numpy()
    loss = per_record_loss(logits, y)
    assert loss.dtype == np.float64 and loss.shape == (50,)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)


def test_per_record_loss_by_hand():
    logits = np.array([[0.0, 0.0], [0.0, np.log(3.0)], [0.0, np.log(3.0)]])
    # softmax([0, ln 3]) = [1/4, 3/4]
    np.testing.assert_allclose(per_record_loss(logits, [0, 1, 0]), [np.log(2), np.log(4 / 3), np.log(4)], rtol=1e-12)


def test_per_record_loss_is_finite_for_huge_logits():
    logits = np.array([[1e4, 0.0, 0.0], [1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]])
    loss = per_record_loss(logits, [1, 0, 1])
    assert np.all(np.isfinite(loss))
    np.testing.assert_allclose(loss, [1e4, 0.0, 0.0], atol=1e-9)
    assert np.all(loss >= 0)


def test_per_record_loss_of_stacked_logits():
    rng = np.random.default_rng(1)
    logits, y = rng.normal(size=(4, 20, 3)), rng.integers(0, 3, 20)
    loss = per_record_loss(logits, y)
    assert loss.shape == (4, 20)
    for k in range(4):
        np.testing.assert_allclose(loss[k], per_record_loss(logits[k], y))


@pytest.mark.parametrize(
    "logits, y, match",
    [
        (np.zeros((3, 4)), [0, 1], r"logits covers 3 records \(shape \(3, 4\)\) but y has shape \(2,\)"),
        (np.zeros(4), [0], r"logits must be numbers of shape \(\.\.\., n_records, n_classes\)"),
        (np.zeros((2, 4)), [0, 4], r"y must hold class labels in \[0, 4\).*found values from 0 to 4"),
        (np.zeros((2, 4)), [-1, 0], r"y must hold class labels in \[0, 4\).*found values from -1 to 0"),
    ],
)
def test_per_record_loss_rejects_bad_input(logits, y, match):
    with pytest.raises(ValueError, match=match):
        per_record_loss(logits, y)


def test_accuracy_by_hand():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, 4.0], [1.0, 0.0]])
    assert accuracy(logits, [0, 1, 1, 0]) == 0.75
    assert isinstance(accuracy(logits, [0, 1, 1, 0]), float)


def test_evaluate_agrees_with_loss_and_accuracy(batch, digits):
    X, y = digits
    model = batch.model(0)
    result = evaluate(model, X, y)
    logits = predict_logits(model, X)
    assert isinstance(result, Evaluation)
    assert result.loss == pytest.approx(per_record_loss(logits, y).mean())
    assert result.accuracy == accuracy(logits, y)
    assert 0.0 <= result.accuracy <= 1.0 and result.loss > 0


@pytest.mark.parametrize(
    "logits, y, match",
    [
        (np.zeros((2, 3)), np.array([0.5, 1.0]), "integer class labels"),
        ([[np.nan, 0.0]], [0], "NaN or infinite"),
        (np.zeros((3, 2)), [0], r"covers 3 records .* has shape \(1,\)"),
        (np.zeros((2, 2)), [0, 2], r"class labels in \[0, 2\)"),
    ],
)
def test_per_record_loss_and_accuracy_reject_bad_logits(logits, y, match):
    with pytest.raises(ValueError, match=match):
        per_record_loss(logits, y)
    with pytest.raises(ValueError, match=match):
        accuracy(logits, y)


def test_evaluate_wants_one_module_and_predict_handles_parameterless_modules():
    X = np.ones((4, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"batch.model\(k\)"):
        evaluate("not a model", X, np.zeros(4, dtype=int))
    assert predict_logits(torch.nn.Identity(), X).shape == (4, 3)


def test_empty_X_and_wrong_feature_counts_in_inference():
    model = MLP(in_features=4, hidden=(8,), n_classes=3).eval()
    with pytest.raises(ValueError, match="X holds no records"):
        predict_logits(model, np.zeros((0, 4), np.float32))  # used to fail inside torch.cat
    with pytest.raises(ValueError, match="takes records of 4 features, but X has records of shape \\(7,\\)"):
        evaluate(model, np.zeros((2, 7), np.float32), [0, 1])  # used to be a raw matmul error
    batch = train_batched(functools.partial(MLP, in_features=4, hidden=(8,), n_classes=3),
                          np.random.default_rng(0).random((6, 4), dtype=np.float32), np.array([0, 1, 2, 0, 1, 2]),
                          [[0, 1, 2]], epochs=1)
    with pytest.raises(ValueError, match="takes records of 4 features"):
        predict_logits(batch, np.zeros((2, 5), np.float32))
