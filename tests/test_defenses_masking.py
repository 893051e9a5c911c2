"""Confidence masking (Lesson 07): known answers of each mask, the wrapper releases exactly the mask's
numbers and keeps the label, the confidence attacks see only what is released, and bad input is explained."""

import numpy as np
import pytest
import torch
from scipy.special import softmax

from utils.attacks import label_only
from utils.attacks.threshold import score as confidence_score
from utils.defenses import masking
from utils.inference import predict_logits
from utils.models import MLP
from utils.train import init_model


@pytest.fixture(scope="module")
def model_and_data():
    rng = np.random.default_rng(0)
    X = rng.random((200, 196)).astype(np.float32)
    y = rng.integers(0, 10, 200)
    model = init_model(MLP, seed=0).eval()
    with torch.no_grad():  # sharper outputs than a fresh model's, so that masks matter
        model.net[-1].weight.mul_(20)
    return model, X, y


def test_known_answers():
    p = np.array([[0.7, 0.2, 0.1], [0.25, 0.35, 0.4]])
    np.testing.assert_array_equal(masking.mask_probabilities(p, "label"), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(masking.mask_probabilities(p, "top-k", k=2), [[0.7, 0.2, 0], [0, 0.35, 0.4]])
    np.testing.assert_allclose(masking.mask_probabilities(p, "round", decimals=1), [[0.7, 0.2, 0.1], [0.2, 0.4, 0.4]])
    np.testing.assert_allclose(masking.mask_probabilities(p, "round", decimals=0), [[1, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(masking.mask_probabilities(p, "top-k", k=3), p)  # k = n_classes releases everything


def test_top_k_keeps_exactly_k_even_with_ties():
    released = masking.mask_probabilities(np.full((4, 5), 0.2), "top-k", k=2)
    assert ((released > 0).sum(axis=1) == 2).all()


@pytest.mark.parametrize("make", [masking.top1_label, lambda m: masking.top_k(m, 3), lambda m: masking.rounded(m, 2)])
def test_wrapper_releases_the_mask_and_keeps_the_label(model_and_data, make):
    model, X, y = model_and_data
    wrapped = make(model)
    full = softmax(predict_logits(model, X), axis=1)
    answer = predict_logits(wrapped, X)
    expected = masking.mask_probabilities(full, wrapped.mode, k=wrapped.k, decimals=wrapped.decimals)
    np.testing.assert_allclose(np.exp(answer), expected, atol=1e-12)
    assert (answer.argmax(1) == full.argmax(1)).all() or wrapped.mode == "round"
    assert not wrapped.training and wrapped.n_classes == 10


def test_loss_attack_on_the_label_only_model_is_the_gap_attack(model_and_data):
    model, X, y = model_and_data
    labelled = masking.top1_label(model)
    loss = confidence_score(labelled, X, y, kind="loss")
    gap = label_only.score_gap(labelled, X, y)
    assert np.isfinite(loss).all()
    assert set(np.unique(loss)) <= {0.0, np.log(masking.FLOOR)}
    np.testing.assert_array_equal(loss == 0.0, gap == 1.0)


def test_float64_queries_are_accepted(model_and_data):
    model, X, _ = model_and_data
    wrapped = masking.top1_label(model)
    out = wrapped(torch.from_numpy(X[:3].astype(np.float64)))
    assert out.shape == (3, 10) and out.dtype == torch.float64


@pytest.mark.parametrize(("call", "match"), [
    (lambda m: masking.MaskedModel(m, "top"), "mode must be one of"),
    (lambda m: masking.MaskedModel(m, "top-k"), "needs k"),
    (lambda m: masking.top_k(m, 11), "at most the number of classes"),
    (lambda m: masking.top_k(m, 0), "k must be an integer"),
    (lambda m: masking.top_k(m, True), "k must be an integer"),
    (lambda m: masking.rounded(m, -1), "decimals"),
    (lambda m: masking.MaskedModel(m, "round"), "needs decimals"),
    (lambda m: masking.top1_label(m.train()), "training mode"),
    (lambda m: masking.top1_label(MLP), "trained model"),
])
def test_bad_input_is_explained(call, match):
    model = init_model(MLP, seed=1).eval()
    with pytest.raises(ValueError, match=match):
        call(model)


@pytest.mark.parametrize(("probs", "match"), [
    (np.array([0.5]), "at least 2 classes"),
    (np.array([[0.5, np.nan]]), "finite"),
    (np.array([[1.5, -0.5]]), "non-negative"),
    (np.zeros((0, 3)), "no records"),
    (np.array([[True, False]]), "got booleans"),
])
def test_bad_probabilities_are_explained(probs, match):
    with pytest.raises(ValueError, match=match):
        masking.mask_probabilities(probs, "label")
