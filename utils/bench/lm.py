"""``python -m utils.bench lm``: lesson 09's whole pipeline, trained afresh (no cache), as markdown tables.

Trains the overfit target (200 Faker records + 15 canaries at 1-16 repetitions, 12 epochs), its
reference model, the one-pass model (5,000 records, one epoch), the deduplicated model, DP-SGD at
epsilon 8 and a non-private control with the same steps and batch size, then prints

1. exposure per repetition count (rows ``canary-x1`` ... ``canary-x16``, then ``dedup``,
   ``dp-eps-8`` and ``no-dp-same-budget`` for the 16x canaries; columns ``exposure_bits`` (median
   skew-normal estimate), ``exposure_bits_low`` (the lowest canary of the row), ``extracted`` (greedy;
   in the top 10 beams));
2. membership attacks per setting (rows ``overfit/...``, ``one-pass/...``, ``shifted/...`` (British
   non-members) and ``shifted-years/...`` for ``loss``, ``zlib``, ``min-k``, ``min-k++``,
   ``reference``, ``blind``; columns ``auc`` and ``tpr@1%fpr``, each with its 95% interval);
3. each model's training seconds, steps and bits per byte on fresh records.

Options: ``--seeds 0,1,2`` (one run per seed, tables per seed and the exposure rows' spread),
``--threads`` (torch CPU threads, default 1), ``--one-pass-records``. ``COURSE_FAST=1`` shrinks the
one-pass corpus and the evaluation sets. Quote the machine's load with any time (printed at the end).

`headline` (for ``python -m utils.bench all``): the overfit target alone (~15 s on a quiet 2-core
machine): the exposure gap between the 16x and 1x canaries, the 16x canaries extracted greedily,
and the loss attack's AUC.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

from ..config import pick
from ..lm.exposure import beam_search, canary_exposures, extracted
from ..lm.records import build_corpus
from ..lm.settings import (
    ATTACK_NAMES,
    DP_RECIPE,
    ONE_PASS_RECIPE,
    TARGET_RECIPE,
    one_pass_setting,
    overfit_setting,
    score_setting,
    shifted_setting,
    summarize_scores,
)
from ..lm.train import bits_per_byte, train_lm, train_lm_dp

__all__ = ["run", "headline", "main"]


def _exposure_row(exposure, canaries, model, level):
    at = exposure.repetitions == level
    greedy, _ = beam_search(model, [p for p, a in zip(canaries.prefixes, at) if a], canaries.n_digits, beam_width=1)
    beams, _ = beam_search(model, [p for p, a in zip(canaries.prefixes, at) if a], canaries.n_digits, beam_width=10)

    class _Subset:  # the canaries of this row
        secrets = tuple(s for s, a in zip(canaries.secrets, at) if a)

    n = int(at.sum())
    return {"exposure_bits": float(np.median(exposure.estimated[at])),
            "exposure_bits_low": float(exposure.estimated[at].min()),
            "extracted": f"{int(extracted(_Subset, greedy).sum())}/{n} greedy, "
                         f"{int(extracted(_Subset, beams).sum())}/{n} top-10"}


def run(seed: int = 0, *, one_pass_records: int | None = None, log=print) -> dict:
    """Train every model of lesson 09 for `seed` and measure it; returns the three tables as dicts of rows."""
    clock = time.perf_counter
    setting = overfit_setting(n_nonmembers=1000, seed=seed)  # 1,000 non-members in both modes: see lesson 09
    canaries = setting.canaries
    n_one_pass = one_pass_records or pick(default=5000, fast=1000)
    one_pass = one_pass_setting(n_records=n_one_pass, n_members=pick(default=1000, fast=500),
                                n_nonmembers=pick(default=1000, fast=500), seed=seed)
    jobs = {
        "target": lambda: train_lm(list(setting.corpus), **TARGET_RECIPE, seed=seed),
        "reference": lambda: train_lm(list(setting.reference_corpus), **TARGET_RECIPE, seed=seed + 1),
        "one-pass": lambda: train_lm(list(one_pass.corpus), **ONE_PASS_RECIPE, seed=seed),
        "dedup": lambda: train_lm(build_corpus(setting.members, canaries, seed=seed, dedup=True), **TARGET_RECIPE,
                                  seed=seed),
        "dp-eps-8": lambda: train_lm_dp(list(setting.corpus), **DP_RECIPE, seed=seed),
        "no-dp-same-budget": lambda: train_lm(list(setting.corpus),
                                              **{k: v for k, v in DP_RECIPE.items() if k != "epsilon"}, seed=seed),
    }
    trained, training = {}, {}
    for name, job in jobs.items():
        trained[name] = job()
        model = trained[name].model()
        training[name] = {"seconds": trained[name].seconds, "steps": trained[name].steps,
                          "bits_per_byte": bits_per_byte(model, list(setting.nonmembers)),
                          "epsilon": trained[name].epsilon}
        log(f"  trained {name}: {trained[name].seconds:.1f} s, {trained[name].steps} steps")
    models = {name: t.model() for name, t in trained.items()}

    start = clock()
    exposure_rows = {}
    target_exposure = canary_exposures(models["target"], canaries, n_samples=1000, seed=seed)
    for level in np.unique(canaries.repetitions):
        exposure_rows[f"canary-x{level}"] = _exposure_row(target_exposure, canaries, models["target"], level)
    for name in ("dedup", "dp-eps-8", "no-dp-same-budget"):
        exposure = canary_exposures(models[name], canaries, n_samples=1000, seed=seed)
        exposure_rows[name] = _exposure_row(exposure, canaries, models[name], int(canaries.repetitions.max()))
    log(f"  exposure and extraction: {clock() - start:.1f} s")

    start = clock()
    evaluations = {"overfit": (models["target"], setting), "one-pass": (models["one-pass"], one_pass),
                   "shifted": (models["one-pass"], shifted_setting(one_pass, shift="locale", seed=seed)),
                   "shifted-years": (models["one-pass"], shifted_setting(one_pass, shift="years", seed=seed))}
    attack_rows = {}
    for setting_name, (model, evaluation) in evaluations.items():
        summary = summarize_scores(score_setting(model, evaluation, reference=models["reference"], seed=seed),
                                   seed=seed)
        for attack in ATTACK_NAMES:
            row = summary[attack]
            attack_rows[f"{setting_name}/{attack}"] = {
                "auc": f"{row.auc:.3f} [{row.auc_low:.3f}, {row.auc_high:.3f}]",
                "tpr@1%fpr": f"{row.tpr:.3f} [{row.tpr_low:.3f}, {row.tpr_high:.3f}]"}
    log(f"  membership attacks: {clock() - start:.1f} s")
    return {"exposure": exposure_rows, "attacks": attack_rows, "training": training,
            "sizes": {"members": len(setting.members), "nonmembers": len(setting.nonmembers),
                      "one_pass_records": n_one_pass, "one_pass_nonmembers": len(one_pass.nonmembers)}}


def _table(rows: dict, columns, first: str) -> str:
    lines = [f"| {first} | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, row in rows.items():
        cells = [f"{row[c]:.2f}" if isinstance(row[c], float) else str(row[c]) for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m utils.bench lm", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, one full run each (default 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--one-pass-records", type=int, default=None)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = _parse(sys.argv[1:] if argv is None else list(argv))
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        spread = {}
        for seed in seeds:
            start = time.perf_counter()
            print(f"## seed {seed}")
            result = run(seed, one_pass_records=args.one_pass_records)
            print(f"\n### Exposure per repetition count (6-digit secrets, 1,000 sampled candidates), seed {seed}\n")
            print(_table(result["exposure"], ["exposure_bits", "exposure_bits_low", "extracted"], "canaries"))
            print(f"\n### Membership attacks per setting ({result['sizes']}), seed {seed}\n")
            print(_table(result["attacks"], ["auc", "tpr@1%fpr"], "setting/attack"))
            print(f"\n### Training, seed {seed}\n")
            print(_table(result["training"], ["seconds", "steps", "bits_per_byte", "epsilon"], "model"))
            print(f"\nwhole pipeline: {time.perf_counter() - start:.1f} s\n")
            for name, row in result["exposure"].items():
                spread.setdefault(name, []).append(row["exposure_bits"])
        if len(seeds) > 1:
            print(f"### Median exposure over seeds {seeds}: mean +- sd\n")
            rows = {name: {"exposure_bits": f"{np.mean(v):.1f} +- {np.std(v, ddof=1):.1f}",
                           "per seed": ", ".join(f"{x:.1f}" for x in v)} for name, v in spread.items()}
            print(_table(rows, ["exposure_bits", "per seed"], "canaries"))
        print(f"\nload average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}; torch threads {args.threads}")
        return 0
    finally:
        torch.set_num_threads(threads)


def headline() -> list[tuple[str, float]]:
    """The figures `python -m utils.bench all` lists (protocol: utils/bench/all.py): memory of the overfit target.

    Trains only the overfit target (seed 0, one thread, ~15 s on a quiet 2-core machine): the median exposure
    of the 16x canaries minus that of the 1x canaries, how many 16x canaries greedy decoding extracts, and the
    loss attack's AUC on the IID split. A regression in the model, the trainer or the exposure maths moves them.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        setting = overfit_setting(n_nonmembers=500, seed=0)
        model = train_lm(list(setting.corpus), **TARGET_RECIPE, seed=0).model()
        exposure = canary_exposures(model, setting.canaries, n_samples=500, seed=0)
        levels = exposure.by_repetitions()
        top = int(setting.canaries.repetitions.max())
        row = _exposure_row(exposure, setting.canaries, model, top)
        from ..lm.attacks import loss_scores, token_statistics
        from ..metrics import auc

        stats = token_statistics(model, setting.texts)
        return [("exposure 16x minus 1x canaries (bits, median)", float(np.median(levels[top]) - np.median(levels[1]))),
                ("16x canaries extracted greedily (of 3)", float(row["extracted"].split("/")[0])),
                ("loss attack AUC, overfit LM (0.5 = chance)", auc(setting.labels,
                                                                   loss_scores(stats.log_probs, stats.mask)))]
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(None))
