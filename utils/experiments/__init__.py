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

from .degraded import DEGRADATIONS, DegradationCurve, degrade_records, degraded_copy_power
from .game import GameResult, membership_game
from .overfitting import (
    GapCurve,
    OverfitReport,
    generalization_curve,
    measure_overfitting,
    member_subset,
    train_and_measure,
)

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
