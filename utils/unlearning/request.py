"""The deletion request: which records each model must forget, and the shadow design that audits it (Lesson 10).

An `UnlearningRequest` says, for K same-shaped models at once (the released model is K = 1), which
records trained each model (``trained``) and which of them its owner asks to remove (``forget``);
the rest are ``retain``. Every unlearning method of `utils.unlearning.methods` takes one.

- `forget_rows`: a forget set for the released model: random members, or the most exposed ones.
- `audit_design`: the shadow models of the per-example audit (U-LiRA): K models on balanced halves
  of the candidates, each forgetting a random part of what it learnt from a *forget pool*, so that
  every pool record is forgotten by several models and never trained by several others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..recipe import Recipe
from ..seed import spawn_seeds
from ..validation import as_1d, check_features_labels, check_positive_int, check_seed

__all__ = ["UnlearningRequest", "make_request", "forget_rows", "audit_design"]


def _rows(array, name: str, n_records: int) -> np.ndarray:
    arr = np.asarray(array)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{name} must be a 2-D array of record indices, one row per model (integers), got shape "
            f"{arr.shape} and dtype {arr.dtype}. For one model pass indices[None]."
        )
    if arr.min() < 0 or arr.max() >= n_records:
        raise ValueError(f"{name} holds indices from {arr.min()} to {arr.max()}, but X has {n_records} records.")
    return np.sort(arr.astype(np.int64), axis=1)


@dataclass(frozen=True)
class UnlearningRequest:
    """Which records K models trained on and which of them they must forget (Lesson 10).

    Attributes
    ----------
    X : ndarray of float32, shape (n_records, ...)
    y : ndarray of int64, shape (n_records,)
    trained : ndarray of int64, shape (K, n_train)
        Row k: sorted indices of model k's original training records.
    forget : ndarray of int64, shape (K, n_forget)
        Row k: sorted indices of the records model k must forget (a subset of its row of `trained`).
    build_model : callable returning nn.Module
        The architecture (retraining builds fresh models with it).
    recipe : Recipe
        The original training recipe (retraining reuses it).
    """

    X: np.ndarray
    y: np.ndarray
    trained: np.ndarray
    forget: np.ndarray
    build_model: Callable
    recipe: Recipe

    @property
    def n_models(self) -> int:
        return len(self.trained)

    @property
    def retain(self) -> np.ndarray:
        """(K, n_train - n_forget) sorted indices of the records each model keeps."""
        return np.stack([np.setdiff1d(t, f) for t, f in zip(self.trained, self.forget)]).astype(np.int64)

    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        """Boolean ``(trained, forget)`` masks, each of shape (K, n_records)."""
        n = len(self.y)
        trained = np.zeros((self.n_models, n), bool)
        forget = np.zeros((self.n_models, n), bool)
        np.put_along_axis(trained, self.trained, True, axis=1)
        np.put_along_axis(forget, self.forget, True, axis=1)
        return trained, forget


def make_request(X, y, trained, forget, *, build_model: Callable, recipe: Recipe) -> UnlearningRequest:
    """Validate and bundle a deletion request (Lesson 10).

    Parameters
    ----------
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
    trained : array-like of int, shape (K, n_train) or (n_train,) for one model
    forget : array-like of int, shape (K, n_forget) or (n_forget,)
        Each row a subset of the same row of `trained`, smaller than it.
    build_model : callable returning nn.Module
    recipe : Recipe

    Returns
    -------
    UnlearningRequest

    Raises
    ------
    ValueError
        Rows of different models disagree in number, a record is listed twice, a forget record was
        never trained on, or nothing would be left to retain.
    """
    X, y = check_features_labels(X, y)
    trained, forget = _rows(trained, "trained", len(y)), _rows(forget, "forget", len(y))
    if len(trained) != len(forget):
        raise ValueError(f"trained has {len(trained)} rows (models) but forget has {len(forget)}; give one per model.")
    for name, rows in (("trained", trained), ("forget", forget)):
        if any(len(np.unique(r)) != len(r) for r in rows):
            raise ValueError(f"a row of {name} lists a record twice; give each record once.")
    if forget.shape[1] >= trained.shape[1]:
        raise ValueError(
            f"each model forgets {forget.shape[1]} of its {trained.shape[1]} training records, which leaves nothing "
            "to retain; forget fewer records."
        )
    for k, (t, f) in enumerate(zip(trained, forget)):
        strangers = np.setdiff1d(f, t)
        if len(strangers):
            raise ValueError(
                f"model {k} is asked to forget records it never trained on ({strangers[:5].tolist()}); a forget "
                "set holds training records only."
            )
    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe must be a utils.recipe.Recipe, got {type(recipe).__name__}.")
    if not callable(build_model):
        raise ValueError(f"build_model must be a function returning a model, got {type(build_model).__name__}.")
    return UnlearningRequest(X, y, trained, forget, build_model, recipe)


def forget_rows(members, n_forget: int, *, exposure=None, seed: int = 0) -> np.ndarray:
    """A forget set of `n_forget` members: random ones, or the most exposed (Lesson 10).

    Parameters
    ----------
    members : array-like of int, shape (n_members,)
        Indices of the model's training records.
    n_forget : int
        Fewer than the members.
    exposure : array-like of float, shape (n_members,), optional
        One score per member, higher = more exposed (e.g. its online LiRA score against the released
        model, lesson 03's per-record view). Given: the `n_forget` highest; None: a random draw.
    seed : int, default=0

    Returns
    -------
    ndarray of int64, shape (n_forget,)
        Sorted indices (values of `members`).
    """
    members = np.asarray(members, dtype=np.int64)
    n_forget = check_positive_int(n_forget, "n_forget")
    if n_forget >= len(members):
        raise ValueError(f"n_forget must be smaller than the {len(members)} members (some must stay), got {n_forget}.")
    if exposure is None:
        chosen = np.random.default_rng(check_seed(seed)).choice(members, n_forget, replace=False)
    else:
        exposure = as_1d(exposure, "exposure")
        if exposure.shape != members.shape:
            raise ValueError(f"exposure needs one score per member ({len(members)}), got {len(exposure)}.")
        chosen = members[np.argsort(-exposure, kind="stable")[:n_forget]]
    return np.sort(chosen)


def audit_design(n_records: int, n_models: int, *, pool_size: int, n_forget: int, seed: int = 0):
    """Training and forget sets of the audit's shadow models (Lesson 10).

    Models come in complementary pairs of halves (every record trains exactly half of them). A
    random *forget pool* of `pool_size` records is split evenly between the two halves of each pair,
    and each model forgets `n_forget` random records of its half of the pool. A pool record is thus
    trained by half of the models, forgotten by about ``n_forget / (pool_size / 2)`` of those, and
    never seen by the other half: the three kinds of observation U-LiRA compares.

    Parameters
    ----------
    n_records : int, even
    n_models : int, even, >= 4
    pool_size : int, even, at most `n_records`
    n_forget : int, at most ``pool_size // 2``
    seed : int, default=0

    Returns
    -------
    trained : ndarray of int64, shape (n_models, n_records // 2)
    forget : ndarray of int64, shape (n_models, n_forget)
    pool : ndarray of int64, shape (pool_size,)
    """
    n_records = check_positive_int(n_records, "n_records", minimum=2)
    n_models = check_positive_int(n_models, "n_models", minimum=4)
    pool_size = check_positive_int(pool_size, "pool_size", minimum=2)
    n_forget = check_positive_int(n_forget, "n_forget")
    if n_records % 2 or n_models % 2 or pool_size % 2:
        raise ValueError(
            f"n_records, n_models and pool_size must be even (halves in pairs), got {n_records}, {n_models}, "
            f"{pool_size}."
        )
    if pool_size > n_records or n_forget > pool_size // 2:
        raise ValueError(
            f"need pool_size <= n_records and n_forget <= pool_size / 2, got pool_size={pool_size} of {n_records} "
            f"records and n_forget={n_forget}."
        )
    pool_seed, pair_seed = spawn_seeds(check_seed(seed), 2)
    pool = np.sort(np.random.default_rng(pool_seed).choice(n_records, pool_size, replace=False))
    rest = np.setdiff1d(np.arange(n_records), pool)
    rng = np.random.default_rng(pair_seed)
    trained, forget = [], []
    for _ in range(n_models // 2):
        p, r = rng.permutation(pool), rng.permutation(rest)
        halves = [(p[: pool_size // 2], r[: len(r) // 2]), (p[pool_size // 2:], r[len(r) // 2:])]
        for pool_half, rest_half in halves:
            trained.append(np.sort(np.r_[pool_half, rest_half]))
            forget.append(np.sort(rng.choice(pool_half, n_forget, replace=False)))
    return np.stack(trained).astype(np.int64), np.stack(forget).astype(np.int64), pool.astype(np.int64)
