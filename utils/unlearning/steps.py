"""Continue training K stacked models from their current weights: descent on some records, ascent on others.

The approximate unlearning methods (Lesson 10) are all this loop with different records and signs:
fine-tuning descends on the retained records, gradient ascent climbs the loss of the forget set,
and ascent+descent does both in every step. Like `utils.train.train_batched` it steps the K models
in lock-step, as one computation (``torch.func.vmap`` over their stacked weights), with Adam.

`continue_training` yields the models after each requested number of steps, so a whole budget
grid (the lesson's slider) costs one run to its largest budget.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

from ..models import ModelBatch
from ..optim import make_optimizer
from ..seed import spawn_seeds
from ..stacked import StackedMLP
from ..validation import check_positive_int, check_real, check_seed

__all__ = ["continue_training"]


def _batches(rng: np.random.Generator, rows: np.ndarray, batch_size: int):
    """Endless (K, batch) draws from each model's row of record indices: shuffled epochs, reshuffled each pass."""
    n = rows.shape[1]
    size = min(batch_size, n)
    while True:
        order = np.stack([rng.permutation(n) for _ in range(len(rows))])
        for start in range(0, n - size + 1, size):  # equal-size batches only: the K models step together
            yield np.take_along_axis(rows, order[:, start:start + size], axis=1)


def continue_training(models: ModelBatch, X, y, *, descend=None, ascend=None, budgets, lr: float,
                      batch_size: int = 128, ascent_weight: float = 1.0, seed: int = 0):
    """Adam steps on K models from their current weights; yields ``(steps, ModelBatch)`` at each budget.

    Each step minimises, for every model k separately,
    ``mean loss on a batch of descend[k] - ascent_weight * mean loss on a batch of ascend[k]``.

    Parameters
    ----------
    models : ModelBatch
        The starting weights (left unchanged).
    X : ndarray of float32, shape (n_records, ...)
    y : ndarray of int64, shape (n_records,)
    descend, ascend : ndarray of int64, shape (K, n_rows), optional
        Records whose loss each model lowers / raises; at least one of the two.
    budgets : sequence of int
        Step counts (>= 0, increasing) at which to yield the models; 0 yields the start.
    lr : float
        Adam's learning rate.
    batch_size : int, default=128
    ascent_weight : float, default=1.0
    seed : int, default=0
        Seeds the batch order.

    Yields
    ------
    (int, ModelBatch)
        The budget and a copy of the models after that many steps.
    """
    if descend is None and ascend is None:
        raise ValueError("continue_training needs records to descend on, to ascend on, or both.")
    budgets = [int(check_positive_int(b, "budget", minimum=0)) for b in budgets]
    if budgets != sorted(set(budgets)):
        raise ValueError(f"budgets must be distinct and increasing, got {budgets}.")
    lr = check_real(lr, "lr", positive=True)
    ascent_weight = check_real(ascent_weight, "ascent_weight", minimum=0.0)
    batch_size = check_positive_int(batch_size, "batch_size")
    device = next(iter(models.params.values())).device
    base = models.base
    Xt, yt = torch.from_numpy(np.ascontiguousarray(X)).to(device), torch.from_numpy(np.asarray(y)).to(device)
    descend_seed, ascend_seed = spawn_seeds(check_seed(seed), 2)
    draws = []
    if descend is not None:
        draws.append((1.0, _batches(np.random.default_rng(descend_seed), np.asarray(descend), batch_size)))
    if ascend is not None and ascent_weight > 0:
        draws.append((-ascent_weight, _batches(np.random.default_rng(ascend_seed), np.asarray(ascend), batch_size)))
    # The trainer's fast path for plain MLPs (hand-written batched gradients), else vmap over the module.
    trainable = {name: p.detach().clone().requires_grad_(True) for name, p in models.params.items()}
    stacked = StackedMLP.from_module(base.train(), trainable, flat_records=Xt.ndim == 2)
    base.eval()
    if stacked is not None:
        tensors = stacked.tensors
        rows = stacked.rows(Xt)
        tables = (rows, stacked.targets(yt, rows.dtype))

        def set_gradients():
            total = None
            for sign, draw in draws:
                batch = torch.from_numpy(next(draw)).to(device)
                stacked.set_gradients(*(t[batch] for t in tables))
                grads = [t.grad * sign for t in tensors]
                total = grads if total is None else [a + b for a, b in zip(total, grads)]
            for t, g in zip(tensors, total):
                t.grad = g

        def export():
            return stacked.export()
    else:
        params = trainable
        tensors = list(params.values())

        def loss_one(p, xb, yb):
            return nn.functional.cross_entropy(functional_call(base, p, (xb,)), yb)

        batched_loss = vmap(loss_one)

        def set_gradients():
            for t in tensors:
                t.grad = None
            total = 0.0
            for sign, draw in draws:
                batch = torch.from_numpy(next(draw)).to(device)
                total = total + sign * batched_loss(params, Xt[batch], yt[batch]).sum()
            total.backward()

        def export():
            return {n: p.detach().clone() for n, p in params.items()}

    opt = make_optimizer(tensors, lr, 0.0, device)
    done = 0
    for budget in budgets:
        while done < budget:
            set_gradients()
            opt.step()
            done += 1
        yield budget, ModelBatch(base=base, params=export(), seeds=models.seeds, subsets=models.subsets,
                                 n_records=models.n_records, fingerprint=models.fingerprint)
