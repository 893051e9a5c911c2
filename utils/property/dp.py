"""The secret society under differential privacy: does record-level DP hide a group's share? (Lesson 06b)

Lesson 04's census game (20% vs 50% women in every training set of 1,000 records), with every model,
the victims and the attacker's shadows alike, trained by DP-SGD at one epsilon (the batched DP trainer
of Lesson 06: Poisson sampling, per-record clipping at norm 1, Gaussian noise; the PRV accountant,
delta = 1e-5). Two questions on the same victims:

- the **group's secret**: the best of the five property attacks, accuracy over the held-out victims
  with its 95% interval;
- the **members' secrets**: offline LiRA against every victim (its members vs as many strangers,
  the game's shadows as OUT models), pooled, TPR at 1% FPR with its interval, under the DP bound.

Record-level DP bounds what one record changes. The two worlds differ in hundreds of records (300 of
1,000 swap from men to women), a *group*, and epsilon-DP gives a group of k records only k * epsilon:
nothing useful for k = 300. Suri & Evans (2022) found that record-level DP leaves distribution
inference largely intact; `secret_society_under_dp` measures it here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..recipe import Recipe
from ..validation import check_seed

__all__ = ["DP_CENSUS_RECIPE", "DP_CENSUS_MAX_GRAD_NORM", "DPPropertyRun", "secret_society_under_dp"]

# Expected batch 500 of the 1,000 records (sampling rate 1/2) for 15 epochs: 30 Poisson steps. Larger
# batches and fewer steps than the non-private recipe, as DP-SGD likes; chosen by the non-private
# accuracy of the census MLP on the attacker's share (not on the victims).
DP_CENSUS_RECIPE = Recipe(epochs=15, batch_size=500, lr=3e-2)
DP_CENSUS_MAX_GRAD_NORM = 1.0


@dataclass(frozen=True)
class DPPropertyRun:
    """One epsilon of the experiment.

    Attributes
    ----------
    target_epsilon : float
        Asked for (``inf``: the same recipe without clipping or noise).
    epsilon : float
        What the PRV accountant spent, per record, for every model (``inf`` if non-private).
    noise_multiplier : float
    results : tuple of utils.property.PropertyResult
        The five property attacks on the held-out victims.
    lira_tpr, lira_tpr_low, lira_tpr_high : float
        Offline LiRA's TPR at 1% FPR against the victims' members, pooled, with its 95% interval.
    lira_auc : float
    test_accuracy : float
        The victims' mean accuracy on records they never saw (the utility the privacy costs).
    n_victims : int
    """

    target_epsilon: float
    epsilon: float
    noise_multiplier: float
    results: tuple
    lira_tpr: float
    lira_tpr_low: float
    lira_tpr_high: float
    lira_auc: float
    test_accuracy: float
    n_victims: int

    @property
    def best(self):
        """The property attack with the highest accuracy."""
        return max(self.results, key=lambda r: r.accuracy)


def secret_society_under_dp(target_epsilon: float, *, n_shadows: int = 25, n_victims: int = 200,
                            delta: float = 1e-5, seed: int = 0) -> DPPropertyRun:
    """Play the census game (20% vs 50% women) with every model DP-trained at `target_epsilon`; attack both secrets.

    Parameters
    ----------
    target_epsilon : float > 0, or ``math.inf`` for the same recipe without privacy
    n_shadows : int
        Shadows per world (the attacker trains them with the victims' DP recipe, noise included).
    n_victims : int
        Held-out victims, half per world.
    delta : float
    seed : int

    Returns
    -------
    DPPropertyRun
    """
    from ..defenses.dp import check_privacy_target, epsilon_for, noise_multiplier_for, poisson_schedule
    from ..metrics import summarize_attack
    from ..tables import load_census
    from .attacks import run_property_attacks
    from .exposure import victims_accuracy, victims_lira_offline
    from .game import sweep_property_game
    from .scenarios import tabular_mlp

    seed = check_seed(seed)
    n_train = 1000
    epsilon, delta = check_privacy_target(target_epsilon, delta, n_train)
    sample_rate, steps = poisson_schedule(n_train, DP_CENSUS_RECIPE)
    sigma = None if math.isinf(epsilon) else noise_multiplier_for(epsilon, delta, sample_rate, steps)
    census = load_census()
    game = sweep_property_game(
        census.X, census.y, census.group, base_fraction=0.2, other_fractions=[0.5], n_train=n_train,
        n_shadows=n_shadows, n_victims=n_victims, build_model=tabular_mlp(census.X.shape[1]),
        recipe=DP_CENSUS_RECIPE, n_query=1024, seed=seed, noise_multiplier=sigma,
        max_grad_norm=DP_CENSUS_MAX_GRAD_NORM)[0]
    labels, scores = victims_lira_offline(game.victims, [game.shadows0, game.shadows1], census.X, census.y,
                                          seed=seed)
    lira = summarize_attack(labels, scores, fprs=(0.01,))
    return DPPropertyRun(
        target_epsilon=float(target_epsilon),
        epsilon=math.inf if sigma is None else epsilon_for(sigma, sample_rate, steps, delta),
        noise_multiplier=0.0 if sigma is None else float(sigma),
        results=tuple(run_property_attacks(game)),
        lira_tpr=float(lira.tpr_at_fpr[0.01]), lira_tpr_low=float(lira.tpr_interval[0.01][0]),
        lira_tpr_high=float(lira.tpr_interval[0.01][1]), lira_auc=float(lira.auc),
        test_accuracy=float(np.mean(victims_accuracy(game.victims, census.X, census.y, seed=seed))),
        n_victims=len(game.victims),
    )
