"""Membership inference on text: loss, zlib, Min-K%, Min-K%++, reference and blind attacks (Lesson 09).

The maths are pure float64 functions of the model's per-byte log-probabilities (padded arrays
with a mask, shapes (n_texts, length)), apart from the one step that queries a model
(`token_statistics`). Every score points the course's way: **higher = more likely member**.

- `loss_scores`: the mean log-probability per byte (minus the loss; Yeom et al. 2018 on text).
- `zlib_scores`: the loss divided by the text's zlib-compressed length in bytes (Carlini et al.
  2021): a text that is simply easy (repetitive, short words) compresses well too, so the ratio
  separates "the model knows this text" from "this text is predictable".
- `min_k_scores`: the mean of the lowest ``k`` *fraction* of a text's byte log-probabilities
  (Shi et al. 2024, "Min-K% Prob"): a member has few very surprising bytes.
- `min_k_plus_plus_scores`: the same over each byte's log-probability standardised by the
  model's distribution at that position, ``(log p(x_t) - mu_t) / sigma_t`` with
  ``mu_t = E_{z~p}[log p(z)]`` and ``sigma_t**2 = Var_{z~p}[log p(z)]`` (Zhang et al. 2024, "Min-K%++").
- `reference_scores`: the target's loss score minus a reference model's (trained on disjoint
  records of the same population), so that texts every model finds easy no longer look like members.
- `blind_scores`: a classifier that never queries the model (Das et al. 2024): byte n-gram
  logistic regression, scored out of fold. Near 0.5 on an IID split; high when members and
  non-members come from different distributions, which is then what the "attacks" measure too.

Checked against MIMIR (github.com/iamgroot42/mimir, ``mimir/attacks/{loss,zlib,min_k,
min_k_plus_plus}.py``): MIMIR's scores are lower = member and ours are their negatives; MIMIR's
zlib divides the mean loss by ``len(zlib.compress(text.encode()))`` as here; its Min-K% and Min-K%++
average the ``int(len * k)`` lowest values, and for ``len * k < 1`` return the mean of nothing
(NaN), where ours keeps at least one byte. `tests/test_lm_attacks.py` re-implements MIMIR's
formulas line by line and compares on the same inputs.

Each attack is registered in `utils.attacks.registry` in the course's call shape
``score(target, X, y=None, *, shadows=None, **options)``, with ``X`` a list of texts.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import torch

from ..attacks.registry import register
from ..validation import check_fraction
from .model import encode_texts

__all__ = ["TokenStatistics", "token_statistics", "loss_scores", "zlib_lengths", "zlib_scores", "min_k_scores",
           "min_k_plus_plus_scores", "reference_scores", "blind_scores", "TEXT_ATTACKS"]


@dataclass(frozen=True)
class TokenStatistics:
    """What a model says about each byte of each text; arrays of shape (n_texts, length).

    Attributes
    ----------
    log_probs : float64
        ``log p(x_t | x_<t)`` in nats (0 where `mask` is False).
    mu, sigma : float64
        Mean and standard deviation of ``log p(z)`` for z drawn from the model's distribution at t.
    mask : bool
        True on a text's real bytes.
    """

    log_probs: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    mask: np.ndarray


@torch.no_grad()
def token_statistics(model, texts, *, batch_size: int = 64) -> TokenStatistics:
    """Query `model` on `texts` once: per-byte log-probabilities and the moments Min-K%++ needs."""
    inputs, targets, mask = encode_texts(texts)
    log_probs, mus, sigmas = (np.zeros(mask.shape) for _ in range(3))
    model.eval()
    for i in range(0, len(inputs), batch_size):
        x, t = torch.from_numpy(inputs[i:i + batch_size]), torch.from_numpy(targets[i:i + batch_size])
        logp = torch.log_softmax(model(x), -1)  # float32 is enough for ranking (tests hold it to 1e-5)
        p = logp.exp()
        mu = (p * logp).sum(-1)
        log_probs[i:i + batch_size] = logp.gather(-1, t[..., None])[..., 0].double().numpy()
        mus[i:i + batch_size] = mu.double().numpy()
        spread = (p * (logp - mu[..., None]).square()).sum(-1)  # centred: no cancellation in float32
        sigmas[i:i + batch_size] = spread.clamp(min=1e-12).sqrt().double().numpy()
    return TokenStatistics(log_probs * mask, mus * mask, np.where(mask, sigmas, 1.0), mask)


def _check(values, mask, name="log_probs"):
    values = np.asarray(values, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if values.ndim != 2 or values.shape != mask.shape:
        raise ValueError(f"{name} and mask must be 2-D arrays of the same shape (n_texts, length); got "
                         f"{values.shape} and {mask.shape}.")
    if not mask.any(axis=1).all():
        raise ValueError(f"every text needs at least one byte; mask row(s) {np.flatnonzero(~mask.any(1))[:5]} are "
                         "all False.")
    return values, mask


def loss_scores(log_probs, mask) -> np.ndarray:
    """Mean log-probability per byte (nats), i.e. minus the loss: shape (n_texts,), higher = member."""
    log_probs, mask = _check(log_probs, mask)
    return (log_probs * mask).sum(1) / mask.sum(1)


def zlib_lengths(texts) -> np.ndarray:
    """Length in bytes of each text compressed by zlib (default level): shape (n_texts,)."""
    return np.array([len(zlib.compress(t.encode("utf-8"))) for t in texts], dtype=np.float64)


def zlib_scores(log_probs, mask, texts) -> np.ndarray:
    """Minus the loss over the zlib-compressed length in bytes, ``mean log p / len(zlib(text))``: higher = member."""
    if len(texts) != np.shape(log_probs)[0]:
        raise ValueError(f"texts has {len(texts)} entries for {np.shape(log_probs)[0]} rows of log_probs; pass the "
                         "same texts, in the same order.")
    return loss_scores(log_probs, mask) / zlib_lengths(texts)


def _mean_of_lowest(values, mask, k):
    k = check_fraction(k, "k", high_open=False)
    counts = mask.sum(1)
    keep = np.maximum(1, np.floor(k * counts + 1e-9)).astype(int)  # k is a fraction of each text's bytes
    ordered = np.sort(np.where(mask, values, np.inf), axis=1)  # lowest first, padding last
    ranks = np.arange(values.shape[1])[None, :]
    chosen = ranks < keep[:, None]
    return np.where(chosen, ordered, 0.0).sum(1) / keep


def min_k_scores(log_probs, mask, k: float = 0.2) -> np.ndarray:
    """Min-K% Prob (Shi et al. 2024): the mean of the lowest ``max(1, floor(k * n_bytes))`` log-probabilities.

    Parameters
    ----------
    log_probs : array of float, shape (n_texts, length)
        Nats; only entries where `mask` is True count.
    mask : array of bool, shape (n_texts, length)
    k : float in (0, 1], default=0.2
        A *fraction* of each text's bytes (k=1 gives `loss_scores`).

    Returns
    -------
    ndarray of float64, shape (n_texts,)
        Higher = more likely member.
    """
    log_probs, mask = _check(log_probs, mask)
    return _mean_of_lowest(log_probs, mask, k)


def min_k_plus_plus_scores(log_probs, mu, sigma, mask, k: float = 0.2) -> np.ndarray:
    """Min-K%++ (Zhang et al. 2024): Min-K% over ``(log p(x_t) - mu_t) / sigma_t``; higher = more likely member."""
    log_probs, mask = _check(log_probs, mask)
    mu, _ = _check(mu, mask, "mu")
    sigma, _ = _check(sigma, mask, "sigma")
    z = np.where(mask, (log_probs - mu) / np.where(mask, sigma, 1.0), 0.0)
    return _mean_of_lowest(z, mask, k)


def reference_scores(target_scores, reference_scores) -> np.ndarray:
    """The target's loss score minus a reference model's on the same texts (shape (n_texts,)): higher = member."""
    target_scores = np.asarray(target_scores, dtype=np.float64)
    reference = np.asarray(reference_scores, dtype=np.float64)
    if target_scores.shape != reference.shape:
        raise ValueError(f"target_scores and reference_scores need one entry per text; got {target_scores.shape} "
                         f"and {reference.shape}.")
    return target_scores - reference


def _blind_features():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
                         LogisticRegression(C=10.0, max_iter=2000))


def blind_scores(texts, labels, *, n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """Das et al.'s blind baseline: a byte n-gram classifier that never sees the model, scored out of fold.

    Each fold's texts are scored by a logistic regression fitted on the other folds' texts and
    labels (1 = member): an attacker who holds some labelled members and non-members of the
    evaluation and learns how they *look*.

    Returns
    -------
    ndarray of float64, shape (n_texts,)
        The classifier's membership probability; higher = more likely member.
    """
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise ValueError(f"texts has {len(texts)} entries and labels {len(labels)}; give one label per text.")
    scores = np.zeros(len(texts))
    texts = np.asarray(texts, dtype=object)
    for train, test in StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(texts, labels):
        model = _blind_features().fit(list(texts[train]), labels[train])
        scores[test] = model.predict_proba(list(texts[test]))[:, 1]
    return scores


# ---------------------------------------------------------------- the registry's call shape


def _text_attack(name, function):
    function.__name__ = function.__qualname__ = f"text_attack_{name.replace('-', '_').replace('+', 'p')}"
    return register(name, function)


def _stats(target, X):
    return token_statistics(target, list(X))


TEXT_ATTACKS = ("text-loss", "zlib", "min-k", "min-k++", "text-reference", "blind")
_text_attack("text-loss", lambda target, X, y=None, *, shadows=None: loss_scores(
    (s := _stats(target, X)).log_probs, s.mask))
_text_attack("zlib", lambda target, X, y=None, *, shadows=None: zlib_scores(
    (s := _stats(target, X)).log_probs, s.mask, list(X)))
_text_attack("min-k", lambda target, X, y=None, *, shadows=None, k=0.2: min_k_scores(
    (s := _stats(target, X)).log_probs, s.mask, k))
_text_attack("min-k++", lambda target, X, y=None, *, shadows=None, k=0.2: min_k_plus_plus_scores(
    (s := _stats(target, X)).log_probs, s.mu, s.sigma, s.mask, k))


def _reference(target, X, y=None, *, shadows=None):
    if shadows is None:
        raise ValueError("text-reference needs the reference model: shadows=reference_model (a language model "
                         "trained on records the target never saw).")
    t, r = _stats(target, X), _stats(shadows, X)
    return reference_scores(loss_scores(t.log_probs, t.mask), loss_scores(r.log_probs, r.mask))


def _blind(target, X, y=None, *, shadows=None):
    if shadows is None:
        raise ValueError("blind needs the attacker's labelled examples: shadows=(texts, labels), 1 = member.")
    texts, labels = shadows
    return _blind_features().fit(list(texts), np.asarray(labels)).predict_proba(list(X))[:, 1]


_text_attack("text-reference", _reference)
_text_attack("blind", _blind)
