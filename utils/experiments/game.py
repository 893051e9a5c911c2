"""Lesson 02: rounds of Yeom et al.'s membership game at one threshold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import check_membership, check_positive_int, check_real

__all__ = [
    "GameResult",
    "membership_game",
]


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
