"""Honest low-FPR numbers: pool several independently trained targets (Lesson 03).

With 1,250 non-members, "TPR at 0.1% FPR" is decided by one or two false positives, so it swings
from run to run. More non-members make it trustworthy. This module trains ``n_shadows + n_targets``
models on halves of the candidate records in one batched run; each of the ``n_targets`` models in
turn plays the target against the same ``n_shadows`` shadows. Scores and labels of all targets are
concatenated: 8 targets x 2,500 candidates = 20,000 scored records (10,000 non-members), for the
price of 8 extra models.

    experiment = pooled.train_pooled(MLP, X_eval, y_eval, n_shadows=64, n_targets=8, seed=0)
    labels, scores = pooled.pooled_scores(experiment, "lira-online")
    report.compare_attacks({"lira-online": (labels, scores)})   # TPR@0.1% with intervals

Any attack of `utils.attacks.registry` can be pooled: it gets each target in turn, the candidates,
``shadows=`` the shadow models (trained on these candidates, so their ``in_mask`` applies) and the
options given to `pooled_scores` (e.g. ``population=(X_pool, y_pool)`` for RMIA).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..inference import predict_logits
from ..models import ModelBatch
from ..seed import spawn_seeds
from ..train import train_batched
from ..validation import check_features_labels, check_positive_int
from .registry import get
from .shadow import balanced_halves

__all__ = ["PooledExperiment", "train_pooled", "pooled_scores"]


@dataclass(frozen=True)
class PooledExperiment:
    """Models trained on halves of one set of candidate records, split into targets and shadows.

    Attributes
    ----------
    logits : ndarray of float64, shape (n_models, n_records, n_classes)
        Every model's logits on every candidate.
    y : ndarray of int64, shape (n_records,)
    in_mask : ndarray of bool, shape (n_models, n_records)
        True where the candidate trained that model.
    target_ids, shadow_ids : ndarray of int64
        Which models play the targets and which the shadows (disjoint).
    train_seconds : float
        Wall time of the batched training run.
    models : ModelBatch
        All the models (targets and shadows), trained on `X`.
    X : ndarray of float32, shape (n_records, ...)
        The candidate records.
    """

    logits: np.ndarray
    y: np.ndarray
    in_mask: np.ndarray
    target_ids: np.ndarray
    shadow_ids: np.ndarray
    train_seconds: float
    models: ModelBatch
    X: np.ndarray

    def target(self, t: int):
        """Target `t` (an index into `target_ids`) as an ``nn.Module`` in eval mode."""
        return self.models.model(int(self.target_ids[t]))

    def shadows(self) -> ModelBatch:
        """The shadow models, as a `ModelBatch` that remembers it was trained on `X`."""
        return self.models.select(self.shadow_ids)

    @property
    def n_targets(self) -> int:
        return len(self.target_ids)

    @property
    def n_shadows(self) -> int:
        return len(self.shadow_ids)


def train_pooled(
    build_model, X, y, *, n_shadows: int = 64, n_targets: int = 8, seed: int = 0, **recipe_fields
) -> PooledExperiment:
    """Train targets and shadows together on balanced halves of the candidates (Lesson 03).

    Parameters
    ----------
    build_model : callable returning nn.Module
    X : array-like of float, shape (n_records, ...)
        The candidate records (e.g. ``X[split.evaluation()[0]]``).
    y : array-like of int, shape (n_records,)
    n_shadows : int, default=64
        Even, >= 4 (each record is then IN for exactly half of them; per-record variances need 2 IN, 2 OUT).
    n_targets : int, default=8
        Even, >= 2: targets come in complementary pairs, so every candidate is a member of exactly
        half the targets and the pooled evaluation has as many members as non-members.
    seed : int, default=0
    **recipe_fields
        Passed to `utils.train.train_batched` (recipe=..., or epochs, lr, ...): use the real target's recipe.

    Returns
    -------
    PooledExperiment
    """
    X, y = check_features_labels(X, y)
    n_shadows = check_positive_int(n_shadows, "n_shadows", minimum=4)
    n_targets = check_positive_int(n_targets, "n_targets", minimum=2)
    if n_shadows % 2 or n_targets % 2:
        raise ValueError(
            "n_shadows and n_targets must be even (models come in complementary pairs), "
            f"got {n_shadows} and {n_targets}."
        )
    halves_seed, train_seed = spawn_seeds(seed, 2)
    subsets = balanced_halves(len(y), n_targets + n_shadows, seed=halves_seed)
    start = time.perf_counter()
    batch = train_batched(build_model, X, y, subsets, seed=train_seed, **recipe_fields)
    seconds = time.perf_counter() - start
    return PooledExperiment(
        logits=predict_logits(batch, X),
        y=y,
        in_mask=batch.in_mask,
        target_ids=np.arange(n_targets),
        shadow_ids=np.arange(n_targets, n_targets + n_shadows),
        train_seconds=seconds,
        models=batch,
        X=X,
    )


def pooled_scores(experiment: PooledExperiment, attack: str = "lira-online", **options):
    """Let each target in turn face the shadows; concatenate labels and scores (Lesson 03).

    Parameters
    ----------
    experiment : PooledExperiment
    attack : str, default="lira-online"
        A name in `utils.attacks.registry` (e.g. ``"lira-online"``, ``"lira-offline"``, which uses
        only each record's OUT shadows, ``"loss"``, which ignores them, ``"rmia-offline"``).
    **options
        Passed to the attack, e.g. ``global_variance=True`` (LiRA), ``population=(X_pool, y_pool)`` (RMIA).

    Returns
    -------
    labels : ndarray of int64, shape (n_targets * n_records,)
        1 where the record trained that target.
    scores : ndarray of float64, same shape
        Higher = more likely member.
    """
    if not isinstance(experiment, PooledExperiment):
        raise ValueError(f"experiment must be a PooledExperiment from train_pooled, got {type(experiment).__name__}.")
    score = get(attack)
    shadows = experiment.shadows()
    labels, scores = [], []
    for t, model_id in enumerate(experiment.target_ids):
        scores.append(score(experiment.target(t), experiment.X, experiment.y, shadows=shadows, **options))
        labels.append(experiment.in_mask[model_id].astype(np.int64))
    return np.concatenate(labels), np.concatenate(scores)
