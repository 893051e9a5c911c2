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
    scores = lira.score_online(target_model, X_eval, y_eval, shadows=shadows)
    plot_roc(labels, scores)

Both attacks have the call shape of `utils.attacks.registry` ("lira-online", "lira-offline");
`likelihood_ratio_online` and `likelihood_ratio_offline` are the same maths on observations
already computed (one float per model and record), for experiments that reuse them.

Everything is computed in float64 from logits (see `utils.attacks.threshold`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr

from ..inference import predict_logits
from ..models import ModelBatch, check_model
from ..validation import as_1d, check_features_labels, check_in_mask, check_observations, check_positive_int
from .registry import register
from .signals import score_log_odds

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
    min_count : int >= 1, optional
        Observations each record needs (default 2 for per-record variances, 1 for a global one;
        never fewer, since a mean of no observations is undefined).
    what : str
        Name used in error messages ("IN" or "OUT").

    Returns
    -------
    mean, std : ndarray of float64, shape (n_records,) each
    """
    obs = check_observations(observations, "observations")
    mask = check_in_mask(mask, obs.shape, "mask")
    counts = mask.sum(axis=0)
    least = 1 if global_variance else 2
    need = least if min_count is None else check_positive_int(min_count, "min_count", minimum=least)
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


# The normal log-density and log-tail as scipy.stats.norm computes them, bit for bit (a test holds them equal),
# written out so that LiRA does not import scipy.stats (most of a second, before a lesson's first figure).
_LOG_SQRT_2PI = np.log(2 * np.pi) / 2.0


def _normal_logpdf(x, mean, std):
    z = (x - mean) / std
    return (-(z**2) / 2.0 - _LOG_SQRT_2PI) - np.log(std)


def _normal_logsf(x, mean, std):
    return log_ndtr(-((x - mean) / std))


def likelihood_ratio_online(
    target_log_odds, reference_log_odds, in_mask, *, global_variance: bool = False
) -> np.ndarray:
    """Online LiRA from precomputed observations: ``log N(x; IN fit) - log N(x; OUT fit)`` (Lesson 03).

    Parameters
    ----------
    target_log_odds : array-like of float, shape (n_records,)
        The target model's log-odds on each record (`utils.attacks.threshold.score_log_odds`).
    reference_log_odds : array-like of float, shape (n_shadows, n_records)
        The same quantity for each shadow model (`shadow_log_odds`).
    in_mask : array-like of bool, shape (n_shadows, n_records)
        True where the record was in that shadow's training set.
    global_variance : bool, default=False

    Returns
    -------
    ndarray of float64, shape (n_records,)
        Log-likelihood ratio; higher = more likely member.
    """
    x = as_1d(target_log_odds, "target_log_odds")
    obs = check_observations(reference_log_odds, "reference_log_odds", n_records=len(x))
    mask = check_in_mask(in_mask, obs.shape)
    mean_in, std_in = fit_gaussians(obs, mask, global_variance=global_variance, what="IN")
    mean_out, std_out = fit_gaussians(obs, ~mask, global_variance=global_variance, what="OUT")
    return _normal_logpdf(x, mean_in, std_in) - _normal_logpdf(x, mean_out, std_out)


def likelihood_ratio_offline(
    target_log_odds, reference_log_odds, *, in_mask=None, global_variance: bool = False
) -> np.ndarray:
    """Offline LiRA from precomputed observations: ``-log P(OUT >= x)`` (Lesson 03).

    Parameters
    ----------
    target_log_odds : array-like of float, shape (n_records,)
    reference_log_odds : array-like of float, shape (n_shadows, n_records)
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
    obs = check_observations(reference_log_odds, "reference_log_odds", n_records=len(x))
    out_mask = np.ones(obs.shape, bool) if in_mask is None else ~check_in_mask(in_mask, obs.shape)
    mean_out, std_out = fit_gaussians(obs, out_mask, global_variance=global_variance, what="OUT")
    return -_normal_logsf(x, mean_out, std_out)


def _observations(target, shadows, X, y):
    check_model(target, "target", allow_batch=False)
    if not isinstance(shadows, ModelBatch):
        raise ValueError(
            "shadows must be a ModelBatch (from utils.attacks.shadow.train_shadow_models), "
            f"got {type(shadows).__name__}."
        )
    X, y = check_features_labels(X, y)
    return X, y, score_log_odds(predict_logits(target, X), y), shadow_log_odds(shadows, X, y)


@register("lira-online")
def score_online(target, X, y, *, shadows: ModelBatch, global_variance: bool = False) -> np.ndarray:
    """Online LiRA against a target model (Lesson 03).

    Parameters
    ----------
    target : nn.Module in eval mode
    X : array-like of float, shape (n_records, ...)
        The candidate records to attack.
    y : array-like of int, shape (n_records,)
    shadows : ModelBatch
        Shadows trained on halves of exactly these candidate records, in this order, e.g.
        ``shadow.train_shadow_models(MLP, X, y, n_shadows=64)``: their ``in_mask`` says which
        candidate trained which shadow (checked by fingerprint). Each record needs >= 2 IN and
        >= 2 OUT shadows (>= 1 each with `global_variance`).
    global_variance : bool, default=False

    Returns
    -------
    ndarray of float64, shape (n_records,)
        Higher = more likely member.
    """
    X, y, target_obs, shadow_obs = _observations(target, shadows, X, y)
    shadows.check_trained_on(X, y, what="the candidates X, y")
    return likelihood_ratio_online(target_obs, shadow_obs, shadows.in_mask, global_variance=global_variance)


@register("lira-offline")
def score_offline(target, X, y, *, shadows: ModelBatch, global_variance: bool = False) -> np.ndarray:
    """Offline LiRA against a target model: OUT shadows only (Lesson 03).

    Parameters
    ----------
    target : nn.Module in eval mode
    X, y : arrays, shapes (n_records, ...), (n_records,)
        The candidate records.
    shadows : ModelBatch
        Typically trained on halves of the attacker's pool, so OUT for every candidate. If they
        were trained on these very candidates (same records, same order: the fingerprint tells),
        only each record's OUT shadows are used.
    global_variance : bool, default=False

    Returns
    -------
    ndarray of float64, shape (n_records,)
        Higher = more likely member.
    """
    X, y, target_obs, shadow_obs = _observations(target, shadows, X, y)
    in_mask = shadows.in_mask if shadows.trained_on(X, y) else None
    return likelihood_ratio_offline(target_obs, shadow_obs, in_mask=in_mask, global_variance=global_variance)
