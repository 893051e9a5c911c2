"""Label-only attacks (Lesson 07): shifts and perturbations by hand, the gap attack's closed form,
robustness on a model whose answers we control, the per-record calibration against shadows (a
label-only LiRA), the registry and bad input."""

import numpy as np
import pytest
import torch
from torch import nn

from utils.attacks import label_only, registry
from utils.attacks.lira import likelihood_ratio_online
from utils.attacks.shadow import train_shadow_models
from utils.data import load_digits
from utils.defenses.masking import top1_label
from utils.metrics import auc
from utils.models import MLP
from utils.train import init_model, train_model


class Threshold(nn.Module):
    """Class 1 when the mean pixel exceeds `cut`, else class 0: robustness we can predict."""

    n_classes = 2

    def __init__(self, cut=0.5):
        super().__init__()
        self.cut = cut
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        m = x.reshape(len(x), -1).mean(dim=1, keepdim=True)
        return torch.cat([self.cut - m, m - self.cut], dim=1) * 100


def test_shift_images_by_hand():
    x = np.arange(9, dtype=np.float32).reshape(1, 9)
    np.testing.assert_array_equal(label_only.shift_images(x, [1], [0]).reshape(3, 3), [[0, 0, 1], [0, 3, 4], [0, 6, 7]])
    left_down = label_only.shift_images(x, [-1], [1]).reshape(3, 3)
    np.testing.assert_array_equal(left_down, [[0, 0, 0], [1, 2, 0], [4, 5, 0]])
    np.testing.assert_array_equal(label_only.shift_images(x, [0], [0]), x)
    images = np.arange(18, dtype=np.float32).reshape(2, 3, 3)
    assert label_only.shift_images(images, [1, 0], [0, 1]).shape == (2, 3, 3)


def test_perturb_shapes_ranges_and_seeding():
    X = np.random.default_rng(0).random((50, 196)).astype(np.float32)
    noisy = label_only.perturb(X, "noise", 0.3, np.random.default_rng(1))
    assert noisy.shape == X.shape and noisy.min() >= 0 and noisy.max() <= 1 and not np.allclose(noisy, X)
    np.testing.assert_array_equal(noisy, label_only.perturb(X, "noise", 0.3, np.random.default_rng(1)))
    shifted = label_only.perturb(X, "shift", 1, np.random.default_rng(2))
    assert not any(np.array_equal(shifted[i], X[i]) for i in range(len(X)))  # never the zero shift


def test_gap_attack_auc_is_its_closed_form():
    rng = np.random.default_rng(0)
    X = rng.random((400, 4)).astype(np.float32)
    model = Threshold().eval()
    y = (X.mean(axis=1) > 0.5).astype(np.int64)
    members = rng.random(400) < 0.5
    y[~members & (rng.random(400) < 0.3)] ^= 1  # 30% of non-members mislabelled: test accuracy ~0.7
    correct = label_only.score_gap(model, X, y)
    train_acc, test_acc = correct[members].mean(), correct[~members].mean()
    assert train_acc == 1.0
    assert auc(members.astype(int), correct) == pytest.approx((1 + train_acc - test_acc) / 2)


def test_robustness_fractions_follow_the_distance_to_the_boundary():
    # Records far from the cut keep their label under noise; records at the cut flip half the time.
    X = np.concatenate([np.full((20, 16), 0.9), np.full((20, 16), 0.5 + 1e-3)]).astype(np.float32)
    y = np.ones(40, dtype=np.int64)
    fractions = label_only.robustness_fractions(Threshold().eval(), X, y, kind="noise", strength=0.1, n_queries=64)
    assert fractions.shape == (40,) and fractions.dtype == np.float64
    assert (fractions[:20] == 1).all()
    assert 0.25 < fractions[20:].mean() < 0.75


def test_robustness_without_shadows_adds_the_gap_as_a_tie_breaker():
    X = np.full((4, 16), 0.9, dtype=np.float32)
    y = np.array([1, 1, 0, 0])
    scores = label_only.score_robustness(Threshold().eval(), X, y, n_queries=8)
    np.testing.assert_allclose(scores, [1 + 0.5 / 8, 1 + 0.5 / 8, 0, 0])


@pytest.fixture(scope="module")
def trained():
    digits = load_digits()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(digits))[:600]
    X, y = digits.X[idx], digits.y[idx]
    members = np.zeros(600, bool)
    members[:300] = True
    recipe = dict(epochs=30, batch_size=64)
    target = train_model(init_model(MLP, seed=0), X[members], y[members], seed=0, **recipe)
    shadows = train_shadow_models(MLP, X, y, n_shadows=8, seed=1, **recipe)
    return target, shadows, X, y, members


def test_calibrated_robustness_is_a_likelihood_ratio_on_robustness(trained):
    target, shadows, X, y, members = trained
    masked = top1_label(target)
    scores = label_only.score_robustness(masked, X, y, shadows=shadows)
    by_hand = likelihood_ratio_online(label_only.robustness_fractions(masked, X, y),
                                      label_only.robustness_fractions(shadows, X, y), shadows.in_mask,
                                      global_variance=True)
    np.testing.assert_allclose(scores, by_hand)
    # Labels only, and still a membership signal beyond the gap attack's.
    gap_auc = auc(members.astype(int), label_only.score_gap(masked, X, y))
    assert auc(members.astype(int), scores) > gap_auc


def test_masking_does_not_change_label_only_scores(trained):
    target, shadows, X, y, _ = trained
    np.testing.assert_array_equal(label_only.score_boundary_distance(target, X, y),
                                  label_only.score_boundary_distance(top1_label(target), X, y))


def test_boundary_distance_zero_for_misclassified_and_in_unit_interval(trained):
    target, _, X, y, _ = trained
    scores = label_only.score_boundary_distance(target, X, y, n_queries=4)
    wrong = label_only.score_gap(target, X, y) == 0
    assert (scores[wrong] == 0).all() and scores.min() >= 0 and scores.max() <= 1


def test_registered_under_the_style_names():
    from utils.plots.base import ATTACK_STYLES

    for name, fn in (("gap", label_only.score_gap), ("label-robustness", label_only.score_robustness),
                     ("boundary-distance", label_only.score_boundary_distance)):
        assert registry.get(name) is fn and name in ATTACK_STYLES


def test_bad_input_is_explained(trained):
    target, shadows, X, y, _ = trained
    with pytest.raises(ValueError, match="kind must be one of"):
        label_only.robustness_fractions(target, X, y, kind="blur")
    with pytest.raises(ValueError, match="n_queries"):
        label_only.robustness_fractions(target, X, y, n_queries=0)
    with pytest.raises(ValueError, match="strength"):
        label_only.robustness_fractions(target, X, y, strength=-0.1)
    with pytest.raises(ValueError, match="trained on halves of 600 records"):
        label_only.score_robustness(target, X[:100], y[:100], shadows=shadows)
    with pytest.raises(ValueError, match="ModelBatch"):
        label_only.score_robustness(target, X, y, shadows=target)
    with pytest.raises(ValueError, match="not square images"):
        label_only.shift_images(np.zeros((2, 10), np.float32), [1, 1], [0, 0])
    with pytest.raises(ValueError, match="training mode"):
        label_only.score_gap(target.train(), X, y)
    target.eval()
    with pytest.raises(ValueError, match="noise_levels"):
        label_only.score_boundary_distance(target, X, y, noise_levels=())


@pytest.mark.parametrize(("call", "match"), [
    # before: a silent truncation (1.5 -> 1), booleans as shifts, NaN pixels, numpy's broadcast/reshape errors
    (lambda x: label_only.shift_images(x, [1.5, 1.5], [0, 0]), "whole numbers of pixels"),
    (lambda x: label_only.shift_images(x, [True, False], [0, 0]), "whole numbers of pixels"),
    (lambda x: label_only.shift_images(x, [1, 1, 1], [0, 0, 0]), "one shift per record"),
    (lambda x: label_only.shift_images(np.full_like(x, np.nan), [1, 1], [0, 0]), "NaN"),
    (lambda x: label_only.shift_images(x[:0], [], []), "at least one"),
    (lambda x: label_only.shift_images(x[0], [1], [0]), "at least one"),
    # before: any unknown kind was noise; negative strength or a shift of 0 hit numpy's errors
    (lambda x: label_only.perturb(x, "blur", 0.1, np.random.default_rng(0)), "kind must be one of"),
    (lambda x: label_only.perturb(x, "noise", -1.0, np.random.default_rng(0)), "strength"),
    (lambda x: label_only.perturb(x, "shift", 0, np.random.default_rng(0)), "strength"),
    (lambda x: label_only.perturb(x, "noise", 0.1, 0), "numpy Generator"),
])
def test_odd_images_and_perturbations_are_explained(call, match):
    x = np.random.default_rng(0).random((2, 9)).astype(np.float32)
    with pytest.raises(ValueError, match=match):
        call(x)


def test_boundary_distance_needs_a_sequence_of_noise_levels(trained):
    target, _, X, y, _ = trained
    with pytest.raises(ValueError, match="sequence of noise standard deviations"):  # before: a TypeError
        label_only.score_boundary_distance(target, X[:5], y[:5], noise_levels=0.1)
