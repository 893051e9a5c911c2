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

The shadows are the same for every target, so their logits are computed once per experiment
(and once per population) and reused across targets and attacks: the threshold attacks, LiRA and
RMIA are scored from these cached logits with the very maths of their score functions, so the
scores are the same, bit for bit, as calling the attack on each target. Any other registered
attack is called as it is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..inference import predict_logits
from ..models import ModelBatch, records_fingerprint
from ..seed import spawn_seeds
from ..train import train_batched
from ..validation import check_features_labels, check_positive_int
from .lira import likelihood_ratio_offline, likelihood_ratio_online
from .lira import score_offline as _lira_offline
from .lira import score_online as _lira_online
from .registry import get
from .rmia import POPULATION_IS_CANDIDATES, check_population, rmia_from_log_probs
from .rmia import score_offline as _rmia_offline
from .rmia import score_online as _rmia_online
from .shadow import balanced_halves
from .signals import score_log_odds, scores_from_logits, true_class_log_prob
from .threshold import confidence, entropy, log_odds, loss, modified_entropy

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
    # Logits reused across targets and attacks (filled by `pooled_scores`): key -> float64 array.
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

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
    from_logits = _FROM_LOGITS.get(score)
    shadows = experiment.shadows() if from_logits is None else None
    labels, scores = [], []
    for t, model_id in enumerate(experiment.target_ids):
        if from_logits is None:
            scores.append(score(experiment.target(t), experiment.X, experiment.y, shadows=shadows, **options))
        else:
            scores.append(from_logits(experiment, t, **options))
        labels.append(experiment.in_mask[model_id].astype(np.int64))
    return np.concatenate(labels), np.concatenate(scores)


# Each attack below, computed from cached logits exactly as its score function computes it from
# fresh ones (same functions, same order of operations, same options and errors for bad options).


def _cached(experiment: PooledExperiment, key, compute):
    if key not in experiment._cache:
        experiment._cache[key] = compute()
    return experiment._cache[key]


def _target_logits(experiment, t, X=None, y=None):
    """Target `t`'s logits on the candidates (X None) or on the records X (float64, (n, n_classes))."""
    key = ("target", t, None if X is None else records_fingerprint(X, y))
    return _cached(experiment, key, lambda: predict_logits(experiment.target(t), experiment.X if X is None else X))


def _shadow_logits(experiment, X=None, y=None):
    """The shadows' logits on the candidates (X None) or on the records X (float64, (n_shadows, n, n_classes))."""
    key = ("shadows", None if X is None else records_fingerprint(X, y))
    return _cached(experiment, key, lambda: predict_logits(experiment.shadows(), experiment.X if X is None else X))


def _shadow_log_odds(experiment):
    return _cached(
        experiment, ("shadows", "log-odds"), lambda: score_log_odds(_shadow_logits(experiment), experiment.y)
    )


def _shadow_in_mask(experiment):
    """The shadows' in_mask where their fingerprint matches the candidates (as the attacks check), else None."""
    trained = _cached(
        experiment, ("shadows", "trained on X"), lambda: experiment.models.trained_on(experiment.X, experiment.y)
    )
    return experiment.in_mask[experiment.shadow_ids] if trained else None


def _threshold(kind):
    def attack(experiment, t):
        return scores_from_logits(_target_logits(experiment, t), experiment.y, kind)

    return attack


def _lira(online):
    def attack(experiment, t, *, global_variance: bool = False):
        target = score_log_odds(_target_logits(experiment, t), experiment.y)
        in_mask = _shadow_in_mask(experiment)
        if online:
            if in_mask is None:  # as lira.score_online: its shadows must have trained on the candidates
                experiment.shadows().check_trained_on(experiment.X, experiment.y, what="the candidates X, y")
            return likelihood_ratio_online(
                target, _shadow_log_odds(experiment), in_mask, global_variance=global_variance
            )
        return likelihood_ratio_offline(
            target, _shadow_log_odds(experiment), in_mask=in_mask, global_variance=global_variance
        )

    return attack


def _rmia(online):
    def log_probs(experiment, t, population):
        X_z, y_z = check_population(population)
        y = experiment.y
        n = experiment.n_shadows
        return (
            X_z,
            y_z,
            {
                "target_x": true_class_log_prob(_target_logits(experiment, t), y),
                "reference_x": true_class_log_prob(_shadow_logits(experiment), y).reshape(n, -1),
                "target_z": true_class_log_prob(_target_logits(experiment, t, X_z, y_z), y_z),
                "reference_z": true_class_log_prob(_shadow_logits(experiment, X_z, y_z), y_z).reshape(n, -1),
            },
        )

    def attack_online(experiment, t, *, population, gamma: float = 1.0):
        X_z, y_z, log_p = log_probs(experiment, t, population)
        if _shadow_in_mask(experiment) is None:  # as rmia.score_online
            experiment.shadows().check_trained_on(experiment.X, experiment.y, what="the candidates X, y")
        if experiment.models.trained_on(X_z, y_z):
            raise ValueError(POPULATION_IS_CANDIDATES)
        return rmia_from_log_probs(**log_p, offline=False, gamma=gamma)

    def attack_offline(experiment, t, *, population, a: float = 0.3, gamma: float = 1.0):
        X_z, y_z, log_p = log_probs(experiment, t, population)
        in_mask = _shadow_in_mask(experiment)
        in_mask_z = experiment.in_mask[experiment.shadow_ids] if experiment.models.trained_on(X_z, y_z) else None
        return rmia_from_log_probs(**log_p, in_mask_x=in_mask, in_mask_z=in_mask_z, offline=True, a=a, gamma=gamma)

    return attack_online if online else attack_offline


_FROM_LOGITS = {
    loss: _threshold("loss"),
    confidence: _threshold("confidence"),
    log_odds: _threshold("log-odds"),
    entropy: _threshold("entropy"),
    modified_entropy: _threshold("modified-entropy"),
    _lira_online: _lira(online=True),
    _lira_offline: _lira(online=False),
    _rmia_online: _rmia(online=True),
    _rmia_offline: _rmia(online=False),
}
