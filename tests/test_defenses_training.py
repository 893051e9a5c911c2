"""Early stopping as an option of both trainers (Lesson 05): the recipe's validation, each model
held out and restored alike by `train_model` and `train_batched` (fast path and vmap path), and
that it does stop and keeps the best epoch."""

import functools

import numpy as np
import pytest
import torch
from torch import nn

from utils.data import load_digits
from utils.models import MLP
from utils.recipe import Recipe
from utils.seed import spawn_seeds
from utils.train import init_model, predict_logits, train_batched, train_model

SMALL_MLP = functools.partial(MLP, hidden=(16,))


@pytest.fixture(scope="module")
def noisy():
    """400 digits, a third of them relabelled at random: a model that memorises them overfits fast."""
    full = load_digits()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(full))[:400]
    X, y = full.X[idx], full.y[idx].copy()
    flip = rng.random(len(y)) < 1 / 3
    y[flip] = rng.integers(0, 10, flip.sum())
    return X, y


class Linear(nn.Module):
    """Not a plain MLP: takes the batched trainer's vmap path."""

    n_classes = 10

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(196, 10)

    def forward(self, x):
        return self.layer(x)


def test_recipe_validates_early_stopping_fields():
    assert Recipe().early_stopping_patience is None
    assert Recipe(early_stopping_patience=np.int64(3)).early_stopping_patience == 3
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="early_stopping_patience"):
            Recipe(early_stopping_patience=bad)
    for bad in (0.0, 1.0, -0.1, float("nan"), True):
        with pytest.raises(ValueError, match="validation_fraction"):
            Recipe(validation_fraction=bad)


def test_too_few_records_for_a_validation_split_is_explained(noisy):
    X, y = noisy
    with pytest.raises(ValueError, match="validation"):
        train_model(init_model(SMALL_MLP, 0), X[:3], y[:3], epochs=2, early_stopping_patience=1,
                    validation_fraction=0.1)


@pytest.mark.parametrize("build", [SMALL_MLP, functools.partial(SMALL_MLP, dropout=0.3), Linear])
def test_batched_early_stopping_matches_single_runs(noisy, build):
    X, y = noisy
    rng = np.random.default_rng(1)
    subsets = np.stack([rng.choice(len(y), 200, replace=False) for _ in range(3)])
    recipe = Recipe(epochs=40, batch_size=50, early_stopping_patience=3, validation_fraction=0.2)
    batch = train_batched(build, X, y, subsets, recipe, seed=7)
    assert (batch.subsets == subsets).all(), "the result lists every record of the owner, validation included"
    if build.__class__ is functools.partial and build.keywords.get("dropout"):
        return  # the two trainers draw different dropout masks (documented); shape and run are what we check
    for k, seed in enumerate(spawn_seeds(7, 3)):
        single = train_model(init_model(build, seed), X[subsets[k]], y[subsets[k]], recipe, seed=seed)
        np.testing.assert_allclose(predict_logits(batch.model(k), X), predict_logits(single, X), atol=1e-4)


def test_early_stopping_stops_and_keeps_the_best_epoch(noisy):
    X, y = noisy
    recipe = Recipe(epochs=60, batch_size=50, early_stopping_patience=2, validation_fraction=0.25)
    stopped = train_model(init_model(SMALL_MLP, 0), X, y, recipe, seed=3)
    full = train_model(init_model(SMALL_MLP, 0), X, y, recipe.replace(early_stopping_patience=None), seed=3)
    # Same held-out records as the trainer drew (its first draw from default_rng(seed)).
    order = np.random.default_rng(3).permutation(len(y))
    val = order[len(y) - 100 :]
    def loss(m, idx):
        logits = torch.from_numpy(predict_logits(m, X[idx]))
        return torch.nn.functional.cross_entropy(logits, torch.from_numpy(y[idx])).item()

    train_acc = lambda m: (predict_logits(m, X).argmax(1) == y).mean()  # noqa: E731
    assert train_acc(stopped) < train_acc(full) - 0.05, "60 epochs on noisy labels memorise; early stopping should not"
    # The restored weights are a best epoch's: no worse than after epoch 1, no better than the best of all 60.
    after_one, best_of_all = (
        train_model(init_model(SMALL_MLP, 0), X, y, recipe.replace(epochs=e, early_stopping_patience=1000), seed=3)
        for e in (1, 60)
    )
    assert loss(best_of_all, val) <= loss(stopped, val) + 1e-6
    assert loss(stopped, val) < loss(after_one, val)


def test_without_early_stopping_nothing_changes(noisy):
    X, y = noisy
    rng = np.random.default_rng(2)
    subsets = np.stack([rng.choice(len(y), 100, replace=False) for _ in range(2)])
    a = train_batched(SMALL_MLP, X, y, subsets, epochs=3, seed=1)
    b = train_batched(SMALL_MLP, X, y, subsets, Recipe(epochs=3, validation_fraction=0.5), seed=1)
    np.testing.assert_array_equal(predict_logits(a, X), predict_logits(b, X))
