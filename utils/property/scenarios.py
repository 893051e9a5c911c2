"""The lesson's property-inference games on real data, with their sizes in one place (Lesson 04).

- `census_game`: "does this model's training set hold more women?" on the CPSSW8 census, in three
  settings that teach where the leak comes from:

  (a) gender is not an input and each world's label rate is whatever its draw gives: women earn
      less, so a world with more women has fewer high earners, and every model's average output
      carries that base rate;
  (b) gender is not an input and every training set has the same label rate in each group: the
      base rate is gone, and what remains is how the relation between age, education, region
      and earnings shifts when more of the records are women's;
  (c) gender is an input and labels are as drawn: the model can fit each group's own relation,
      which is the same in both worlds, so the property hides in how *well* each group is fit
      (a group with fewer records is fit less well), a much fainter signal.

- `digits_game`: an image classifier whose training set holds 10% vs 20% zeros.
- `presence_game`: "was this model trained on Company X's data?": the census records of one
  region stand for Company X's customers, present as a share of the training set or absent.

Sizes follow `utils.config.pick` (``COURSE_FAST=1`` trains for fewer epochs, same code path).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..config import pick
from ..data import load_digits
from ..models import MLP
from ..recipe import Recipe
from ..tables import CENSUS_REGIONS, load_census
from .game import PropertyGame, play_property_game, sweep_property_game

__all__ = ["CENSUS_SETTINGS", "census_game", "census_sweep", "digits_game", "presence_game", "tabular_mlp"]

CENSUS_SETTINGS = {
    "a": "gender is not an input; each world's label rate as drawn",
    "b": "gender is not an input; the same label rate in every training set",
    "c": "gender is an input; labels as drawn",
}


def tabular_mlp(in_features: int, n_classes: int = 2):
    """The tiny tabular model of lesson 04: ``MLP(in_features, hidden=(32, 16), n_classes)``."""
    return partial(MLP, in_features=in_features, hidden=(32, 16), n_classes=n_classes)


def _recipe(epochs):
    return Recipe(epochs=pick(30, 15) if epochs is None else epochs, batch_size=128, lr=3e-3)


def _census(setting):
    if setting not in CENSUS_SETTINGS:
        raise ValueError(f"setting must be one of {sorted(CENSUS_SETTINGS)}, got {setting!r}.")
    table = load_census(group_as_input=setting == "c")
    return table, (table.label_rate() if setting == "b" else None)


def census_game(
    setting: str = "a",
    fractions=(0.2, 0.5),
    *,
    n_train: int = 1000,
    n_shadows: int = 25,
    n_victims: int = 200,
    epochs: int | None = None,
    n_query: int = 1024,
    seed: int = 0,
    progress: bool = False,
) -> PropertyGame:
    """The census game: worlds with `fractions` of women, in setting "a", "b" or "c" (module docstring)."""
    table, label_rate = _census(setting)
    return play_property_game(
        table.X,
        table.y,
        table.group,
        fractions=fractions,
        n_train=n_train,
        n_shadows=n_shadows,
        n_victims=n_victims,
        build_model=tabular_mlp(table.X.shape[1]),
        recipe=_recipe(epochs),
        label_rate=label_rate,
        n_query=n_query,
        seed=seed,
        progress=progress,
    )


def census_sweep(
    base_fraction: float = 0.2,
    other_fractions=(0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7),
    *,
    setting: str = "a",
    n_train: int = 1000,
    n_shadows: int = 25,
    n_victims: int = 200,
    epochs: int | None = None,
    n_query: int = 1024,
    seed: int = 0,
    progress: bool = False,
):
    """One census game per world-1 fraction against the same world 0 (the lesson's slider)."""
    table, label_rate = _census(setting)
    return sweep_property_game(
        table.X,
        table.y,
        table.group,
        base_fraction=base_fraction,
        other_fractions=other_fractions,
        n_train=n_train,
        n_shadows=n_shadows,
        n_victims=n_victims,
        build_model=tabular_mlp(table.X.shape[1]),
        recipe=_recipe(epochs),
        label_rate=label_rate,
        n_query=n_query,
        seed=seed,
        progress=progress,
    )


def digits_game(
    fractions=(0.1, 0.2),
    *,
    digit: int = 0,
    n_train: int = 500,
    n_shadows: int = 25,
    n_victims: int = 200,
    epochs: int | None = None,
    n_query: int = 256,
    seed: int = 0,
    progress: bool = False,
) -> PropertyGame:
    """MNIST-5k digits: worlds whose training sets hold `fractions` of the digit `digit`."""
    digits = load_digits()
    return play_property_game(
        digits.X,
        digits.y,
        digits.y == digit,
        fractions=fractions,
        n_train=n_train,
        n_shadows=n_shadows,
        n_victims=n_victims,
        build_model=tabular_mlp(digits.X.shape[1], n_classes=10),
        recipe=_recipe(epochs),
        n_query=n_query,
        seed=seed,
        progress=progress,
    )


def presence_game(
    share: float = 0.1,
    *,
    company: str = "Northeast",
    n_train: int = 1000,
    n_shadows: int = 25,
    n_victims: int = 200,
    epochs: int | None = None,
    n_query: int = 1024,
    seed: int = 0,
    progress: bool = False,
) -> PropertyGame:
    """Company X: world 0 holds none of `company`'s records (a census region), world 1 a `share` of them.

    Gender is not an input; the region is (it is an ordinary feature of a customer record).
    """
    if company not in CENSUS_REGIONS:
        raise ValueError(f"company must be one of the census regions {list(CENSUS_REGIONS)}, got {company!r}.")
    table = load_census()
    return play_property_game(
        table.X,
        table.y,
        np.asarray(table.source) == company,
        fractions=(0.0, share),
        n_train=n_train,
        n_shadows=n_shadows,
        n_victims=n_victims,
        build_model=tabular_mlp(table.X.shape[1]),
        recipe=_recipe(epochs),
        n_query=n_query,
        seed=seed,
        progress=progress,
    )
