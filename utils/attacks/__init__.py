"""Membership inference attacks (Lessons 02-03). Every attack has one call shape,

    score(target, X, y, *, shadows=None, **options) -> float64 array (n_records,), higher = more likely member,

and is registered by name in `registry` (``registry.get("lira-online")``), so `utils.metrics`,
`utils.plots` and `pooled` treat them all alike.

- `registry` : name -> attack function; how to add one.
- `signals`  : per-record signals from logits (loss, confidence, log-odds, entropy, modified entropy).
- `threshold`: threshold attacks on one signal; choosing a threshold from the attacker's own data
  versus the oracle (Yeom et al. 2018).
- `shadow`   : shadow models on balanced halves (batched) and Shokri et al.'s per-class attack models.
- `lira`     : the Likelihood Ratio Attack, online and offline (Carlini et al. 2022).
- `rmia`     : the Robust Membership Inference Attack, online and offline (Zarifzadeh et al. 2024).
- `label_only`: attacks that see only predicted labels (gap, label robustness, boundary distance; lesson 07).
- `label_only`: gap, label-robustness and boundary-distance attacks on labels alone (Lesson 07).
- `pooled`   : several targets scored against the same shadows, for honest TPR at 0.1% FPR.
- `report`   : one tidy table (AUC, advantage, TPR at low FPR with Clopper-Pearson intervals, time).
"""

from . import registry, signals, shadow, threshold, lira, rmia, label_only, pooled, report  # noqa: I001 (registration order)

__all__ = ["registry", "signals", "threshold", "shadow", "lira", "rmia", "label_only", "pooled", "report"]
