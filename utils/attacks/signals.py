"""What a model says about each record, as one float64 number: the *signals* every attack reads (Lessons 02-03).

Each function maps logits (..., n_records, n_classes) and labels (n_records,) to scores
(..., n_records), **higher = more likely member**, computed in float64 from logits so that the
low-FPR end keeps its resolution (see `utils.attacks.threshold`). `SIGNALS` maps their names.

>>> sorted(SIGNALS)
['confidence', 'entropy', 'log-odds', 'loss', 'modified-entropy']
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax, logsumexp

from ..inference import per_record_loss
from ..validation import check_logits_labels

__all__ = [
    "SIGNALS",
    "score_loss",
    "score_confidence",
    "score_log_odds",
    "score_entropy",
    "score_modified_entropy",
    "true_class_log_prob",
    "scores_from_logits",
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


SIGNALS = {
    "loss": score_loss,
    "confidence": score_confidence,
    "log-odds": score_log_odds,
    "entropy": score_entropy,
    "modified-entropy": score_modified_entropy,
}




def true_class_log_prob(logits, y) -> np.ndarray:
    """``log p_y``, the log-softmax of the true class, in float64 (RMIA's signal, in log space).

    Same as `score_loss` (minus the loss); named for what RMIA reads. Shapes as in `score_loss`.
    """
    return score_loss(logits, y)


def scores_from_logits(logits, y, kind: str = "loss") -> np.ndarray:
    """Dispatch to one of the signal functions by name; `kind` is a key of `SIGNALS`."""
    if kind not in SIGNALS:
        raise ValueError(f"kind must be one of {sorted(SIGNALS)}, got {kind!r}.")
    return SIGNALS[kind](logits, y)
