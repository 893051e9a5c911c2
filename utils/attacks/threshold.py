"""Threshold attacks (Yeom et al. 2018): score each record by what the model says about it (Lesson 02).

A model is more confident on the records it trained on, so one number per record -- its loss,
the confidence in its true class, the entropy of the prediction -- already separates members
from non-members a little. Every score here points the same way: **higher = more likely member**.

Low-FPR honesty: all scores are computed in float64 from logits. The true-class confidence
``p`` rounds to exactly 1.0 for very confident records (and a float32 loss to exactly 0), and
the resulting ties hide the low-FPR end of the ROC. The log-odds ``log(p / (1 - p))`` ranks
records like the loss but stays finite and distinct, so `score_log_odds` is the one to use there.

The score functions themselves live in `utils.attacks.signals` (re-exported here); every threshold
attack is registered by its signal's name ("loss", "log-odds", ...) in `utils.attacks.registry`.

Choosing a threshold: `choose_threshold` picks one from labelled data. Run it on the attacker's
own shadow data (`calibrate_threshold`) for an honest attack; run it on the evaluation records
and you get the *oracle* threshold, which peeks at the answers and so overstates the attack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..inference import predict_logits
from ..metrics import roc_steps
from ..models import check_model
from ..validation import check_features_labels, check_fraction, check_membership
from .registry import register
from .shadow import train_shadow_models
from .signals import (
    SIGNALS,
    score_confidence,
    score_entropy,
    score_log_odds,
    score_loss,
    score_modified_entropy,
    scores_from_logits,
)

__all__ = [
    "SIGNALS",
    "score_loss",
    "score_confidence",
    "score_log_odds",
    "score_entropy",
    "score_modified_entropy",
    "scores_from_logits",
    "score",
    "loss",
    "confidence",
    "log_odds",
    "entropy",
    "modified_entropy",
    "ThresholdResult",
    "choose_threshold",
    "evaluate_threshold",
    "calibrate_threshold",
]


def score(target, X, y, kind: str = "loss", *, shadows=None) -> np.ndarray:
    """Query a model on records and score each one by a signal (Lesson 02).

    Parameters
    ----------
    target : nn.Module in eval mode, or ModelBatch
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
    kind : {"loss", "confidence", "log-odds", "entropy", "modified-entropy"}, default="loss"
        A key of `SIGNALS`.
    shadows : ignored
        Accepted so that threshold attacks share the call shape of `utils.attacks.registry`.

    Returns
    -------
    ndarray of float64, shape (n_records,) (or (K, n_records) for a ModelBatch)
        Higher = more likely member.
    """
    if kind not in SIGNALS:
        raise ValueError(f"kind must be one of {sorted(SIGNALS)}, got {kind!r}.")
    check_model(target)
    X, y = check_features_labels(X, y)
    return scores_from_logits(predict_logits(target, X), y, kind)


def _threshold_attack(kind: str, function_name: str):
    def attack(target, X, y, *, shadows=None) -> np.ndarray:
        return score(target, X, y, kind)

    attack.__name__ = attack.__qualname__ = function_name
    attack.__doc__ = (
        f"The {kind} threshold attack in the registry's call shape: ``score(target, X, y, kind={kind!r})``.\n\n"
        "Returns float64 (n_records,), higher = more likely member; `shadows` is ignored."
    )
    return register(kind, attack)


loss = _threshold_attack("loss", "loss")
confidence = _threshold_attack("confidence", "confidence")
log_odds = _threshold_attack("log-odds", "log_odds")
entropy = _threshold_attack("entropy", "entropy")
modified_entropy = _threshold_attack("modified-entropy", "modified_entropy")


@dataclass(frozen=True)
class ThresholdResult:
    """A decision rule "member when score >= threshold" and how it did on some labelled records.

    Attributes
    ----------
    threshold : float
    tpr, fpr : float
        Fraction of members / non-members flagged.
    advantage : float
        ``tpr - fpr`` (Yeom et al.'s membership advantage at this threshold).
    """

    threshold: float
    tpr: float
    fpr: float
    advantage: float


def evaluate_threshold(labels, scores, threshold: float) -> ThresholdResult:
    """TPR, FPR and advantage of flagging every record whose score is >= `threshold` (Lesson 02).

    ``threshold = np.inf`` flags nobody (TPR = FPR = 0), the course's one rule for "no record may
    be flagged" (`choose_threshold` returns it); ``-np.inf`` flags everybody. NaN is refused.

    >>> evaluate_threshold([0, 1], [0.2, 0.9], np.inf).tpr
    0.0
    """
    labels, scores = check_membership(labels, scores)
    if isinstance(threshold, (bool, np.bool_)):
        raise ValueError(f"threshold must be a number, got {threshold!r}.")
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a number (np.inf flags nobody), got {threshold!r}.") from None
    if np.isnan(threshold):
        raise ValueError("threshold is NaN, which flags nobody and everybody at once; use np.inf to flag nobody.")
    flagged = scores >= threshold
    tpr, fpr = float(flagged[labels == 1].mean()), float(flagged[labels == 0].mean())
    return ThresholdResult(threshold, tpr, fpr, tpr - fpr)


def choose_threshold(labels, scores, *, max_fpr: float | None = None) -> float:
    """The threshold that does best on these labelled records (Lesson 02).

    Parameters
    ----------
    labels : array-like of int, shape (n_records,)
        1 = member, 0 = non-member.
    scores : array-like of float, shape (n_records,)
        Higher = more likely member.
    max_fpr : float in (0, 1), optional
        If given, the lowest threshold whose FPR on these records is <= `max_fpr` (the most members
        flagged within that false-alarm budget); otherwise the one with the largest TPR - FPR
        (the highest such threshold when several tie).

    Returns
    -------
    threshold : float
        Flag a record as a member when its score is >= threshold; ``np.inf`` (flag nobody) when
        even the top score would flag too many non-members (or flagging nobody does best).

    Examples
    --------
    >>> choose_threshold([0, 1, 1, 0], [0.9, 0.8, 0.7, 0.1], max_fpr=0.1)
    inf
    >>> choose_threshold([0, 1, 1, 0], [0.9, 0.8, 0.7, 0.1], max_fpr=0.5)
    0.7

    Notes
    -----
    On the attacker's own shadow data this is an honest attack. On the evaluation records it is
    the *oracle* threshold: it was chosen with the answers in hand, so its accuracy is an upper
    bound, not something an attacker can achieve.
    """
    curve = roc_steps(labels, scores)  # step 0 is threshold +inf: flag nobody
    if max_fpr is None:
        gain = curve.tpr - curve.fpr  # ties (up to rounding) go to the highest threshold: fewest false alarms
        best = int(np.flatnonzero(gain >= gain.max() - 1e-12)[0])
    else:
        max_fpr = check_fraction(max_fpr, "max_fpr")
        best = int(np.flatnonzero(curve.fpr <= max_fpr)[-1])  # step 0 (FPR 0) always qualifies
    return float(curve.thresholds[best])


def calibrate_threshold(
    build_model, X_pool, y_pool, *, kind: str = "loss", n_shadows: int = 2, max_fpr: float | None = None,
    seed: int = 0, **recipe_fields,
) -> float:
    """Pick a threshold honestly: from shadow models the attacker trains on its own data (Lesson 02).

    Trains `n_shadows` models (batched) on halves of the attacker's pool, scores every pool
    record with each of them (IN for half the models, OUT for the rest) and returns
    `choose_threshold` on those labelled scores.

    Parameters
    ----------
    build_model : callable returning nn.Module
        The same architecture as the target (e.g. ``utils.models.MLP``).
    X_pool, y_pool : arrays, shapes (n_pool, ...), (n_pool,)
        Records the attacker owns, disjoint from the target's data.
    kind : str, default="loss"
        A key of `SIGNALS`.
    n_shadows : int, default=2
        An even count keeps every pool record IN for exactly half of the shadows.
    max_fpr, seed
        As in `choose_threshold`; `seed` seeds the halves and the shadows' training.
    **recipe_fields
        Passed to `utils.train.train_batched` (recipe=..., or epochs, lr, batch_size, ...): use the target's recipe.

    Returns
    -------
    threshold : float
    """
    shadows = train_shadow_models(build_model, X_pool, y_pool, n_shadows=n_shadows, seed=seed, **recipe_fields)
    X_pool, y_pool = check_features_labels(X_pool, y_pool, X_name="X_pool", y_name="y_pool")
    shadow_scores = scores_from_logits(predict_logits(shadows, X_pool), y_pool, kind)
    return choose_threshold(shadows.in_mask.astype(np.int64).ravel(), shadow_scores.ravel(), max_fpr=max_fpr)
