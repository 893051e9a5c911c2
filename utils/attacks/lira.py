"""The Likelihood Ratio Attack, LiRA (Carlini et al. 2022), online and offline (Lesson 03).

Some records are hard (an odd-looking 7): every model is unsure about them, member or not.
Others are easy: every model is confident. A single global threshold on the loss mixes the two.
LiRA asks a per-record question instead: *for this record*, how does a model that trained on it
answer, compared with one that did not? Shadow models give both answers; on the logit scale
``log(p / (1 - p))`` of the true-class confidence each is close to a Gaussian, so:

- **online**: fit a Gaussian to the IN shadows and one to the OUT shadows of each record; the
  score is the log-likelihood ratio of the target's answer under IN versus OUT;
- **offline**: only OUT shadows (trainable before the candidates are known); the score is how far
  into the upper tail of the OUT Gaussian the target's answer lies, ``-log P(OUT >= answer)``.

With few shadows, per-record variances are noisy: ``global_variance=True`` uses one variance
(pooled over all records) for IN and one for OUT, as the paper recommends below ~64 shadows.

    shadows = shadow.train_shadow_models(MLP, X_eval, y_eval, n_shadows=64, seed=1)
    scores = lira.score_online(target_model, shadows, X_eval, y_eval, in_mask=shadows.in_mask)
    plot_roc(labels, scores)

Everything is computed in float64 from logits (see `utils.attacks.threshold`).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from ..inference import predict_logits
from ..models import ModelBatch
from ..validation import as_1d, check_features_labels
from ._checks import check_in_mask, check_model, check_observations
from .threshold import score_log_odds

__all__ = [
    "shadow_log_odds",
    "fit_gaussians",
    "likelihood_ratio_online",
    "likelihood_ratio_offline",
    "score_online",
    "score_offline",
]

_MIN_STD = 1e-6  # log-odds units; keeps the fit finite if every shadow answers identically


def shadow_log_odds(shadow_models: ModelBatch, X, y) -> np.ndarray:
    """Each shadow model's logit-scaled true-class confidence on each record (Lesson 03).

    Returns
    -------
    ndarray of float64, shape (n_shadows, n_records)
    """
    check_model(shadow_models, "shadow_models")
    X, y = check_features_labels(X, y)
    out = score_log_odds(predict_logits(shadow_models, X), y)
    return out if out.ndim == 2 else out[None]


def fit_gaussians(observations, mask, *, global_variance: bool = False, min_count: int | None = None, what="IN"):
    """Per-record mean and standard deviation of the observations where `mask` is True (Lesson 03).

    Parameters
    ----------
    observations : array-like of float, shape (n_models, n_records)
    mask : array-like of bool, shape (n_models, n_records)
        Which observations belong to this fit (e.g. the IN models of each record).
    global_variance : bool, default=False
        One standard deviation for all records: residuals around each record's own mean, pooled.
    min_count : int, optional
        Observations each record needs (default 2 for per-record variances, 1 for a global one).
    what : str
        Name used in error messages ("IN" or "OUT").

    Returns
    -------
    mean, std : ndarray of float64, shape (n_records,) each
    """
    obs = check_observations(observations, "observations")
    mask = check_in_mask(mask, obs.shape, "mask")
    counts = mask.sum(axis=0)
    need = (1 if global_variance else 2) if min_count is None else min_count
    if counts.min() < need:
        worst = int(np.argmin(counts))
        raise ValueError(
            f"record {worst} has {int(counts[worst])} {what} shadow models, but the Gaussian fit needs at least "
            f"{need} per record{'' if global_variance else ' for its own variance'}. Train more shadow models "
            "(with utils.attacks.shadow.balanced_halves every record is IN for half of them)"
            f"{'' if global_variance else ', or pass global_variance=True'}."
        )
    mean = np.where(mask, obs, 0.0).sum(axis=0) / counts
    squared = np.where(mask, (obs - mean) ** 2, 0.0)
    if global_variance:
        dof = int((counts - 1).sum())
        if dof < 1:
            raise ValueError(f"a variance needs at least one record with 2 {what} observations; found none.")
        std = np.full(obs.shape[1], np.sqrt(squared.sum() / dof))
    else:
        std = np.sqrt(squared.sum(axis=0) / (counts - 1))
    return mean, np.maximum(std, _MIN_STD)


def likelihood_ratio_online(target_log_odds, shadow_log_odds, in_mask, *, global_variance: bool = False) -> np.ndarray:
    """Online LiRA from precomputed observations: ``log N(x; IN fit) - log N(x; OUT fit)`` (Lesson 03).

    Parameters
    ----------
    target_log_odds : array-like of float, shape (n_records,)
        The target model's log-odds on each record (`utils.attacks.threshold.score_log_odds`).
    shadow_log_odds : array-like of float, shape (n_shadows, n_records)
        The same quantity for each shadow model.
    in_mask : array-like of bool, shape (n_shadows, n_records)
        True where the record was in that shadow's training set.
    global_variance : bool, default=False

    Returns
    -------
    ndarray of float64, shape (n_records,)
        Log-likelihood ratio; higher = more likely member.
    """
    x = as_1d(target_log_odds, "target_log_odds")
    obs = check_observations(shadow_log_odds, "shadow_log_odds", n_records=len(x))
    mask = check_in_mask(in_mask, obs.shape)
    mean_in, std_in = fit_gaussians(obs, mask, global_variance=global_variance, what="IN")
    mean_out, std_out = fit_gaussians(obs, ~mask, global_variance=global_variance, what="OUT")
    return norm.logpdf(x, mean_in, std_in) - norm.logpdf(x, mean_out, std_out)


def likelihood_ratio_offline(target_log_odds, shadow_log_odds, *, in_mask=None, global_variance: bool = False) -> np.ndarray:
    """Offline LiRA from precomputed observations: ``-log P(OUT >= x)`` (Lesson 03).

    Parameters
    ----------
    target_log_odds : array-like of float, shape (n_records,)
    shadow_log_odds : array-like of float, shape (n_shadows, n_records)
    in_mask : array-like of bool, shape (n_shadows, n_records), optional
        If given, only the OUT entries (False) are used; if None every shadow counts as OUT
        (shadows trained on data disjoint from the candidates).
    global_variance : bool, default=False

    Returns
    -------
    ndarray of float64, shape (n_records,)
        One-sided tail score in nats (>= 0); higher = more likely member.
    """
    x = as_1d(target_log_odds, "target_log_odds")
    obs = check_observations(shadow_log_odds, "shadow_log_odds", n_records=len(x))
    out_mask = np.ones(obs.shape, bool) if in_mask is None else ~check_in_mask(in_mask, obs.shape)
    mean_out, std_out = fit_gaussians(obs, out_mask, global_variance=global_variance, what="OUT")
    return -norm.logsf(x, mean_out, std_out)


def _observations(target_model, shadow_models, X, y):
    check_model(target_model, allow_batch=False)
    check_model(shadow_models, "shadow_models")
    if not isinstance(shadow_models, ModelBatch):
        raise ValueError("shadow_models must be a ModelBatch (from train_shadow_models), got a single model.")
    X, y = check_features_labels(X, y)
    return score_log_odds(predict_logits(target_model, X), y), shadow_log_odds(shadow_models, X, y)


def score_online(target_model, shadow_models: ModelBatch, X, y, *, in_mask, global_variance: bool = False) -> np.ndarray:
    """Online LiRA against a target model (Lesson 03).

    Parameters
    ----------
    target_model : nn.Module in eval mode
    shadow_models : ModelBatch
        Shadows trained on halves of the candidate records, e.g.
        ``shadow.train_shadow_models(MLP, X, y, n_shadows=64)``.
    X : array-like of float, shape (n_records, ...)
        The candidate records to attack.
    y : array-like of int, shape (n_records,)
    in_mask : array-like of bool, shape (n_shadows, n_records)
        Which candidate trained which shadow; ``shadow_models.in_mask`` when the shadows were
        trained on exactly these records in this order. Each record needs >= 2 IN and >= 2 OUT
        shadows (>= 1 each with `global_variance`).
    global_variance : bool, default=False

    Returns
    -------
    ndarray of float64, shape (n_records,)
        Higher = more likely member.
    """
    target, shadows = _observations(target_model, shadow_models, X, y)
    return likelihood_ratio_online(target, shadows, in_mask, global_variance=global_variance)


def score_offline(target_model, shadow_models: ModelBatch, X, y, *, in_mask=None, global_variance: bool = False) -> np.ndarray:
    """Offline LiRA against a target model: OUT shadows only (Lesson 03).

    Parameters
    ----------
    target_model : nn.Module in eval mode
    shadow_models : ModelBatch
        Typically trained on halves of the attacker's pool, so OUT for every candidate.
    X, y : arrays, shapes (n_records, ...), (n_records,)
        The candidate records.
    in_mask : array-like of bool, shape (n_shadows, n_records), optional
        Pass it when some shadows did train on some candidates; those entries are ignored.
    global_variance : bool, default=False

    Returns
    -------
    ndarray of float64, shape (n_records,)
        Higher = more likely member.
    """
    target, shadows = _observations(target_model, shadow_models, X, y)
    return likelihood_ratio_offline(target, shadows, in_mask=in_mask, global_variance=global_variance)
