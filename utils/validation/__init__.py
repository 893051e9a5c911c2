"""Shared input checks: the one validation vocabulary of `utils`. Every public function validates
through these, so the same mistake always gets the same message: what was found, and what to change.

- numbers (`validation.scalars`): `check_real`, `check_positive_int`, `check_fraction`, `check_seed`,
  `check_max_loss` (a loss threshold);
- arrays (`validation.arrays`): `as_1d`, `check_features_labels`, `check_logits_labels`, `check_membership`,
  `check_loss_scores`; record sets: `check_indices`, `check_subsets` (which records train which model),
  `check_record_mask`; observations of many models (attacks): `check_observations`, `check_in_mask`;
- models themselves: `utils.models.check_model`.

>>> check_fraction(0.01, "fpr")
0.01
>>> check_positive_int(True, "n_shadows")
Traceback (most recent call last):
...
ValueError: n_shadows must be an integer >= 1, got True.
"""

from .arrays import (
    as_1d,
    check_features_labels,
    check_in_mask,
    check_indices,
    check_logits_labels,
    check_loss_scores,
    check_membership,
    check_observations,
    check_record_mask,
    check_subsets,
)
from .scalars import check_delta, check_fraction, check_max_loss, check_positive_int, check_real, check_seed

__all__ = [
    "as_1d",
    "check_membership",
    "check_fraction",
    "check_real",
    "check_positive_int",
    "check_indices",
    "check_seed",
    "check_features_labels",
    "check_logits_labels",
    "check_observations",
    "check_in_mask",
    "check_subsets",
    "check_record_mask",
    "check_loss_scores",
    "check_max_loss",
    "check_delta",
]
