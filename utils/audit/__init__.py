"""What differential privacy promises about attacks, and empirical audits that test the promise (Lesson 06).

Three kinds of statement, from strongest to weakest:

- **The DP bound** (`utils.metrics.dp_max_tpr`): against an (epsilon, delta)-DP training run, *no*
  membership attack, on *any* data set, beats ``TPR <= e^eps * FPR + delta`` (and its mirror).
- **The Gaussian-DP curve** of one DP-SGD run: its Poisson-subsampled Gaussian steps are close to
  mu-GDP (Bu, Dong, Long & Su 2020, a central-limit approximation, not a bound) with
  ``mu = sample_rate * sqrt(steps * (exp(sigma^-2) - 1))``, and a mu-GDP mechanism allows at most
  ``TPR = Phi(Phi^-1(FPR) + mu)``: much tighter than the (epsilon, delta) bound at low FPR.
- **Audits**: one attacker on one data set gives a *lower* bound on epsilon, with a confidence level:
  - `audit_clopper_pearson` (Jagielski, Ullman & Oprea 2020; Nasr et al. 2021): TPR and FPR of a
    threshold chosen on one half of the records, measured on the other half, turned into the
    smallest epsilon consistent with their Clopper-Pearson intervals;
  - `audit_one_run` (Steinke, Nasr & Jagielski 2023): m canaries, each put in the training set with
    probability 1/2, one training run; the auditor guesses IN/OUT for some canaries and the
    number of correct guesses gives epsilon at 95%.

Each audit can certify at most some epsilon with a given number of records, even against a model
that leaks everything (`cp_max_epsilon`, `one_run_max_epsilon`): a small audit cannot show a large
epsilon, which is one reason an audit's epsilon sits below the accountant's.
"""

from __future__ import annotations

from ..metrics import dp_max_tpr
from .bounds import epsilon_from_rates, gdp_max_tpr, gdp_mu
from .clopper_pearson import (
    CPAudit,
    audit_clopper_pearson,
    cp_epsilon,
    cp_max_epsilon,
    naive_epsilon,
    roc_exceeds_bound,
    small_audits,
)
from .one_run import OneRunAudit, audit_one_run, make_canaries, one_run_epsilon, one_run_max_epsilon, one_run_p_value

__all__ = [
    "dp_max_tpr",
    "gdp_mu",
    "gdp_max_tpr",
    "epsilon_from_rates",
    "cp_epsilon",
    "cp_max_epsilon",
    "CPAudit",
    "audit_clopper_pearson",
    "naive_epsilon",
    "roc_exceeds_bound",
    "one_run_p_value",
    "one_run_epsilon",
    "one_run_max_epsilon",
    "OneRunAudit",
    "audit_one_run",
    "make_canaries",
    "small_audits",
]
