"""Regularisation as a defence, measured against the strongest attack we have (Lesson 05).

A defence is a *training setting*: an architecture and a recipe. `Defence` holds both, so that
the target and the attacker's shadows are trained alike (a real attacker who knows the recipe
trains its shadows with dropout too). The three classics are options of both trainers:

- dropout: ``utils.models.MLP(dropout=rate)`` (`dropout`);
- weight decay: ``Recipe(weight_decay=...)`` (`weight_decay`);
- early stopping: ``Recipe(early_stopping_patience=..., validation_fraction=...)`` (`early_stopping`).

`measure_defence` trains ``n_targets + n_shadows`` models of one setting in one batched run on
halves of the candidate records (`utils.attacks.pooled`), lets each target face the same shadows,
and returns the privacy-utility point: test accuracy against the pooled loss attack and online
LiRA at low FPR, with Clopper-Pearson intervals, plus the per-record exposure that shows *who*
the defence protects.

    result = measure_defence(dropout(0.5, recipe), X_eval, y_eval, n_shadows=16, n_targets=4)
    result.test_accuracy, result.summaries["lira-online"].tpr_at_fpr[0.01]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from torch import nn

from ..attacks import pooled, registry
from ..attacks.lira import fit_gaussians
from ..attacks.threshold import score_log_odds
from ..inference import per_record_loss
from ..metrics import summarize_attack
from ..models import MLP
from ..recipe import Recipe, as_recipe
from ..validation import check_fraction, check_positive_int, check_real

__all__ = [
    "ATTACKS",
    "Defence",
    "DefenceResult",
    "dropout",
    "early_stopping",
    "measure_defence",
    "no_defence",
    "weight_decay",
]

ATTACKS = ("loss", "lira-online")


@dataclass(frozen=True)
class Defence:
    """One training setting: a name, how to build the model, how to train it (Lesson 05).

    Attributes
    ----------
    name : str
        Short name for tables and charts, e.g. ``"dropout 0.5"``.
    build_model : callable returning nn.Module
    recipe : utils.recipe.Recipe
    """

    name: str
    build_model: Callable[[], nn.Module]
    recipe: Recipe

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a defence needs a non-empty name, got {self.name!r}.")
        if not callable(self.build_model):
            raise ValueError(f"build_model must build a model when called, got {type(self.build_model).__name__}.")
        object.__setattr__(self, "recipe", as_recipe(self.recipe))


def no_defence(recipe: Recipe | None = None, *, build_model=MLP, name: str = "none") -> Defence:
    """The undefended baseline: `build_model` trained with `recipe` (Lesson 05)."""
    return Defence(name, build_model, as_recipe(recipe))


def dropout(rate: float, recipe: Recipe | None = None, *, name: str | None = None, **mlp_options) -> Defence:
    """An `MLP` with dropout `rate` on its hidden layers, trained with `recipe` (Lesson 05)."""
    rate = check_fraction(rate, "rate", low_open=False)
    return Defence(name or f"dropout {rate:g}", partial(MLP, dropout=rate, **mlp_options), as_recipe(recipe))


def weight_decay(value: float, recipe: Recipe | None = None, *, build_model=MLP, name: str | None = None) -> Defence:
    """`recipe` with Adam's L2 penalty `value` (Lesson 05)."""
    value = check_real(value, "weight_decay", minimum=0.0)
    return Defence(name or f"weight decay {value:g}", build_model, as_recipe(recipe, weight_decay=value))


def early_stopping(patience: int, recipe: Recipe | None = None, *, validation_fraction: float = 0.1,
                   build_model=MLP, name: str | None = None) -> Defence:
    """`recipe` with early stopping after `patience` epochs without a better validation loss (Lesson 05)."""
    patience = check_positive_int(patience, "patience")
    changed = as_recipe(recipe, early_stopping_patience=patience, validation_fraction=validation_fraction)
    return Defence(name or f"early stopping ({patience})", build_model, changed)


@dataclass(frozen=True)
class DefenceResult:
    """One privacy-utility point: what a training setting costs and what it buys (Lesson 05).

    Attributes
    ----------
    name : str
    test_accuracy, train_accuracy : float
        Mean over the targets of their accuracy on their non-members (unseen) and members.
    loss_gap : float
        Mean loss of non-members minus mean loss of members, over the targets (nats): the
        average-case generalisation gap.
    summaries : dict attack name -> utils.metrics.AttackSummary
        Pooled over the targets, with Clopper-Pearson intervals.
    scores : dict attack name -> (labels, scores)
        The pooled membership labels and attack scores, for ROC curves.
    exposure : ndarray of float64, shape (n_records,)
        Per record, how far apart its IN and OUT shadows' logit-scaled confidences are (mean
        difference in units of the shadows' standard deviation, one for all records): the most
        exposed records have the largest values.
    seconds : float
        Training wall time.
    experiment : utils.attacks.pooled.PooledExperiment
        The trained targets and shadows, for further attacks.
    """

    name: str
    test_accuracy: float
    train_accuracy: float
    loss_gap: float
    summaries: dict = field(repr=False)
    scores: dict = field(repr=False)
    exposure: np.ndarray = field(repr=False)
    seconds: float = 0.0
    experiment: object = field(default=None, repr=False)

    def tpr(self, attack: str = "lira-online", fpr: float = 0.01) -> float:
        """TPR of `attack` at `fpr` (one of the FPRs it was measured at)."""
        return self.summaries[attack].tpr_at_fpr[fpr]

    def interval(self, attack: str = "lira-online", fpr: float = 0.01) -> tuple[float, float]:
        """95% Clopper-Pearson interval of `tpr`."""
        return self.summaries[attack].tpr_interval[fpr]


def _exposure(experiment: pooled.PooledExperiment) -> np.ndarray:
    obs = score_log_odds(experiment.logits[experiment.shadow_ids], experiment.y)
    mask = experiment.in_mask[experiment.shadow_ids]
    # One variance for all records (few shadows make per-record variances noisy).
    mean_in, std_in = fit_gaussians(obs, mask, global_variance=True, what="IN")
    mean_out, std_out = fit_gaussians(obs, ~mask, global_variance=True, what="OUT")
    return (mean_in - mean_out) / np.sqrt((std_in**2 + std_out**2) / 2)


def measure_defence(defence: Defence, X, y, *, n_shadows: int = 16, n_targets: int = 4, seed: int = 0,
                    fprs=(0.01, 0.001), attacks=ATTACKS, global_variance: bool = True) -> DefenceResult:
    """Train targets and shadows with `defence`, attack every target, pool the results (Lesson 05).

    Parameters
    ----------
    defence : Defence
    X : array-like of float, shape (n_records, ...)
        The candidate records; every model trains on a random half of them.
    y : array-like of int, shape (n_records,)
    n_shadows, n_targets : int
        As in `utils.attacks.pooled.train_pooled` (both even; >= 4 shadows for per-record LiRA).
    seed : int, default=0
    fprs : tuple of float, default=(0.01, 0.001)
    attacks : names in `utils.attacks.registry`, default `ATTACKS` = ("loss", "lira-online")
        Each is pooled over the targets by `utils.attacks.pooled.pooled_scores`; LiRA's get
        `global_variance`.
    global_variance : bool, default=True
        LiRA with one IN and one OUT variance, as Carlini et al. advise below ~64 shadows.

    Returns
    -------
    DefenceResult
    """
    if not isinstance(defence, Defence):
        raise ValueError(f"defence must be a utils.defenses.Defence (e.g. dropout(0.5)), got {type(defence).__name__}.")
    if isinstance(attacks, str) or not attacks:
        raise ValueError(f"attacks must be a non-empty sequence of attack names, e.g. ('loss', 'lira-online'), "
                         f"got {attacks!r}.")
    for name in attacks:
        registry.get(name)  # an unknown name fails here, naming the known attacks, before minutes of training
    start = time.perf_counter()
    experiment = pooled.train_pooled(defence.build_model, X, y, n_shadows=n_shadows, n_targets=n_targets, seed=seed,
                                     recipe=defence.recipe)
    seconds = time.perf_counter() - start
    targets = experiment.target_ids
    logits, members = experiment.logits[targets], experiment.in_mask[targets]
    correct = logits.argmax(-1) == experiment.y
    losses = per_record_loss(logits, experiment.y)
    scores = {}
    for name in attacks:
        options = {"global_variance": global_variance} if name.startswith("lira") else {}
        scores[name] = pooled.pooled_scores(experiment, name, **options)
    return DefenceResult(
        name=defence.name,
        test_accuracy=float(np.mean([c[~m].mean() for c, m in zip(correct, members)])),
        train_accuracy=float(np.mean([c[m].mean() for c, m in zip(correct, members)])),
        loss_gap=float(np.mean([loss[~m].mean() - loss[m].mean() for loss, m in zip(losses, members)])),
        summaries={name: summarize_attack(*pair, fprs=fprs) for name, pair in scores.items()},
        scores=scores,
        exposure=_exposure(experiment),
        seconds=seconds,
        experiment=experiment,
    )

