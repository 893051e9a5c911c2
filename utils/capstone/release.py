"""The "released" model the capstone audits, and its model card (Lesson 08).

A fictional postal service trained a digit recogniser on 1,250 scanned envelope digits and
published it with a model card: the architecture and the training recipe. The auditor (the
student) gets query access and, because the audit is commissioned by the data owner, the list of
training records, so that every attack can be scored honestly.

    release = release_model()
    release.model              # an nn.Module in eval mode: query it, attack it
    print(release.model_card)  # what was published
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from torch import nn

from ..data import MembershipSplit, load_digits, make_membership_split
from ..inference import accuracy, predict_logits
from ..models import MLP
from ..recipe import Recipe
from ..train import init_model, train_model
from ..validation import check_seed

__all__ = ["RELEASE_RECIPE", "RELEASE_SEED", "ReleasedModel", "release_model"]

RELEASE_RECIPE = Recipe(epochs=50, batch_size=128, lr=3e-3, weight_decay=0.0)
RELEASE_SEED = 8  # its own split and weights: not the target of lessons 01-07


@dataclass(frozen=True)
class ReleasedModel:
    """A trained model together with what its owner published and what the auditor is told.

    Attributes
    ----------
    model : nn.Module in eval mode
    build_model : callable returning nn.Module
        The published architecture (shadow models use it).
    recipe : Recipe
        The published training recipe.
    X, y : ndarrays, shapes (n_records, n_features), (n_records,)
        The whole dataset (float32 in [0, 1], int64).
    split : MembershipSplit
        ``members`` trained the model; ``nonmembers`` never did; ``attacker_pool`` is data the
        attacker may own.
    train_seconds : float
        Wall time of the training run.
    train_accuracy, test_accuracy : float
        Accuracy on the members and on the non-members.
    """

    model: nn.Module
    build_model: Callable
    recipe: Recipe
    X: np.ndarray
    y: np.ndarray
    split: MembershipSplit
    train_seconds: float
    train_accuracy: float
    test_accuracy: float
    seed: int = RELEASE_SEED
    notes: dict = field(default_factory=dict)

    def candidates(self):
        """The audit's candidate records, members first: ``(X, y, membership)`` (1 = member)."""
        indices, membership = self.split.evaluation()
        return self.X[indices], self.y[indices], membership

    def attacker_data(self):
        """Records the attacker may own, from the same population, never seen by the model: ``(X, y)``.

        RMIA's population records (`utils.capstone.run_audit`'s ``population``).
        """
        return self.X[self.split.attacker_pool], self.y[self.split.attacker_pool]

    @property
    def model_card(self) -> str:
        """What the owner published, as plain text."""
        r = self.recipe
        n_weights = sum(p.numel() for p in self.model.parameters())
        return "\n".join([
            "Model card: PostCode digit reader v1",
            "- task: read handwritten digits 0-9 from 14x14 grey-scale scans "
            f"({len(self.split.members):,} training digits)",
            f"- architecture: multi-layer perceptron, one hidden layer of 128 units ({n_weights:,} weights)",
            f"- training: Adam, {r.epochs} epochs, batch size {r.batch_size}, learning rate {r.lr:g}, "
            f"weight decay {r.weight_decay:g}",
            f"- accuracy: {self.train_accuracy:.1%} on its training digits, "
            f"{self.test_accuracy:.1%} on held-out digits",
            "- access: a public prediction API",
        ])


def release_model(seed: int = RELEASE_SEED, *, recipe: Recipe = RELEASE_RECIPE, build_model: Callable = MLP,
                  n_members: int = 1250, n_nonmembers: int = 1250, progress: bool = False) -> ReleasedModel:
    """Train the model the capstone audits, with a fixed, published recipe (Lesson 08).

    Parameters
    ----------
    seed : int, default=8
        Seeds the membership split and the training run.
    recipe : Recipe, default=`RELEASE_RECIPE`
    build_model : callable returning nn.Module, default=`utils.models.MLP`
    n_members, n_nonmembers : int, default=1250
        Sizes of the training set and of the held-out records (from the 5,000 MNIST digits).
    progress : bool, default=False

    Returns
    -------
    ReleasedModel
    """
    seed = check_seed(seed)
    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe must be a utils.recipe.Recipe, got {type(recipe).__name__}.")
    digits = load_digits()
    X, y = digits.X, digits.y
    split = make_membership_split(y, n_members, n_nonmembers, seed=seed)
    start = time.perf_counter()
    model = train_model(init_model(build_model, seed), X[split.members], y[split.members], recipe,
                        seed=seed, progress=progress)
    seconds = time.perf_counter() - start
    train_acc = accuracy(predict_logits(model, X[split.members]), y[split.members])
    test_acc = accuracy(predict_logits(model, X[split.nonmembers]), y[split.nonmembers])
    return ReleasedModel(model=model, build_model=build_model, recipe=recipe, X=X, y=y, split=split,
                         train_seconds=seconds, train_accuracy=train_acc, test_accuracy=test_acc, seed=seed)
