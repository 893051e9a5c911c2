"""Membership inference attacks (Lessons 02-03). Every attack returns one float64 score per record,
**higher = more likely member**, so `utils.metrics` and `utils.plots` treat them all alike.

- `threshold`: loss, confidence, log-odds, entropy and modified-entropy scores; choosing a threshold
  from the attacker's own data versus the oracle (Yeom et al. 2018).
- `shadow`   : shadow models on balanced halves (batched) and Shokri et al.'s per-class attack models.
- `lira`     : the Likelihood Ratio Attack, online and offline (Carlini et al. 2022).
- `pooled`   : several targets scored against the same shadows, for honest TPR at 0.1% FPR.
- `compare`  : one tidy table (AUC, advantage, TPR at low FPR with Clopper-Pearson intervals, time).
"""

from . import compare, lira, pooled, shadow, threshold

__all__ = ["threshold", "shadow", "lira", "pooled", "compare"]
