"""Shadow models and the Shokri et al. (2017) attack (Lesson 03).

The attacker cannot see the target's training set, but it can imitate the target: it trains
*shadow models* with the same recipe on data it owns, for which it knows who was IN and who was
OUT. The shadows' outputs on their own IN and OUT records become a labelled training set for an
*attack model* per class ("given this prediction for a record of class c, was it a member?"),
which is then applied to the target's outputs.

    shadows = shadow.train_shadow_models(MLP, X_pool, y_pool, n_shadows=16, seed=0)
    attack = shadow.fit_attack_models(shadows, X_pool, y_pool)
    scores = shadow.score(target_model, X_eval, y_eval, shadows=attack)   # higher = more likely member
    # or in one call (fits the attack models first):
    scores = shadow.score(target_model, X_eval, y_eval, shadows=shadows, pool=(X_pool, y_pool))

Every function that trains uses the batched trainer, so 64 shadows cost seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..inference import predict_logits
from ..models import ModelBatch, check_model
from ..seed import spawn_seeds
from ..train import train_batched
from ..validation import check_features_labels, check_positive_int, check_seed
from .registry import register
from .signals import score_log_odds

__all__ = [
    "balanced_halves",
    "train_shadow_models",
    "select_models",
    "attack_features",
    "ShokriAttack",
    "fit_attack_models",
    "score",
]


def balanced_halves(n_records: int, n_models: int, *, seed: int = 0) -> np.ndarray:
    """Training subsets in which every record is IN for (at least) half of the models (Lesson 03).

    Models come in pairs: a random half of the records, then the other half, so with an even
    record count every record is IN for exactly ``n_models / 2`` models (an odd `n_models` gives
    the last model a random half of its own).

    With an odd record count the halves cannot be equal *and* complementary, and every model must
    train on as many records as the others: each pair's halves then hold ``(n_records + 1) // 2``
    records and share one record, a different one for each pair (while there are at most
    `n_records` pairs). So every record is still IN for at least one model of each pair -- never for
    none -- and the shared record of a pair is IN for both (OUT for one pair fewer).

    Parameters
    ----------
    n_records : int, >= 2
    n_models : int, >= 1
    seed : int, default=0

    Returns
    -------
    ndarray of int64, shape (n_models, ceil(n_records / 2))
        Row k: sorted indices of model k's training records (ready for `utils.train.train_batched`).

    Examples
    --------
    >>> halves = balanced_halves(6, 2, seed=0)
    >>> sorted(np.concatenate(halves).tolist())
    [0, 1, 2, 3, 4, 5]
    >>> np.bincount(balanced_halves(5, 4, seed=0).ravel(), minlength=5).min()  # odd: nobody is IN for < 2 of 4
    np.int64(2)
    """
    n_records = check_positive_int(n_records, "n_records", minimum=2)
    n_models = check_positive_int(n_models, "n_models")
    rng = np.random.default_rng(check_seed(seed))
    odd = n_records % 2 == 1
    half = (n_records + 1) // 2
    shared = rng.permutation(n_records) if odd else None  # pair j shares record shared[j % n_records]
    rows = []
    for j, k in enumerate(range(0, n_models, 2)):
        if odd:
            common = shared[j % n_records]
            rest = np.delete(np.arange(n_records), common)[rng.permutation(n_records - 1)]
            first, second = np.r_[rest[: half - 1], common], np.r_[rest[half - 1 :], common]
        else:
            perm = rng.permutation(n_records)
            first, second = perm[:half], perm[half:]
        rows.append(np.sort(first))
        if k + 1 < n_models:
            rows.append(np.sort(second))
    return np.stack(rows).astype(np.int64)


def train_shadow_models(build_model, X, y, *, n_shadows: int = 16, seed: int = 0, **recipe_fields) -> ModelBatch:
    """Train `n_shadows` models on balanced halves of ``(X, y)``, all at once (Lesson 03).

    Parameters
    ----------
    build_model : callable returning nn.Module
        The target's architecture, e.g. ``utils.models.MLP``.
    X : array-like of float, shape (n_records, ...)
        The records the shadows are drawn from: the attacker's pool (Shokri, offline LiRA) or the
        candidate records themselves (online LiRA).
    y : array-like of int, shape (n_records,)
    n_shadows : int, default=16
    seed : int, default=0
        Seeds the halves and each model's initial weights and batch order.
    **recipe_fields
        Passed to `utils.train.train_batched` (recipe, or epochs, lr, batch_size, weight_decay; device, progress).

    Returns
    -------
    ModelBatch
        ``batch.in_mask`` (n_shadows, n_records) says which record trained which shadow; the batch
        remembers the records (`ModelBatch.fingerprint`), so attacks refuse other records.
    """
    X, y = check_features_labels(X, y)
    n_shadows = check_positive_int(n_shadows, "n_shadows")
    if len(y) < 2:
        raise ValueError(f"X holds {len(y)} record; shadow models need at least 2 (half IN, half OUT).")
    halves_seed, train_seed = spawn_seeds(seed, 2)  # independent streams for the halves and the weights
    subsets = balanced_halves(len(y), n_shadows, seed=halves_seed)
    return train_batched(build_model, X, y, subsets, seed=train_seed, **recipe_fields)


def select_models(shadow_models: ModelBatch, indices) -> ModelBatch:
    """A `ModelBatch` holding only the models at `indices` (e.g. ``range(k)``: the first k shadows).

    Lets a lesson ask "how does the attack improve with k shadows?" without retraining.
    Keep pairs together (``range(k)`` with k even) so every record stays IN for half of them.
    `indices` are distinct integer positions (negative ones count from the end); booleans, floats
    and repeated positions are refused. The selection remembers the records that trained the batch.
    """
    if not isinstance(shadow_models, ModelBatch):
        raise ValueError(f"shadow_models must be a ModelBatch, got {type(shadow_models).__name__}.")
    return shadow_models.select(indices)


def attack_features(logits, y) -> np.ndarray:
    """What an attack model sees of one prediction: the true-class log-odds and the log-probabilities.

    Parameters
    ----------
    logits : array-like of float, shape (..., n_records, n_classes)
    y : array-like of int, shape (n_records,)

    Returns
    -------
    ndarray of float64, shape (..., n_records, n_classes + 1)
        Log-scale features (probabilities would saturate at 0 and 1 for confident records).
    """
    logits = np.asarray(logits, dtype=np.float64)
    log_p = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    return np.concatenate([score_log_odds(logits, y)[..., None], np.maximum(log_p, -100.0)], axis=-1)


def _default_classifier(seed):
    # Logistic regression on standardised log-scale features: fast, deterministic, and on the
    # default target as strong as gradient boosting (measured), which is also far slower on 2 cores.
    # Imported here, when used: scikit-learn takes about a second to import.
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))


@dataclass
class ShokriAttack:
    """Per-class attack models fitted on shadow outputs (from `fit_attack_models`).

    Attributes
    ----------
    attack_models : dict int -> fitted scikit-learn classifier
        One binary classifier (1 = member) per class label.
    n_shadows : int
        How many shadow models produced the attack training set.
    n_train : dict int -> int
        Attack training records per class.
    """

    attack_models: dict
    n_shadows: int
    n_train: dict = field(default_factory=dict)


def fit_attack_models(shadow_models: ModelBatch, X, y, *, classifier=None, seed: int = 0) -> ShokriAttack:
    """Build the attack training set from shadow IN/OUT outputs and fit one attack model per class (Lesson 03).

    Parameters
    ----------
    shadow_models : ModelBatch
        From `train_shadow_models` on ``(X, y)``; one or more models (one suffices, Salem et al. 2019;
        more give the attack model more examples).
    X, y : arrays, shapes (n_records, ...), (n_records,)
        The records the shadows were trained on (their ``in_mask`` refers to these).
    classifier : scikit-learn classifier, optional
        Cloned once per class; defaults to logistic regression on standardised features.
    seed : int, default=0

    Returns
    -------
    ShokriAttack

    Raises
    ------
    ValueError
        No shadow model, records other than those that trained the shadows (checked by
        fingerprint, not just by count), or a class without both IN and OUT examples.
    """
    check_model(shadow_models, "shadow_models")
    if not isinstance(shadow_models, ModelBatch):
        raise ValueError("shadow_models must be a ModelBatch from train_shadow_models, got a single model.")
    if len(shadow_models) < 1:  # one shadow suffices (Salem et al. 2019): the attack model sees predictions only
        raise ValueError("per-class attack models need at least 1 shadow model, got 0. Use n_shadows >= 1.")
    X, y = check_features_labels(X, y)
    shadow_models.check_trained_on(X, y, name="shadow_models")  # in_mask must describe these records
    features = attack_features(predict_logits(shadow_models, X), y)  # (K, n, C + 1)
    membership = shadow_models.in_mask  # (K, n)
    classes = np.broadcast_to(y, membership.shape)
    features, membership, classes = features.reshape(-1, features.shape[-1]), membership.ravel(), classes.ravel()
    from sklearn.base import clone as sklearn_clone  # imported when used: scikit-learn is slow to import

    base = _default_classifier(seed) if classifier is None else classifier
    models, counts = {}, {}
    for c in np.unique(y):
        rows = classes == c
        n_in, n_out = int(membership[rows].sum()), int((~membership[rows]).sum())
        if n_in == 0 or n_out == 0:
            raise ValueError(
                f"class {int(c)} has {n_in} IN and {n_out} OUT shadow examples; its attack model needs both. "
                "Train more shadow models or use a larger pool."
            )
        models[int(c)] = sklearn_clone(base).fit(features[rows], membership[rows].astype(np.int64))
        counts[int(c)] = int(rows.sum())
    return ShokriAttack(attack_models=models, n_shadows=len(shadow_models), n_train=counts)


def _decision(model, features):
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(features), dtype=np.float64)
    proba = np.clip(np.asarray(model.predict_proba(features), dtype=np.float64)[:, 1], 1e-300, 1.0)
    return np.log(proba) - np.log1p(-np.minimum(proba, 1 - 1e-16))


@register("shokri")
def score(target, X, y, *, shadows, pool=None, classifier=None, seed: int = 0) -> np.ndarray:
    """Shokri et al.'s attack on the target: each record's score from the attack model of its class (Lesson 03).

    Call shape of `utils.attacks.registry`: ``score(target, X, y, *, shadows, ...)``.

    Parameters
    ----------
    target : nn.Module in eval mode
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
    shadows : ShokriAttack or ModelBatch
        Attack models already fitted (`fit_attack_models`), or the shadow models themselves, in
        which case `pool` must say which records trained them and the attack models are fitted here.
    pool : tuple (X_pool, y_pool), optional
        The records the shadows were trained on (only with a ModelBatch).
    classifier, seed
        As in `fit_attack_models` (only with a ModelBatch).

    Returns
    -------
    ndarray of float64, shape (n_records,)
        The attack model's decision value (log-odds of "member"); higher = more likely member.
    """
    if isinstance(shadows, ModelBatch):
        if pool is None:
            raise ValueError(
                "shadows is a ModelBatch, so pass pool=(X_pool, y_pool), the records that trained them "
                "(or pass shadows=fit_attack_models(shadows, X_pool, y_pool))."
            )
        if not (isinstance(pool, tuple) and len(pool) == 2):
            raise ValueError(f"pool must be a pair (X_pool, y_pool), got {type(pool).__name__}.")
        shadows = fit_attack_models(shadows, *pool, classifier=classifier, seed=seed)
    elif pool is not None:
        raise ValueError("pool is only used with shadows=<ModelBatch>; the ShokriAttack is already fitted.")
    if not isinstance(shadows, ShokriAttack):
        raise ValueError(
            f"shadows must be a ShokriAttack from fit_attack_models or a ModelBatch of shadow models, "
            f"got {type(shadows).__name__}."
        )
    check_model(target, "target", allow_batch=False)
    X, y = check_features_labels(X, y)
    missing = sorted(set(np.unique(y).tolist()) - set(shadows.attack_models))
    if missing:
        raise ValueError(
            f"no attack model for classes {missing}: the shadows' records had none of them. "
            "Give the shadows a pool that covers every class."
        )
    features = attack_features(predict_logits(target, X), y)
    scores = np.empty(len(y), dtype=np.float64)
    for c, model in shadows.attack_models.items():
        rows = y == c
        if rows.any():
            scores[rows] = _decision(model, features[rows])
    return scores
