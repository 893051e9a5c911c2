"""Small models for the course (Lesson 01).

No BatchNorm anywhere: it mixes records inside a batch, which breaks per-example gradients
(and so Opacus's DP-SGD in lesson 06) and the batched trainer's independence of models.
Dropout is optional so that lesson 05 can switch it on.
"""

from __future__ import annotations

import copy
import hashlib
import numbers
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .validation import check_fraction, check_indices, check_positive_int

__all__ = [
    "MLP",
    "CNN",
    "ModelBatch",
    "count_parameters",
    "model_device",
    "model_n_classes",
    "check_model",
    "records_fingerprint",
]


def _check_dropout(dropout) -> float:
    try:
        return check_fraction(dropout, "dropout", low_open=False)
    except ValueError:
        raise ValueError(
            f"dropout must be a probability in [0, 1), got {dropout!r}. Use 0 to switch dropout off."
        ) from None


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

    def __init__(
        self, in_features: int = 196, hidden: tuple[int, ...] = (128,), n_classes: int = 10, dropout: float = 0.0
    ):
        super().__init__()
        in_features = check_positive_int(in_features, "in_features")
        n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
        dropout = _check_dropout(dropout)
        if isinstance(hidden, numbers.Integral):
            raise ValueError(
                f"hidden must be a tuple of layer widths, got the int {hidden}. For one layer write ({hidden},)."
            )
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


def records_fingerprint(X, y) -> str:
    """A short hash of a set of records (features and labels, in order): which data trained a `ModelBatch`.

    Two arrays give the same fingerprint exactly when they hold the same values in the same order
    (features as float32, labels as int64, the way the trainers see them).

    >>> X = np.zeros((3, 2), np.float32)
    >>> records_fingerprint(X, [0, 1, 0]) == records_fingerprint(X.copy(), np.array([0, 1, 0]))
    True
    >>> records_fingerprint(X, [0, 1, 0]) == records_fingerprint(X, [0, 0, 1])
    False
    """
    X = np.ascontiguousarray(np.asarray(X.detach().cpu() if isinstance(X, torch.Tensor) else X, dtype=np.float32))
    y = np.ascontiguousarray(np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y, dtype=np.int64))
    digest = hashlib.sha256()
    digest.update(repr((X.shape, y.shape)).encode())
    digest.update(X.tobytes())
    digest.update(y.tobytes())
    return digest.hexdigest()[:16]


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
    fingerprint : str or None
        `records_fingerprint` of the ``(X, y)`` it was trained on, so that an attack can refuse
        records the batch's `in_mask` does not describe (None for a batch assembled by hand).
    """

    base: nn.Module
    params: dict
    seeds: list
    subsets: np.ndarray
    n_records: int
    fingerprint: str | None = None

    def __len__(self) -> int:
        return len(self.seeds)

    @property
    def in_mask(self) -> np.ndarray:
        """bool array of shape (K, n_records): True where record i is in model k's training set."""
        mask = np.zeros((len(self), self.n_records), dtype=bool)
        np.put_along_axis(mask, self.subsets, True, axis=1)
        return mask

    def trained_on(self, X, y) -> bool:
        """Whether ``(X, y)`` are exactly the records (same values, same order) this batch was trained on."""
        if self.fingerprint is None or len(y) != self.n_records:
            return False
        return records_fingerprint(X, y) == self.fingerprint

    def check_trained_on(self, X, y, *, name: str = "shadows", what: str = "X, y") -> None:
        """Raise ValueError unless ``(X, y)`` are the records that trained this batch (so `in_mask` describes them)."""
        if len(y) != self.n_records:
            raise ValueError(
                f"{name} were trained on {self.n_records} records but {what} has {len(y)}. "
                f"Pass the same records, in the same order, that trained {name}."
            )
        if self.fingerprint is None:
            raise ValueError(
                f"{name} do not record which data trained them (a ModelBatch built by hand); "
                "train them with utils.train.train_batched or utils.attacks.shadow.train_shadow_models."
            )
        if records_fingerprint(X, y) != self.fingerprint:
            raise ValueError(
                f"{name} were trained on other records than {what} (same count, {self.n_records}, but different values "
                f"or order), so {name}.in_mask says nothing about these records. Pass the records that trained "
                f"{name}, in the same order, or train {name} on these records."
            )

    def select(self, indices) -> ModelBatch:
        """A batch holding only the models at `indices` (distinct integer positions, negatives from the end)."""
        idx = check_indices(indices, "indices", len(self), allow_negative=True)
        if len(idx) == 0:
            raise ValueError(f"indices must select at least one of the {len(self)} models, got none.")
        return ModelBatch(
            base=self.base,
            params={name: p[torch.from_numpy(idx).to(p.device)] for name, p in self.params.items()},
            seeds=[self.seeds[i] for i in idx],
            subsets=self.subsets[idx],
            n_records=self.n_records,
            fingerprint=self.fingerprint,
        )

    def model(self, k: int) -> nn.Module:
        """Model `k` as an ordinary `nn.Module` (a copy, on the CPU, in eval mode)."""
        if not -len(self) <= k < len(self):
            raise IndexError(f"model index {k} out of range for a batch of {len(self)} models.")
        module = copy.deepcopy(self.base).to_empty(device="cpu")
        module.load_state_dict({name: p[k].detach().cpu() for name, p in self.params.items()}, strict=False)
        return module.eval()


def check_model(model, name: str = "target_model", *, allow_batch: bool = True):
    """`model` must be an ``nn.Module`` in eval mode (or a `ModelBatch` when `allow_batch`); returns it."""
    if allow_batch and isinstance(model, ModelBatch):
        if len(model) == 0:
            raise ValueError(f"{name} holds no models; train at least one shadow model.")
        return model
    if isinstance(model, type) and issubclass(model, nn.Module):
        raise ValueError(
            f"{name} must be a trained model, got the class {model.__name__} itself; pass the trained instance."
        )
    if not isinstance(model, nn.Module):
        kinds = "a torch.nn.Module or a utils.models.ModelBatch" if allow_batch else "a torch.nn.Module"
        raise ValueError(f"{name} must be {kinds}, got {type(model).__name__}.")
    if model.training:
        raise ValueError(
            f"{name} is in training mode, so dropout would make its answers random. An attacker queries the "
            f"released model: call {name}.eval() first (utils.train.train_model already returns it in eval mode)."
        )
    return model
