"""Lesson 01: how a model treats its members versus records it never saw, and the gap as the training set grows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import MembershipSplit
from ..inference import per_record_loss, predict_logits
from ..models import MLP
from ..plots.overfitting import LOSS_FLOOR
from ..seed import spawn_seeds
from ..train import init_model, train_batched, train_model
from ..validation import check_features_labels, check_fraction, check_positive_int

__all__ = [
    "OverfitReport",
    "member_subset",
    "measure_overfitting",
    "train_and_measure",
    "GapCurve",
    "generalization_curve",
]


@dataclass(frozen=True)
class OverfitReport:
    """How one model treats its training records (members) and records it never saw (Lesson 01).

    Attributes
    ----------
    member_loss, nonmember_loss : ndarray of float64, shapes (n_members,), (n_nonmembers,)
        Cross-entropy of each record (minus the log of the true class's probability), in nats,
        floored at 1e-12 so that log axes work.
    member_confidence, nonmember_confidence : ndarray of float64, same shapes
        The highest softmax probability of each record: what a prediction API reports.
    train_accuracy, test_accuracy : float
        Accuracy on the members and on the non-members.
    n_train, epochs : int
        Training-set size and epochs of the model (0 when unknown).
    """

    member_loss: np.ndarray
    nonmember_loss: np.ndarray
    member_confidence: np.ndarray
    nonmember_confidence: np.ndarray
    train_accuracy: float
    test_accuracy: float
    n_train: int = 0
    epochs: int = 0

    @property
    def gap(self) -> float:
        """The generalisation gap: train accuracy minus test accuracy."""
        return self.train_accuracy - self.test_accuracy

    def fraction_at_most(self, loss: float) -> tuple[float, float]:
        """Fractions of members and of non-members whose loss is at most `loss` (nats)."""
        return float(np.mean(self.member_loss <= loss)), float(np.mean(self.nonmember_loss <= loss))

    def loss_table(self, quantiles=(0.5, 0.9, 0.99)):
        """Mean and quantiles of the loss for members and non-members, as a pandas DataFrame.

        Rows: ``members``, ``non-members``; columns: ``mean``, then ``median`` and ``q90``, ``q99``
        (for the default quantiles), in nats. The mean mixes the bulk and the tail; the median is
        the typical record; the high quantiles are the tail, where members and non-members differ.
        """
        import pandas as pd

        quantiles = tuple(check_fraction(q, "quantile", low_open=False, high_open=False) for q in quantiles)
        names = ["median" if q == 0.5 else f"q{100 * q:g}" for q in quantiles]
        rows = {}
        for name, losses in (("members", self.member_loss), ("non-members", self.nonmember_loss)):
            rows[name] = [float(np.mean(losses)), *np.quantile(losses, quantiles).tolist()]
        return pd.DataFrame.from_dict(rows, orient="index", columns=["mean", *names])


def member_subset(split: MembershipSplit, n_train: int, *, seed: int = 0) -> np.ndarray:
    """The first `n_train` members in a seeded random order, shape (n_train,).

    Subsets are nested: the 100 records used for ``n_train=100`` include the 50 used for 50, so a
    slider over `n_train` changes one thing only. (The digits file is sorted by class, so
    ``members[:n_train]`` would hold few classes.)
    """
    n_train = check_positive_int(n_train, "n_train")
    if n_train > len(split.members):
        raise ValueError(
            f"n_train must be at most the {len(split.members)} members of the split, got {n_train}. "
            "Make a split with more members: make_membership_split(y, n_members=...)."
        )
    order = np.random.default_rng(seed).permutation(split.members)
    return order[:n_train]


def _loss_and_confidence(logits, y):
    loss = np.maximum(per_record_loss(logits, y), LOSS_FLOOR)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    confidence = 1.0 / shifted.sum(axis=-1)  # the top class's softmax probability
    correct = logits.argmax(axis=-1) == y
    return loss, confidence, correct


def measure_overfitting(model, X_members, y_members, X_nonmembers, y_nonmembers, *, n_train: int = 0,
                        epochs: int = 0) -> OverfitReport:
    """Per-record loss and confidence of `model` on its members and on non-members (Lesson 01).

    Parameters
    ----------
    model : nn.Module
        A trained classifier.
    X_members, y_members : arrays of shapes (n_members, n_features), (n_members,)
        The records `model` was trained on.
    X_nonmembers, y_nonmembers : arrays of shapes (n_nonmembers, n_features), (n_nonmembers,)
        Records from the same distribution that `model` never saw.
    n_train, epochs : int, optional
        Stored in the report for titles.

    Returns
    -------
    OverfitReport
    """
    X_members, y_members = check_features_labels(X_members, y_members, X_name="X_members", y_name="y_members")
    X_nonmembers, y_nonmembers = check_features_labels(X_nonmembers, y_nonmembers, X_name="X_nonmembers",
                                                       y_name="y_nonmembers")
    m_loss, m_conf, m_ok = _loss_and_confidence(predict_logits(model, X_members), y_members)
    n_loss, n_conf, n_ok = _loss_and_confidence(predict_logits(model, X_nonmembers), y_nonmembers)
    return OverfitReport(m_loss, n_loss, m_conf, n_conf, float(m_ok.mean()), float(n_ok.mean()), n_train, epochs)


def train_and_measure(X, y, split: MembershipSplit, *, n_train: int, epochs: int = 50, seed: int = 0,
                      build_model=MLP) -> OverfitReport:
    """Train a target on `n_train` members (see `member_subset`) and measure it on every non-member.

    Parameters
    ----------
    X : array of float, shape (n_records, n_features); y : array of int, shape (n_records,)
    split : MembershipSplit
    n_train : int
        Training-set size, 1 .. len(split.members).
    epochs : int, default=50
    seed : int, default=0
        Seeds the subset, the initial weights and the batch order.
    build_model : callable, default=MLP

    Returns
    -------
    OverfitReport
    """
    X, y = check_features_labels(X, y)
    epochs = check_positive_int(epochs, "epochs")
    members = member_subset(split, n_train, seed=seed)
    model = train_model(init_model(build_model, seed), X[members], y[members], epochs=epochs, seed=seed)
    return measure_overfitting(model, X[members], y[members], X[split.nonmembers], y[split.nonmembers],
                               n_train=len(members), epochs=epochs)


@dataclass(frozen=True)
class GapCurve:
    """Train and test accuracy of several models per training-set size (Lesson 01).

    Attributes
    ----------
    sizes : ndarray of int64, shape (n_sizes,)
    train_accuracy, test_accuracy : ndarray of float64, shape (n_sizes, n_models)
        Accuracy of each model on its own training records and on the split's non-members.
    epochs : int
    """

    sizes: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    epochs: int

    @property
    def gap(self) -> np.ndarray:
        """Mean train minus mean test accuracy per size, shape (n_sizes,)."""
        return self.train_accuracy.mean(axis=1) - self.test_accuracy.mean(axis=1)


def generalization_curve(X, y, split: MembershipSplit, sizes, *, n_models: int = 4, epochs: int = 50, seed: int = 0,
                         build_model=MLP, progress: bool = False) -> GapCurve:
    """Train `n_models` models per training-set size with `train_batched` and measure the gap.

    Parameters
    ----------
    X : array of float, shape (n_records, n_features); y : array of int, shape (n_records,)
    split : MembershipSplit
        Models train on random subsets of ``split.members`` and are tested on ``split.nonmembers``.
    sizes : sequence of int
        Training-set sizes, each in 1 .. len(split.members).
    n_models : int, default=4
        Models per size (each on its own random subset), to show the spread.
    epochs : int, default=50
    seed : int, default=0
    progress : bool, default=False
        Show a progress bar over the sizes (`utils.progress`: a bar that saved notebooks show finished).

    Returns
    -------
    GapCurve
    """
    X, y = check_features_labels(X, y)
    n_models = check_positive_int(n_models, "n_models")
    epochs = check_positive_int(epochs, "epochs")
    sizes = np.asarray(sizes)
    if sizes.ndim != 1 or len(sizes) == 0 or not np.issubdtype(sizes.dtype, np.integer):
        raise ValueError(f"sizes must be a non-empty list of integers, got {sizes!r}.")
    if sizes.min() < 1 or sizes.max() > len(split.members):
        raise ValueError(f"sizes must lie in 1 .. {len(split.members)} (the number of members), got {sizes.tolist()}.")
    members, nonmembers = split.members, split.nonmembers
    train_acc = np.empty((len(sizes), n_models))
    test_acc = np.empty((len(sizes), n_models))
    position = {int(r): j for j, r in enumerate(members)}
    steps = list(enumerate(zip(sizes, spawn_seeds(seed, len(sizes)))))
    if progress:
        from utils.progress import progress_bar

        steps = progress_bar(steps, desc="training-set sizes", unit="size")
    for i, (size, size_seed) in steps:
        rng = np.random.default_rng(size_seed)
        subsets = np.stack([rng.choice(members, int(size), replace=False) for _ in range(n_models)])
        batch = train_batched(build_model, X, y, subsets, epochs=epochs, seed=size_seed)
        logits = predict_logits(batch, X[np.concatenate([members, nonmembers])])  # (K, n, C)
        predicted = logits.argmax(axis=-1)
        for k in range(n_models):
            rows = [position[int(r)] for r in subsets[k]]
            train_acc[i, k] = np.mean(predicted[k, rows] == y[subsets[k]])
            test_acc[i, k] = np.mean(predicted[k, len(members):] == y[nonmembers])
    return GapCurve(sizes.astype(np.int64), train_acc, test_acc, epochs)
