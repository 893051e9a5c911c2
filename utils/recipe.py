"""The training recipe: one small validated object that both trainers, and every attacker that
trains shadows "like the target", take (Lessons 01, 03, 05).

>>> r = Recipe(epochs=30)
>>> r.replace(lr=1e-3).lr
0.001
>>> Recipe(lr=True)
Traceback (most recent call last):
...
ValueError: lr must be a finite number, got True.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .validation import check_fraction, check_positive_int, check_real

__all__ = ["Recipe", "as_recipe"]


@dataclass(frozen=True)
class Recipe:
    """How a model is trained: Adam on mean cross-entropy over shuffled mini-batches.

    Attributes
    ----------
    epochs : int, default=50
        Passes over the training records.
    batch_size : int, default=128
        Records per Adam step.
    lr : float, default=3e-3
        Adam's learning rate.
    weight_decay : float, default=0.0
        L2 penalty (Adam's `weight_decay`; lesson 05).
    early_stopping_patience : int or None, default=None
        Early stopping (lesson 05): hold out `validation_fraction` of each model's training records,
        stop after this many epochs without a lower validation loss, and keep the weights of the
        epoch with the lowest one. None trains for all `epochs`.
    validation_fraction : float, default=0.1
        Share of each model's training records held out for early stopping's validation loss (used
        only with `early_stopping_patience`); those records never train the model.
    """

    epochs: int = 50
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.0
    early_stopping_patience: int | None = None
    validation_fraction: float = 0.1

    def __post_init__(self):
        # frozen: validated values are written with object.__setattr__ (ints stay ints, numpy scalars become floats).
        object.__setattr__(self, "epochs", check_positive_int(self.epochs, "epochs"))
        object.__setattr__(self, "batch_size", check_positive_int(self.batch_size, "batch_size"))
        object.__setattr__(self, "lr", check_real(self.lr, "lr", positive=True))
        object.__setattr__(self, "weight_decay", check_real(self.weight_decay, "weight_decay", minimum=0.0))
        if self.early_stopping_patience is not None:
            patience = check_positive_int(self.early_stopping_patience, "early_stopping_patience")
            object.__setattr__(self, "early_stopping_patience", patience)
        object.__setattr__(self, "validation_fraction", check_fraction(self.validation_fraction, "validation_fraction"))

    def replace(self, **changes) -> Recipe:
        """A copy with some fields changed (validated again)."""
        return as_recipe(self, **changes)


def as_recipe(recipe: Recipe | None = None, **fields) -> Recipe:
    """`recipe` (default `Recipe()`) with `fields` changed, e.g. ``as_recipe(None, epochs=30)``.

    The one place that turns a trainer's keywords into a validated `Recipe`; an unknown keyword
    is named, with the fields that exist.
    """
    if recipe is None:
        recipe = Recipe()
    if not isinstance(recipe, Recipe):
        raise ValueError(
            f"recipe must be a utils.recipe.Recipe, got {type(recipe).__name__}. "
            "Build one with Recipe(epochs=..., lr=...), or pass the fields as keywords."
        )
    names = {f.name for f in dataclasses.fields(Recipe)}
    unknown = sorted(set(fields) - names)
    if unknown:
        raise TypeError(f"unknown training option(s) {unknown}; a Recipe has {sorted(names)}.")
    return dataclasses.replace(recipe, **fields) if fields else recipe
