"""Small models for the course (Lesson 01).

No BatchNorm anywhere: it mixes records inside a batch, which breaks per-example gradients
(and so Opacus's DP-SGD in lesson 06) and the batched trainer's independence of models.
Dropout is optional so that lesson 05 can switch it on.
"""

from __future__ import annotations

import copy
import numbers
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .validation import check_positive_int

__all__ = ["MLP", "CNN", "ModelBatch", "count_parameters", "model_device", "model_n_classes"]


def _check_dropout(dropout) -> float:
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}. Use 0 to switch dropout off.")
    return float(dropout)


class MLP(nn.Module):
    """Multi-layer perceptron: Linear -> ReLU (-> Dropout) ... -> Linear logits.

    The course's default target is ``MLP()``: 196 inputs (14x14 digits), one hidden layer of
    128 units, 10 classes (26,506 weights), which memorises 1,250 training digits.

    Parameters
    ----------
    in_features : int, default=196
    hidden : tuple of int, default=(128,)
        Width of each hidden layer.
    n_classes : int, default=10
    dropout : float, default=0.0
        Dropout probability after each hidden layer (lesson 05).

    Input shape (batch, in_features) or (batch, ...) flattened; output logits (batch, n_classes).
    """

    def __init__(self, in_features: int = 196, hidden: tuple[int, ...] = (128,), n_classes: int = 10, dropout: float = 0.0):
        super().__init__()
        in_features = check_positive_int(in_features, "in_features")
        n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
        dropout = _check_dropout(dropout)
        if isinstance(hidden, numbers.Integral):
            raise ValueError(f"hidden must be a tuple of layer widths, got the int {hidden}. For one layer write ({hidden},).")
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            h = check_positive_int(h, "hidden layer width")
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)
        self.in_features, self.n_classes = in_features, n_classes

    def forward(self, x):
        return self.net(x)


class CNN(nn.Module):
    """Small convolutional net for square grey-scale (or colour) images.

    Two conv(3x3) -> ReLU -> maxpool(2) blocks, then a linear classifier.

    Parameters
    ----------
    side : int, default=14
        Image side in pixels; inputs may come flattened (batch, channels * side * side).
    channels : int, default=1
    width : int, default=16
        Channels of the first conv layer (the second has twice as many).
    n_classes : int, default=10
    dropout : float, default=0.0
    """

    def __init__(self, side: int = 14, channels: int = 1, width: int = 16, n_classes: int = 10, dropout: float = 0.0):
        super().__init__()
        self.side, self.channels = check_positive_int(side, "side", minimum=4), check_positive_int(channels, "channels")
        width = check_positive_int(width, "width")
        self.n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
        dropout = _check_dropout(dropout)
        self.in_features = self.channels * self.side * self.side
        self.features = nn.Sequential(
            nn.Conv2d(self.channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        out_side = self.side // 4
        head: list[nn.Module] = [nn.Flatten()]
        if dropout > 0:
            head.append(nn.Dropout(dropout))
        head.append(nn.Linear(2 * width * out_side * out_side, self.n_classes))
        self.classifier = nn.Sequential(*head)

    def forward(self, x):
        x = x.reshape(x.shape[0], self.channels, self.side, self.side)
        return self.classifier(self.features(x))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable weights in `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def model_device(model: nn.Module) -> torch.device:
    """Where the module's weights live (the CPU for a module without weights)."""
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def model_n_classes(model: nn.Module) -> int | None:
    """The number of classes a course model declares (`MLP`, `CNN`), or None for another module."""
    return getattr(model, "n_classes", None)


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

