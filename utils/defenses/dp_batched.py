"""DP-SGD for K shadow models at once: Lesson 06's DP shadows (`train_dp_batched`).

`train_dp_batched` trains K shadow models with *the same* mechanism as `utils.defenses.dp.train_dp`
(Poisson sampling, per-record clipping, Gaussian noise, Adam, same noise multiplier) as one stacked
computation, so that an attacker calibrating LiRA against a DP target gets shadows that answer like
the target. It is written for the course's MLPs (Flatten, Linear, ReLU) and uses the ghost-norm
identity directly (`clipped_gradient_sums`): for a linear layer the per-record gradient norm is
``||activation|| * ||output gradient||``, so no per-record gradient is ever stored.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..models import ModelBatch, model_n_classes, records_fingerprint
from ..optim import make_optimizer
from ..recipe import Recipe, as_recipe
from ..seed import spawn_seeds
from ..train import init_model
from ..validation import check_features_labels, check_real, check_seed, check_subsets
from .dp import DP_MAX_GRAD_NORM, DP_RECIPE, poisson_schedule

__all__ = ["train_dp_batched", "clipped_gradient_sums"]


def _mlp_layers(base: nn.Module) -> list[str]:
    """Names of the Linear layers of a Flatten/Linear/ReLU stack, in order; raises for anything else."""
    linears, previous = [], None
    for name, module in base.named_modules():
        if isinstance(module, nn.Linear):
            linears.append(name)
            previous = "linear"
        elif isinstance(module, (nn.ReLU, nn.Flatten)):
            previous = "relu"
        elif isinstance(module, nn.Sequential) or module is base:
            continue
        else:
            raise ValueError(
                f"train_dp_batched handles MLPs of Linear and ReLU layers only, found {type(module).__name__} "
                f"({name}). Train other architectures one at a time with train_dp."
            )
    del previous
    if not linears:
        raise ValueError("train_dp_batched found no Linear layer in the model.")
    return linears


def clipped_gradient_sums(weights, biases, inputs, targets, max_grad_norm: float, *, valid=None, sq_inputs=None):
    """Sum over records of each record's cross-entropy gradient, clipped to `max_grad_norm` (DP-SGD's step 2).

    For K stacked MLPs (Linear layers ``weights[i]`` (K, out, in), ``biases[i]`` (K, out), ReLU between),
    without ever forming a per-record gradient: for a linear layer the gradient of record j is
    ``g_j a_j^T`` (output gradient times input), whose squared norm is ``||g_j||^2 (||a_j||^2 + 1)``
    with the bias (Goodfellow 2015's trick, Opacus's "ghost" mode).

    Parameters
    ----------
    weights, biases : lists of Tensor, shapes (K, out, in) and (K, out)
    inputs : Tensor, shape (K, n, in_features)
    targets : Tensor, shape (K, n, n_classes)
        One-hot labels.
    max_grad_norm : float
    valid : Tensor of float, shape (K, n), optional
        1 for the records in this step's batch, 0 for padding.
    sq_inputs : Tensor, shape (K, n), optional
        ``||x_j||^2 + 1``, if already known.

    Returns
    -------
    list of (Tensor (K, out, in), Tensor (K, out)) per layer: the summed clipped gradients.
    """
    acts = [inputs]
    for i, (w, b) in enumerate(zip(weights, biases)):
        out = torch.baddbmm(b[:, None, :], acts[-1], w.transpose(1, 2))
        acts.append(out.clamp_min(0) if i < len(weights) - 1 else out)
    grad_out = torch.softmax(acts[-1], dim=-1) - targets  # d(loss_j)/d(logits_j), per record
    grads_out = [None] * len(weights)
    sq = torch.zeros(inputs.shape[:2], dtype=inputs.dtype)
    for i in range(len(weights) - 1, -1, -1):
        grads_out[i] = grad_out
        if i == 0 and sq_inputs is not None:
            a_sq = sq_inputs
        else:
            a_sq = (acts[i] * acts[i]).sum(-1) + 1.0
        sq += a_sq * (grad_out * grad_out).sum(-1)  # ghost norm: ||g_j a_j^T||^2 = ||g_j||^2 ||a_j||^2
        if i > 0:
            grad_out = torch.bmm(grad_out, weights[i]) * (acts[i] > 0)
    scale = torch.clamp(max_grad_norm / (sq.sqrt() + 1e-6), max=1.0)
    if valid is not None:
        scale = scale * valid
    sums = []
    for i in range(len(weights)):
        g = grads_out[i] * scale[..., None]
        sums.append((torch.bmm(g.transpose(1, 2), acts[i]), g.sum(1)))
    return sums


def train_dp_batched(
    build_model: Callable[[], nn.Module],
    X,
    y,
    subsets,
    recipe: Recipe | None = None,
    *,
    noise_multiplier: float,
    max_grad_norm: float = DP_MAX_GRAD_NORM,
    seed: int = 0,
) -> ModelBatch:
    """Train K MLPs with DP-SGD at once, model k on records ``subsets[k]`` (Lesson 06's DP shadows).

    Same mechanism as `train_dp` (Poisson sampling at ``batch_size / n_train``, per-record
    clipping to `max_grad_norm`, Gaussian noise ``noise_multiplier * max_grad_norm`` on the sum,
    division by the expected batch size, Adam), the same number of steps, written as stacked
    tensor algebra: each step evaluates all of a model's records and masks the ones its Poisson
    draw left out (cheap for these small models, and every model steps in lock-step).

    Parameters
    ----------
    build_model : callable returning an MLP of Flatten / Linear / ReLU layers
    X : array-like of float, shape (n_records, n_features)
    y : array-like of int, shape (n_records,)
    subsets : array-like of int, shape (K, n_train)
    recipe : Recipe, default `DP_RECIPE`
    noise_multiplier : float >= 0
        Usually the target's ``DPTraining.noise_multiplier``; 0 with a huge `max_grad_norm` is plain SGD.
    max_grad_norm : float
    seed : int

    Returns
    -------
    ModelBatch
    """
    recipe = as_recipe(DP_RECIPE if recipe is None else recipe)
    X, y = check_features_labels(X, y)
    if X.ndim != 2:
        raise ValueError(f"train_dp_batched needs flat records (n_records, n_features), got X of shape {X.shape}.")
    subsets = check_subsets(subsets, len(y))
    noise_multiplier = check_real(noise_multiplier, "noise_multiplier", minimum=0.0)
    max_grad_norm = check_real(max_grad_norm, "max_grad_norm", positive=True)
    seed = check_seed(seed)
    n_models, n_train = subsets.shape
    seeds = spawn_seeds(seed, n_models)
    models = [init_model(build_model, s) for s in seeds]
    names = _mlp_layers(models[0])
    n_classes = model_n_classes(models[0]) or int(y.max()) + 1
    weights = [torch.stack([m.get_submodule(n).weight.detach() for m in models]).clone() for n in names]
    biases = [torch.stack([m.get_submodule(n).bias.detach() for m in models]).clone() for n in names]
    base = models[0].to("meta").eval()
    del models
    tensors = [t.requires_grad_(False) for pair in zip(weights, biases) for t in pair]
    optimizer = make_optimizer(tensors, recipe.lr, recipe.weight_decay, torch.device("cpu"))
    inputs = torch.from_numpy(X)[torch.from_numpy(subsets)]  # (K, n_train, d)
    targets = nn.functional.one_hot(torch.from_numpy(y)[torch.from_numpy(subsets)], n_classes).to(inputs.dtype)
    sq_inputs = (inputs * inputs).sum(-1).reshape(-1) + 1.0  # ||a||^2 + 1 (the bias's input is 1)
    inputs, targets = inputs.reshape(n_models * n_train, -1), targets.reshape(n_models * n_train, -1)
    offsets = (torch.arange(n_models) * n_train)[:, None]
    batch_size = min(recipe.batch_size, n_train)
    sample_rate, steps = poisson_schedule(n_train, recipe.replace(batch_size=batch_size))
    expected = sample_rate * n_train
    generator = torch.Generator().manual_seed(seed)
    std = noise_multiplier * max_grad_norm
    with torch.no_grad():
        for _ in range(steps):
            # Poisson sampling per model; the K draws differ in size, so they are padded to the
            # largest with records whose clipping scale is 0 (they add nothing to the sum).
            take = torch.rand((n_models, n_train), generator=generator) < sample_rate
            counts = take.sum(1)
            width = max(int(counts.max()), 1)
            order = torch.argsort((~take).to(torch.int8), dim=1, stable=True)[:, :width]
            valid = (torch.arange(width)[None, :] < counts[:, None]).to(inputs.dtype)
            flat = (order + offsets).reshape(-1)  # rows of the (K * n_train, ...) tables
            rows = inputs.index_select(0, flat).view(n_models, width, -1)
            target = targets.index_select(0, flat).view(n_models, width, -1)
            sq_rows = sq_inputs.index_select(0, flat).view(n_models, width)
            sums = clipped_gradient_sums(weights, biases, rows, target, max_grad_norm, valid=valid, sq_inputs=sq_rows)
            for (w, b), (gw, gb) in zip(zip(weights, biases), sums):
                if std > 0:
                    gw += std * torch.randn(gw.shape, generator=generator)
                    gb += std * torch.randn(gb.shape, generator=generator)
                w.grad, b.grad = gw / expected, gb / expected
            optimizer.step()
    params = {}
    for n, w, b in zip(names, weights, biases):
        params[f"{n}.weight"], params[f"{n}.bias"] = w.detach(), b.detach()
    return ModelBatch(base=base, params=params, seeds=seeds, subsets=subsets, n_records=len(y),
                      fingerprint=records_fingerprint(X, y))
