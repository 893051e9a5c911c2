"""The privacy onion effect (Carlini et al. 2022): remove the most exposed records, and others take their place.

Membership exposure is relative. The records an attack finds most easily are the ones that stick
out of the data; remove them, retrain, and the records that were *next in line* now stick out in
their place. `onion_experiment` measures it with the course's online LiRA:

1. rank the records by an exposure measured beforehand (`lira_exposure`: every shadow plays the
   target in turn against the others; a record's exposure is its mean LiRA score when it was a
   member minus its mean score when it was not), and measure it again with fresh shadows on all the
   records (fresh, so that records ranked high by luck do not look as if they lost exposure);
2. **peel**: drop the `n_peel` most exposed records, train new shadows on halves of what is left, and
   measure again;
3. **control**: drop as many *random* records instead (the same training-set size), and measure again.

The onion effect is the next-in-line records (exposure ranks `n_peel` to `2 * n_peel` before)
gaining more exposure after the peel than after the random removal.
"""

from __future__ import annotations

import numpy as np

from ..attacks.lira import likelihood_ratio_online
from ..attacks.shadow import balanced_halves
from ..attacks.signals import score_log_odds
from ..inference import predict_logits
from ..seed import spawn_seeds
from ..train import train_batched
from ..validation import check_in_mask, check_observations, check_positive_int, check_seed

__all__ = ["lira_exposure", "onion_experiment"]


def lira_exposure(log_odds, in_mask) -> np.ndarray:
    """Each record's online-LiRA exposure over K models on halves of the records (Lesson 10).

    Parameters
    ----------
    log_odds : array-like of float, shape (K, n_records)
        Every model's logit-scaled confidence on every record.
    in_mask : array-like of bool, shape (K, n_records)
        True where the record trained that model.

    Returns
    -------
    ndarray of float64, shape (n_records,)
        Mean LiRA score (each model the target in turn, the others its shadows, one global variance)
        over the models the record trained minus the mean over those it did not; 0 = not exposed.
    """
    obs = check_observations(log_odds, "log_odds")
    mask = check_in_mask(in_mask, obs.shape)
    n_models = check_positive_int(len(obs), "number of models", minimum=3)
    scores = np.empty_like(obs)
    for t in range(n_models):
        others = np.arange(n_models) != t
        scores[t] = likelihood_ratio_online(obs[t], obs[others], mask[others], global_variance=True)
    return np.where(mask, scores, 0).sum(0) / mask.sum(0) - np.where(~mask, scores, 0).sum(0) / (~mask).sum(0)


def _exposure_without(X, y, removed, *, build_model, recipe, n_shadows, seed):
    keep = np.setdiff1d(np.arange(len(y)), removed)
    halves_seed, train_seed = spawn_seeds(seed, 2)
    subsets = balanced_halves(len(keep), n_shadows, seed=halves_seed)
    models = train_batched(build_model, X[keep], y[keep], subsets, recipe, seed=train_seed)
    exposure = np.full(len(y), np.nan)
    exposure[keep] = lira_exposure(score_log_odds(predict_logits(models, X[keep]), y[keep]), models.in_mask)
    return exposure


def onion_experiment(X, y, exposure_before, *, build_model, recipe, n_peel: int, n_shadows: int = 16,
                     seed: int = 0, progress: bool = False) -> dict:
    """Peel the `n_peel` most exposed records, retrain shadows, measure again; the same for random records.

    Parameters
    ----------
    X : ndarray of float32, shape (n_records, ...)
    y : ndarray of int64, shape (n_records,)
    exposure_before : ndarray of float, shape (n_records,)
        `lira_exposure` on all the records.
    build_model, recipe
        The shadows' architecture and recipe.
    n_peel : int
        Records removed, each time; the next in line are the following `n_peel` by exposure.
    n_shadows : int, default=16
        Even: shadows trained after each removal.
    seed : int, default=0
    progress : bool, default=False
        A bar over the three shadow runs (all records, peeled, random removal).

    Returns
    -------
    dict
        ``peeled``, ``next_in_line``, ``random_removed`` (index arrays); ``exposure_all``,
        ``exposure_peeled`` and ``exposure_random`` (n_records,), each measured with `n_shadows` fresh
        shadows, NaN for the removed records.
    """
    n_peel = check_positive_int(n_peel, "n_peel")
    before = np.asarray(exposure_before, dtype=np.float64)
    if before.shape != (len(y),) or 3 * n_peel > len(y):
        raise ValueError(f"exposure_before needs one value per record ({len(y)}) and n_peel at most a third of them; "
                         f"got shape {before.shape} and n_peel={n_peel}.")
    order = np.argsort(-before, kind="stable")
    peeled, next_in_line = np.sort(order[:n_peel]), np.sort(order[n_peel: 2 * n_peel])
    peel_seed, random_seed, draw_seed, all_seed = spawn_seeds(check_seed(seed), 4)
    # The control removes random records that are neither peeled nor next in line, so both runs measure them.
    candidates = np.setdiff1d(np.arange(len(y)), np.r_[peeled, next_in_line])
    random_removed = np.sort(np.random.default_rng(draw_seed).choice(candidates, n_peel, replace=False))
    from utils.progress import progress_bar

    common = dict(build_model=build_model, recipe=recipe, n_shadows=n_shadows)
    runs = {"exposure_all": (np.zeros(0, np.int64), all_seed), "exposure_peeled": (peeled, peel_seed),
            "exposure_random": (random_removed, random_seed)}
    out = {"peeled": peeled, "next_in_line": next_in_line, "random_removed": random_removed}
    for name, (removed, run_seed) in progress_bar(runs.items(), desc="onion: shadow runs",
                                                  disable=not progress, leave=False):
        out[name] = _exposure_without(X, y, removed, seed=run_seed, **common)
    return out
