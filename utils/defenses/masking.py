"""Confidence masking: release less than the model's probabilities (Lesson 07).

A deployed model rarely has to publish its full probability vector. The wrappers here answer
with less of it:

- ``"label"``: the top-1 label only (probability 1 for the predicted class, 0 for the rest);
- ``"top-k"``: the k largest probabilities, the others shown as 0;
- ``"round"``: every probability rounded to `decimals` decimal places.

`mask_probabilities` is the rule on arrays; `MaskedModel` wraps a trained ``nn.Module`` so that
every attack of the course can query the released model exactly as it would the original.
A module must output logits, so the wrapper outputs the **logarithm of the released
probabilities** (a released 0 becomes ``log(FLOOR)``, about -690): the softmax of those logits
gives back the released numbers (renormalised to sum to 1 for top-k, which an attacker can do
too), and the predicted label is unchanged. The confidence attacks then see only what the
wrapper releases, which is the point of Lesson 07: on the label-only model the loss attack
degenerates into the gap attack, and masking looks like a defence until a label-only attack
asks more than one question per record (`utils.attacks.label_only`).

>>> mask_probabilities([[0.7, 0.2, 0.1]], "label").tolist()
[[1.0, 0.0, 0.0]]
>>> mask_probabilities([[0.7, 0.2, 0.1]], "top-k", k=2).tolist()
[[0.7, 0.2, 0.0]]
>>> mask_probabilities([[0.666, 0.334, 0.0]], "round", decimals=1).tolist()
[[0.7, 0.3, 0.0]]
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..models import check_model, model_n_classes
from ..validation import check_positive_int

__all__ = ["FLOOR", "MODES", "MaskedModel", "mask_probabilities", "rounded", "top1_label", "top_k"]

MODES = ("label", "top-k", "round")
FLOOR = 1e-300  # stands for a released 0 inside a logarithm; below any probability a float64 release shows


def _check_mode(mode, k, decimals, n_classes=None):
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}.")
    if mode == "top-k":
        if k is None:
            raise ValueError("mode 'top-k' needs k, the number of probabilities to release, e.g. k=3.")
        k = check_positive_int(k, "k")
        if n_classes is not None and k > n_classes:
            raise ValueError(f"k must be at most the number of classes ({n_classes}), got {k}.")
    if mode == "round":
        if decimals is None:
            raise ValueError("mode 'round' needs decimals, the decimal places to keep, e.g. decimals=2.")
        decimals = check_positive_int(decimals, "decimals", minimum=0)
    return k, decimals


def _mask_tensor(probs: torch.Tensor, mode: str, k, decimals) -> torch.Tensor:
    if mode == "label":
        return nn.functional.one_hot(probs.argmax(dim=-1), probs.shape[-1]).to(probs.dtype)
    if mode == "top-k":
        # Exactly k released per record, even when several tie at the k-th value.
        keep = torch.zeros_like(probs, dtype=torch.bool).scatter_(-1, probs.topk(k, dim=-1).indices, True)
        return torch.where(keep, probs, torch.zeros_like(probs))
    scale = 10.0**decimals
    return torch.round(probs * scale) / scale


def mask_probabilities(probabilities, mode: str, *, k: int | None = None, decimals: int | None = None) -> np.ndarray:
    """What a masked API releases, given the model's probabilities (Lesson 07).

    Parameters
    ----------
    probabilities : array-like of float, shape (..., n_classes)
        Each row sums to 1.
    mode : {"label", "top-k", "round"}
    k : int, for ``"top-k"``
        Probabilities released per record (1 <= k <= n_classes).
    decimals : int, for ``"round"``
        Decimal places kept (0 or more).

    Returns
    -------
    ndarray of float64, same shape
        The released numbers; ``"label"`` gives one-hot rows of the predicted class.
    """
    if np.asarray(probabilities).dtype == np.bool_:
        raise ValueError("probabilities must be numbers, got booleans; pass the model's softmax outputs.")
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.size == 0 and probs.ndim >= 1 and probs.shape[-1] >= 2:
        raise ValueError(f"probabilities holds no records (shape {probs.shape}); pass at least one row.")
    if probs.ndim < 1 or probs.shape[-1] < 2:
        raise ValueError(f"probabilities must have shape (..., n_classes) with at least 2 classes, got {probs.shape}.")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise ValueError("probabilities must be finite and non-negative; pass softmax outputs, not logits.")
    k, decimals = _check_mode(mode, k, decimals, probs.shape[-1])
    return _mask_tensor(torch.from_numpy(probs), mode, k, decimals).numpy()


class MaskedModel(nn.Module):
    """A trained classifier that releases only masked probabilities (Lesson 07).

    Its forward pass returns ``log(released probabilities)`` in float64 (a released 0 as
    ``log(FLOOR)``), shape (batch, n_classes), so it plugs into `utils.inference.predict_logits`
    and every attack. The argmax is the wrapped model's.

    Parameters
    ----------
    model : nn.Module in eval mode
        The trained classifier (outputs logits).
    mode : {"label", "top-k", "round"}
    k, decimals : int
        As in `mask_probabilities`.
    """

    def __init__(self, model: nn.Module, mode: str, *, k: int | None = None, decimals: int | None = None):
        super().__init__()
        check_model(model, "model", allow_batch=False)
        self.k, self.decimals = _check_mode(mode, k, decimals, model_n_classes(model))
        self.mode = mode
        self.model = model
        # What the course's validation reads from a model (utils.inference, utils.train).
        if model_n_classes(model) is not None:
            self.n_classes = model_n_classes(model)
        if hasattr(model, "in_features"):
            self.in_features = model.in_features
        self.eval()

    @torch.no_grad()
    def forward(self, x):
        weight = next(self.model.parameters(), None)
        if weight is not None and x.is_floating_point():
            x = x.to(weight.dtype)  # e.g. float64 queries from another library
        probs = torch.softmax(self.model(x).double(), dim=-1)
        released = _mask_tensor(probs, self.mode, self.k, self.decimals)
        return torch.log(released.clamp_min(FLOOR))

    def extra_repr(self) -> str:
        detail = {"label": "", "top-k": f", k={self.k}", "round": f", decimals={self.decimals}"}[self.mode]
        return f"mode={self.mode!r}{detail}"


def top1_label(model: nn.Module) -> MaskedModel:
    """`model` releasing its predicted label only (Lesson 07)."""
    return MaskedModel(model, "label")


def top_k(model: nn.Module, k: int) -> MaskedModel:
    """`model` releasing its `k` largest probabilities (Lesson 07)."""
    return MaskedModel(model, "top-k", k=k)


def rounded(model: nn.Module, decimals: int) -> MaskedModel:
    """`model` releasing probabilities rounded to `decimals` places (Lesson 07)."""
    return MaskedModel(model, "round", decimals=decimals)
