"""The experiments of lessons 01-02: train, measure, play the game, degrade a record (no plotting).

Each function trains or queries models and returns arrays or a small dataclass; the figures live
in `utils.plots` (`plot_overfitting`, `plot_membership_game`, ...) and the sliders in
`utils.widgets`, so a lesson can run an experiment, plot it, or explore it, separately.

- `measure_overfitting` / `train_and_measure` -> `OverfitReport`: how a model treats its members
  versus records it never saw (per-record loss, confidence, accuracy); `OverfitReport.loss_table`
  gives means, medians and tails side by side (Lesson 01).
- `member_subset`: nested, seeded training subsets, so a slider over the size changes one thing.
- `generalization_curve` -> `GapCurve`: train and test accuracy as the training set grows.
- `membership_game` -> `GameResult`: rounds of Yeom et al.'s membership game (Lesson 02).
- `degrade_records` / `degraded_copy_power` -> `DegradationCurve`: how an attack's power falls when
  the attacker holds only a noisy or partial copy of the record (Lesson 02, course question 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import MembershipSplit
from .inference import per_record_loss, predict_logits
from .metrics import summarize_attack
from .models import MLP
from .plots.overfitting import LOSS_FLOOR
from .seed import spawn_seeds
from .train import init_model, train_batched, train_model
from .validation import check_features_labels, check_fraction, check_membership, check_positive_int, check_real

__all__ = [
    "OverfitReport",
    "member_subset",
    "measure_overfitting",
    "train_and_measure",
    "GapCurve",
    "generalization_curve",
    "GameResult",
    "membership_game",
    "DEGRADATIONS",
    "degrade_records",
    "DegradationCurve",
    "degraded_copy_power",
]


# ----------------------------------------------------------------------------- lesson 01: overfitting


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


# ----------------------------------------------------------------------------- lesson 02: the membership game


@dataclass(frozen=True)
class GameResult:
    """Rounds of the membership game (Yeom et al. 2018) played by one threshold attack (Lesson 02).

    In each round the challenger flips a fair coin, picks a random member (heads, 1) or a random
    non-member (tails, 0), and the attacker guesses "member" when the record's score is at least
    the threshold.

    Attributes
    ----------
    coins : ndarray of int64, shape (n_rounds,)
        The challenger's coin: 1 = it picked a member, 0 = a non-member.
    guesses : ndarray of int64, shape (n_rounds,)
        The attacker's guess: 1 = "member".
    tpr, fpr : float
        The attack's true- and false-positive rates on all the records the challenger picks from.
    """

    coins: np.ndarray
    guesses: np.ndarray
    tpr: float
    fpr: float

    @property
    def win_rate(self) -> float:
        """Fraction of rounds in which the guess matched the coin."""
        return float(np.mean(self.coins == self.guesses))

    @property
    def expected_win_rate(self) -> float:
        """What the win rate converges to: ``(1 + tpr - fpr) / 2``."""
        return 0.5 * (1.0 + self.tpr - self.fpr)

    @property
    def advantage(self) -> float:
        """Measured advantage ``2 * win_rate - 1`` (Yeom et al.); estimates ``tpr - fpr``."""
        return 2.0 * self.win_rate - 1.0


def membership_game(labels, scores, threshold: float, *, n_rounds: int = 1000, seed: int = 0) -> GameResult:
    """Play `n_rounds` of the membership game with the rule "member when score >= threshold" (Lesson 02).

    Parameters
    ----------
    labels : array-like of int, shape (n_records,)
        1 = member, 0 = non-member: the records the challenger picks from.
    scores : array-like of float, shape (n_records,)
        The attack's score of each record; higher = more likely member.
    threshold : float
        The attacker guesses "member" when a record's score is >= `threshold`.
    n_rounds : int, default=1000
    seed : int, default=0
        Seeds the coins and the records picked.

    Returns
    -------
    GameResult
    """
    labels, scores = check_membership(labels, scores)
    n_rounds = check_positive_int(n_rounds, "n_rounds")
    threshold = check_real(threshold, "threshold")
    flagged = scores >= threshold
    tpr, fpr = float(flagged[labels == 1].mean()), float(flagged[labels == 0].mean())
    rng = np.random.default_rng(seed)
    coins = rng.integers(0, 2, n_rounds)
    picks = np.where(
        coins == 1,
        rng.choice(np.flatnonzero(labels == 1), n_rounds),
        rng.choice(np.flatnonzero(labels == 0), n_rounds),
    )
    guesses = (scores[picks] >= threshold).astype(np.int64)
    return GameResult(coins.astype(np.int64), guesses, tpr, fpr)


# ----------------------------------------------------------------------------- lesson 02: an imperfect copy

DEGRADATIONS = ("noise", "missing")


def degrade_records(X, level: float, *, kind: str = "missing", fill=None, seed: int = 0) -> np.ndarray:
    """The attacker's imperfect copies of records `X`: noisy or partly unknown (Lesson 02, question 3).

    Parameters
    ----------
    X : array of float, shape (n_records, n_features), values in [0, 1]
        The true records.
    level : float in [0, 1]
        How bad the copy is. ``kind="missing"``: the fraction of features the attacker does not
        know (chosen at random per record) and fills with `fill`, its best guess. ``kind="noise"``:
        the standard deviation of Gaussian noise added to every feature (a scraped, re-encoded
        copy), clipped back to [0, 1].
    kind : {"missing", "noise"}
    fill : array of float, shape (n_features,), optional
        The attacker's guess for an unknown feature, e.g. the mean of its own pool. Defaults to
        the mean of `X` over records.
    seed : int, default=0

    Returns
    -------
    ndarray of float32, shape (n_records, n_features)
        A new array; ``level=0`` returns an exact copy.
    """
    X = np.asarray(X)
    if X.ndim != 2 or len(X) == 0 or not np.issubdtype(X.dtype, np.floating):
        raise ValueError(
            f"X must be a non-empty float array of shape (n_records, n_features), got {X.dtype} {X.shape}."
        )
    level = check_fraction(level, "level", low_open=False, high_open=False)
    if kind not in DEGRADATIONS:
        raise ValueError(f"kind must be one of {DEGRADATIONS}, got {kind!r}.")
    rng = np.random.default_rng(seed)
    copy = X.astype(np.float32, copy=True)
    if kind == "noise":
        return np.clip(copy + rng.normal(0.0, level, size=X.shape).astype(np.float32), 0.0, 1.0) if level else copy
    fill = X.mean(axis=0) if fill is None else np.asarray(fill, dtype=np.float32)
    if fill.shape != (X.shape[1],):
        raise ValueError(f"fill must hold one value per feature, shape ({X.shape[1]},), got {fill.shape}.")
    unknown = rng.random(X.shape) < level
    copy[unknown] = np.broadcast_to(fill, X.shape)[unknown]
    return copy


@dataclass(frozen=True)
class DegradationCurve:
    """An attack's power against the quality of the attacker's copies of the records (Lesson 02).

    Attributes
    ----------
    kind : str
        How the copies were degraded ("missing" or "noise", see `degrade_records`).
    levels : ndarray of float64, shape (n_levels,)
    auc : ndarray of float64, shape (n_levels,)
    tpr : ndarray of float64, shape (n_levels,)
        TPR at FPR `fpr` at each level.
    fpr : float
    record_scores : ndarray of float64, shape (n_levels,) or None
        The score of one chosen record (e.g. John Doe's) at each level, when asked for.
    """

    kind: str
    levels: np.ndarray
    auc: np.ndarray
    tpr: np.ndarray
    fpr: float
    record_scores: np.ndarray | None = None


def degraded_copy_power(score_records, X, labels, levels, *, kind: str = "missing", fpr: float = 0.01, fill=None,
                        seed: int = 0, record: int | None = None) -> DegradationCurve:
    """Run an attack on degraded copies of the evaluation records, one degradation level at a time.

    The target and the true membership never change; only the records the attacker queries with
    do. At level 0 the attacker holds the exact records, as everywhere else in the course.

    Parameters
    ----------
    score_records : callable
        ``score_records(X_copy) -> scores`` of shape (n_records,), higher = more likely member,
        e.g. ``lambda Xc: threshold.score(target, Xc, y_eval, kind="loss")``.
    X : array of float, shape (n_records, n_features)
        The true evaluation records.
    labels : array of int, shape (n_records,)
        1 = member, 0 = non-member.
    levels : sequence of float in [0, 1]
        Degradation levels (see `degrade_records`).
    kind : {"missing", "noise"}
    fpr : float, default=0.01
        The FPR at which the TPR is reported.
    fill, seed
        As in `degrade_records`; every level uses the same seed, so the unknown features at a
        higher level include those of a lower one for "missing".
    record : int, optional
        Index of one record whose score is also returned per level.

    Returns
    -------
    DegradationCurve
    """
    labels = np.asarray(labels)
    levels = np.asarray([check_fraction(v, "level", low_open=False, high_open=False) for v in levels], dtype=np.float64)
    if len(levels) == 0:
        raise ValueError("levels is empty; pass degradation levels such as [0, 0.1, 0.3].")
    if record is not None:
        if isinstance(record, (bool, np.bool_)) or not isinstance(record, (int, np.integer)) \
                or not 0 <= record < len(labels):
            raise ValueError(f"record must index one of the {len(labels)} records, got {record}.")
    aucs, tprs, chosen = [], [], []
    for level in levels:
        scores = np.asarray(score_records(degrade_records(X, level, kind=kind, fill=fill, seed=seed)), dtype=np.float64)
        labels_checked, scores = check_membership(labels, scores)
        summary = summarize_attack(labels_checked, scores, fprs=(fpr,))
        aucs.append(summary.auc)
        tprs.append(summary.tpr_at_fpr[fpr])
        if record is not None:
            chosen.append(scores[record])
    return DegradationCurve(kind, levels, np.array(aucs), np.array(tprs), float(fpr),
                            None if record is None else np.array(chosen))
