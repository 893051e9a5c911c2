"""Private training on public features: a DP head, DP fine-tuning, and the public-only baseline (Lesson 06b).

`utils.defenses.public_features` learns a network from public digits. Here the private records
train only what sits on top of it, with the very DP-SGD of Lesson 06 (Opacus, the PRV accountant,
delta = 1e-5, Poisson sampling at rate 1/3 for 45 steps: the same noise for the same epsilon):

- ``"head"``: a linear classifier on the frozen, unit-length hidden features (`head_features`);
- ``"finetune"``: the network's dense layers, from their public weights, on the frozen convolutions'
  outputs (`trunk_features`); the attacker's shadows start from the same public weights.

`run_public` returns Lesson 06's `EpsilonRun` (accuracy, LiRA with shadows trained by the target's
own recipe, both audits), so every figure of Lesson 06 applies unchanged.

Recipes: chosen by `search_public_recipe` on a stratified split of the attacker's pool (1,368 training,
1,132 validation digits), never on the members or the test records, at epsilon 1 and 8, with the
sampling and steps of `DP_RECIPE` fixed (so the noise per epsilon is Lesson 06's). Validation accuracy,
one seed (``python -m utils.bench dp --search-public`` reruns it):

    head, C = 1:      lr 0.02: 0.819 / 0.867   lr 0.05: 0.868 / 0.900   lr 0.1: 0.878 / 0.909   (eps 1 / 8)
    head, C = 0.5:    lr 0.05: 0.845 / 0.895
    finetune, C = 1:  lr 1e-3: 0.797 / 0.861   lr 3e-3: 0.842 / 0.895   lr 1e-2: 0.875 / 0.916
    finetune, C = 3:  lr 3e-3: 0.841 / 0.892
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..recipe import Recipe
from .dp import DP_RECIPE
from .dp_experiment import EpsilonRun, run_epsilon
from .public_features import PublicNetwork, dense_layers, head_features, trunk_features

__all__ = ["PrivatePart", "PRIVATE_PARTS", "private_part", "run_public", "public_only_accuracy",
           "search_public_recipe"]


@dataclass(frozen=True)
class PrivatePart:
    """What the private records train on top of a public network, and how.

    Attributes
    ----------
    name : str
        ``"head"`` or ``"finetune"``.
    inputs : callable (network, X) -> ndarray of float32, shape (n_records, n_features)
        The frozen public computation every record goes through first.
    build : callable (network) -> callable () -> nn.Module
        The trainable part's builder, as `utils.train.init_model` takes it.
    recipe : Recipe
        Expected batch and epochs of `DP_RECIPE` (the same Poisson schedule), its own learning rate.
    max_grad_norm : float
        DP-SGD's per-record clipping norm.
    """

    name: str
    inputs: Callable
    build: Callable
    recipe: Recipe
    max_grad_norm: float


def _linear_head(network: PublicNetwork) -> Callable:
    from ..models import MLP

    return functools.partial(MLP, in_features=network.feature_mean.numel(), hidden=())


def _public_dense(network: PublicNetwork) -> Callable:
    return functools.partial(dense_layers, network)


PRIVATE_PARTS = {
    "head": PrivatePart("head", head_features, _linear_head, DP_RECIPE.replace(lr=0.1), 1.0),
    "finetune": PrivatePart("finetune", trunk_features, _public_dense, DP_RECIPE.replace(lr=0.01), 1.0),
}


def private_part(name: str) -> PrivatePart:
    """The `PrivatePart` called `name`; a ValueError listing the known names otherwise."""
    if name not in PRIVATE_PARTS:
        raise ValueError(f"no private part named {name!r}; choose one of {', '.join(PRIVATE_PARTS)}.")
    return PRIVATE_PARTS[name]


def run_public(
    target_epsilon: float,
    network: PublicNetwork,
    part: str,
    X_members, y_members, X_nonmembers, y_nonmembers, X_canaries, y_canaries, included,
    *,
    delta: float = 1e-5,
    n_shadows: int = 8,
    recipe: Recipe | None = None,
    seed: int = 0,
) -> EpsilonRun:
    """Lesson 06's `run_epsilon` with the private records seen through the public `network`.

    Parameters
    ----------
    target_epsilon : float
        As in `run_epsilon` (``inf``: the same part trained without privacy).
    network : PublicNetwork
        Trained on public data only (`train_public_network`).
    part : {"head", "finetune"}
        What the private records train (`PRIVATE_PARTS`).
    X_members, ..., included
        Images, shape (n, side * side), as `run_epsilon` takes them.
    recipe : Recipe, default the part's own

    Returns
    -------
    EpsilonRun
        ``test_accuracy`` is on the non-members; the canaries are audited as in Lesson 06.
    """
    chosen = private_part(part)
    if not isinstance(network, PublicNetwork):
        raise ValueError(f"network must be a PublicNetwork (from train_public_network), got {type(network).__name__}.")
    seen = [chosen.inputs(network, X) for X in (X_members, X_nonmembers, X_canaries)]
    return run_epsilon(target_epsilon, seen[0], y_members, seen[1], y_nonmembers, seen[2], y_canaries, included,
                       delta=delta, recipe=chosen.recipe if recipe is None else recipe, n_shadows=n_shadows,
                       build_model=chosen.build(network), max_grad_norm=chosen.max_grad_norm, seed=seed)


def public_only_accuracy(network: PublicNetwork, X, y) -> float:
    """Accuracy of the public network as it is, on records it never saw (no private data, epsilon 0)."""
    from ..inference import accuracy, predict_logits

    return accuracy(predict_logits(network, X), y)


def search_public_recipe(network: PublicNetwork, X_train, y_train, X_val, y_val, *, epsilons=(1.0, 8.0),
                         grid=None, delta: float = 1e-5, seed: int = 0) -> list[dict]:
    """Validation accuracy of each (part, lr, max_grad_norm) at each epsilon: the grid in the module docstring.

    Run it on the attacker's pool, never on the members or the test records: a search on private
    data spends privacy too (each trial is one more look at the records).
    """
    from ..inference import accuracy, predict_logits
    from ..train import init_model
    from .dp import train_dp

    grid = grid or [("head", lr, c) for lr, c in ((0.02, 1.0), (0.05, 1.0), (0.1, 1.0), (0.05, 0.5))] + [
        ("finetune", lr, c) for lr, c in ((1e-3, 1.0), (3e-3, 1.0), (1e-2, 1.0), (3e-3, 3.0))]
    rows = []
    for name, lr, clip in grid:
        chosen = private_part(name)
        train_in, val_in = chosen.inputs(network, X_train), chosen.inputs(network, X_val)
        for epsilon in epsilons:
            run = train_dp(init_model(chosen.build(network), seed), train_in, y_train, chosen.recipe.replace(lr=lr),
                           epsilon=epsilon, delta=delta, max_grad_norm=clip, seed=seed)
            rows.append({"part": name, "lr": lr, "max_grad_norm": clip, "epsilon": epsilon,
                         "val_acc": accuracy(predict_logits(run.model, val_in), np.asarray(y_val))})
    return rows
