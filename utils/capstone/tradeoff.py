"""Where a model sits on the privacy-utility chart, next to defended versions of it (Lesson 08).

One point per model: its accuracy on records it never saw (utility, x) and the TPR at 1% FPR of
the strongest attack allowed against it (privacy risk, y; lower is better). Each defended model is
trained with its own recipe and attacked with shadows trained with that same recipe, so every
point is measured the same way.

    point = measure_point("weight decay", MLP, recipe.replace(weight_decay=1e-2), X, y, membership, n_shadows=16)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from torch import nn

from ..inference import accuracy, predict_logits
from ..metrics import clopper_pearson, summarize_attack
from ..recipe import Recipe
from ..train import init_model, train_model
from ..validation import (
    check_features_labels,
    check_fraction,
    check_membership,
    check_seed,
)
from .audit import run_audit
from .threat import ThreatModel

__all__ = ["TradeoffPoint", "point_from_scores", "measure_point"]


@dataclass(frozen=True)
class TradeoffPoint:
    """One model on the privacy-utility chart.

    Attributes
    ----------
    name : str
        Legend label, e.g. "released" or "weight decay 0.01".
    accuracy : float
        Accuracy on the non-members (records it never saw), in [0, 1].
    tpr, tpr_low, tpr_high : float
        TPR at `fpr` of `attack`, with its 95% Clopper-Pearson interval.
    fpr : float
    attack : str
        Which attack measured the risk.
    seconds : float
        Wall time to train the model and attack it.
    """

    name: str
    accuracy: float
    tpr: float
    tpr_low: float
    tpr_high: float
    fpr: float
    attack: str
    seconds: float = float("nan")


def point_from_scores(name: str, accuracy_value: float, membership, scores, *, attack: str, fpr: float = 0.01,
                      seconds: float = float("nan")) -> TradeoffPoint:
    """A `TradeoffPoint` from an attack's scores on members and non-members (Lesson 08)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string (the legend label), got {name!r}.")
    accuracy_value = check_fraction(accuracy_value, "accuracy", low_open=False, high_open=False)
    fpr = check_fraction(fpr, "fpr")
    membership, scores = check_membership(membership, scores, labels_name="membership")
    summary = summarize_attack(membership, scores, fprs=(fpr,))
    tpr = summary.tpr_at_fpr[fpr]
    low, high = clopper_pearson(round(tpr * summary.n_members), summary.n_members)
    return TradeoffPoint(name, accuracy_value, tpr, low, high, fpr, attack, seconds)


def measure_point(name: str, build_model: Callable[[], nn.Module], recipe: Recipe, X, y, membership, *,
                  threat_model: ThreatModel | None = None, n_shadows: int = 16, fpr: float = 0.01, seed: int = 0,
                  progress: bool = False) -> TradeoffPoint:
    """Train a model with `recipe` on the members, attack it as `threat_model` allows, return its point (Lesson 08).

    Parameters
    ----------
    name : str
    build_model : callable returning nn.Module
        E.g. ``functools.partial(MLP, dropout=0.5)`` for a dropout defence.
    recipe : Recipe
        E.g. ``RELEASE_RECIPE.replace(weight_decay=1e-2)``, or fewer epochs for early stopping.
    X, y, membership : arrays, shapes (n_records, ...), (n_records,), (n_records,)
        The candidates; the model trains on ``X[membership == 1]``.
    threat_model : ThreatModel, default full confidences with shadow data
        The risk is the TPR of the strongest attack it allows.
    n_shadows : int, default=16
    fpr : float, default=0.01
    seed : int, default=0

    Returns
    -------
    TradeoffPoint
    """
    X, y = check_features_labels(X, y)
    membership, _ = check_membership(membership, np.zeros(len(membership)), labels_name="membership")
    seed = check_seed(seed)
    threat_model = ThreatModel() if threat_model is None else threat_model
    start = time.perf_counter()
    members = membership == 1
    model = train_model(init_model(build_model, seed), X[members], y[members], recipe, seed=seed, progress=progress)
    audit = run_audit(model, threat_model, X, y, membership, build_model=build_model, recipe=recipe,
                      n_shadows=n_shadows, fprs=(fpr,), seed=seed + 1, progress=progress)
    best = audit.strongest
    acc = accuracy(predict_logits(model, X[~members]), y[~members])
    return point_from_scores(name, acc, membership, audit.scores[best], attack=best, fpr=fpr,
                             seconds=time.perf_counter() - start)
