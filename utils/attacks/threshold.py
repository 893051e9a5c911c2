"""Threshold attacks (Yeom et al. 2018): score each record by what the model says about it (Lesson 02).

A model is more confident on the records it trained on, so one number per record -- its loss,
the confidence in its true class, the entropy of the prediction -- already separates members
from non-members a little. Every score here points the same way: **higher = more likely member**.

Low-FPR honesty: all scores are computed in float64 from logits. The true-class confidence
``p`` rounds to exactly 1.0 for very confident records (and a float32 loss to exactly 0), and
the resulting ties hide the low-FPR end of the ROC. The log-odds ``log(p / (1 - p))`` ranks
records like the loss but stays finite and distinct, so `score_log_odds` is the one to use there.

Choosing a threshold: `choose_threshold` picks one from labelled data. Run it on the attacker's
own shadow data (`calibrate_threshold`) for an honest attack; run it on the evaluation records
and you get the *oracle* threshold, which peeks at the answers and so overstates the attack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax, logsumexp

from ..inference import per_record_loss, predict_logits
from ..validation import check_features_labels, check_fraction, check_logits_labels, check_membership
from ._checks import check_model

__all__ = [
    "KINDS",
    "score_loss",
    "score_confidence",
    "score_log_odds",
    "score_entropy",
    "score_modified_entropy",
    "scores_from_logits",
    "score",
    "ThresholdResult",
    "choose_threshold",
    "evaluate_threshold",
    "calibrate_threshold",
]


def _logits_labels(logits, y):
    logits, y = check_logits_labels(logits, y)
    return logits, np.broadcast_to(y[:, None], logits.shape[:-1] + (1,))


def score_loss(logits, y) -> np.ndarray:
    """Negative cross-entropy of each record, ``log p_y`` (Lesson 02).

    Parameters
    ----------
    logits : array-like of float, shape (..., n_records, n_classes)
        Raw model outputs, e.g. from `utils.train.predict_logits` (a leading model axis is allowed).
    y : array-like of int, shape (n_records,)
        True class labels.

    Returns
    -------
    ndarray of float64, shape (..., n_records)
        ``-loss`` in nats (<= 0); higher = lower loss = more likely member.

    Examples
    --------
    >>> score_loss([[2.0, 0.0], [0.0, 0.0]], [0, 0]).round(3).tolist()
    [-0.127, -0.693]
    """
    return -per_record_loss(logits, y)


def score_confidence(logits, y) -> np.ndarray:
    """Softmax probability of the true class, in [0, 1] (Lesson 02).

    Ranks like `score_loss`, but saturates at exactly 1.0 for very confident records; prefer
    `score_log_odds` when reading the ROC at low FPR. Shapes as in `score_loss`.
    """
    return np.exp(score_loss(logits, y))


def score_log_odds(logits, y) -> np.ndarray:
    """Logit-scaled true-class confidence ``log(p_y / (1 - p_y))``, in float64 (Lessons 02-03).

    Computed as ``z_y - logsumexp(z_j, j != y)`` so it never rounds to infinity. Ranks records
    exactly like the loss, without ties, and is roughly Gaussian across retrained models,
    which is what LiRA fits. Shapes as in `score_loss`.

    Examples
    --------
    >>> score_log_odds([[40.0, 0.0, 0.0]], [0]).round(3).tolist()
    [39.307]
    """
    logits, idx = _logits_labels(logits, y)
    true_logit = np.take_along_axis(logits, idx, axis=-1)[..., 0]
    others = logits.copy()
    np.put_along_axis(others, idx, -np.inf, axis=-1)
    return true_logit - logsumexp(others, axis=-1)


def score_entropy(logits, y=None) -> np.ndarray:
    """Negative entropy of the prediction (nats); confident predictions score high (Lesson 02).

    `y` is ignored (the entropy does not look at the label); it is accepted so that every
    score function has the same signature. Shapes as in `score_loss`.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim < 2:
        raise ValueError(f"logits must have shape (..., n_records, n_classes), got {logits.shape}.")
    log_p = log_softmax(logits, axis=-1)
    return np.sum(np.exp(log_p) * log_p, axis=-1)


def score_modified_entropy(logits, y) -> np.ndarray:
    """Negative modified entropy (Song & Mittal 2021), which uses the true label (Lesson 02).

    ``Mentr = -(1 - p_y) log p_y - sum_{j != y} p_j log(1 - p_j)``: low when the model is
    confidently right, high when it is confidently wrong (plain entropy confuses the two).
    Returns ``-Mentr``; shapes as in `score_loss`.
    """
    logits, idx = _logits_labels(logits, y)
    log_p = log_softmax(logits, axis=-1)
    # log(1 - p_j) = logsumexp over k != j of z_k - logsumexp of all z: finite even when p_j -> 1.
    n_classes = logits.shape[-1]
    log_1mp = np.stack(
        [logsumexp(np.delete(logits, j, axis=-1), axis=-1) for j in range(n_classes)], axis=-1
    ) - logsumexp(logits, axis=-1, keepdims=True)
    p, one_minus_p = np.exp(log_p), np.exp(log_1mp)
    is_true = np.zeros(logits.shape, dtype=bool)
    np.put_along_axis(is_true, idx, True, axis=-1)
    terms = np.where(is_true, -one_minus_p * log_p, -p * log_1mp)
    return -terms.sum(axis=-1)


KINDS = {
    "loss": score_loss,
    "confidence": score_confidence,
    "log-odds": score_log_odds,
    "entropy": score_entropy,
    "modified-entropy": score_modified_entropy,
}


def scores_from_logits(logits, y, kind: str = "loss") -> np.ndarray:
    """Dispatch to one of the score functions by name; `kind` is a key of `KINDS`."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}.")
    return KINDS[kind](logits, y)


def score(target_model, X, y, kind: str = "loss") -> np.ndarray:
    """Query a model on records and score each one (Lesson 02).

    Parameters
    ----------
    target_model : nn.Module in eval mode, or ModelBatch
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
    kind : {"loss", "confidence", "log-odds", "entropy", "modified-entropy"}, default="loss"

    Returns
    -------
    ndarray of float64, shape (n_records,) (or (K, n_records) for a ModelBatch)
        Higher = more likely member.
    """
    check_model(target_model)
    X, y = check_features_labels(X, y)
    return scores_from_logits(predict_logits(target_model, X), y, kind)


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
    """TPR, FPR and advantage of flagging every record whose score is >= `threshold` (Lesson 02)."""
    labels, scores = check_membership(labels, scores)
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}.")
    flagged = scores >= threshold
    tpr, fpr = float(flagged[labels == 1].mean()), float(flagged[labels == 0].mean())
    return ThresholdResult(float(threshold), tpr, fpr, tpr - fpr)


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
        Flag a record as a member when its score is >= threshold.

    Notes
    -----
    On the attacker's own shadow data this is an honest attack. On the evaluation records it is
    the *oracle* threshold: it was chosen with the answers in hand, so its accuracy is an upper
    bound, not something an attacker can achieve.
    """
    labels, scores = check_membership(labels, scores)
    order = np.argsort(-scores, kind="stable")
    s, lab = scores[order], labels[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # last index of each distinct score
    tpr = np.cumsum(lab)[last] / lab.sum()
    fpr = np.cumsum(1 - lab)[last] / (len(lab) - lab.sum())
    if max_fpr is None:
        gain = tpr - fpr  # ties (up to rounding) go to the highest threshold: fewest false alarms
        best = int(np.flatnonzero(gain >= gain.max() - 1e-12)[0])
    else:
        max_fpr = check_fraction(max_fpr, "max_fpr")
        ok = np.flatnonzero(fpr <= max_fpr)
        if len(ok) == 0:
            return float(np.nextafter(s[0], np.inf))  # flag nothing: even the top score is a non-member
        best = int(ok[-1])
    return float(s[last[best]])


def calibrate_threshold(
    build_model, X_pool, y_pool, *, kind: str = "loss", n_shadows: int = 2, max_fpr: float | None = None,
    seed: int = 0, **train_kwargs,
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
        A key of `KINDS`.
    n_shadows : int, default=2
        An even count keeps every pool record IN for exactly half of the shadows.
    max_fpr, seed
        As in `choose_threshold`; `seed` seeds the halves and the shadows' training.
    **train_kwargs
        Passed to `utils.train.train_batched` (epochs, lr, batch_size, ...): use the target's recipe.

    Returns
    -------
    threshold : float
    """
    from .shadow import train_shadow_models  # local: shadow imports this module

    shadows = train_shadow_models(build_model, X_pool, y_pool, n_shadows=n_shadows, seed=seed, **train_kwargs)
    X_pool, y_pool = check_features_labels(X_pool, y_pool, X_name="X_pool", y_name="y_pool")
    shadow_scores = scores_from_logits(predict_logits(shadows, X_pool), y_pool, kind)
    return choose_threshold(shadows.in_mask.astype(np.int64).ravel(), shadow_scores.ravel(), max_fpr=max_fpr)
