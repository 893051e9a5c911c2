"""Interactive controls for the lessons, and the plain functions behind them (Lesson 01).

Each control is a thin `ipywidgets` layer over a plain function that a notebook can also call
without widgets, so an executed notebook shows its figure even where no widget frontend runs:

- `measure_overfitting` / `train_and_measure`: how a target model treats its members versus
  records it never saw (per-record loss, confidence, accuracy).
- `plot_overfitting`: the generalisation gap and the member / non-member loss histograms.
- `plot_loss_tails`: where in the loss distribution members and non-members differ.
- `generalization_curve` / `plot_generalization_gap`: the gap as the training set grows.
- `overfitting_explorer`: sliders for training-set size and epochs that retrain and re-plot.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from .data import MembershipSplit
from .models import MLP
from .plots import MEMBER_COLOR, NONMEMBER_COLOR, plot_histograms
from .seed import spawn_seeds
from .train import init_model, predict_logits, per_record_loss, train_batched, train_model
from .validation import check_features_labels, check_positive_int

__all__ = [
    "OverfitReport",
    "member_subset",
    "measure_overfitting",
    "train_and_measure",
    "plot_overfitting",
    "plot_loss_tails",
    "GapCurve",
    "generalization_curve",
    "plot_generalization_gap",
    "overfitting_explorer",
]

_LOSS_FLOOR = 1e-12  # losses of perfectly memorised records round to 0 in float64; log axes need > 0


@dataclass(frozen=True)
class OverfitReport:
    """How one model treats its training records (members) and records it never saw (Lesson 01).

    Attributes
    ----------
    member_loss, nonmember_loss : ndarray of float64, shapes (n_members,), (n_nonmembers,)
        Cross-entropy of each record, in nats (floored at 1e-12 so that log axes work).
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
    loss = np.maximum(per_record_loss(logits, y), _LOSS_FLOOR)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    confidence = 1.0 / shifted.sum(axis=-1)  # the top class's softmax probability
    correct = logits.argmax(axis=-1) == y
    return loss, confidence, correct


def measure_overfitting(model, X_members, y_members, X_nonmembers, y_nonmembers, *, n_train: int = 0, epochs: int = 0) -> OverfitReport:
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
    X_nonmembers, y_nonmembers = check_features_labels(X_nonmembers, y_nonmembers, X_name="X_nonmembers", y_name="y_nonmembers")
    m_loss, m_conf, m_ok = _loss_and_confidence(predict_logits(model, X_members), y_members)
    n_loss, n_conf, n_ok = _loss_and_confidence(predict_logits(model, X_nonmembers), y_nonmembers)
    return OverfitReport(m_loss, n_loss, m_conf, n_conf, float(m_ok.mean()), float(n_ok.mean()), n_train, epochs)


def train_and_measure(X, y, split: MembershipSplit, *, n_train: int, epochs: int = 50, seed: int = 0, build_model=MLP) -> OverfitReport:
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
    return measure_overfitting(model, X[members], y[members], X[split.nonmembers], y[split.nonmembers], n_train=len(members), epochs=epochs)


def plot_overfitting(report: OverfitReport, axes=None):
    """Two panels: train vs test accuracy (the gap), and member vs non-member losses (Lesson 01).

    Parameters
    ----------
    report : OverfitReport
    axes : sequence of two matplotlib Axes, optional

    Returns
    -------
    axes : ndarray of two matplotlib Axes
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1, 2]})
    axes = np.asarray(axes).ravel()
    if len(axes) != 2:
        raise ValueError(f"axes must hold two Axes (accuracy, losses), got {len(axes)}.")
    ax = axes[0]
    values = [report.train_accuracy, report.test_accuracy]
    bars = ax.bar(["members\n(train)", "non-members\n(test)"], values, color=[MEMBER_COLOR, NONMEMBER_COLOR], alpha=0.8)
    ax.bar_label(bars, labels=[f"{v:.1%}" for v in values])
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("accuracy")
    ax.set_title(f"gap = {report.gap:.1%}")
    plot_histograms(report.member_loss, report.nonmember_loss, ax=axes[1], xlabel="loss (nats, log scale)", log_x=True)
    size = f"{report.n_train} training records, {report.epochs} epochs: " if report.n_train else ""
    axes[1].set_title(
        f"{size}mean loss {np.mean(report.member_loss):.3g} (members) vs {np.mean(report.nonmember_loss):.3g}", fontsize="medium"
    )
    return axes


def plot_loss_tails(report: OverfitReport, ax=None):
    """Fraction of members and of non-members whose loss exceeds each value, log-log (Lesson 01).

    Where the curves sit apart, the loss tells members from non-members. For a model that
    generalises fairly well (like lesson 01's target) that happens only on the right: records with
    a high loss are almost all non-members. A curve ends where no record of its group is left.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = plt.subplots(figsize=(6, 4))[1] if ax is None else ax
    both = np.concatenate([report.member_loss, report.nonmember_loss])
    grid = np.logspace(np.log10(both.min()), np.log10(both.max()), 200)
    for losses, color, label in (
        (report.member_loss, MEMBER_COLOR, "members (trained on)"),
        (report.nonmember_loss, NONMEMBER_COLOR, "non-members (never seen)"),
    ):
        above = 1.0 - np.searchsorted(np.sort(losses), grid, side="right") / len(losses)
        ax.step(grid, np.where(above > 0, above, np.nan), where="post", color=color, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("loss x (nats, log scale)")
    ax.set_ylabel("fraction of records with loss > x")
    ax.legend(fontsize="small")
    return ax


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


def generalization_curve(X, y, split: MembershipSplit, sizes, *, n_models: int = 4, epochs: int = 50, seed: int = 0, build_model=MLP) -> GapCurve:
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
    for i, (size, size_seed) in enumerate(zip(sizes, spawn_seeds(seed, len(sizes)))):
        rng = np.random.default_rng(size_seed)
        subsets = np.stack([rng.choice(members, int(size), replace=False) for _ in range(n_models)])
        batch = train_batched(build_model, X, y, subsets, epochs=epochs, seed=size_seed)
        logits = predict_logits(batch, X[np.concatenate([members, nonmembers])])  # (K, n, C)
        predicted = logits.argmax(axis=-1)
        position = {int(r): j for j, r in enumerate(members)}
        for k in range(n_models):
            rows = [position[int(r)] for r in subsets[k]]
            train_acc[i, k] = np.mean(predicted[k, rows] == y[subsets[k]])
            test_acc[i, k] = np.mean(predicted[k, len(members):] == y[nonmembers])
    return GapCurve(sizes.astype(np.int64), train_acc, test_acc, epochs)


def plot_generalization_gap(curve: GapCurve, ax=None):
    """Train and test accuracy (mean and each model) against training-set size, log x-axis (Lesson 01).

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = plt.subplots(figsize=(6, 4))[1] if ax is None else ax
    for values, color, label in (
        (curve.train_accuracy, MEMBER_COLOR, "members (train accuracy)"),
        (curve.test_accuracy, NONMEMBER_COLOR, "non-members (test accuracy)"),
    ):
        ax.plot(np.repeat(curve.sizes, values.shape[1]), values.ravel(), ".", color=color, alpha=0.4)
        ax.plot(curve.sizes, values.mean(axis=1), "-o", color=color, label=label)
    ax.fill_between(curve.sizes, curve.test_accuracy.mean(axis=1), curve.train_accuracy.mean(axis=1), color="grey", alpha=0.15, label="generalisation gap")
    ax.set_xscale("log")
    ax.set_xlabel("training-set size (records, log scale)")
    ax.set_ylabel("accuracy")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def overfitting_explorer(X, y, split: MembershipSplit, *, n_train: int = 200, epochs: int = 50, max_epochs: int = 100, seed: int = 0):
    """Sliders for training-set size and epochs that retrain a target and redraw `plot_overfitting`.

    Each change retrains one small MLP (about a second on a laptop for a few hundred records);
    the sliders only fire when released (``continuous_update=False``).

    Parameters
    ----------
    X, y, split
        As in `train_and_measure`.
    n_train : int, default=200
        Initial training-set size; the slider runs from 50 (or fewer members) to all members.
    epochs : int, default=50
        Initial epochs; the slider runs from 1 to `max_epochs`.
    seed : int, default=0

    Returns
    -------
    ipywidgets.VBox
        Display it (make it the last expression of a cell).
    """
    import ipywidgets as widgets
    from IPython.display import display

    X, y = check_features_labels(X, y)
    n_max = len(split.members)
    n_train = check_positive_int(n_train, "n_train")
    max_epochs = check_positive_int(max_epochs, "max_epochs")
    epochs = check_positive_int(epochs, "epochs")
    if n_train > n_max or epochs > max_epochs:
        raise ValueError(f"need n_train <= {n_max} members and epochs <= max_epochs = {max_epochs}, got {n_train} and {epochs}.")
    size_slider = widgets.IntSlider(value=n_train, min=min(50, n_train), max=n_max, step=50 if n_max >= 100 else 1,
                                    description="records", continuous_update=False)
    epoch_slider = widgets.IntSlider(value=epochs, min=1, max=max_epochs, step=1, description="epochs", continuous_update=False)

    def redraw(n_train, epochs):
        report = train_and_measure(X, y, split, n_train=n_train, epochs=epochs, seed=seed)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1, 2]})
        plot_overfitting(report, axes)
        display(fig)
        plt.close(fig)  # shown once, by display, under any matplotlib backend

    output = widgets.interactive_output(redraw, {"n_train": size_slider, "epochs": epoch_slider})
    return widgets.VBox([widgets.HBox([size_slider, epoch_slider]), output])


# ----------------------------------------------------------------------------- Lesson 02: the loss attack
# Plain functions behind lesson 02's threshold slider and membership game. Scores follow the course
# convention (higher = more likely member); for the loss attack a score is minus the loss.

from .plots import PALETTE  # noqa: E402  (imports of the lesson 02 section)
from .validation import check_membership  # noqa: E402


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
    from .attacks.threshold import evaluate_threshold  # local: lesson 01's widgets need no attack code

    labels, scores = check_membership(labels, scores)
    n_rounds = check_positive_int(n_rounds, "n_rounds")
    rates = evaluate_threshold(labels, scores, threshold)
    rng = np.random.default_rng(seed)
    coins = rng.integers(0, 2, n_rounds)
    picks = np.where(
        coins == 1,
        rng.choice(np.flatnonzero(labels == 1), n_rounds),
        rng.choice(np.flatnonzero(labels == 0), n_rounds),
    )
    guesses = (scores[picks] >= threshold).astype(np.int64)
    return GameResult(coins.astype(np.int64), guesses, rates.tpr, rates.fpr)


def plot_membership_game(result: GameResult, ax=None):
    """The attacker's running win rate over the rounds of the game, against a coin flip (Lesson 02).

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = plt.subplots(figsize=(6, 3.6))[1] if ax is None else ax
    rounds = np.arange(1, len(result.coins) + 1)
    running = np.cumsum(result.coins == result.guesses) / rounds
    ax.plot(rounds, running, color=PALETTE["vermillion"], label="attacker's win rate so far")
    ax.axhline(result.expected_win_rate, color=PALETTE["black"], ls=":",
               label=f"(1 + TPR - FPR) / 2 = {result.expected_win_rate:.1%}")
    ax.axhline(0.5, color="grey", ls="--", label="guessing with a coin (50%)")
    ax.set_xscale("log")
    ax.set_xlabel("rounds played (log scale)")
    ax.set_ylabel("fraction of rounds won")
    ax.set_ylim(0.3, 0.8)
    ax.legend(loc="upper right", fontsize="small")
    return ax


def _check_loss_scores(labels, scores):
    labels, scores = check_membership(labels, scores)
    if np.any(scores > 0):
        raise ValueError(
            f"scores must be minus the loss of each record (<= 0), found {int(np.sum(scores > 0))} positive "
            f"values (largest {scores.max():.3g}). Use utils.attacks.threshold.score(..., kind='loss'), "
            "or pass -losses."
        )
    return labels, scores


def _check_max_loss(max_loss) -> float:
    if isinstance(max_loss, bool) or not isinstance(max_loss, (int, float, np.floating, np.integer)) \
            or not np.isfinite(max_loss) or max_loss <= 0:
        raise ValueError(f"max_loss must be a positive number of nats, got {max_loss!r}. Try 0.01.")
    return float(max_loss)


def plot_loss_threshold(labels, scores, max_loss: float, axes=None):
    """The loss attack at one threshold: histograms with the threshold line, and the confusion matrix (Lesson 02).

    Every record whose loss is at most `max_loss` is flagged as a member (the score rule
    ``score >= -max_loss``). The title gives the TPR, the FPR and their difference, the advantage.

    Parameters
    ----------
    labels : array-like of int, shape (n_records,)
        1 = member, 0 = non-member.
    scores : array-like of float, shape (n_records,)
        Minus the loss of each record, in nats (<= 0), e.g. from ``threshold.score(..., kind="loss")``.
    max_loss : float
        The threshold, in nats (> 0).
    axes : sequence of two matplotlib Axes, optional

    Returns
    -------
    axes : ndarray of two matplotlib Axes
    """
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

    from .attacks.threshold import evaluate_threshold

    labels, scores = _check_loss_scores(labels, scores)
    max_loss = _check_max_loss(max_loss)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [2, 1]}, layout="constrained")
    axes = np.asarray(axes).ravel()
    if len(axes) != 2:
        raise ValueError(f"axes must hold two Axes (histograms, confusion matrix), got {len(axes)}.")
    losses = np.maximum(-scores, _LOSS_FLOOR)
    result = evaluate_threshold(labels, scores, -max_loss)
    ax = plot_histograms(losses[labels == 1], losses[labels == 0], ax=axes[0], xlabel="loss (nats, log scale)", log_x=True)
    ax.axvspan(ax.get_xlim()[0], max_loss, color="grey", alpha=0.12, label="flagged as member")
    ax.axvline(max_loss, color=PALETTE["black"], ls="--", label=f"threshold: loss <= {max_loss:.2g}")
    ax.legend(fontsize="small", loc="upper left")
    flagged = (scores >= -max_loss).astype(np.int64)
    matrix = confusion_matrix(labels, flagged, labels=[0, 1])
    ConfusionMatrixDisplay(matrix, display_labels=["non-member", "member"]).plot(
        ax=axes[1], colorbar=False, cmap="Blues", values_format="d")
    axes[1].set_xlabel("attack says")
    axes[1].set_ylabel("truth")
    axes[1].set_title(f"TPR {result.tpr:.1%}, FPR {result.fpr:.1%}\nadvantage {result.advantage:.1%}", fontsize="medium")
    return axes


def threshold_explorer(labels, scores, *, max_loss: float = 0.01):
    """A slider over the loss threshold (log scale) that redraws `plot_loss_threshold` (Lesson 02).

    Nothing is retrained: each move re-counts the records on either side of the threshold.

    Parameters
    ----------
    labels, scores
        As in `plot_loss_threshold`.
    max_loss : float, default=0.01
        Initial threshold, in nats.

    Returns
    -------
    ipywidgets.VBox
        Display it (make it the last expression of a cell).
    """
    import ipywidgets as widgets
    from IPython.display import display

    labels, scores = _check_loss_scores(labels, scores)
    max_loss = _check_max_loss(max_loss)
    losses = np.maximum(-scores, _LOSS_FLOOR)
    low, high = np.floor(np.log10(losses.min())), np.ceil(np.log10(losses.max()))
    slider = widgets.FloatLogSlider(value=float(np.clip(max_loss, 10**low, 10**high)), base=10, min=low, max=high,
                                    step=0.05, description="max loss", readout_format=".2g", continuous_update=False)

    def redraw(max_loss):
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [2, 1]}, layout="constrained")
        plot_loss_threshold(labels, scores, max_loss, axes)
        display(fig)
        plt.close(fig)  # shown once, by display, under any matplotlib backend

    output = widgets.interactive_output(redraw, {"max_loss": slider})
    return widgets.VBox([slider, output])


__all__ += ["GameResult", "membership_game", "plot_membership_game", "plot_loss_threshold", "threshold_explorer"]
