"""Lesson 06's experiment: one DP target per epsilon, attacked and audited; and the recipe search.

`run_epsilon` trains one target at a target epsilon (DP-SGD with `utils.defenses.dp.train_dp`, or the
course's non-private trainer for ``epsilon = inf``) on the members and the included canaries, attacks
it with the loss attack and LiRA (shadows trained with the target's own recipe: DP shadows from
`utils.defenses.dp_batched.train_dp_batched`), and audits it (`utils.audit`). It returns an
`EpsilonRun`.

`search_recipe` is the *non-private* search that chose `utils.defenses.dp.DP_RECIPE`: validation
accuracy of DP-SGD per recipe, on records the target never trains on (``python -m utils.bench dp
--search``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..recipe import Recipe, as_recipe
from ..train import init_model
from ..validation import check_features_labels
from .dp import DP_MAX_GRAD_NORM, DP_RECIPE, DPTraining, poisson_schedule, train_dp
from .dp_batched import train_dp_batched

__all__ = ["EpsilonRun", "run_epsilon", "search_recipe", "audit_canary_designs"]


def search_recipe(X_train, y_train, X_val, y_val, *, epsilon: float = 8.0, delta: float = 1e-5, grid=None,
                  build_model: Callable[[], nn.Module] | None = None, seed: int = 0) -> list[dict]:
    """Validation accuracy of DP-SGD for each recipe of `grid` (a non-private search on public data).

    Run on records the target never trains on (a split of the attacker's pool): the search spends no
    privacy of the target's members. Returns one dict per grid point (``epochs, batch_size, lr,
    max_grad_norm, val_acc, noise_multiplier, train_s``), best first.
    """
    from ..models import MLP

    build_model = MLP if build_model is None else build_model
    if grid is None:
        grid = [dict(epochs=e, batch_size=b, lr=lr, max_grad_norm=c) for e in (15, 30, 60)
                for b in (128, 256, 512) for lr in (3e-3, 1e-2) for c in (1.0, 3.0)]
    X_val, y_val = check_features_labels(X_val, y_val)
    rows = []
    for point in grid:
        point = dict(point)
        c = point.pop("max_grad_norm", DP_MAX_GRAD_NORM)
        run = train_dp(init_model(build_model, seed), X_train, y_train, Recipe(**point), epsilon=epsilon, delta=delta,
                       max_grad_norm=c, seed=seed)
        with torch.no_grad():
            acc = float((run.model(torch.from_numpy(X_val)).argmax(1).numpy() == y_val).mean())
        rows.append(dict(point, max_grad_norm=c, val_acc=acc, noise_multiplier=run.noise_multiplier,
                         train_s=run.train_s))
    return sorted(rows, key=lambda r: -r["val_acc"])


# ----------------------------------------------------------------------------- the lesson's experiment


@dataclass
class EpsilonRun:
    """One target of Lesson 06's sweep: how private, how useful, how attackable, how audited.

    Attributes
    ----------
    target_epsilon : float
        What was asked for (``inf``: the non-private twin).
    training : DPTraining
        The run (spent epsilon by PRV and RDP, noise, steps, timings).
    mu : float
        Gaussian-DP mu of the run (``inf`` if non-private).
    test_accuracy : float
        On the held-out non-members.
    labels : ndarray of int64, shape (n_eval,)
        Membership of the evaluation records (1 = member).
    scores : dict attack name -> ndarray of float64, shape (n_eval,)
        "loss", "lira-online", "lira-offline".
    cp_audit : utils.audit.CPAudit
        Clopper-Pearson audit of LiRA (online) on the members / non-members.
    one_run_audit : utils.audit.OneRunAudit
        One-run audit on the canaries (loss scores).
    naive_epsilon : float
        The point estimate without an interval, on LiRA's scores.
    shadow_s : float
        Seconds to train the shadow models (DP-SGD with the target's noise when private).
    """

    target_epsilon: float
    training: DPTraining
    mu: float
    test_accuracy: float
    labels: np.ndarray
    scores: dict
    cp_audit: object
    one_run_audit: object
    naive_epsilon: float
    shadow_s: float

    @property
    def audit_epsilon(self) -> float:
        """The better (larger) of the two audits' certified epsilons."""
        return max(self.cp_audit.epsilon, self.one_run_audit.epsilon)


def run_epsilon(
    target_epsilon: float,
    X_members, y_members, X_nonmembers, y_nonmembers, X_canaries, y_canaries, included,
    *,
    delta: float = 1e-5,
    recipe: Recipe | None = None,
    n_shadows: int = 8,
    build_model: Callable[[], nn.Module] | None = None,
    max_grad_norm: float = DP_MAX_GRAD_NORM,
    seed: int = 0,
) -> EpsilonRun:
    """Train one target at `target_epsilon` (with the included canaries), attack it and audit it.

    The attacker's shadows (online and offline LiRA, `n_shadows` on balanced halves of the
    evaluation records, global variance) are trained with the *target's* recipe: DP-SGD with its
    noise multiplier when private (`train_dp_batched`), the ordinary batched trainer otherwise.
    ``target_epsilon = inf`` trains the target with `utils.train.train_model` (the course's
    non-private trainer; pass ``recipe=Recipe()`` for lessons 01-03's target). `max_grad_norm` is the
    private runs' clipping norm (their shadows clip at the same norm).
    """
    from ..attacks import lira, threshold
    from ..attacks.shadow import balanced_halves
    from ..audit import audit_clopper_pearson, audit_one_run, gdp_mu, naive_epsilon
    from ..inference import accuracy, predict_logits
    from ..models import MLP
    from ..train import train_batched

    recipe = as_recipe(DP_RECIPE if recipe is None else recipe)
    build_model = MLP if build_model is None else build_model
    included = np.asarray(included).astype(bool)
    X_train = np.concatenate([X_members, X_canaries[included]])
    y_train = np.concatenate([y_members, y_canaries[included]])
    if math.isfinite(target_epsilon):
        run = train_dp(init_model(build_model, seed), X_train, y_train, recipe, epsilon=target_epsilon, delta=delta,
                       max_grad_norm=max_grad_norm, seed=seed)
    else:  # the non-private target: the course's own trainer (lessons 01-03), timed the same way
        from ..train import train_model

        start = time.perf_counter()
        model = train_model(init_model(build_model, seed), X_train, y_train, recipe, seed=seed, device="cpu")
        sample_rate, steps = poisson_schedule(len(y_train), recipe)
        run = DPTraining(model=model, epsilon=math.inf, delta=delta, epsilon_rdp=math.inf, noise_multiplier=0.0,
                         sample_rate=sample_rate, steps=steps, max_grad_norm=math.inf, accountant="none",
                         grad_sample_mode="none", train_s=time.perf_counter() - start)
    X_eval = np.concatenate([X_members, X_nonmembers])
    y_eval = np.concatenate([y_members, y_nonmembers])
    labels = np.r_[np.ones(len(y_members), np.int64), np.zeros(len(y_nonmembers), np.int64)]
    halves = balanced_halves(len(y_eval), n_shadows, seed=seed + 1)
    start = time.perf_counter()
    if run.private:
        shadows = train_dp_batched(build_model, X_eval, y_eval, halves, recipe, noise_multiplier=run.noise_multiplier,
                                   max_grad_norm=run.max_grad_norm, seed=seed + 1)
    else:
        shadows = train_batched(build_model, X_eval, y_eval, halves, recipe, seed=seed + 1)
    shadow_s = time.perf_counter() - start
    scores = {
        "loss": threshold.score(run.model, X_eval, y_eval, "loss"),
        "lira-online": lira.score_online(run.model, X_eval, y_eval, shadows=shadows, global_variance=True),
        "lira-offline": lira.score_offline(run.model, X_eval, y_eval, shadows=shadows, global_variance=True),
    }
    canary_scores = threshold.score(run.model, X_canaries, y_canaries, "loss")
    return EpsilonRun(
        target_epsilon=float(target_epsilon),
        training=run,
        mu=gdp_mu(run.noise_multiplier, run.sample_rate, run.steps) if run.private else math.inf,
        test_accuracy=accuracy(predict_logits(run.model, X_nonmembers), y_nonmembers),
        labels=labels,
        scores=scores,
        cp_audit=audit_clopper_pearson(labels, scores["lira-online"], delta=delta, seed=seed),
        one_run_audit=audit_one_run(included.astype(np.int64), canary_scores, delta=delta),
        naive_epsilon=naive_epsilon(labels, scores["lira-online"], delta=delta),
        shadow_s=shadow_s,
    )


# ----------------------------------------------------------------------------- canary design (Lesson 06b)


@dataclass(frozen=True)
class CanaryDesigns:
    """One training run audited twice, once per kind of canary it held.

    Attributes
    ----------
    target_epsilon : float
        ``inf`` for a non-private run.
    included : dict design -> ndarray of int64, shape (m,)
        1 where the canary was in the training set; designs ``"mislabelled"`` and ``"natural"``.
    scores : dict design -> ndarray of float64, shape (m,)
        The loss attack's score of each canary (higher = more likely included).
    one_run : dict design -> utils.audit.OneRunAudit
        The one-run audit of each design (guesses on half of its canaries).
    test_accuracy : float
    """

    target_epsilon: float
    included: dict
    scores: dict
    one_run: dict
    test_accuracy: float


DESIGNS = ("mislabelled", "natural")


def audit_canary_designs(
    target_epsilon: float,
    X_members, y_members, X_nonmembers, y_nonmembers, X_pool, y_pool,
    *,
    m: int = 256,
    delta: float = 1e-5,
    recipe: Recipe | None = None,
    seed: int = 0,
) -> CanaryDesigns:
    """Train one target with `m` mislabelled and `m` natural canaries (each in with probability 1/2), audit both.

    The canaries come from disjoint halves of the pool (``X_pool``, ``y_pool``: the attacker's records),
    so no record is both. Scores are the loss attack's; the audit guesses on half of each set.
    """
    from ..attacks import threshold
    from ..audit import audit_one_run, make_canaries
    from ..inference import accuracy, predict_logits
    from ..models import MLP
    from ..train import train_model

    X_pool, y_pool = check_features_labels(X_pool, y_pool)
    if 2 * m > len(y_pool):
        raise ValueError(f"the pool holds {len(y_pool)} records; two sets of m = {m} canaries need {2 * m}.")
    order = np.random.default_rng(seed).permutation(len(y_pool))
    halves = order[: len(order) // 2], order[len(order) // 2:]
    canaries = {design: make_canaries(X_pool[half], y_pool[half], m, mislabel=design == "mislabelled", seed=seed)
                for half, design in zip(halves, DESIGNS)}
    X_train = np.concatenate([X_members, *(Xc[inc == 1] for Xc, _, inc in canaries.values())])
    y_train = np.concatenate([y_members, *(yc[inc == 1] for _, yc, inc in canaries.values())])
    if math.isfinite(target_epsilon):
        model = train_dp(init_model(MLP, seed), X_train, y_train, recipe, epsilon=target_epsilon, delta=delta,
                         seed=seed).model
    else:
        model = train_model(init_model(MLP, seed), X_train, y_train, recipe or Recipe(), seed=seed, device="cpu")
    scores = {d: threshold.score(model, Xc, yc, "loss") for d, (Xc, yc, _) in canaries.items()}
    included = {d: inc for d, (_, _, inc) in canaries.items()}
    return CanaryDesigns(
        target_epsilon=float(target_epsilon), included=included, scores=scores,
        one_run={d: audit_one_run(included[d], scores[d], delta=delta) for d in DESIGNS},
        test_accuracy=accuracy(predict_logits(model, X_nonmembers), y_nonmembers),
    )
