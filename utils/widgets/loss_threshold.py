"""The loss-threshold attack, interactively (Lesson 02).

Plain functions behind lesson 02's threshold slider and membership game; `threshold_explorer`
is the thin `ipywidgets` layer over `plot_loss_threshold`. Scores follow the course convention
(higher = more likely member); for the loss attack a score is minus the loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from ..attacks.threshold import evaluate_threshold
from ..plots import PALETTE, plot_histograms
from ..validation import check_membership, check_positive_int
from .overfitting import _LOSS_FLOOR  # losses that round to 0 still need a place on a log axis

__all__ = ["GameResult", "membership_game", "plot_membership_game", "plot_loss_threshold", "threshold_explorer"]


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
