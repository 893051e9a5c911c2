"""The two-world game: shadows on the attacker's share, victims on a disjoint share (Lesson 04).

A challenger flips a coin b, draws a training set from world b, trains a victim model and hands
it to the attacker, whose job is to name b. The attacker owns a disjoint share of the same
distribution: it trains *shadow* models in both worlds (with the same architecture and recipe)
and draws a fixed *query* set from its share. All models -- shadows of both worlds and victims --
train in one call of the batched trainer (one row of ``subsets`` per model).

>>> from functools import partial
>>> from utils.models import MLP
>>> from utils.tables import load_census
>>> census = load_census()                                             # doctest: +SKIP
>>> game = play_property_game(census.X, census.y, census.group, fractions=(0.2, 0.5),
...     build_model=partial(MLP, in_features=6, hidden=(32, 16), n_classes=2))   # doctest: +SKIP
>>> run_property_attacks(game)                                         # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..models import ModelBatch
from ..recipe import Recipe, as_recipe
from ..train import train_batched
from ..validation import check_features_labels, check_positive_int, check_record_mask, check_seed
from .worlds import check_worlds, draw_training_sets, split_pool

__all__ = ["Query", "PropertyGame", "play_property_game", "sweep_property_game", "take_models", "MIN_SHADOWS"]

MIN_SHADOWS = 2  # per world: fewer leaves nothing to compare a victim with (meta-classifiers need more, see attacks)


@dataclass(frozen=True)
class Query:
    """The attacker's fixed query records, with each world's distribution over them.

    Attributes
    ----------
    X : ndarray of float32, shape (n_query, ...)
    y : ndarray of int64, shape (n_query,)
    group : ndarray of bool, shape (n_query,)
    weights0, weights1 : ndarray of float64, shape (n_query,)
        Non-negative, each summing to 1: averaging a per-record quantity with ``weights_b`` gives
        its expectation over world b's distribution (the loss on "data from world b").
    """

    X: np.ndarray
    y: np.ndarray
    group: np.ndarray
    weights0: np.ndarray
    weights1: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class PropertyGame:
    """Everything one round of the game produced.

    Attributes
    ----------
    fractions : (float, float)
        The group fraction of world 0 and of world 1.
    shadows0, shadows1 : ModelBatch
        The attacker's shadow models in world 0 and world 1.
    victims : ModelBatch
        Held-out victim models, trained on the victims' share.
    worlds : ndarray of int64, shape (n_victims,)
        The true world of each victim.
    query : Query
    n_train : int
    seconds : float
        Wall time of training every model.
    """

    fractions: tuple
    shadows0: ModelBatch
    shadows1: ModelBatch
    victims: ModelBatch
    worlds: np.ndarray
    query: Query
    n_train: int
    seconds: float


def take_models(batch: ModelBatch, index) -> ModelBatch:
    """The models of `batch` at positions `index` (an int array or a slice), as a new ModelBatch.

    `ModelBatch.select` with slices allowed; it keeps the record fingerprint, so attacks can still
    check which records trained the models.
    """
    return batch.select(np.arange(len(batch))[index])


def _query(y, group, pool, fractions, n_query, label_rate, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of `n_query` records (half from the group where possible) and each world's weights."""
    in_group, other = pool[group[pool]], pool[~group[pool]]
    k = min(n_query // 2, len(in_group))
    k = max(k, n_query - len(other))
    index = np.concatenate([rng.choice(in_group, k, replace=False), rng.choice(other, n_query - k, replace=False)])
    weights = []
    for f in fractions:
        w = np.zeros(n_query)
        for g, share in ((True, f), (False, 1.0 - f)):
            cell = group[index] == g
            if label_rate is None:
                if cell.any():
                    w[cell] = share / cell.sum()
            else:
                for label, rate in ((1, label_rate), (0, 1.0 - label_rate)):
                    sub = cell & (y[index] == label)
                    if sub.any():
                        w[sub] = share * rate / sub.sum()
        weights.append(w / w.sum())
    return index, weights[0], weights[1]


def _check_counts(n_shadows, n_victims, n_train, n_query):
    n_shadows = check_positive_int(n_shadows, "n_shadows")
    if n_shadows < MIN_SHADOWS:
        raise ValueError(
            f"n_shadows must be at least {MIN_SHADOWS} per world, got {n_shadows}: an attacker with one shadow model "
            "per world cannot tell the world's effect from one model's chance. Use 10-25."
        )
    n_victims = check_positive_int(n_victims, "n_victims", minimum=2)
    return (
        n_shadows,
        n_victims,
        check_positive_int(n_train, "n_train"),
        check_positive_int(n_query, "n_query", minimum=2),
    )


def _train(X, y, subsets_list, build_model, recipe, seed, progress, noise_multiplier=None, max_grad_norm=1.0):
    sizes = [len(s) for s in subsets_list]
    start = time.perf_counter()
    if noise_multiplier is None:
        batch = train_batched(build_model, X, y, np.concatenate(subsets_list), recipe, seed=seed, progress=progress)
    else:  # every model of the game with DP-SGD (Lesson 06b): the victims, and the shadows as the attacker would
        from ..defenses.dp_batched import train_dp_batched

        batch = train_dp_batched(build_model, X, y, np.concatenate(subsets_list), recipe,
                                 noise_multiplier=noise_multiplier, max_grad_norm=max_grad_norm, seed=seed)
    seconds = time.perf_counter() - start
    ends = np.cumsum(sizes)
    return [take_models(batch, slice(e - n, e)) for e, n in zip(ends, sizes)], seconds


def sweep_property_game(
    X,
    y,
    group,
    *,
    base_fraction: float,
    other_fractions,
    n_train: int = 1000,
    n_shadows: int = 25,
    n_victims: int = 200,
    build_model: Callable,
    recipe: Recipe | None = None,
    label_rate: float | None = None,
    attacker_share: float = 0.5,
    n_query: int = 256,
    seed: int = 0,
    progress: bool = False,
    noise_multiplier: float | None = None,
    max_grad_norm: float = 1.0,
) -> list[PropertyGame]:
    """One game per fraction in `other_fractions`, each against the same world 0 (`base_fraction`).

    World 0's shadows and victims are trained once and shared by every game; all models train in
    one batched call. Returns the games in the order of `other_fractions`. Parameters as in
    `play_property_game`.
    """
    X, y = check_features_labels(X, y)
    group = check_record_mask(group, "group", len(y))
    others = [check_worlds((base_fraction, f))[1] for f in other_fractions]
    if not others:
        raise ValueError("other_fractions is empty; give at least one world-1 fraction.")
    base_fraction = check_worlds((base_fraction, base_fraction))[0]
    n_shadows, n_victims, n_train, n_query = _check_counts(n_shadows, n_victims, n_train, n_query)
    recipe = as_recipe(recipe)
    seed = check_seed(seed)
    stratify = group.astype(np.int64) * 2 + (y if label_rate is not None else 0)
    attacker, victim_pool = split_pool(len(y), attacker_share=attacker_share, stratify=stratify, seed=seed)
    seeds = iter(np.random.SeedSequence(seed).generate_state(3 + 3 * len(others)).tolist())
    v0, v1 = n_victims // 2, n_victims - n_victims // 2

    def world(fraction, pool, n):
        return draw_training_sets(
            group, fraction, n_train, n, pool=pool, labels=y, label_rate=label_rate, seed=next(seeds)
        )

    subsets = [world(base_fraction, attacker, n_shadows), world(base_fraction, victim_pool, v0)]
    for f in others:
        subsets += [world(f, attacker, n_shadows), world(f, victim_pool, v1)]
    trained, seconds = _train(X, y, subsets, build_model, recipe, next(seeds), progress, noise_multiplier,
                              max_grad_norm)
    worlds = np.repeat([0, 1], [v0, v1]).astype(np.int64)
    games = []
    for i, f in enumerate(others):
        rng = np.random.default_rng(next(seeds))
        index, w0, w1 = _query(y, group, attacker, (base_fraction, f), n_query, label_rate, rng)
        query = Query(X[index], y[index], group[index], w0, w1)
        shadows1, victims1 = trained[2 + 2 * i], trained[3 + 2 * i]
        victims = ModelBatch(
            base=victims1.base,
            params={name: torch.cat([trained[1].params[name], victims1.params[name]]) for name in victims1.params},
            seeds=trained[1].seeds + victims1.seeds,
            subsets=np.concatenate([trained[1].subsets, victims1.subsets]),
            n_records=victims1.n_records,
            fingerprint=victims1.fingerprint,  # one batched call trained them all on the same X, y
        )
        games.append(PropertyGame((base_fraction, f), trained[0], shadows1, victims, worlds, query, n_train, seconds))
    return games


def play_property_game(
    X,
    y,
    group,
    *,
    fractions=(0.2, 0.5),
    n_train: int = 1000,
    n_shadows: int = 25,
    n_victims: int = 200,
    build_model: Callable,
    recipe: Recipe | None = None,
    label_rate: float | None = None,
    attacker_share: float = 0.5,
    n_query: int = 256,
    seed: int = 0,
    progress: bool = False,
) -> PropertyGame:
    """Train shadows of both worlds on the attacker's share and victims on the rest (Lesson 04).

    Parameters
    ----------
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
    group : array-like of bool, shape (n_records,)
        The group whose fraction is the property (it need not be a column of `X`).
    fractions : (float, float), default=(0.2, 0.5)
        Group fraction of world 0 and of world 1; equal fractions play the null game.
    n_train : int, default=1000
        Records per training set (every model, both worlds).
    n_shadows : int, default=25
        Shadow models per world (at least 2).
    n_victims : int, default=200
        Held-out victims, half per world (the accuracy's interval narrows with more).
    build_model : callable returning nn.Module
        Shared by shadows and victims, e.g. ``partial(MLP, in_features=6, hidden=(32, 16), n_classes=2)``.
    recipe : Recipe, optional
    label_rate : float, optional
        Fix the label rate inside each group of every training set (setting (b)).
    attacker_share : float, default=0.5
        Fraction of the records the attacker owns; victims draw from the rest.
    n_query : int, default=256
        Query records, from the attacker's share, half from the group where possible.
    seed : int

    Returns
    -------
    PropertyGame
        Victims of world 0 come first, then those of world 1 (`worlds` says which is which).

    Raises
    ------
    ValueError
        For an impossible world (too few records of a kind in a share), fewer than 2 shadows per
        world, or invalid data.
    """
    fractions = check_worlds(fractions)
    return sweep_property_game(
        X,
        y,
        group,
        base_fraction=fractions[0],
        other_fractions=[fractions[1]],
        n_train=n_train,
        n_shadows=n_shadows,
        n_victims=n_victims,
        build_model=build_model,
        recipe=recipe,
        label_rate=label_rate,
        attacker_share=attacker_share,
        n_query=n_query,
        seed=seed,
        progress=progress,
    )[0]
