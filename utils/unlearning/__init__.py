"""Machine unlearning and the audits that check it (Lesson 10).

- `request`   : `UnlearningRequest` (who trained on what, who must be forgotten), forget sets, the
                audit's shadow design.
- `steps`     : continue training K stacked models (descent and ascent), the engine of the
                approximate methods.
- `methods`   : retrain, fine-tune, gradient ascent, ascent+descent: one call shape, a registry.
- `sisa`      : SISA-style sharded training, exact by construction.
- `audits`    : the population test and the per-example U-LiRA (Hayes et al. 2025).
- `experiment`: the shadow experiment behind the lesson, as plain arrays.
- `release`   : every method on lesson 08's released model, timed, with its accuracy.
- `report`    : the lesson's tables and audit grids; `onion`: the privacy onion effect.

The figures are in `utils.plots.unlearning`, the budget slider in `utils.widgets.unlearning`, the
benchmark in `utils.bench.unlearning`.
"""

from . import sisa  # noqa: F401  (registers "sisa")
from .audits import (
                     MethodAudit,
                     PopulationResult,
                     UliraResult,
                     audit_method,
                     gaussian_log_ratio,
                     pooled_ulira,
                     population_test,
                     tpr_with_interval,
                     ulira_scores,
)
from .experiment import DEFAULT_BUDGETS, observations, path_at, path_budgets, run_shadow_experiment
from .methods import APPROXIMATE, EXACT, METHODS, as_batch, get_method, unlearning_path
from .request import UnlearningRequest, audit_design, forget_rows, make_request
from .sisa import ShardedModels, sisa_logits, train_sisa, unlearn_sisa

__all__ = [
    "UnlearningRequest", "make_request", "forget_rows", "audit_design",
    "METHODS", "EXACT", "APPROXIMATE", "get_method", "as_batch", "unlearning_path",
    "ShardedModels", "train_sisa", "unlearn_sisa", "sisa_logits",
    "gaussian_log_ratio", "ulira_scores", "pooled_ulira", "UliraResult", "population_test", "PopulationResult",
    "tpr_with_interval", "MethodAudit", "audit_method",
    "DEFAULT_BUDGETS", "observations", "run_shadow_experiment", "path_at", "path_budgets",
]
