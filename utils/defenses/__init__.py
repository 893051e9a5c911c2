"""Defences against membership inference, each measured against the strongest attacks (Lessons 05-07).

- `regularization`: dropout, weight decay, early stopping as training settings (`Defence`), and
  `measure_defence`, the privacy-utility point of one setting against the loss attack and LiRA
  (Lesson 05).
- `masking`: release the top-1 label, the top-k probabilities or rounded probabilities only
  (`MaskedModel`, Lesson 07); `utils.attacks.label_only` shows what is left of the signal.

Differential privacy (Lesson 06) lives in its own modules, imported by name:
`utils.defenses.dp` (DP-SGD with Opacus, the accountants, `DP_RECIPE`), `utils.defenses.dp_batched`
(K DP shadow models at once) and `utils.defenses.dp_experiment` (the lesson's sweep: `run_epsilon`).
"""

from . import masking, regularization
from .masking import MaskedModel, mask_probabilities, rounded, top1_label, top_k
from .regularization import (
    Defence,
    DefenceResult,
    dropout,
    early_stopping,
    measure_defence,
    no_defence,
    weight_decay,
)

__all__ = [
    "Defence",
    "DefenceResult",
    "MaskedModel",
    "dropout",
    "early_stopping",
    "mask_probabilities",
    "masking",
    "measure_defence",
    "no_defence",
    "regularization",
    "rounded",
    "top1_label",
    "top_k",
    "weight_decay",
]
