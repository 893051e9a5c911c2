"""The audit experiment of lesson 10, as plain arrays: shadows trained, unlearned, retrained (Lesson 10).

`run_shadow_experiment` trains K shadow models on halves of the candidate records with the
released model's recipe (`audit_design`), retrains each without its forget set (twice: the second
retrain plays the ``retrain`` method, the gold standard that must look like retraining), runs every
approximate method over a grid of budgets, and (optionally) trains and unlearns SISA ensembles. It
returns only arrays and numbers (a dict, for `utils.cache.cached`): every model's logit-scaled
confidence and loss on every candidate, and its accuracy on the candidates it never saw. The audits
(`utils.unlearning.audits`) and the figures read these arrays; nothing is trained again.
"""

from __future__ import annotations

import time

import numpy as np

from ..attacks.signals import score_log_odds
from ..inference import per_record_loss, predict_logits
from ..seed import spawn_seeds
from ..train import train_batched
from ..validation import check_positive_int, check_seed
from .methods import APPROXIMATE, retrain, unlearning_path
from .request import audit_design, make_request
from .sisa import sisa_logits, train_sisa, unlearn_sisa

__all__ = ["DEFAULT_BUDGETS", "run_shadow_experiment", "observations", "path_at", "path_budgets"]

# Optimiser steps per method: from none (the original model) to well past where the forget set's loss
# reaches the held-out records' (gradient ascent gets there within a few dozen steps).
DEFAULT_BUDGETS = {"finetune": (0, 25, 50, 100, 200), "gradient-ascent": (0, 5, 10, 20, 40, 80),
                   "ascent-descent": (0, 10, 25, 50, 100)}


def observations(logits, y, trained) -> dict:
    """What the audits read of K models' logits (K, n, C): log-odds and losses (K, n), held-out accuracy (K,)."""
    correct = logits.argmax(axis=-1) == y
    unseen = ~np.asarray(trained, bool)
    return {"log_odds": score_log_odds(logits, y), "loss": per_record_loss(logits, y),
            "heldout_accuracy": (correct & unseen).sum(axis=1) / unseen.sum(axis=1)}


def run_shadow_experiment(X, y, *, build_model, recipe, n_shadows: int = 32, pool_size: int = 500,
                          n_forget: int = 125, budgets=None, sisa_shards: int = 0, seed: int = 0,
                          progress: bool = False) -> dict:
    """Train, unlearn and retrain the audit's shadow models; return their observations (Lesson 10).

    Parameters
    ----------
    X : ndarray of float32, shape (n_records, ...)
        The candidate records (e.g. the released model's members and non-members).
    y : ndarray of int64, shape (n_records,)
    build_model, recipe
        The released model's architecture and recipe.
    n_shadows : int, default=32
    pool_size, n_forget : int
        See `audit_design`: forget sets are drawn from a pool of `pool_size` candidates.
    budgets : dict str -> sequence of int, optional
        Steps per approximate method (default `DEFAULT_BUDGETS`).
    sisa_shards : int, default=0
        If >= 2, also train SISA ensembles with this many shards and unlearn them (slow: one shard
        model at a time).
    seed : int, default=0
    progress : bool, default=False
        One bar over the training and unlearning stages.

    Returns
    -------
    dict
        ``trained``, ``forget`` (K, n) bool; ``pool`` (pool_size,); ``original``, ``retrained``,
        ``retrain`` (the second retrain), ``sisa-original``, ``sisa-retrained``, ``sisa`` (when
        trained): observation dicts (see `observations`); ``paths``: method -> ``budgets`` (B,) and the
        observations stacked over them, ``log_odds`` and ``loss`` (B, K, n), ``heldout_accuracy`` (B, K)
        (read one budget with `path_at`); ``seconds``: stage -> wall time.
    """
    from utils.progress import progress_bar

    n_shadows = check_positive_int(n_shadows, "n_shadows", minimum=4)
    budgets = dict(DEFAULT_BUDGETS if budgets is None else budgets)
    unknown = sorted(set(budgets) - set(APPROXIMATE))
    if unknown:
        raise ValueError(f"budgets names {unknown}, which are not approximate methods ({', '.join(APPROXIMATE)}).")
    design_seed, original_seed, retrain_seed, again_seed, path_seed, sisa_seed = spawn_seeds(check_seed(seed), 6)
    trained, forget, pool = audit_design(len(y), n_shadows, pool_size=pool_size, n_forget=n_forget, seed=design_seed)
    request = make_request(X, y, trained, forget, build_model=build_model, recipe=recipe)
    trained_mask, forget_mask = request.masks()
    stages = ["original", "retrained", "retrain", *budgets] + (["sisa"] if sisa_shards else [])
    bar = progress_bar(stages, desc="shadow stages", disable=not progress, leave=False)
    out = {"trained": trained_mask, "forget": forget_mask, "pool": pool, "paths": {}, "seconds": {}}

    def record(name, models):
        return observations(predict_logits(models, X), y, trained_mask)

    for stage in bar:
        bar.set_postfix_str(stage)
        start = time.perf_counter()
        if stage == "original":
            original = train_batched(build_model, X, y, trained, recipe, seed=original_seed)
            out["original"] = record(stage, original)
        elif stage in ("retrained", "retrain"):
            models = retrain(original, request, seed=retrain_seed if stage == "retrained" else again_seed)
            out[stage] = record(stage, models)
        elif stage == "sisa":
            sisa = train_sisa(request, n_shards=sisa_shards, seed=sisa_seed)
            unlearned = unlearn_sisa(sisa, request)
            from_scratch = train_sisa(request, n_shards=sisa_shards, seed=sisa_seed, rows=request.retain)
            for name, models in (("sisa-original", sisa), ("sisa", unlearned), ("sisa-retrained", from_scratch)):
                out[name] = observations(sisa_logits(models, X), y, trained_mask)
        else:
            path = unlearning_path(stage, original, request, budgets[stage], seed=path_seed)
            found = [record(stage, path[b]) for b in budgets[stage]]
            # arrays only (budgets as an array, not dict keys), so that any safe cache format keeps them
            out["paths"][stage] = {"budgets": np.asarray(budgets[stage], np.int64),
                                   **{key: np.stack([f[key] for f in found]) for key in found[0]}}
        out["seconds"][stage] = time.perf_counter() - start
    return out


def path_budgets(experiment: dict, method: str) -> list[int]:
    """The budgets (steps) at which the experiment observed `method`."""
    if method not in experiment["paths"]:
        raise ValueError(f"the experiment has no budget grid for {method!r}; it ran {sorted(experiment['paths'])}.")
    return [int(b) for b in experiment["paths"][method]["budgets"]]


def path_at(experiment: dict, method: str, budget: int) -> dict:
    """The observations of `method`'s unlearned shadows after `budget` steps (see `observations`)."""
    budgets = path_budgets(experiment, method)
    if budget not in budgets:
        raise ValueError(f"{method} has no observations at {budget} steps; the experiment ran {budgets}.")
    i = budgets.index(budget)
    path = experiment["paths"][method]
    return {key: value[i] for key, value in path.items() if key != "budgets"}
