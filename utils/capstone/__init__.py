"""The capstone audit (Lesson 08): audit a released model end to end.

- `threat`  : `ThreatModel` (what the attacker gets) and `allowed_attacks` (what it can therefore run).
- `release` : the released model and its model card (`release_model`).
- `audit`   : `run_audit` runs the allowed attacks (from `utils.attacks.registry`) -> `AuditResult`;
              `risk_level`, `draft_verdict`.
- `estimator`: a scikit-learn classifier as an audit target (`EstimatorModel`) and its shadows, clones
              of it (`fit_estimator_shadows`); which attacks that allows.
- `own_data`: `split_own_data`, the members, non-members and population of an audit of your own model.
- `tradeoff`: `TradeoffPoint`s for the privacy-utility chart: the audited model's, and defences'
              measured by `utils.defenses.measure_defence`.
- `deletion`: data is persistent: `deletion_experiment` deletes records, attacks, retrains, attacks again.

The HTML report a student hands in is written by `utils.audit_report`.
"""

from .audit import (
    AuditResult,
    draft_verdict,
    risk_level,
    run_audit,
)
from .deletion import (
    DeletionResult,
    choose_group,
    deletion_experiment,
    group_membership,
    group_power,
    weights_fingerprint,
)
from .estimator import (
    ESTIMATOR_SHADOW_ATTACKS,
    ESTIMATOR_UNSUPPORTED,
    EstimatorModel,
    EstimatorShadows,
    estimator_shadow_scores,
    fit_estimator_shadows,
    is_estimator,
)
from .own_data import OwnData, split_own_data
from .release import RELEASE_RECIPE, RELEASE_SEED, ReleasedModel, release_model
from .threat import (
    ATTACK_NEEDS,
    OUTPUTS,
    ThreatModel,
    allowed_attacks,
    attack_needs,
    excluded_attacks,
)
from .tradeoff import TradeoffPoint, point_from_defence, point_from_scores

__all__ = [
    "ThreatModel", "OUTPUTS", "ATTACK_NEEDS", "allowed_attacks", "excluded_attacks", "attack_needs",
    "ReleasedModel", "release_model", "RELEASE_RECIPE", "RELEASE_SEED",
    "AuditResult", "run_audit", "risk_level", "draft_verdict",
    "EstimatorModel", "EstimatorShadows", "fit_estimator_shadows", "estimator_shadow_scores", "is_estimator",
    "ESTIMATOR_UNSUPPORTED", "ESTIMATOR_SHADOW_ATTACKS", "OwnData", "split_own_data",
    "TradeoffPoint", "point_from_scores", "point_from_defence",
    "DeletionResult", "deletion_experiment", "choose_group", "group_membership", "group_power", "weights_fingerprint",
]
