"""Training and evaluation: one model at a time, or K same-shaped models at once (Lesson 01).

Two trainers, one recipe (Adam, shuffled mini-batches, mean cross-entropy):

- `train_model` trains one `nn.Module`.
- `train_batched` trains K models built by the same function, each on its own subset of the
  records, as *one* stacked computation (`torch.func.vmap` over stacked weights; plain MLPs take
  a faster route of hand-written batched matmuls). Lesson 03 trains 64 shadow models this way in
  seconds. Model ``k`` of a batch equals, up to float rounding, ``train_model(init_model(
  build_model, seeds[k]), X[subsets[k]], y[subsets[k]], seed=seeds[k])``: same initial weights,
  same batch order, same optimiser. (Rounding differences grow over many Adam steps: after 50
  epochs the logits of the two can differ by ~1e-2 on a scale of ~30.)

Training is seeded and deterministic on the CPU; a GPU is used when present (`default_device`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from tqdm.auto import tqdm

from .config import default_device
from .seed import spawn_seeds
from .validation import check_features_labels, check_logits_labels, check_positive_int

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

    The global torch RNG is left untouched.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = build_model()
    if not isinstance(model, nn.Module):
        raise ValueError(f"build_model must return a torch.nn.Module, got {type(model).__name__}.")
    return model


class _FusedAdam:
    """Adam through PyTorch's fused kernel: the update of ``torch.optim.Adam(fused=True)``, step for step.

    Calling the kernel directly skips torch.optim's per-step Python wrapper and, above all, the
    import of ``torch._dynamo`` that torch.optim triggers the first time a process creates an
    optimiser (3-8 s on 2 CPU cores: that is the first training cell of every notebook and of
    every graded kernel). Parameters without a gradient are skipped, as torch.optim does.
    """

    def __init__(self, params, *, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
        self.params = list(params)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.step_count = [torch.zeros((), dtype=torch.float32, device=p.device) for p in self.params]
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not live:
            return
        pick = lambda items: [items[i] for i in live]  # noqa: E731
        steps = pick(self.step_count)
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(
            pick(self.params), [self.params[i].grad for i in live], pick(self.exp_avg), pick(self.exp_avg_sq),
            [], steps, amsgrad=False, lr=self.lr, beta1=self.betas[0], beta2=self.betas[1],
            weight_decay=self.weight_decay, eps=self.eps, maximize=False, grad_scale=None, found_inf=None,
        )


def _make_optimizer(params, lr, weight_decay, device):
    # The fused kernel does the whole Adam update in one pass (about 5x faster on 2 CPU cores
    # for 32 stacked models); it is elementwise, so stacking models does not couple them.
    if device.type in ("cpu", "cuda"):
        return _FusedAdam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


def _check_hyper(epochs, batch_size, lr, weight_decay):
    check_positive_int(epochs, "epochs")
    check_positive_int(batch_size, "batch_size")
    if not (isinstance(lr, (int, float)) and lr > 0 and np.isfinite(lr)):
        raise ValueError(f"lr must be a positive number, got {lr!r}.")
    if not (isinstance(weight_decay, (int, float)) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}.")


def _n_classes(model: nn.Module) -> int | None:
    return getattr(model, "n_classes", None)


def _module_device(model: nn.Module) -> torch.device:
    """Where the module's weights live (the CPU for a module without weights)."""
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def _check_model_fits(model: nn.Module, X: np.ndarray, y: np.ndarray) -> None:
    """Run the model on one record so that a shape mismatch is reported here, in words, not by torch mid-training."""
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()
            out = model(torch.from_numpy(X[:1]).to(_module_device(model)))
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
    *,
    epochs: int = 50,
    batch_size: int = 128,
    lr: float = 3e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    device: torch.device | str | None = None,
    progress: bool = False,
) -> nn.Module:
    """Train one classifier with Adam on mean cross-entropy.

    Parameters
    ----------
    model : nn.Module
        Maps float32 inputs (batch, ...) to logits (batch, n_classes). Trained in place.
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
        Class labels in [0, n_classes).
    epochs : int, default=50
    batch_size : int, default=128
    lr : float, default=3e-3
    weight_decay : float, default=0.0
        L2 penalty (Adam's `weight_decay`; lesson 05).
    seed : int, default=0
        Seeds the order of the mini-batches (and dropout).
    device : torch.device or str, optional
        Defaults to the GPU when present, else the CPU.
    progress : bool, default=False
        Show a progress bar over epochs.

    Returns
    -------
    model : nn.Module
        The same model, trained, in eval mode.
    """
    X, y = check_features_labels(X, y, n_classes=_n_classes(model))
    _check_hyper(epochs, batch_size, lr, weight_decay)
    device = torch.device(device) if device is not None else default_device()
    model.to(device)
    _check_model_fits(model, X, y)
    model.train()
    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    rng = np.random.default_rng(int(seed))
    opt = _make_optimizer(model.parameters(), lr, weight_decay, device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))  # dropout masks
        for _ in tqdm(range(epochs), desc="training", disable=not progress, leave=False):
            order = torch.from_numpy(rng.permutation(len(y))).to(device)
            for start in range(0, len(y), batch_size):
                batch = order[start : start + batch_size]
                loss = nn.functional.cross_entropy(model(Xt.index_select(0, batch)), yt.index_select(0, batch))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    return model.eval()


@dataclass
class ModelBatch:
    """K same-shaped models with stacked weights, as returned by `train_batched`.

    Attributes
    ----------
    base : nn.Module
        A weightless copy of the architecture (on the ``meta`` device).
    params : dict of str -> Tensor
        Stacked weights; each tensor has shape (K, *shape of that weight).
    seeds : list of int, length K
        The seed of each model (initial weights and batch order).
    subsets : ndarray of int64, shape (K, n_train)
        The training-record indices of each model, into the `X` it was trained on.
    n_records : int
        Number of records in the `X` it was trained on.
    """

    base: nn.Module
    params: dict
    seeds: list
    subsets: np.ndarray
    n_records: int

    def __len__(self) -> int:
        return len(self.seeds)

    @property
    def in_mask(self) -> np.ndarray:
        """bool array of shape (K, n_records): True where record i is in model k's training set."""
        mask = np.zeros((len(self), self.n_records), dtype=bool)
        np.put_along_axis(mask, self.subsets, True, axis=1)
        return mask

    def model(self, k: int) -> nn.Module:
        """Model `k` as an ordinary `nn.Module` (a copy, on the CPU, in eval mode)."""
        if not -len(self) <= k < len(self):
            raise IndexError(f"model index {k} out of range for a batch of {len(self)} models.")
        module = copy.deepcopy(self.base).to_empty(device="cpu")
        module.load_state_dict({name: p[k].detach().cpu() for name, p in self.params.items()}, strict=False)
        return module.eval()


def _check_subsets(subsets, n_records) -> np.ndarray:
    try:
        arr = np.asarray(subsets)
    except Exception:
        arr = None
    if arr is None or arr.ndim != 2 or arr.dtype == object:
        lengths = sorted({len(s) for s in subsets}) if arr is None or arr.dtype == object else None
        extra = f" Subset sizes found: {lengths}." if lengths else ""
        raise ValueError(
            "subsets must be a 2-D array (K models, n_train indices each): every model trains on the "
            f"same number of records.{extra} Draw equal-size subsets, e.g. with rng.choice(n, size, replace=False)."
        )
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"subsets must hold at least one model and one record each, got shape {arr.shape}.")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"subsets must hold integer record indices, got dtype {arr.dtype}.")
    if arr.min() < 0 or arr.max() >= n_records:
        raise ValueError(f"subsets hold indices from {arr.min()} to {arr.max()}, but X has {n_records} records.")
    if any(len(np.unique(row)) != len(row) for row in arr):
        raise ValueError("each row of subsets must list distinct records (no index twice in one model's training set).")
    return arr.astype(np.int64)


class _StackedMLP:
    """Forward and backward passes of K stacked plain MLPs, written out with batched matmuls.

    The fast path of `train_batched` for `utils.models.MLP` and plain ``nn.Sequential`` stacks of
    Flatten / Linear / ReLU / Dropout; every other architecture takes the generic vmap path.
    It computes the same gradients as autograd does through ``vmap(functional_call(...))``, but
    writes each weight gradient straight into the weight's own layout, skips the input gradient
    of the first layer and reuses its buffers from step to step (fresh multi-megabyte tensors
    cost page faults on every step): about twice as fast on 2 CPU cores.
    """

    _PLAIN = (nn.Flatten, nn.Linear, nn.ReLU, nn.Dropout, nn.Identity)

    def __init__(self, steps):
        self.steps = steps  # list of ("linear", weight, bias) | ("relu",) | ("dropout", p) | ("flatten",)
        self.first_linear = next(i for i, s in enumerate(steps) if s[0] == "linear")
        self._buffers = {}

    @classmethod
    def from_module(cls, base: nn.Module, params: dict):
        """The fast path for `base` with stacked `params`, or None when `base` is not a plain MLP."""
        from .models import MLP

        if type(base) is nn.Sequential:
            prefix, seq = "", base
        elif type(base).forward is MLP.forward and isinstance(getattr(base, "net", None), nn.Sequential):
            prefix, seq = "net.", base.net
        else:
            return None
        steps = []
        for name, layer in seq.named_children():
            if type(layer) not in cls._PLAIN:  # exact types: a subclass may change forward
                return None
            if isinstance(layer, nn.Flatten):
                if (layer.start_dim, layer.end_dim) != (1, -1):
                    return None
                steps.append(("flatten",))
            elif isinstance(layer, nn.Linear):
                steps.append(("linear", params[f"{prefix}{name}.weight"], params.get(f"{prefix}{name}.bias")))
            elif isinstance(layer, nn.ReLU):
                steps.append(("relu",))
            elif isinstance(layer, nn.Dropout):
                steps.append(("dropout", float(layer.p)))
        n_linear_params = sum(1 + (s[2] is not None) for s in steps if s[0] == "linear")
        if n_linear_params == 0 or n_linear_params != len(params):
            return None
        return cls(steps)

    def _buffer(self, key, shape, like: torch.Tensor) -> torch.Tensor:
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape:
            buf = self._buffers[key] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return buf

    @torch.no_grad()
    def set_gradients(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Set ``.grad`` of every stacked weight to the gradient of its model's mean cross-entropy.

        x : (K, batch, ...) float inputs of each model; y : (K, batch) int64 labels.
        """
        n_models, n_batch = y.shape
        x = x.reshape(n_models, n_batch, -1)  # Flatten(1, -1) of each record
        saved = []
        for i, step in enumerate(self.steps):
            if step[0] == "linear":
                _, weight, bias = step
                saved.append(x)
                out = self._buffer(("out", i, n_batch), (n_models, n_batch, weight.shape[1]), x)
                x = torch.bmm(x, weight.transpose(1, 2), out=out)
                if bias is not None:
                    x.add_(bias.unsqueeze(1))
            elif step[0] == "relu":
                # In place is safe: no step saves the tensor a ReLU reads, except an earlier ReLU.
                x = x.clamp_min_(0.0)
                saved.append(x)
            elif step[0] == "dropout":
                keep = (torch.rand_like(x) >= step[1]).to(x.dtype).div_(1.0 - step[1])
                x = x * keep
                saved.append(keep)
            else:
                saved.append(None)
        # d(mean cross-entropy)/d(logits) = (softmax - one-hot) / batch, for each model separately.
        # (torch.softmax is several times slower than this on CPU for rows of 10 classes.)
        grad = (x - x.amax(dim=-1, keepdim=True)).exp_()
        grad /= grad.sum(dim=-1, keepdim=True)
        grad.scatter_add_(-1, y.unsqueeze(-1), torch.full_like(y, -1, dtype=grad.dtype).unsqueeze(-1))
        grad /= n_batch
        for i in range(len(self.steps) - 1, self.first_linear - 1, -1):
            step, inp = self.steps[i], saved[i]
            if step[0] == "linear":
                _, weight, bias = step
                if weight.grad is None:
                    weight.grad = torch.empty_like(weight)
                torch.bmm(grad.transpose(1, 2), inp, out=weight.grad)  # (K, out, in): the weight's layout
                if bias is not None:
                    if bias.grad is None:
                        bias.grad = torch.empty_like(bias)
                    torch.sum(grad, dim=1, out=bias.grad)
                if i > self.first_linear:
                    out = self._buffer(("grad", i, n_batch), (n_models, n_batch, weight.shape[2]), grad)
                    grad = torch.bmm(grad, weight, out=out)
            elif step[0] == "relu":  # grad where the ReLU's output > 0, else 0, in place
                grad = torch.ops.aten.threshold_backward.grad_input(grad, inp, 0.0, grad_input=grad)
            elif step[0] == "dropout":
                grad = grad * inp


def train_batched(
    build_model: Callable[[], nn.Module],
    X,
    y,
    subsets,
    *,
    epochs: int = 50,
    batch_size: int = 128,
    lr: float = 3e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    device: torch.device | str | None = None,
    progress: bool = False,
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
    epochs, batch_size, lr, weight_decay, device, progress
        As in `train_model`.
    seed : int, default=0
        Model k uses ``spawn_seeds(seed, K)[k]`` for its initial weights and its batch order.

    Returns
    -------
    ModelBatch
        Use `predict_logits(batch, X)` for all K models' logits, ``batch.model(k)`` for one.
    """
    X, y = check_features_labels(X, y)
    subsets = _check_subsets(subsets, len(y))
    _check_hyper(epochs, batch_size, lr, weight_decay)
    device = torch.device(device) if device is not None else default_device()
    n_models, n_train = subsets.shape
    seeds = spawn_seeds(seed, n_models)
    models = [init_model(build_model, s) for s in seeds]
    n_classes = _n_classes(models[0])
    if n_classes is not None and y.max() >= n_classes:
        raise ValueError(f"y must hold class labels in [0, {n_classes}), found a maximum of {int(y.max())}.")
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in models[0].modules()):
        raise ValueError("build_model returns a model with BatchNorm; use GroupNorm or no normalisation.")
    _check_model_fits(models[0], X, y)
    params, _ = stack_module_state([m.to(device) for m in models])
    params = {name: p.detach().clone().requires_grad_(True) for name, p in params.items()}
    base = copy.deepcopy(models[0]).to("meta").train()
    del models

    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    subsets_t = torch.from_numpy(subsets).to(device)
    rngs = [np.random.default_rng(s) for s in seeds]
    opt = _make_optimizer(list(params.values()), lr, weight_decay, device)
    stacked = _StackedMLP.from_module(base, params)
    if stacked is None:  # any other architecture: vmap over the module's own forward
        def loss_one(p, xb, yb):
            return nn.functional.cross_entropy(functional_call(base, p, (xb,)), yb)

        batched_loss = vmap(loss_one, randomness="different")

    buffers = {}

    def gather(batch):
        # A flat index_select into a reused buffer is several times faster than X[batch].
        n_batch = batch.shape[1]
        if n_batch not in buffers:
            buffers[n_batch] = (Xt.new_empty((n_models * n_batch, *Xt.shape[1:])), yt.new_empty(n_models * n_batch))
        xb, yb = buffers[n_batch]
        flat = batch.reshape(-1)
        torch.index_select(Xt, 0, flat, out=xb)
        torch.index_select(yt, 0, flat, out=yb)
        return xb.view(n_models, n_batch, *Xt.shape[1:]), yb.view(n_models, n_batch)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))  # dropout masks
        for _ in tqdm(range(epochs), desc=f"training {n_models} models", disable=not progress, leave=False):
            order = torch.from_numpy(np.stack([r.permutation(n_train) for r in rngs])).to(device)
            order = torch.gather(subsets_t, 1, order)  # (K, n_train) global record indices
            for start in range(0, n_train, batch_size):
                batch = order[:, start : start + batch_size]
                xb, yb = gather(batch)
                if stacked is not None:
                    stacked.set_gradients(xb, yb)  # overwrites every .grad
                else:
                    opt.zero_grad(set_to_none=True)
                    # Sum of per-model mean losses: each model's gradient is its own mean loss's.
                    batched_loss(params, xb, yb).sum().backward()
                opt.step()
    base.eval()
    params = {name: p.detach() for name, p in params.items()}
    return ModelBatch(base=base, params=params, seeds=seeds, subsets=subsets, n_records=len(y))


@torch.no_grad()
def predict_logits(model, X, *, batch_size: int = 4096) -> np.ndarray:
    """Logits of one model or of every model in a `ModelBatch`, as float64.

    Parameters
    ----------
    model : nn.Module or ModelBatch
    X : array-like of float, shape (n_records, ...)

    Returns
    -------
    ndarray of float64, shape (n_records, n_classes) for a module, (K, n_records, n_classes) for a batch.
        Float64 so that losses and log-odds computed from it keep their low-FPR resolution.
    """
    X = np.asarray(X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X)
    if X.ndim < 2:
        raise ValueError(f"X must have shape (n_records, ...), got {X.shape}. For one record use X[None].")
    X = X.astype(np.float32, copy=False)
    if isinstance(model, ModelBatch):
        params = model.params
        device = next(iter(params.values())).device
        call = vmap(lambda p, xb: functional_call(model.base, p, (xb,)), in_dims=(0, None))
        chunks = [call(params, torch.from_numpy(X[i : i + batch_size]).to(device)) for i in range(0, len(X), batch_size)]
        return torch.cat(chunks, dim=1).double().cpu().numpy()
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module or a ModelBatch, got {type(model).__name__}.")
    was_training = model.training
    model.eval()
    device = _module_device(model)
    try:
        out = [model(torch.from_numpy(X[i : i + batch_size]).to(device)) for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(out).double().cpu().numpy()


def per_record_loss(logits, y) -> np.ndarray:
    """Cross-entropy of each record, computed stably in float64.

    Parameters
    ----------
    logits : array-like of float, shape (..., n_records, n_classes)
    y : array-like of int, shape (n_records,)

    Returns
    -------
    ndarray of float64, shape (..., n_records); ``-log softmax(logits)[y]``, in nats.
    """
    logits, y = check_logits_labels(logits, y)
    top = logits.max(axis=-1, keepdims=True)
    log_norm = top[..., 0] + np.log(np.exp(logits - top).sum(axis=-1))
    true_logit = np.take_along_axis(logits, np.broadcast_to(y[:, None], logits.shape[:-1] + (1,)), axis=-1)[..., 0]
    return log_norm - true_logit


def accuracy(logits, y) -> float:
    """Fraction of records whose highest logit is the true class. `logits` (..., n, C), `y` (n,)."""
    logits, y = check_logits_labels(logits, y)
    return float((logits.argmax(axis=-1) == y).mean())


@dataclass(frozen=True)
class Evaluation:
    """Mean cross-entropy (nats) and accuracy of a model on a set of records."""

    loss: float
    accuracy: float


def evaluate(model: nn.Module, X, y) -> Evaluation:
    """Mean loss and accuracy of `model` on ``(X, y)``."""
    if not isinstance(model, nn.Module):
        raise ValueError(
            f"model must be one torch.nn.Module, got {type(model).__name__}. "
            "For a ModelBatch, evaluate one model with batch.model(k)."
        )
    X, y = check_features_labels(X, y, n_classes=_n_classes(model))
    logits = predict_logits(model, X)
    return Evaluation(loss=float(per_record_loss(logits, y).mean()), accuracy=accuracy(logits, y))
