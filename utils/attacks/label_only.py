"""Label-only membership attacks: when the model answers with a class label and nothing else (Lesson 07).

Masking the confidence (`utils.defenses.masking`) takes the loss attack's input away, but not the
membership signal: a model still treats its training records differently, and a label is enough
to see it if the attacker asks more than one question per record.

- `score_gap` (Yeom et al. 2018): member iff the model labels the record correctly. One query;
  its power is the generalisation gap, ``AUC = (1 + train_acc - test_acc) / 2``.
- `score_robustness` (Choquette-Choo et al. 2021, "Label-only membership inference attacks"):
  query the record under ``n_queries`` random perturbations (small shifts of the digit, or
  Gaussian noise) and count how often the label stays right. A training record sits deeper inside
  its class's region, so its label survives more perturbations. *Calibrated on shadow models*
  record by record: the same queries go to shadows that did and did not train on the record, and
  a likelihood ratio (as in LiRA) says which the target resembles.
- `score_boundary_distance`: a query-cheap estimate of the distance to the decision boundary in
  the spirit of Li & Zhang (2021): the mean, over a ladder of growing noise levels, of how often
  the label stays right (the area under the "label survives" curve). No shadows needed.

Registered as "gap", "label-robustness" and "boundary-distance" (`utils.attacks.registry`).
Every attack has the course's call shape ``score_*(target, X, y, *, shadows=None, ...)`` and
returns float64 scores of shape (n_records,), **higher = more likely member**. Only the target's
predicted labels (the argmax of what it returns) are used, so the attacks work unchanged on a
masked model.
"""

from __future__ import annotations

import numpy as np

from ..inference import predict_logits
from ..models import ModelBatch, check_model
from ..validation import (
    check_features_labels,
    check_positive_int,
    check_real,
    check_seed,
)
from .lira import likelihood_ratio_online
from .registry import register

__all__ = [
    "KINDS",
    "perturb",
    "predict_labels",
    "robustness_fractions",
    "score_boundary_distance",
    "score_gap",
    "score_robustness",
    "shift_images",
]

KINDS = ("shift", "noise")


def predict_labels(model, X) -> np.ndarray:
    """The label a model (or every model of a `ModelBatch`) answers for each record: the argmax of its output.

    Returns
    -------
    ndarray of int64, shape (n_records,) or (K, n_records) for a ModelBatch.
    """
    return predict_logits(model, X).argmax(axis=-1)


def _image_side(X: np.ndarray) -> tuple[int, ...]:
    """The (height, width) of each record, for flat square records (n, side * side) or images."""
    if X.ndim == 2:
        side = int(round(np.sqrt(X.shape[1])))
        if side * side != X.shape[1]:
            raise ValueError(
                f"shifts need images: records of {X.shape[1]} features are not square images. "
                "Use kind='noise', or pass X with shape (n_records, height, width)."
            )
        return (side, side)
    return X.shape[-2:]


def _check_shifts(shift, name: str, n_records: int) -> np.ndarray:
    """`shift` as whole pixels, one per record (or one for all): shape (n_records,), int64."""
    values = np.asarray(shift)
    if values.dtype == np.bool_ or not np.issubdtype(values.dtype, np.number):
        raise ValueError(f"{name} must be whole numbers of pixels, got {values.dtype} values, e.g. {name}=[1, -1].")
    if values.ndim > 1 or (values.ndim == 1 and len(values) not in (1, n_records)):
        raise ValueError(f"{name} needs one shift per record ({n_records}) or a single one, got shape {values.shape}.")
    if not np.isfinite(values).all() or (values != np.round(values)).any():
        raise ValueError(f"{name} must be whole numbers of pixels, got {values.tolist()!r}.")
    return np.broadcast_to(values.astype(int), n_records)


def shift_images(X, dx, dy) -> np.ndarray:
    """Shift each record by its own whole number of pixels, filling the uncovered border with 0 (Lesson 07).

    Parameters
    ----------
    X : ndarray of float32, shape (n_records, side * side) or (n_records, ..., height, width)
    dx, dy : array-like of int, shape (n_records,)
        Pixels to the right (dx > 0) and down (dy > 0).

    Returns
    -------
    ndarray of float32, the shape of `X`.

    Examples
    --------
    >>> x = np.arange(4, dtype=np.float32).reshape(1, 4)    # the 2x2 image [[0, 1], [2, 3]]
    >>> shift_images(x, [1], [0]).tolist()
    [[0.0, 0.0, 0.0, 2.0]]
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"X must hold records of shape (n_records, side * side) or (n_records, ..., height, width), "
                         f"at least one, got shape {X.shape}. Pass a batch, e.g. X[:1] for one record.")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite pixel values; clean or drop those records first.")
    height, width = _image_side(X)
    images = X.reshape(len(X), -1, height, width)
    dx, dy = _check_shifts(dx, "dx", len(X)), _check_shifts(dy, "dy", len(X))
    out = np.zeros_like(images)
    for shift_x, shift_y in set(zip(dx.tolist(), dy.tolist())):  # one slice copy per distinct shift
        rows = (dx == shift_x) & (dy == shift_y)
        src = images[rows][..., max(0, -shift_y) : height - max(0, shift_y), max(0, -shift_x) : width - max(0, shift_x)]
        to_y = slice(max(0, shift_y), height - max(0, -shift_y))
        to_x = slice(max(0, shift_x), width - max(0, -shift_x))
        out[np.flatnonzero(rows), :, to_y, to_x] = src
    return out.reshape(X.shape)


def perturb(X, kind: str, strength: float, rng: np.random.Generator) -> np.ndarray:
    """One random perturbation of every record (Lesson 07).

    ``kind="shift"``: a shift by up to `strength` pixels in each direction (uniform, not zero);
    ``kind="noise"``: Gaussian noise of standard deviation `strength`, clipped to [0, 1].
    `rng` is a ``numpy.random.Generator`` (e.g. ``np.random.default_rng(0)``).
    """
    strength = _check_kind_strength(kind, strength)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator, e.g. np.random.default_rng(0), got {type(rng).__name__}.")
    if kind == "shift":
        s = int(strength)
        offsets = [(a, b) for a in range(-s, s + 1) for b in range(-s, s + 1) if (a, b) != (0, 0)]
        picks = rng.integers(len(offsets), size=len(X))
        dx, dy = np.array(offsets)[picks].T
        return shift_images(X, dx, dy)
    noisy = X + rng.normal(0.0, strength, size=X.shape).astype(np.float32)
    return np.clip(noisy, 0.0, 1.0, out=noisy)


def _check_kind_strength(kind, strength):
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}.")
    if kind == "shift":
        return check_positive_int(strength, "strength (pixels of shift)")
    return check_real(strength, "strength (noise standard deviation)", positive=True)


@register("gap")
def score_gap(target, X, y, *, shadows=None) -> np.ndarray:
    """The gap attack (Yeom et al. 2018): 1.0 where the target labels the record correctly, else 0.0 (Lesson 07).

    Parameters
    ----------
    target : nn.Module in eval mode (a masked model is fine: only its labels are used)
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
    shadows : ignored
        Accepted for the common call shape; the gap attack needs none.

    Returns
    -------
    ndarray of float64, shape (n_records,)
        Higher = more likely member.
    """
    check_model(target, "target", allow_batch=False)
    X, y = check_features_labels(X, y)
    return (predict_labels(target, X) == y).astype(np.float64)


def robustness_fractions(model, X, y, *, kind: str = "noise", strength=0.05, n_queries: int = 16,
                         seed: int = 0) -> np.ndarray:
    """How often the model's label stays right under `n_queries` random perturbations of each record (Lesson 07).

    The same seeded perturbations are used for every model, so that targets and shadows face the
    same questions.

    Parameters
    ----------
    model : nn.Module or ModelBatch
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
    kind : {"noise", "shift"}, default="noise"
    strength : float (noise std) or int (pixels), default=0.05
    n_queries : int, default=16
    seed : int, default=0

    Returns
    -------
    ndarray of float64, shape (n_records,) (or (K, n_records) for a ModelBatch), values in [0, 1]
    """
    X, y = check_features_labels(X, y)
    strength = _check_kind_strength(kind, strength)
    n_queries = check_positive_int(n_queries, "n_queries")
    rng = np.random.default_rng(check_seed(seed))
    queries = np.concatenate([perturb(X, kind, strength, rng) for _ in range(n_queries)])
    labels = predict_labels(model, queries)  # (..., n_queries * n_records)
    correct = labels.reshape(*labels.shape[:-1], n_queries, len(y)) == y
    return correct.mean(axis=-2, dtype=np.float64)


@register("label-robustness")
def score_robustness(target, X, y, *, shadows=None, in_mask=None, kind: str = "noise", strength=0.05,
                     n_queries: int = 16, global_variance: bool = True, seed: int = 0) -> np.ndarray:
    """The label-robustness attack of Choquette-Choo et al. (2021), calibrated per record on shadows (Lesson 07).

    Each record is queried `n_queries` times under random perturbations; its *robustness* is the
    fraction of those queries the target still labels correctly (`robustness_fractions`).

    - Without shadows the score is the robustness itself (plus half a query's worth when the
      unperturbed record is labelled correctly, so ties break towards the gap attack's answer).
    - With shadows trained on halves of the candidate records, the same perturbed queries go to
      every shadow, and the score is LiRA's likelihood ratio on the robustness instead of the
      confidence: how much more typical the target's robustness is of the record's IN shadows
      than of its OUT shadows (`utils.attacks.lira.likelihood_ratio_online`). Easy records, robust
      for every model, stop looking like members.

    Parameters
    ----------
    target : nn.Module in eval mode (masked or not: only labels are used)
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
    shadows : ModelBatch, optional
        Shadow models trained with the target's recipe on halves of these very records, e.g.
        ``shadow.train_shadow_models(MLP, X, y, n_shadows=16)``.
    in_mask : array-like of bool, shape (n_shadows, n_records), optional
        Which record trained which shadow; default ``shadows.in_mask``.
    kind : {"noise", "shift"}, default="noise"
    strength : float (noise std) or int (pixels of shift), default=0.05
    n_queries : int, default=16
        Perturbed queries per record (and per shadow).
    global_variance : bool, default=True
        One IN and one OUT variance for all records (robustness takes few distinct values).
    seed : int, default=0
        Seeds the perturbations, the same for target and shadows.

    Returns
    -------
    ndarray of float64, shape (n_records,)
        Higher = more likely member.
    """
    check_model(target, "target", allow_batch=False)
    X, y = check_features_labels(X, y)
    fractions = robustness_fractions(target, X, y, kind=kind, strength=strength, n_queries=n_queries, seed=seed)
    if shadows is None:
        return fractions + 0.5 / n_queries * score_gap(target, X, y)
    if not isinstance(shadows, ModelBatch):
        raise ValueError(
            "shadows must be a ModelBatch (e.g. from utils.attacks.shadow.train_shadow_models), "
            f"got {type(shadows).__name__}."
        )
    if in_mask is None:
        if shadows.n_records != len(y):
            raise ValueError(
                f"the shadows were trained on halves of {shadows.n_records} records, but X holds {len(y)}. "
                "Train them on "
                "the candidate records themselves, or pass in_mask (n_shadows, n_records) saying who trained which."
            )
        in_mask = shadows.in_mask
    shadow_fractions = robustness_fractions(shadows, X, y, kind=kind, strength=strength, n_queries=n_queries, seed=seed)
    return likelihood_ratio_online(fractions, shadow_fractions, in_mask, global_variance=global_variance)


@register("boundary-distance")
def score_boundary_distance(target, X, y, *, shadows=None, noise_levels=(0.05, 0.1, 0.2, 0.4),
                            n_queries: int = 8, seed: int = 0) -> np.ndarray:
    """A noise-based estimate of each record's distance to the decision boundary (Lesson 07).

    For each noise level (standard deviation, pixel values in [0, 1]) the fraction of `n_queries`
    noisy copies still labelled correctly; the score is their mean: about the noise level at which
    the label starts to flip, scaled to [0, 1]. A misclassified record scores 0 (it is already
    across the boundary). Inspired by Li & Zhang (2021), who measure the distance with adversarial
    (HopSkipJump) queries; random noise needs fewer queries and no gradient estimate.

    Parameters
    ----------
    target : nn.Module in eval mode
    X, y : arrays, shapes (n_records, ...), (n_records,)
    shadows : ignored (accepted for the common call shape)
    noise_levels : sequence of float > 0
    n_queries : int, default=8
        Noisy copies per record and noise level.
    seed : int, default=0

    Returns
    -------
    ndarray of float64, shape (n_records,), values in [0, 1]
        Higher = further from the boundary = more likely member.
    """
    check_model(target, "target", allow_batch=False)
    X, y = check_features_labels(X, y)
    if np.ndim(noise_levels) != 1:
        raise ValueError(f"noise_levels must be a sequence of noise standard deviations, e.g. (0.1, 0.3), "
                         f"got {noise_levels!r}.")
    levels = [check_real(s, "noise_levels", positive=True) for s in noise_levels]
    if not levels:
        raise ValueError("noise_levels must list at least one noise standard deviation, e.g. (0.1, 0.3).")
    rng = np.random.default_rng(check_seed(seed))
    level_seeds = rng.integers(2**63, size=len(levels))
    survived = np.mean([robustness_fractions(target, X, y, kind="noise", strength=s, n_queries=n_queries, seed=int(k))
                        for s, k in zip(levels, level_seeds)], axis=0)
    return survived * score_gap(target, X, y)
