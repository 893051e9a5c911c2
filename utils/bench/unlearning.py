"""``python -m utils.bench unlearning``: every unlearning method of lesson 10, timed and audited twice.

One markdown table, a row per method (``retrain``, ``sisa``, ``finetune``, ``gradient-ascent``,
``ascent-descent``), with the columns

- ``seconds``, ``time_ratio`` (to retraining), ``test_acc``: the method applied to lesson 08's
  released model for 125 random members (`utils.unlearning.release.unlearn_release`; seconds are the
  median of ``--repeats`` runs, test accuracy on the 1,250 held-out digits);
- ``population_auc``, ``ulira_tpr@1%fpr`` with its 95% Clopper-Pearson interval
  (``ulira_tpr@1%fpr_low``, ``ulira_tpr@1%fpr_high``) and ``ulira_tpr@0.1%fpr``: both audits pooled
  over ``--shadows`` shadow targets (`utils.unlearning.experiment.run_shadow_experiment`, SISA
  ensembles included; `utils.unlearning.audits.audit_method`).

The approximate methods run the lesson's budgets (``finetune`` 100 steps, ``gradient-ascent`` 5,
``ascent-descent`` 10). Then the targets of the issue as checks: the exact methods' U-LiRA
intervals contain retraining's TPR. Options: ``--shadows`` (default 32; 16 with ``COURSE_FAST=1``),
``--seed``, ``--repeats``, ``--threads``.

`headline` (for ``python -m utils.bench all``): retraining's and gradient ascent's U-LiRA TPR at 1% FPR
and gradient ascent's population AUC, with 16 shadows (8 fast) and without SISA.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

from ..capstone import release_model
from ..config import pick
from ..unlearning import forget_rows, run_shadow_experiment
from ..unlearning.release import unlearn_release
from ..unlearning.report import method_audits

__all__ = ["STEPS", "COLUMNS", "METHOD_ROWS", "measure", "format_table", "headline", "main"]

STEPS = {"finetune": 100, "gradient-ascent": 5, "ascent-descent": 10}
METHOD_ROWS = ("retrain", "sisa", "finetune", "gradient-ascent", "ascent-descent")
COLUMNS = ("seconds", "time_ratio", "test_acc", "population_auc", "ulira_tpr@1%fpr", "ulira_tpr@1%fpr_low",
           "ulira_tpr@1%fpr_high", "ulira_tpr@0.1%fpr")


def measure(*, n_shadows: int, seed: int = 0, repeats: int = 3, sisa: bool = True, progress: bool = False) -> dict:
    """The table's figures: dict method -> dict column -> float (fractions; seconds in s)."""
    release = release_model()
    X, y, membership = release.candidates()
    forget = forget_rows(np.flatnonzero(membership == 1), 125, seed=seed)
    runs = [unlearn_release(release, forget, steps=STEPS, seed=seed) for _ in range(max(1, repeats))]
    experiment = run_shadow_experiment(X, y, build_model=release.build_model, recipe=release.recipe,
                                       n_shadows=n_shadows, budgets={m: (0, s) for m, s in STEPS.items()},
                                       sisa_shards=5 if sisa else 0, seed=10 + seed, progress=progress)
    audits = method_audits(experiment, STEPS)
    table = {}
    for name in METHOD_ROWS:
        if name not in audits:
            continue
        seconds = float(np.median([r["rows"][name]["seconds"] for r in runs]))
        retrain = float(np.median([r["rows"]["retrain"]["seconds"] for r in runs]))
        row = audits[name].row()
        table[name] = {"seconds": seconds, "time_ratio": seconds / retrain,
                       "test_acc": runs[0]["rows"][name]["test_acc"],
                       **{c: row[c] for c in COLUMNS if c in row and c != "test_acc"}}
    return {"table": table, "experiment_seconds": experiment["seconds"], "sisa": runs[0]["sisa"],
            "n_pairs": len(audits["retrain"].ulira.targets)}


def format_table(table: dict) -> str:
    """The markdown table: ``| method | seconds | time_ratio | ... |``, three decimals."""
    lines = ["| method | " + " | ".join(COLUMNS) + " |", "|" + "|".join(["---"] * (len(COLUMNS) + 1)) + "|"]
    for name, row in table.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[c]:.3f}" for c in COLUMNS) + " |")
    return "\n".join(lines)


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m utils.bench unlearning", description=__doc__.splitlines()[0])
    parser.add_argument("--shadows", type=int, default=pick(default=32, fast=16), help="shadow targets (even)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs on the released model (median)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = _parse(sys.argv[1:] if argv is None else list(argv))
    threads = torch.get_num_threads()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        start = time.perf_counter()
        result = measure(n_shadows=args.shadows, seed=args.seed, repeats=args.repeats, progress=True)
        wall = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    table = result["table"]
    print(f"## Unlearning 125 random members of lesson 08's released model; audits pooled over {args.shadows} "
          f"shadow targets ({result['n_pairs']:,} forget records each way)\n")
    print(format_table(table))
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result["experiment_seconds"].items())
    print(f"\n- budgets: {', '.join(f'{m} {s} steps' for m, s in STEPS.items())}; SISA 5 shards, "
          f"{result['sisa']['shards_retrained']} retrained for the request, exact: {result['sisa']['exact']}")
    print(f"- shadow experiment: {stages}; whole benchmark {wall:.1f} s")
    print(f"- torch CPU threads: {args.threads or threads}; load average {os.getloadavg()[0]:.2f} at the end")
    retrain = table["retrain"]["ulira_tpr@1%fpr"]
    print("\nChecks:")
    for name in ("retrain", "sisa"):
        low, high = table[name]["ulira_tpr@1%fpr_low"], table[name]["ulira_tpr@1%fpr_high"]
        ok = low <= retrain <= high and low <= 0.01 <= high
        print(f"- [{'pass' if ok else 'FAIL'}] {name}: U-LiRA TPR@1%FPR interval [{low:.3f}, {high:.3f}] contains "
              f"retraining's {retrain:.3f} and a guess (0.010)")
    for name in ("finetune", "gradient-ascent", "ascent-descent"):
        row = table[name]
        ok = row["ulira_tpr@1%fpr_low"] > 0.01
        print(f"- [{'pass' if ok else 'FAIL'}] {name}: population AUC {row['population_auc']:.3f} vs U-LiRA "
              f"TPR@1%FPR {row['ulira_tpr@1%fpr']:.3f} [{row['ulira_tpr@1%fpr_low']:.3f}, "
              f"{row['ulira_tpr@1%fpr_high']:.3f}] (traces: interval above 0.01)")
    return 0


def headline() -> list[tuple[str, float]]:
    """The figures `python -m utils.bench all` lists (protocol: utils/bench/all.py).

    16 shadow targets (8 with ``COURSE_FAST=1``), no SISA, one timed run: retraining's U-LiRA TPR at
    1% FPR (about 0.01: a guess), gradient ascent's (5 steps; well above) and its population AUC (about
    0.5). A regression in the unlearning steps or the audits moves them apart or together.
    """
    result = measure(n_shadows=pick(default=16, fast=8), repeats=1, sisa=False)
    table = result["table"]
    return [("retrain U-LiRA TPR at 1% FPR (fraction)", table["retrain"]["ulira_tpr@1%fpr"]),
            ("gradient-ascent (5 steps) U-LiRA TPR at 1% FPR (fraction)", table["gradient-ascent"]["ulira_tpr@1%fpr"]),
            ("gradient-ascent (5 steps) population AUC (0.5 = chance)", table["gradient-ascent"]["population_auc"])]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(None))
