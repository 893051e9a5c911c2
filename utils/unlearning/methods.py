"""Unlearning methods, one call shape for all (Lesson 10).

Every method is a function

    method(original, request, *, steps, seed) -> models

- `original`: the trained models (a `ModelBatch` of K models; `sisa` takes its `ShardedModels`);
- `request`: the `UnlearningRequest` (what each model trained on, what it must forget);
- `steps`: the unlearning budget in optimiser steps (ignored by the exact methods, which retrain);
- returns the unlearned models, the same kind as `original`.

Registered by name in `METHODS` (`get_method("finetune")`), as the attacks are in
`utils.attacks.registry`:

- ``retrain``: train fresh models on the retained records with the original recipe. Exact, and the
  gold standard every other method is judged against; it costs a whole training run.
- ``sisa``: sharded training (Bourtoule et al. 2021); retrain only the shards that held a forgotten
  record (`utils.unlearning.sisa`). Exact by construction.
- ``finetune``: keep training on the retained records only, hoping the model forgets the rest.
- ``gradient-ascent``: climb the loss of the forget set.
- ``ascent-descent``: both at once in every step (ascent on the forget set, descent on the retained).

The approximate methods continue from the original weights with Adam (`utils.unlearning.steps`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from torch.func import stack_module_state

from ..models import ModelBatch, check_model
from ..train import train_batched
from ..validation import check_positive_int, check_seed
from .request import UnlearningRequest
from .steps import continue_training

__all__ = ["METHODS", "APPROXIMATE", "EXACT", "register_method", "get_method", "as_batch", "retrain", "finetune",
           "gradient_ascent", "ascent_descent", "unlearning_path"]

METHODS: dict[str, Callable] = {}
EXACT = ("retrain", "sisa")
APPROXIMATE = ("finetune", "gradient-ascent", "ascent-descent")
FINETUNE_LR = 3e-3  # the training recipe's own rate: fine-tuning is more of the same training
ASCENT_LR = 1e-3  # ascent has no floor to stop at: a smaller step keeps the models usable for longer


def register_method(name: str):
    """Decorator: add an unlearning method under `name` (a name already taken raises ValueError)."""

    def add(fn):
        if name in METHODS and METHODS[name].__qualname__ != fn.__qualname__:
            raise ValueError(f"an unlearning method named {name!r} is already registered.")
        METHODS[name] = fn
        return fn

    return add


def get_method(name: str) -> Callable:
    """The method registered as `name`; a KeyError listing the known names otherwise."""
    if name not in METHODS:
        raise KeyError(f"no unlearning method named {name!r}; known methods: {', '.join(sorted(METHODS))}.")
    return METHODS[name]


def as_batch(model) -> ModelBatch:
    """One trained ``nn.Module`` (e.g. the released model) as a `ModelBatch` of K = 1, so the methods take it."""
    check_model(model, "model", allow_batch=False)
    import copy

    params, _ = stack_module_state([model])
    base = copy.deepcopy(model).to("meta").eval()
    # No record of what trained it (subsets empty, no fingerprint): the request says that.
    return ModelBatch(base=base, params={n: p.detach().clone() for n, p in params.items()}, seeds=[0],
                      subsets=np.zeros((1, 0), np.int64), n_records=0, fingerprint=None)


def _check(original, request):
    if not isinstance(request, UnlearningRequest):
        raise ValueError(f"request must be an UnlearningRequest (utils.unlearning.make_request), got "
                         f"{type(request).__name__}.")
    if not isinstance(original, ModelBatch):
        raise ValueError(
            f"original must be a ModelBatch (for one nn.Module use utils.unlearning.as_batch(model)), got "
            f"{type(original).__name__}."
        )
    if len(original) != request.n_models:
        raise ValueError(f"original holds {len(original)} models but the request describes {request.n_models}.")


@register_method("retrain")
def retrain(original, request: UnlearningRequest, *, steps: int = 0, seed: int = 0) -> ModelBatch:
    """Train fresh models on the retained records with the original recipe (exact; `steps` is ignored)."""
    if not isinstance(request, UnlearningRequest):
        raise ValueError(f"request must be an UnlearningRequest, got {type(request).__name__}.")
    return train_batched(request.build_model, request.X, request.y, request.retain, request.recipe,
                         seed=check_seed(seed))


def _approximate(original, request, *, descend: bool, ascend: bool, budgets, lr, seed):
    _check(original, request)
    return dict(continue_training(
        original, request.X, request.y, descend=request.retain if descend else None,
        ascend=request.forget if ascend else None, budgets=budgets, lr=lr,
        batch_size=request.recipe.batch_size, seed=check_seed(seed)))


def _one(path: dict, steps: int) -> ModelBatch:
    return path[steps]


@register_method("finetune")
def finetune(original: ModelBatch, request: UnlearningRequest, *, steps: int, seed: int = 0) -> ModelBatch:
    """`steps` Adam steps of ordinary training on the retained records only (approximate)."""
    steps = check_positive_int(steps, "steps", minimum=0)
    return _one(_approximate(original, request, descend=True, ascend=False, budgets=[steps], lr=FINETUNE_LR,
                             seed=seed), steps)


@register_method("gradient-ascent")
def gradient_ascent(original: ModelBatch, request: UnlearningRequest, *, steps: int, seed: int = 0) -> ModelBatch:
    """`steps` Adam steps that raise the mean loss of the forget set (approximate)."""
    steps = check_positive_int(steps, "steps", minimum=0)
    return _one(_approximate(original, request, descend=False, ascend=True, budgets=[steps], lr=ASCENT_LR,
                             seed=seed), steps)


@register_method("ascent-descent")
def ascent_descent(original: ModelBatch, request: UnlearningRequest, *, steps: int, seed: int = 0) -> ModelBatch:
    """`steps` Adam steps, each raising the forget set's loss and lowering the retained records' (approximate)."""
    steps = check_positive_int(steps, "steps", minimum=0)
    return _one(_approximate(original, request, descend=True, ascend=True, budgets=[steps], lr=ASCENT_LR,
                             seed=seed), steps)


_PATHS = {"finetune": (True, False, FINETUNE_LR), "gradient-ascent": (False, True, ASCENT_LR),
          "ascent-descent": (True, True, ASCENT_LR)}


def unlearning_path(name: str, original: ModelBatch, request: UnlearningRequest, budgets, *,
                    seed: int = 0) -> dict:
    """An approximate method's models at every budget of `budgets`, from one run to the largest (Lesson 10).

    ``unlearning_path(name, ...)[s]`` equals ``get_method(name)(original, request, steps=s, seed=seed)``
    (the same batches in the same order), for the price of one run.

    Returns
    -------
    dict int -> ModelBatch
    """
    if name not in _PATHS:
        raise ValueError(f"unlearning_path takes an approximate method ({', '.join(_PATHS)}), got {name!r}; the exact "
                         "methods retrain and have no budget.")
    descend, ascend, lr = _PATHS[name]
    return _approximate(original, request, descend=descend, ascend=ascend, budgets=list(budgets), lr=lr, seed=seed)
