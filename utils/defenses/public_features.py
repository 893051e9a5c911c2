"""Public data, a network learned from it, and the features a private model trains on (Lesson 06b).

DP-SGD from scratch on 1,250 digits pays for privacy with many points of accuracy: the noise that
hides one record also drowns most of what 1,250 records could teach a network. The field's answer
(Tramèr & Boneh 2021; De et al. 2022) is to learn the *features* from data that is public by
construction and to spend the privacy budget only on what must come from the private records.

Here the public data is another collection of handwritten digits: the 1,797 8x8 digits that ship
inside scikit-learn (the UCI "optical recognition" set, written by other people, scanned by another
machine, at a sixteenth of the resolution). `load_public_digits` resamples them to the course's
14x14 frame, where an MNIST digit fills the central 10x10 pixels. A small CNN (`PublicNetwork`)
trained on them, with random shifts, rotations and scalings because the two collections are drawn
differently, recognises the course's own digits only moderately well: that is the **public-only**
model, which needs no private data at all. Its hidden layer, frozen, is a feature map that makes the
private task nearly linear.

Two ways to spend the private records (`utils.defenses.dp_public`):

- a linear **head** on the frozen features (`head_features`: the hidden layer, centred on the public
  data and scaled to unit length, so one record's gradient has a known size);
- **fine-tuning** the network's dense layers from their public weights, the convolutions frozen
  (`trunk_features` are the convolutions' outputs; `dense_layers` is the part that trains).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..data import Digits
from ..recipe import Recipe, as_recipe
from ..validation import check_features_labels, check_positive_int, check_seed

__all__ = [
    "PUBLIC_RECIPE",
    "PublicNetwork",
    "load_public_digits",
    "train_public_network",
    "trunk_features",
    "head_features",
    "dense_layers",
]

# Adam on mini-batches of 64 public digits for 40 epochs, each batch randomly shifted (up to 10%),
# rotated (up to 12 degrees) and scaled (0.85-1.15): without the augmentation the network learns the
# UCI digits' own placement and transfers worse. Chosen on the public data and a validation split of the
# attacker's pool, never on the members.
PUBLIC_RECIPE = Recipe(epochs=40, batch_size=64, lr=3e-3)


def load_public_digits(side: int = 14, inner: int = 10) -> Digits:
    """scikit-learn's 1,797 8x8 handwritten digits, resampled into a ``side`` x ``side`` frame.

    Parameters
    ----------
    side : int, default=14
        Frame side in pixels (the course's digits are 14x14).
    inner : int, default=10
        Side of the resampled digit, centred in the frame (an MNIST digit fills the central 10x10
        pixels of the 14x14 frame).

    Returns
    -------
    Digits
        ``X`` float32 in [0, 1], shape (1797, side * side); ``y`` int64 class labels.
    """
    from sklearn.datasets import load_digits as load_sklearn_digits

    side = check_positive_int(side, "side", minimum=8)
    inner = check_positive_int(inner, "inner", minimum=8)
    if inner > side:
        raise ValueError(f"inner ({inner}) must fit in the frame of side {side}; use inner <= side.")
    raw = load_sklearn_digits()
    images = torch.from_numpy(raw.images.astype(np.float32) / 16.0)[:, None]  # values 0..16
    resized = nn.functional.interpolate(images, size=(inner, inner), mode="bilinear", align_corners=False)
    before = (side - inner) // 2
    framed = nn.functional.pad(resized, (before, side - inner - before, before, side - inner - before))
    X = framed.clamp(0.0, 1.0).reshape(len(framed), side * side).numpy()
    return Digits(X=np.ascontiguousarray(X, dtype=np.float32), y=raw.target.astype(np.int64), side=side,
                  name=f"scikit-learn 8x8 digits (UCI), resampled to {inner}x{inner} in a {side}x{side} frame")


class PublicNetwork(nn.Module):
    """Conv(3x3) -> ReLU -> maxpool -> conv -> ReLU -> maxpool -> dense(hidden) -> ReLU -> logits.

    Input (batch, side * side) or (batch, 1, side, side); output logits (batch, n_classes). The buffer
    `feature_mean` (the hidden layer's mean on the public data, set by `train_public_network`) centres
    `head_features`.
    """

    def __init__(self, side: int = 14, width: int = 16, hidden: int = 64, n_classes: int = 10):
        super().__init__()
        self.side = check_positive_int(side, "side", minimum=4)
        width = check_positive_int(width, "width")
        hidden = check_positive_int(hidden, "hidden")
        self.trunk = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        )
        self.trunk_width = 2 * width * (self.side // 4) ** 2
        self.dense = nn.Sequential(nn.Linear(self.trunk_width, hidden), nn.ReLU(),
                                   nn.Linear(hidden, check_positive_int(n_classes, "n_classes", minimum=2)))
        self.register_buffer("feature_mean", torch.zeros(hidden))

    def forward(self, x):
        return self.dense(self.trunk(x.reshape(x.shape[0], 1, self.side, self.side)))


def train_public_network(X, y, recipe: Recipe | None = None, *, augment: bool = True, seed: int = 0) -> PublicNetwork:
    """Train a `PublicNetwork` on public records (non-private: they are public by construction).

    Parameters
    ----------
    X : array-like of float, shape (n_records, side * side)
    y : array-like of int, shape (n_records,)
    recipe : Recipe, default `PUBLIC_RECIPE`
    augment : bool, default=True
        Random shifts, rotations and scalings of every batch (torchvision's RandomAffine).
    seed : int

    Returns
    -------
    PublicNetwork, in eval mode, with `feature_mean` set.
    """
    import torchvision.transforms.v2 as transforms

    recipe = as_recipe(PUBLIC_RECIPE if recipe is None else recipe)
    X, y = check_features_labels(X, y, n_classes=10)
    seed = check_seed(seed)
    side = int(round(X.shape[1] ** 0.5)) if X.ndim == 2 else X.shape[-1]
    if X.ndim != 2 or side * side != X.shape[1]:
        raise ValueError(f"X must hold flattened square images (n_records, side * side), got shape {X.shape}.")
    jitter = transforms.RandomAffine(degrees=12, translate=(0.1, 0.1), scale=(0.85, 1.15))
    images = torch.from_numpy(X).reshape(-1, 1, side, side)
    labels = torch.from_numpy(y)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = PublicNetwork(side=side)
        optimizer = torch.optim.Adam(network.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
        for _ in range(recipe.epochs):
            order = torch.randperm(len(labels))
            for start in range(0, len(labels), recipe.batch_size):
                batch = order[start:start + recipe.batch_size]
                inputs = jitter(images[batch]) if augment else images[batch]
                loss = nn.functional.cross_entropy(network(inputs), labels[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    network.eval()
    with torch.no_grad():
        network.feature_mean.copy_(network.dense[1](network.dense[0](network.trunk(images))).mean(0))
    return network


def _check_images(network: PublicNetwork, X) -> torch.Tensor:
    if not isinstance(network, PublicNetwork):
        raise ValueError(f"network must be a PublicNetwork (from train_public_network), got {type(network).__name__}.")
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != network.side ** 2:
        raise ValueError(f"X must have shape (n_records, {network.side ** 2}) for this network, got {X.shape}.")
    return torch.from_numpy(np.ascontiguousarray(X))


def trunk_features(network: PublicNetwork, X) -> np.ndarray:
    """The frozen convolutions' outputs, float32 of shape (n_records, network.trunk_width)."""
    images = _check_images(network, X)
    with torch.no_grad():
        return network.trunk(images.reshape(-1, 1, network.side, network.side)).numpy()


def head_features(network: PublicNetwork, X) -> np.ndarray:
    """The hidden layer, centred on the public data and scaled to unit L2 norm: (n_records, hidden) float32.

    Unit length bounds one record's gradient on a linear head (by sqrt(2) for cross-entropy), so the
    clipping norm can be set where it clips little and the noise it calibrates stays small.
    """
    images = _check_images(network, X)
    with torch.no_grad():
        hidden = network.dense[1](network.dense[0](network.trunk(images.reshape(-1, 1, network.side, network.side))))
        centred = hidden - network.feature_mean
        return (centred / centred.norm(dim=1, keepdim=True).clamp_min(1e-6)).numpy()


def dense_layers(network: PublicNetwork) -> nn.Module:
    """A fresh copy of the network's dense part as a course MLP (trunk_width -> hidden -> n_classes).

    Its weights are the public ones, whatever the seed of `utils.train.init_model`: fine-tuning starts
    from what the public data taught, and the batched DP trainer can train many copies at once.
    """
    from ..models import MLP

    first, last = network.dense[0], network.dense[2]
    mlp = MLP(in_features=first.in_features, hidden=(first.out_features,), n_classes=last.out_features)
    with torch.no_grad():
        mlp.net[1].weight.copy_(first.weight)
        mlp.net[1].bias.copy_(first.bias)
        mlp.net[3].weight.copy_(last.weight)
        mlp.net[3].bias.copy_(last.bias)
    return mlp
