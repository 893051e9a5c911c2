"""RMIA, the Robust Membership Inference Attack (Zarifzadeh et al., ICML 2024), online and offline (Lesson 03).

Call shape (that of `utils.attacks.registry`, names "rmia-online" and "rmia-offline")::

    rmia.score_online(target, X, y, *, shadows, population, gamma=1.0)          -> float64 (n_records,)
    rmia.score_offline(target, X, y, *, shadows, population, a=0.3, gamma=1.0)  -> float64 (n_records,)

- `shadows`: the reference models, a `ModelBatch`. Online: trained on halves of the candidates
  ``(X, y)`` themselves (each candidate IN for half of them). Offline: trained on the attacker's
  own records (OUT for every candidate), e.g. a handful of pool shadows.
- `population`: ``(X_z, y_z)``, records from the same distribution that the target did not train
  on (the attacker's pool does).
- higher score = more likely member; every score is a fraction in [0, 1].

The idea. LiRA asks, per record, how the target's answer compares with the answers of models
that did or did not train on it, and needs many shadows to fit those distributions. RMIA asks a
relative question that needs few: is the target *more surprised by the population than by x*?

1. The likelihood ratio of x: ``LR(x) = p(x | target) / p(x)``, where ``p(x | model)`` is the
   model's softmax probability of x's true class and ``p(x)`` its average over reference models
   (models trained on data from the same distribution; half of them on x, online).
2. The same ratio for population records z, which the target did not train on.
3. The score of x is the fraction of z that x *dominates* by a factor gamma:
   ``score(x) = mean over z of [ LR(x) / LR(z) >= gamma ]``.

Offline, every reference model is OUT for x, so their mean under-estimates ``p(x)`` (the IN
models, which would answer with more confidence, are missing). The paper's correction, with a
constant ``a`` in [0, 1] (0.3 by default, as in the authors' code, ml_privacy_meter)::

    p(x) = ( (1 + a) * mean_OUT p(x | ref) + (1 - a) ) / 2

(``a = 1`` trusts the OUT mean as it is; ``a = 0`` moves it half way to 1, so that it weighs half as
much.) The same correction is applied to the population records offline. The best `a` depends on
how much training on x raises its probability; `tune_offline_a` picks it as the authors do, by
attacking one reference model with the others, where the attacker knows who was IN. Online,
``p(x)`` is the plain mean over all reference models (IN and OUT for x alike) and ``p(z)`` the
plain mean as well.

Within one target the score is a non-decreasing function of ``LR(x)`` (the population is the
same for every x), so the population sets the *scale* -- a fraction of the population, comparable
across targets -- and gamma the strictness, while the ranking comes from ``LR(x)``.

All maths in float64 from logits, in log space (``log LR = log p(x | target) - log p(x)``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from ..inference import predict_logits
from ..metrics import auc
from ..models import ModelBatch, check_model
from ..validation import as_1d, check_features_labels, check_in_mask, check_observations, check_real
from .registry import register
from .signals import true_class_log_prob

__all__ = [
    "reference_log_prob",
    "offline_log_prob",
    "log_likelihood_ratio",
    "dominance",
    "rmia_from_log_probs",
    "tune_offline_a",
    "score_online",
    "score_offline",
]


def reference_log_prob(reference_log_p, mask=None) -> np.ndarray:
    """``log`` of the mean true-class probability over the reference models selected by `mask`.

    Parameters
    ----------
    reference_log_p : array-like of float, shape (n_models, n_records)
        ``log p(x | reference model)`` for each model and record (`signals.true_class_log_prob`).
    mask : array-like of bool, shape (n_models, n_records), optional
        Which models count for each record (e.g. ``~in_mask``: the OUT models); all when None.

    Returns
    -------
    ndarray of float64, shape (n_records,)
        ``log mean p``, computed with logsumexp (finite even when every p is tiny).

    Examples
    --------
    >>> np.exp(reference_log_prob(np.log([[0.2, 0.9], [0.4, 0.5]]))).round(6).tolist()
    [0.3, 0.7]
    """
    obs = check_observations(reference_log_p, "reference_log_p")
    if mask is None:
        mask = np.ones(obs.shape, dtype=bool)
    mask = check_in_mask(mask, obs.shape, "mask")
    counts = mask.sum(axis=0)
    if counts.min() < 1:
        worst = int(np.argmin(counts))
        raise ValueError(
            f"record {worst} has no reference model to average over (the mask selects none for it). "
            "Train more reference models, or give every record at least one OUT model."
        )
    return logsumexp(np.where(mask, obs, -np.inf), axis=0) - np.log(counts)


def offline_log_prob(mean_out_log_p, a: float) -> np.ndarray:
    """The offline estimate of ``log p(x)`` from the OUT models' mean: ``log(((1 + a) m + (1 - a)) / 2)``.

    Parameters
    ----------
    mean_out_log_p : array-like of float, shape (n_records,)
        ``log`` of the mean OUT probability (`reference_log_prob` with the OUT mask).
    a : float in [0, 1]
        1 keeps the OUT mean as it is; smaller values move it towards 1, standing in for the
        missing IN models (which answer with higher probability).

    Examples
    --------
    >>> float(np.exp(offline_log_prob(np.log([0.5]), a=0.2))[0])
    0.7
    """
    a = check_real(a, "a", minimum=0.0)
    if a > 1:
        raise ValueError(f"a must lie in [0, 1] (1: trust the OUT models' mean as it is), got {a}.")
    m = np.exp(as_1d(mean_out_log_p, "mean_out_log_p"))
    return np.log(0.5 * ((1.0 + a) * m + (1.0 - a)))


def log_likelihood_ratio(target_log_p, reference_log_p_mean) -> np.ndarray:
    """``log LR = log p(x | target) - log p(x)``, shape (n_records,) (both inputs shape (n_records,))."""
    target = as_1d(target_log_p, "target_log_p")
    reference = as_1d(reference_log_p_mean, "reference_log_p_mean")
    if len(target) != len(reference):
        raise ValueError(
            f"target_log_p has {len(target)} records but reference_log_p_mean has {len(reference)}; "
            "compute both on the same records, in the same order."
        )
    return target - reference


def dominance(log_ratio_x, log_ratio_z, gamma: float = 1.0) -> np.ndarray:
    """RMIA's score: for each x, the fraction of population records z with ``LR(x) / LR(z) >= gamma``.

    Parameters
    ----------
    log_ratio_x : array-like of float, shape (n_records,)
    log_ratio_z : array-like of float, shape (n_population,)
        Natural logs of the likelihood ratios (`log_likelihood_ratio`).
    gamma : float, >= 1 in the paper (any value > 0 accepted), default=1.0

    Returns
    -------
    ndarray of float64, shape (n_records,), values in [0, 1]

    Examples
    --------
    >>> dominance(np.log([1.0, 3.0]), np.log([0.5, 1.0, 2.0]), gamma=1.0).round(4).tolist()
    [0.6667, 1.0]
    >>> dominance(np.log([1.0, 3.0]), np.log([0.5, 1.0, 2.0]), gamma=2.0).round(4).tolist()
    [0.3333, 0.6667]
    """
    x = as_1d(log_ratio_x, "log_ratio_x")
    z = np.sort(as_1d(log_ratio_z, "log_ratio_z"))
    if len(z) == 0:
        raise ValueError("the population is empty; RMIA compares each record with population records z.")
    gamma = check_real(gamma, "gamma", positive=True)
    # LR(x) / LR(z) >= gamma  <=>  log LR(z) <= log LR(x) - log(gamma): count with one sorted search.
    return np.searchsorted(z, x - np.log(gamma), side="right") / len(z)


def rmia_from_log_probs(
    target_x, reference_x, target_z, reference_z, *, in_mask_x=None, in_mask_z=None, offline: bool,
    a: float = 0.3, gamma: float = 1.0,
) -> np.ndarray:
    """RMIA from observations already computed: the maths of `score_online` / `score_offline`.

    Parameters
    ----------
    target_x : array-like of float, shape (n_records,)
        ``log p(x | target)`` of each candidate.
    reference_x : array-like of float, shape (n_models, n_records)
        ``log p(x | reference model k)``.
    target_z, reference_z : shapes (n_population,), (n_models, n_population)
        The same for the population records.
    in_mask_x, in_mask_z : array-like of bool, optional
        True where the record trained that reference model; None: no reference model trained on it.
        Offline uses only the OUT entries; online averages over every model.
    offline : bool
        Offline: the `a` correction (`offline_log_prob`) on the OUT means of x and z.
    a, gamma : float

    Returns
    -------
    ndarray of float64, shape (n_records,), in [0, 1]; higher = more likely member.
    """
    tx = as_1d(target_x, "target_x")
    tz = as_1d(target_z, "target_z")
    rx = check_observations(reference_x, "reference_x", n_records=len(tx))
    rz = check_observations(reference_z, "reference_z", n_records=len(tz))
    if rx.shape[0] != rz.shape[0]:
        raise ValueError(
            f"reference_x comes from {rx.shape[0]} models but reference_z from {rz.shape[0]}; "
            "score both with the same reference models."
        )
    if offline:
        out_x = None if in_mask_x is None else ~check_in_mask(in_mask_x, rx.shape, "in_mask_x")
        out_z = None if in_mask_z is None else ~check_in_mask(in_mask_z, rz.shape, "in_mask_z")
        px = offline_log_prob(reference_log_prob(rx, out_x), a)
        pz = offline_log_prob(reference_log_prob(rz, out_z), a)
    else:
        px, pz = reference_log_prob(rx), reference_log_prob(rz)
    return dominance(log_likelihood_ratio(tx, px), log_likelihood_ratio(tz, pz), gamma)


def tune_offline_a(shadows: ModelBatch, X, y, *, grid=None, pseudo_target: int = 0) -> float:
    """Choose offline RMIA's `a` from the attacker's own reference models (as the authors' code does).

    Reference model `pseudo_target` plays the target, the others are its reference models, and
    the records that trained the batch are the candidates: there the attacker knows who was IN.
    Returns the `a` of `grid` whose likelihood ratios give the highest AUC (the first on ties).
    Within one target RMIA ranks records by ``LR(x)`` alone, so no population is needed here.

    Parameters
    ----------
    shadows : ModelBatch
        At least 2 reference models, trained on halves of ``(X, y)`` (e.g. the attacker's pool).
    X, y : arrays, shapes (n_records, ...), (n_records,)
        The records that trained `shadows`, in the same order (checked by fingerprint).
    grid : array-like of float in [0, 1], optional
        Candidates for `a`; default 0, 0.1, ..., 1.
    pseudo_target : int, default=0

    Returns
    -------
    float
    """
    if not isinstance(shadows, ModelBatch):
        raise ValueError(f"shadows must be a ModelBatch of reference models, got {type(shadows).__name__}.")
    if len(shadows) < 2:
        raise ValueError(f"tuning a needs at least 2 reference models (one plays the target), got {len(shadows)}.")
    X, y = check_features_labels(X, y)
    shadows.check_trained_on(X, y)
    grid = np.round(np.linspace(0.0, 1.0, 11), 2) if grid is None else as_1d(grid, "grid")
    k = int(np.arange(len(shadows))[pseudo_target])
    others = np.delete(np.arange(len(shadows)), k)
    log_p = true_class_log_prob(predict_logits(shadows, X), y).reshape(len(shadows), -1)
    mask = shadows.in_mask
    mean_out = reference_log_prob(log_p[others], ~mask[others])
    labels = mask[k].astype(np.int64)
    aucs = [auc(labels, log_likelihood_ratio(log_p[k], offline_log_prob(mean_out, a))) for a in grid]
    return float(grid[int(np.argmax(aucs))])


def check_population(population):
    """`population` as checked arrays ``(X_z, y_z)``; a ValueError that says what to pass otherwise."""
    if not (isinstance(population, tuple) and len(population) == 2):
        raise ValueError(
            "population must be a pair (X_z, y_z): records from the same distribution that the target did not "
            f"train on (e.g. the attacker's pool), got {type(population).__name__}."
        )
    return check_features_labels(*population, X_name="population X", y_name="population y")


POPULATION_IS_CANDIDATES = (
    "population holds the candidates themselves; RMIA compares each candidate with records the target "
    "did not train on. Pass the attacker's own records (e.g. its pool) as population."
)


def _observations(target, shadows, X, y, population):
    check_model(target, "target", allow_batch=False)
    if not isinstance(shadows, ModelBatch):
        raise ValueError(
            f"shadows must be a ModelBatch of reference models (utils.attacks.shadow.train_shadow_models), "
            f"got {type(shadows).__name__}."
        )
    X_z, y_z = check_population(population)
    X, y = check_features_labels(X, y)
    log_p = {
        "target_x": true_class_log_prob(predict_logits(target, X), y),
        "reference_x": true_class_log_prob(predict_logits(shadows, X), y).reshape(len(shadows), -1),
        "target_z": true_class_log_prob(predict_logits(target, X_z), y_z),
        "reference_z": true_class_log_prob(predict_logits(shadows, X_z), y_z).reshape(len(shadows), -1),
    }
    return X, y, X_z, y_z, log_p


@register("rmia-online")
def score_online(target, X, y, *, shadows: ModelBatch, population, gamma: float = 1.0) -> np.ndarray:
    """Online RMIA: reference models trained on halves of the candidates (Lesson 03).

    Parameters
    ----------
    target : nn.Module in eval mode
    X, y : arrays, shapes (n_records, ...), (n_records,)
        The candidate records.
    shadows : ModelBatch
        Reference models trained on halves of exactly these candidates, in this order (checked by
        fingerprint), e.g. ``shadow.train_shadow_models(MLP, X, y, n_shadows=64)``.
    population : tuple (X_z, y_z)
        Records the target did not train on (not the candidates), e.g. the attacker's pool.
    gamma : float > 0, default=1.0

    Returns
    -------
    ndarray of float64, shape (n_records,), in [0, 1]; higher = more likely member.
    """
    X, y, X_z, y_z, log_p = _observations(target, shadows, X, y, population)
    shadows.check_trained_on(X, y, what="the candidates X, y")
    if shadows.trained_on(X_z, y_z):
        raise ValueError(POPULATION_IS_CANDIDATES)
    return rmia_from_log_probs(**log_p, offline=False, gamma=gamma)


@register("rmia-offline")
def score_offline(target, X, y, *, shadows: ModelBatch, population, a: float = 0.3, gamma: float = 1.0) -> np.ndarray:
    """Offline RMIA: reference models that never trained on the candidates (Lesson 03).

    Parameters
    ----------
    target : nn.Module in eval mode
    X, y : arrays, shapes (n_records, ...), (n_records,)
        The candidate records.
    shadows : ModelBatch
        Reference models, typically trained on halves of the attacker's pool (a few suffice). If
        they were trained on the candidates or on the population records themselves (the
        fingerprint tells), only each record's OUT models are used.
    population : tuple (X_z, y_z)
        Records the target did not train on, e.g. the attacker's pool.
    a : float in [0, 1], default=0.3
        The offline correction (`offline_log_prob`).
    gamma : float > 0, default=1.0

    Returns
    -------
    ndarray of float64, shape (n_records,), in [0, 1]; higher = more likely member.
    """
    X, y, X_z, y_z, log_p = _observations(target, shadows, X, y, population)
    in_mask_x = shadows.in_mask if shadows.trained_on(X, y) else None
    in_mask_z = shadows.in_mask if shadows.trained_on(X_z, y_z) else None
    return rmia_from_log_probs(**log_p, in_mask_x=in_mask_x, in_mask_z=in_mask_z, offline=True, a=a, gamma=gamma)
