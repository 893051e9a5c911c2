"""The two trainers: one model at a time, or K same-shaped models at once (Lesson 01).

Two trainers, one recipe (Adam, shuffled mini-batches, mean cross-entropy):

- `train_model` trains one `nn.Module`.
- `train_batched` trains K models built by the same function, each on its own subset of the
  records, as *one* stacked computation (`torch.func.vmap` over stacked weights; plain MLPs take
  a faster route of hand-written batched matmuls). Lesson 03 trains 64 shadow models this way in
  seconds. Model ``k`` of a batch equals, up to float rounding, ``train_model(init_model(
  build_model, seeds[k]), X[subsets[k]], y[subsets[k]], seed=seeds[k])``: same initial weights,
  same batch order, same optimiser. (Rounding differences grow over many Adam steps: after 50
  epochs the logits of the two can differ by ~1e-2 on a scale of ~30. With dropout the two
  draw different masks, so they train different, equally valid, models.)

Training is seeded and deterministic on the CPU; a GPU is used when present (`default_device`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from .config import default_device
from .inference import Evaluation, accuracy, evaluate, per_record_loss, predict_logits
from .models import ModelBatch, model_device, model_n_classes, records_fingerprint
from .optim import make_optimizer
from .progress import progress_bar
from .recipe import Recipe, as_recipe
from .seed import spawn_seeds
from .stacked import StackedMLP
from .validation import check_features_labels, check_seed, check_subsets

# The inference functions live in `utils.inference`; they are importable from here too because the
# first release's lessons and exercises (and students' saved notebooks) import them from `utils.train`.
__all__ = [
    "init_model",
    "train_model",
    "train_batched",
    "ModelBatch",
    "predict_logits",
    "per_record_loss",
    "accuracy",
    "evaluate",
    "Evaluation",
]


def init_model(build_model: Callable[[], nn.Module], seed: int) -> nn.Module:
    """A fresh model from `build_model()` whose initial weights depend on `seed` only.

    The CPU's random generator is left as it was.
    """
    seed = check_seed(seed)
    if isinstance(build_model, nn.Module):
        raise ValueError(
            "build_model must be a function that builds a fresh model (e.g. MLP or "
            f"functools.partial(MLP, hidden=(64,))), got an already built {type(build_model).__name__}; "
            "pass the class or a function, not an instance."
        )
    if not callable(build_model):
        raise ValueError(
            f"build_model must be a function returning a torch.nn.Module, got {type(build_model).__name__}."
        )
    with torch.random.fork_rng(devices=[]):
        # Only the CPU generator: torch.manual_seed would also queue a seed for every
        # accelerator backend, with a stack trace each time (about 1 ms a call; K calls a batch).
        torch.default_generator.manual_seed(int(seed))
        model = build_model()
    if not isinstance(model, nn.Module):
        raise ValueError(f"build_model must return a torch.nn.Module, got {type(model).__name__}.")
    if model_device(model).type != "cpu":
        # Built straight onto an accelerator, from that device's generator: seed every one.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            model = build_model()
    return model




def _early_stopping_split(rng: np.random.Generator, n_records: int, recipe: Recipe):
    """Positions (fit, validation) into a model's `n_records` training records, drawn from `rng`;
    None when `recipe` has no early stopping (then nothing is drawn from `rng`)."""
    if recipe.early_stopping_patience is None:
        return None
    n_val = int(round(recipe.validation_fraction * n_records))
    if not 1 <= n_val < n_records:
        raise ValueError(
            f"early stopping holds out validation_fraction={recipe.validation_fraction} of {n_records} training "
            f"records, which leaves {n_val} for validation and {n_records - n_val} to train on; both need at least "
            "one. Use more records or another validation_fraction."
        )
    order = rng.permutation(n_records)
    return order[: n_records - n_val], order[n_records - n_val :]


def _check_device(device) -> torch.device:
    """The device to train on: `device`, or the default; never ``meta`` (a device without data)."""
    try:
        device = torch.device(device) if device is not None else default_device()
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be a torch device such as 'cpu' or 'cuda', got {device!r} ({exc}).") from None
    if device.type == "meta":
        raise ValueError(
            "device='meta' holds shapes but no numbers: training there would replace the model's weights by "
            "empty tensors. Use 'cpu' or 'cuda' (or leave device=None for the default)."
        )
    return device


def _check_model_fits(model: nn.Module, X: np.ndarray, y: np.ndarray) -> None:
    """Run the model on one record so that a shape mismatch is reported here, in words, not by torch mid-training."""
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()
            out = model(torch.from_numpy(X[:1]).to(model_device(model)))
    except Exception as exc:
        raise ValueError(
            f"the model cannot take records of shape {X.shape[1:]} ({type(exc).__name__}: {exc}). "
            "Build it for this data, e.g. MLP(in_features=X.shape[1])."
        ) from None
    finally:
        model.train(was_training)
    if out.ndim != 2 or out.shape[1] <= int(y.max()):
        raise ValueError(
            f"the model outputs {tuple(out.shape[1:])} logits per record, but y holds class labels up to "
            f"{int(y.max())}. Build it with n_classes > {int(y.max())}."
        )


def train_model(
    model: nn.Module,
    X,
    y,
    recipe: Recipe | None = None,
    *,
    seed: int = 0,
    device: torch.device | str | None = None,
    progress: bool = False,
    **options,
) -> nn.Module:
    """Train one classifier with Adam on mean cross-entropy.

    Parameters
    ----------
    model : nn.Module
        Maps float32 inputs (batch, ...) to logits (batch, n_classes). Trained in place.
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
        Class labels in [0, n_classes).
    recipe : utils.recipe.Recipe, optional
        Epochs, batch size, learning rate, weight decay, early stopping; default ``Recipe()``.
        With ``early_stopping_patience`` a seeded ``validation_fraction`` of the records is held
        out (never trained on), and the model returned has the weights of the epoch with the
        lowest validation loss.
    seed : int, default=0
        Seeds the validation split, the order of the mini-batches (and dropout).
    device : torch.device or str, optional
        Defaults to the GPU when present, else the CPU.
    progress : bool, default=False
        Show a progress bar over epochs.
    **options
        Recipe fields to change, e.g. ``epochs=30`` (same as ``recipe=Recipe(epochs=30)``).

    Returns
    -------
    model : nn.Module
        The same model, trained, in eval mode.
    """
    if isinstance(model, type) or not isinstance(model, nn.Module):
        what = f"the class {model.__name__}" if isinstance(model, type) else f"a {type(model).__name__}"
        raise ValueError(
            f"model must be a built torch.nn.Module (e.g. init_model(MLP, seed=0) or MLP()), got {what}."
        )
    recipe = as_recipe(recipe, **options)
    seed = check_seed(seed)
    X, y = check_features_labels(X, y, n_classes=model_n_classes(model))
    device = _check_device(device)
    model.to(device)
    _check_model_fits(model, X, y)
    model.train()
    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    rng = np.random.default_rng(int(seed))
    split = _early_stopping_split(rng, len(y), recipe)
    if split is not None:  # lesson 05: the validation records never train the model
        fit, val = (torch.from_numpy(part).to(device) for part in split)
        Xt, yt, X_val, y_val = Xt[fit], yt[fit], Xt[val], yt[val]
        best_loss, best_state, since_best = float("inf"), None, 0
    opt = make_optimizer(model.parameters(), recipe.lr, recipe.weight_decay, device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))  # dropout masks
        for _ in progress_bar(range(recipe.epochs), desc="training", disable=not progress, leave=False):
            order = torch.from_numpy(rng.permutation(len(yt))).to(device)
            for start in range(0, len(yt), recipe.batch_size):
                batch = order[start : start + recipe.batch_size]
                loss = nn.functional.cross_entropy(model(Xt.index_select(0, batch)), yt.index_select(0, batch))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            if split is not None:
                model.eval()
                with torch.no_grad():
                    val_loss = nn.functional.cross_entropy(model(X_val), y_val).item()
                model.train()
                if val_loss < best_loss:
                    best_loss, since_best = val_loss, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    since_best += 1
                    if since_best >= recipe.early_stopping_patience:
                        break
    if split is not None:
        model.load_state_dict(best_state)
    return model.eval()


def train_batched(
    build_model: Callable[[], nn.Module],
    X,
    y,
    subsets,
    recipe: Recipe | None = None,
    *,
    seed: int = 0,
    device: torch.device | str | None = None,
    progress: bool = False,
    **options,
) -> ModelBatch:
    """Train K models of one architecture at once, model k on records ``subsets[k]``.

    Parameters
    ----------
    build_model : callable returning nn.Module
        E.g. ``utils.models.MLP`` or ``functools.partial(MLP, hidden=(64,))``. Called K times.
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
    subsets : array-like of int, shape (K, n_train)
        Row k lists the indices (into X) of model k's training records; all rows have the same
        length so that the K models step in lock-step.
    recipe, device, progress, **options
        As in `train_model`.
    seed : int, default=0
        Model k uses ``spawn_seeds(seed, K)[k]`` for its initial weights, its validation split (with
        early stopping) and its batch order; dropout masks, if any, come from `seed`.

    With early stopping each model holds out its own validation records and keeps its own best
    weights; the batch trains until every model has stopped (a stopped model's best weights no
    longer change), so each model ends as `train_model` would leave it. ``subsets`` in the result
    still lists all of a model's records, validation ones included: they are the data owner's
    records, the members an attacker looks for.

    Returns
    -------
    ModelBatch
        Use `predict_logits(batch, X)` for all K models' logits, ``batch.model(k)`` for one.
    """
    X, y = check_features_labels(X, y)
    subsets = check_subsets(subsets, len(y))
    recipe = as_recipe(recipe, **options)
    seed = check_seed(seed)
    device = _check_device(device)
    n_models, n_train = subsets.shape
    seeds = spawn_seeds(seed, n_models)
    models = [init_model(build_model, s) for s in seeds]
    n_classes = model_n_classes(models[0])
    if n_classes is not None and y.max() >= n_classes:
        raise ValueError(f"y must hold class labels in [0, {n_classes}), found a maximum of {int(y.max())}.")
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in models[0].modules()):
        raise ValueError("build_model returns a model with BatchNorm; use GroupNorm or no normalisation.")
    _check_model_fits(models[0], X, y)
    params, _ = stack_module_state([m.to(device) for m in models])
    base = copy.deepcopy(models[0]).to("meta").train()
    del models

    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    rngs = [np.random.default_rng(s) for s in seeds]
    fit_subsets, val_subsets = subsets, None
    if recipe.early_stopping_patience is not None:  # each model's own validation records (lesson 05)
        splits = [_early_stopping_split(r, n_train, recipe) for r in rngs]
        fit_subsets = np.stack([row[fit] for row, (fit, _) in zip(subsets, splits)])
        val_subsets = torch.from_numpy(np.stack([row[val] for row, (_, val) in zip(subsets, splits)])).to(device)
        n_train = fit_subsets.shape[1]
    subsets_t = torch.from_numpy(fit_subsets).to(device)
    stacked = StackedMLP.from_module(base, params, flat_records=X.ndim == 2)
    if stacked is not None:
        opt = make_optimizer(stacked.tensors, recipe.lr, recipe.weight_decay, device)
        rows = stacked.rows(Xt)
        tables = (rows, stacked.targets(yt, rows.dtype))
    else:  # any other architecture: vmap over the module's own forward
        # Frozen weights (requires_grad False) stay frozen: they get no gradient, and Adam skips them.
        params = {name: p.detach().clone().requires_grad_(p.requires_grad) for name, p in params.items()}
        opt = make_optimizer(list(params.values()), recipe.lr, recipe.weight_decay, device)
        tables = (Xt, yt)

        def loss_one(p, xb, yb):
            return nn.functional.cross_entropy(functional_call(base, p, (xb,)), yb)

        batched_loss = vmap(loss_one, randomness="different")

    buffers = {}

    def gather(batch):
        # (K, n_batch) record indices -> each table's rows, (K, n_batch, ...): inputs and targets,
        # as `rows` and `targets` made them on the fast path, X and y on the vmap path. A flat
        # index_select into reused buffers is several times faster than table[batch].
        n_batch = batch.shape[1]
        if n_batch not in buffers:
            buffers[n_batch] = [t.new_empty((n_models * n_batch, *t.shape[1:])) for t in tables]
        flat = batch.reshape(-1)
        return [
            torch.index_select(t, 0, flat, out=buf).view(n_models, n_batch, *t.shape[1:])
            for t, buf in zip(tables, buffers[n_batch])
        ]

    if val_subsets is not None:
        trained = stacked.tensors if stacked is not None else list(params.values())
        best = [t.detach().clone() for t in trained]
        best_loss = torch.full((n_models,), float("inf"), device=device)
        since_best = torch.zeros(n_models, dtype=torch.long, device=device)
        stopped = torch.zeros(n_models, dtype=torch.bool, device=device)
        base_eval = copy.deepcopy(base).eval()
        val_logits = vmap(lambda p, xb: functional_call(base_eval, p, (xb,)), in_dims=(0, 0))

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))  # dropout masks
        for _ in progress_bar(range(recipe.epochs), desc=f"epochs ({n_models} models at once)", unit="epoch",
                      disable=not progress, leave=False):
            order = torch.from_numpy(np.stack([r.permutation(n_train) for r in rngs])).to(device)
            order = torch.gather(subsets_t, 1, order)  # (K, n_train) global record indices
            for start in range(0, n_train, recipe.batch_size):
                inputs, targets = gather(order[:, start : start + recipe.batch_size])
                if stacked is not None:
                    stacked.set_gradients(inputs, targets)  # overwrites every .grad
                else:
                    opt.zero_grad(set_to_none=True)
                    # Sum of per-model mean losses: each model's gradient is its own mean loss's.
                    batched_loss(params, inputs, targets).sum().backward()
                opt.step()
            if val_subsets is not None:
                with torch.no_grad():
                    now = stacked.export() if stacked is not None else params
                    logits = val_logits(now, Xt[val_subsets])
                    losses = nn.functional.cross_entropy(
                        logits.flatten(0, 1), yt[val_subsets].flatten(), reduction="none"
                    ).view(n_models, -1).mean(dim=1)
                    improved = (losses < best_loss) & ~stopped
                    for kept, current in zip(best, trained):
                        kept[improved] = current[improved]
                    best_loss = torch.where(improved, losses, best_loss)
                    since_best = torch.where(improved, 0, since_best + 1)
                    stopped |= since_best >= recipe.early_stopping_patience
                if bool(stopped.all()):
                    break
    if val_subsets is not None:
        with torch.no_grad():
            for kept, current in zip(best, trained):
                current.copy_(kept)
    params = stacked.export() if stacked is not None else params
    base.eval()
    params = {name: p.detach() for name, p in params.items()}
    return ModelBatch(
        base=base, params=params, seeds=seeds, subsets=subsets, n_records=len(y), fingerprint=records_fingerprint(X, y)
    )


