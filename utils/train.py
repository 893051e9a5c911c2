"""Training and evaluation: one model at a time, or K same-shaped models at once (Lesson 01).

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

    The CPU's random generator is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        # Only the CPU generator: torch.manual_seed would also queue a seed for every
        # accelerator backend, with a stack trace each time (about 1 ms a call; K calls a batch).
        torch.default_generator.manual_seed(int(seed))
        model = build_model()
    if not isinstance(model, nn.Module):
        raise ValueError(f"build_model must return a torch.nn.Module, got {type(model).__name__}.")
    if _module_device(model).type != "cpu":
        # Built straight onto an accelerator, from that device's generator: seed every one.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            model = build_model()
    return model


class _FusedAdam:
    """Adam through PyTorch's fused kernel: the update of ``torch.optim.Adam(fused=True)``, step for step.

    Calling the kernel directly skips torch.optim's per-step Python wrapper and, above all, the
    import of ``torch._dynamo`` that torch.optim triggers the first time a process creates an
    optimiser (3-8 s on 2 CPU cores: that is the first training cell of every notebook and of
    every graded kernel). Parameters without a gradient are skipped, as torch.optim does.

    One difference, on the CPU only: every `FLUSH_EVERY` steps, first moments below `FLUSH_BELOW`
    in size are set to 0. Where a gradient stays 0 (a dead hidden unit, a pixel that is blank in
    every record of a batch) the first moment shrinks by 0.9 a step, and after about 70 epochs of
    the course's training it reaches the *denormal* range below 1.2e-38, where CPUs compute many
    times more slowly: Adam's step took 5x longer. A moment needs 175 steps to fall from 1e-30 to
    there, so none ever does; and a moment below 1e-30 moves its weight by at most
    ``lr * 1e-30 / eps`` (3e-25 here) a step. (``torch.set_flush_denormal`` would be the usual cure,
    but it does not reach the worker threads of a thread pool that already exists.) The second
    moment shrinks by 0.999 a step and never gets there in a course-sized run.
    """

    FLUSH_EVERY = 16
    FLUSH_BELOW = 1e-30

    def __init__(self, params, *, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
        self.params = list(params)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        device = self.params[0].device if self.params else None
        # One step count per parameter, as torch.optim keeps them, as views of one tensor so that
        # the usual step (every parameter has a gradient) counts them all with a single add.
        self._counts = torch.zeros(len(self.params), dtype=torch.float32, device=device)
        self.step_count = list(self._counts.unbind())
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self._n_steps = 0

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every gradient (always set to None, whatever `set_to_none` says)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not live:
            return
        if len(live) == len(self.params):
            self._counts.add_(1)
        else:
            self._counts[live] += 1
        pick = lambda items: [items[i] for i in live]  # noqa: E731
        torch._fused_adam_(
            pick(self.params), [self.params[i].grad for i in live], pick(self.exp_avg), pick(self.exp_avg_sq),
            [], pick(self.step_count), amsgrad=False, lr=self.lr, beta1=self.betas[0], beta2=self.betas[1],
            weight_decay=self.weight_decay, eps=self.eps, maximize=False, grad_scale=None, found_inf=None,
        )
        self._n_steps += 1
        if self._n_steps % self.FLUSH_EVERY == 0:
            self._flush_denormals()

    def _flush_denormals(self) -> None:
        for m in self.exp_avg:
            if m.device.type == "cpu":
                # hardshrink(x, t) keeps x where |x| > t and writes 0 elsewhere.
                torch.ops.aten.hardshrink.out(m, self.FLUSH_BELOW, out=m)


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
    chosen = np.zeros((arr.shape[0], n_records), dtype=bool)
    np.put_along_axis(chosen, arr, True, axis=1)
    if (chosen.sum(axis=1) != arr.shape[1]).any():  # a record listed twice marks one cell, not two
        raise ValueError("each row of subsets must list distinct records (no index twice in one model's training set).")
    return arr.astype(np.int64)


@dataclass
class _StackedLinear:
    """One Linear layer of K stacked MLPs, in `_StackedMLP`'s training layout."""

    weight: torch.Tensor  # first layer: (K, in [+ 1], out), the bias as its last row; later ones: (K, out, in)
    bias: torch.Tensor | None  # (K, out) for later layers with a bias; None for the first layer
    first: bool
    weight_name: str
    bias_name: str | None

    @property
    def out_features(self) -> int:
        return self.weight.shape[2] if self.first else self.weight.shape[1]


class _StackedMLP:
    """Forward and backward passes of K stacked plain MLPs, written out with batched matmuls.

    The fast path of `train_batched` for `utils.models.MLP` and plain ``nn.Sequential`` stacks of
    Flatten / Identity / Linear / ReLU / Dropout that start with a Linear (after any Flatten), no
    weight frozen or shared; every other model takes the generic vmap path (`from_module` says
    None). It computes the gradients autograd would compute
    through ``vmap(functional_call(...))``, but keeps its own copy of the weights, laid out for
    speed on the CPU (timings for 32 models on 2 cores):

    - the first layer, where nearly all the FLOPs are, is stored transposed, ``(K, in, out)``,
      with its bias as an extra last row that meets a column of ones appended to the data
      (`rows`). Both of its products then run about as fast as one dense matmul of the same
      size (20-40% faster than in the module's ``(K, out, in)`` layout), and the bias's add and
      its gradient's sum ride along inside them;
    - later layers keep the module's layout, which is the faster one for a narrow output layer;
    - the labels arrive as one-hot rows (`targets`), gathered with the data, so the loss's
      gradient is a few in-place ops;
    - gradients and activations go into buffers reused from step to step (fresh multi-megabyte
      tensors cost page faults on every step), and the data's gradient is never computed.

    Adam is elementwise, so training these tensors gives each model exactly the update it would
    get from its own weight and bias tensors. `export` returns them in the module's layout.
    """

    _PLAIN = (nn.Flatten, nn.Linear, nn.ReLU, nn.Dropout, nn.Identity)

    def __init__(self, steps: list, layers: list[_StackedLinear], n_classes: int):
        self.steps = steps  # ("linear", _StackedLinear) | ("relu",) | ("dropout", p), in forward order
        self.layers = layers
        self.n_classes = n_classes
        self._buffers = {}

    @classmethod
    def from_module(cls, base: nn.Module, params: dict, *, flat_records: bool):
        """The fast path for `base` with stacked `params` (K, *shape), or None when `base` is not a plain MLP.

        `flat_records` says whether each record is a vector (X of shape (n, features)); otherwise
        the fast path needs a Flatten before the first Linear, as a Linear on (n, 14, 14) records
        would act on each row of 14.
        """
        from .models import MLP

        if type(base) is nn.Sequential:
            prefix, seq = "", base
        elif type(base).forward is MLP.forward and isinstance(getattr(base, "net", None), nn.Sequential):
            prefix, seq = "net.", base.net
        else:
            return None
        if not all(p.requires_grad for p in params.values()):
            return None  # frozen weights: the vmap path leaves them alone
        steps, layers = [], []
        # _modules, as Sequential.forward uses, not named_children(), which skips a layer used twice.
        for name, layer in seq._modules.items():
            if type(layer) not in cls._PLAIN:  # exact types: a subclass may change forward
                return None
            if isinstance(layer, nn.Identity):
                continue
            if isinstance(layer, nn.Flatten):
                if (layer.start_dim, layer.end_dim) != (1, -1):
                    return None
                flat_records = True  # and every later Flatten is a no-op
            elif isinstance(layer, nn.Linear):
                weight_name = f"{prefix}{name}.weight"
                bias_name = f"{prefix}{name}.bias" if layer.bias is not None else None
                if weight_name not in params or (bias_name is not None and bias_name not in params):
                    return None  # e.g. a Linear used twice: its weights are listed once
                if not (layers or flat_records):
                    return None
                weight = params[weight_name].detach()
                bias = params[bias_name].detach() if bias_name else None
                first = not layers
                if first:
                    weight = weight.transpose(1, 2)
                    if bias is not None:
                        weight, bias = torch.cat([weight, bias.unsqueeze(1)], dim=1), None
                weight = weight.clone(memory_format=torch.contiguous_format)  # our own copy, as below
                bias = None if bias is None else bias.clone()
                layers.append(_StackedLinear(weight, bias, first, weight_name, bias_name))
                steps.append(("linear", layers[-1]))
            elif not layers:
                # A Dropout there would drop the first layer's column of ones; keeping a Linear first
                # also keeps set_gradients simple (the backward pass ends at the first Linear).
                return None
            elif isinstance(layer, nn.ReLU):
                steps.append(("relu",))
            elif isinstance(layer, nn.Dropout):
                steps.append(("dropout", float(layer.p)))
        n_weights = sum(1 + (layer.bias_name is not None) for layer in layers)
        if not layers or n_weights != len(params):
            return None
        return cls(steps, layers, n_classes=layers[-1].out_features)

    @property
    def tensors(self) -> list[torch.Tensor]:
        """The tensors to train; `set_gradients` fills their ``.grad``."""
        return [t for layer in self.layers for t in (layer.weight, layer.bias) if t is not None]

    def rows(self, X: torch.Tensor) -> torch.Tensor:
        """Records as the first layer reads them: X (n, ...) -> (n, in), plus a last column of ones if it has a bias."""
        flat = X.reshape(len(X), -1)
        if self.layers[0].bias_name is None:
            return flat.contiguous()
        return torch.cat([flat, flat.new_ones(len(X), 1)], dim=1)

    def targets(self, y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """Labels (n,) int -> one-hot rows (n, n_classes)."""
        return nn.functional.one_hot(y, self.n_classes).to(dtype)

    def _buffer(self, key, shape, like: torch.Tensor) -> torch.Tensor:
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape:
            buf = self._buffers[key] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return buf

    @torch.no_grad()
    def set_gradients(self, x: torch.Tensor, target: torch.Tensor) -> None:
        """Set ``.grad`` of every tensor in `tensors` to the gradient of its model's mean cross-entropy.

        x : (K, batch, in) or (K, batch, in + 1) rows from `rows`, one batch per model.
        target : (K, batch, n_classes) one-hot rows from `targets`.
        """
        n_models, n_batch = x.shape[:2]
        saved = []  # what each step's backward needs
        for i, step in enumerate(self.steps):
            if step[0] == "linear":
                layer = step[1]
                saved.append(x)
                weight = layer.weight if layer.first else layer.weight.transpose(1, 2)  # (K, in, out)
                out = self._buffer(("out", i, n_batch), (n_models, n_batch, layer.out_features), x)
                x = torch.bmm(x, weight, out=out)
                if layer.bias is not None:
                    x.add_(layer.bias.unsqueeze(1))
            elif step[0] == "relu":
                # In place is safe: no step saves the tensor a ReLU reads, except an earlier ReLU.
                x = x.clamp_min_(0.0)
                saved.append(x)
            else:  # dropout: keep each unit with probability 1 - p, scaled by 1 / (1 - p)
                p = step[1]
                keep = (torch.rand_like(x) >= p).to(x.dtype).mul_(0.0 if p >= 1 else 1.0 / (1.0 - p))
                x = x * keep
                saved.append(keep)
        # d(mean cross-entropy)/d(logits) = (softmax - one-hot) / batch, for each model separately,
        # computed in place over the logits. (torch.softmax is several times slower than this on
        # the CPU for rows of 10 classes.)
        grad = x if self.steps[-1][0] == "linear" else x.clone()  # e.g. a final ReLU's output is saved
        norm = self._buffer(("norm", n_batch), (n_models, n_batch, 1), grad)
        torch.amax(grad, dim=-1, keepdim=True, out=norm)
        grad.sub_(norm).exp_()
        torch.sum(grad, dim=-1, keepdim=True, out=norm)
        grad.div_(norm.mul_(n_batch)).sub_(target, alpha=1.0 / n_batch)
        for i in range(len(self.steps) - 1, -1, -1):
            step, inp = self.steps[i], saved[i]
            if step[0] == "linear":
                layer = step[1]
                for t in (layer.weight, layer.bias):
                    if t is not None and t.grad is None:
                        t.grad = torch.empty_like(t)
                if layer.first:
                    torch.bmm(inp.transpose(1, 2), grad, out=layer.weight.grad)  # (K, in [+ 1], out)
                    break  # nothing needs the gradient of the data
                torch.bmm(grad.transpose(1, 2), inp, out=layer.weight.grad)  # (K, out, in)
                if layer.bias is not None:
                    torch.sum(grad, dim=1, out=layer.bias.grad)
                out = self._buffer(("grad", i, n_batch), (n_models, n_batch, layer.weight.shape[2]), grad)
                grad = torch.bmm(grad, layer.weight, out=out)
            elif step[0] == "relu":  # grad where the ReLU's output > 0, else 0, in place
                grad = torch.ops.aten.threshold_backward.grad_input(grad, inp, 0.0, grad_input=grad)
            else:
                grad = grad * inp

    def export(self, *, grad: bool = False) -> dict:
        """Copies of the weights (or, with ``grad=True``, of their gradients) in module layout: name -> (K, *shape)."""
        if grad and self.layers[0].weight.grad is None:
            raise RuntimeError("no gradients yet: call set_gradients first.")
        out = {}
        for layer in self.layers:
            weight = layer.weight.grad if grad else layer.weight
            bias = (layer.bias.grad if grad else layer.bias) if layer.bias is not None else None
            if layer.first:
                if layer.bias_name is not None:
                    weight, bias = weight[:, :-1], weight[:, -1]
                weight = weight.transpose(1, 2)
            out[layer.weight_name] = weight.detach().clone(memory_format=torch.contiguous_format)
            if layer.bias_name is not None:
                out[layer.bias_name] = bias.detach().clone(memory_format=torch.contiguous_format)
        return out


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
        Model k uses ``spawn_seeds(seed, K)[k]`` for its initial weights and its batch order;
        dropout masks, if any, come from `seed`.

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
    base = copy.deepcopy(models[0]).to("meta").train()
    del models

    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    subsets_t = torch.from_numpy(subsets).to(device)
    rngs = [np.random.default_rng(s) for s in seeds]
    stacked = _StackedMLP.from_module(base, params, flat_records=X.ndim == 2)
    if stacked is not None:
        opt = _make_optimizer(stacked.tensors, lr, weight_decay, device)
        rows = stacked.rows(Xt)
        tables = (rows, stacked.targets(yt, rows.dtype))
    else:  # any other architecture: vmap over the module's own forward
        # Frozen weights (requires_grad False) stay frozen: they get no gradient, and Adam skips them.
        params = {name: p.detach().clone().requires_grad_(p.requires_grad) for name, p in params.items()}
        opt = _make_optimizer(list(params.values()), lr, weight_decay, device)
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

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))  # dropout masks
        for _ in tqdm(range(epochs), desc=f"training {n_models} models", disable=not progress, leave=False):
            order = torch.from_numpy(np.stack([r.permutation(n_train) for r in rngs])).to(device)
            order = torch.gather(subsets_t, 1, order)  # (K, n_train) global record indices
            for start in range(0, n_train, batch_size):
                inputs, targets = gather(order[:, start : start + batch_size])
                if stacked is not None:
                    stacked.set_gradients(inputs, targets)  # overwrites every .grad
                else:
                    opt.zero_grad(set_to_none=True)
                    # Sum of per-model mean losses: each model's gradient is its own mean loss's.
                    batched_loss(params, inputs, targets).sum().backward()
                opt.step()
    params = stacked.export() if stacked is not None else params
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
