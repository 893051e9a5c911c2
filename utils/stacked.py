"""The fast path of `utils.train.train_batched`: K stacked plain MLPs, forward and backward by hand.

`StackedMLP.from_module` recognises a plain MLP (or says None, and the trainer uses its generic
vmap path); the trainer then calls `rows`, `targets`, `set_gradients` each step and `export` at
the end. Tests: `tests/test_stacked.py` checks every gradient against autograd.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .models import MLP

__all__ = ["StackedMLP", "StackedLinear"]


@dataclass
class StackedLinear:
    """One Linear layer of K stacked MLPs, in `StackedMLP`'s training layout."""

    weight: torch.Tensor  # first layer: (K, in [+ 1], out), the bias as its last row; later ones: (K, out, in)
    bias: torch.Tensor | None  # (K, out) for later layers with a bias; None for the first layer
    first: bool
    weight_name: str
    bias_name: str | None

    @property
    def out_features(self) -> int:
        return self.weight.shape[2] if self.first else self.weight.shape[1]


class StackedMLP:
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

    def __init__(self, steps: list, layers: list[StackedLinear], n_classes: int):
        self.steps = steps  # ("linear", StackedLinear) | ("relu",) | ("dropout", p), in forward order
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
                layers.append(StackedLinear(weight, bias, first, weight_name, bias_name))
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

