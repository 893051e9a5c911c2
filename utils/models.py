"""Small models for the course (Lesson 01).

No BatchNorm anywhere: it mixes records inside a batch, which breaks per-example gradients
(and so Opacus's DP-SGD in lesson 06) and the batched trainer's independence of models.
Dropout is optional so that lesson 05 can switch it on.
"""

from __future__ import annotations

import numbers

from torch import nn

from .validation import check_positive_int

__all__ = ["MLP", "CNN", "count_parameters"]


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
