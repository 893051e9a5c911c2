"""`python -m utils.bench dp`: DP-SGD targets at several epsilons, attacked and audited (Lesson 06).

Prints one markdown table, one row per model and epsilon: DP-SGD from scratch per epsilon and an ``inf``
row for the non-private target (the course's recipe of lessons 01-03), then Lesson 06b's rows on the
features of a network learnt from public digits (`utils.defenses.dp_public`): ``public-features`` (a DP
linear head) and ``public-finetune`` (DP fine-tuning of the dense layers) per epsilon, and ``public-only``
(the public network as it is: epsilon 0 towards the private records, no attack to run):

    model | epsilon | test_acc | lira_tpr@1%fpr | lira_auc | audit_eps | accountant_eps | train_s | nonprivate_train_s

Then the "audit ceiling" table (`utils.audit_limits.ceiling_table`): per number of guesses (as many
canaries), the most epsilon a perfect one-run audit certifies at 95%, at delta 0 and 1e-5.

- ``lira_*``: online LiRA (global variance) with shadows trained by the target's own recipe (DP-SGD
  with its noise for private targets), TPR with its 95% Clopper-Pearson interval;
- ``audit_eps``: the better of the two 95% audits (Clopper-Pearson on LiRA, one-run on 256 canaries);
- ``accountant_eps``: what Opacus's PRV accountant spent (RDP's figure is printed above the table);
- ``train_s`` / ``nonprivate_train_s``: best of `--repeats` timings of the DP-SGD run and of its
  non-private twin (same model, recipe, data loader and optimiser, no clipping or noise), measured
  alternately, side by side, so that the host's load hits both alike.

``--modes`` times Opacus's per-sample gradient modes (hooks, functorch, ew, ghost) on the course MLP.
``--search-public`` reruns Lesson 06b's search of the private parts' learning rates and clipping norms.
``--search`` reruns the non-private recipe search (`utils.defenses.dp_experiment.search_recipe`) on a
validation split of the attacker's pool instead. `defense_rows` gives ``utils.bench defenses`` its
``dp-eps-1``, ``dp-eps-4`` and ``dp-eps-16`` rows; `headline` gives ``python -m utils.bench all``
the epsilon-8 and ``inf`` rows' figures at a small size.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from ..audit import make_canaries
from ..audit_limits import ceiling_table
from ..config import is_fast, pick
from ..data import load_digits, make_membership_split
from ..defenses.dp import DP_RECIPE, train_dp
from ..defenses.dp_experiment import run_epsilon, search_recipe
from ..metrics import summarize_attack
from ..models import MLP
from ..recipe import Recipe
from ..train import init_model

__all__ = ["COLUMNS", "sweep", "public_rows", "format_table", "format_ceiling_table", "defense_rows", "headline",
           "main"]

COLUMNS = ("model", "epsilon", "test_acc", "lira_tpr@1%fpr", "lira_auc", "audit_eps", "accountant_eps", "train_s",
           "nonprivate_train_s")
DELTA = 1e-5
N_CANARIES = 256


def _data(seed: int = 0):
    digits = load_digits()
    split = make_membership_split(digits.y, seed=seed)
    X, y = digits.X, digits.y
    canaries = make_canaries(X[split.attacker_pool], y[split.attacker_pool], N_CANARIES, seed=seed)
    return (X[split.members], y[split.members], X[split.nonmembers], y[split.nonmembers], *canaries)


def _best_times(X, y, epsilon: float, repeats: int, seed: int) -> tuple[float, float]:
    """Best of `repeats` (DP-SGD, non-private twin) training times, measured alternately."""
    private, twin = [], []
    for _ in range(repeats):
        for eps, times in ((math.inf, twin), (epsilon, private)):
            times.append(train_dp(init_model(MLP, seed), X, y, DP_RECIPE, epsilon=eps, delta=DELTA, seed=seed).train_s)
    return min(private), min(twin)


def sweep(epsilons=(1.0, 4.0, 8.0, 16.0), *, n_shadows: int = 16, repeats: int = 3, seed: int = 0,
          verbose: bool = True) -> list[dict]:
    """One row per epsilon (and ``inf``): the figures of `COLUMNS`, plus the runs themselves (key ``run``)."""
    Xm, ym, Xn, yn, Xc, yc, included = _data(seed)
    X_train = np.concatenate([Xm, Xc[included == 1]])
    y_train = np.concatenate([ym, yc[included == 1]])
    rows = []
    for epsilon in [*epsilons, math.inf]:
        start = time.perf_counter()
        run = run_epsilon(epsilon, Xm, ym, Xn, yn, Xc, yc, included, delta=DELTA, n_shadows=n_shadows,
                          recipe=Recipe() if math.isinf(epsilon) else DP_RECIPE, seed=seed)
        seconds = time.perf_counter() - start
        if math.isfinite(epsilon):
            train_s, nonprivate_s = _best_times(X_train, y_train, epsilon, repeats, seed)
        else:
            train_s = nonprivate_s = run.training.train_s
        lira = summarize_attack(run.labels, run.scores["lira-online"], fprs=(0.01,))
        rows.append({
            "model": "from-scratch", "epsilon": epsilon, "test_acc": run.test_accuracy,
            "lira_tpr@1%fpr": (lira.tpr_at_fpr[0.01], *lira.tpr_interval[0.01]), "lira_auc": lira.auc,
            "audit_eps": run.audit_epsilon, "accountant_eps": run.training.epsilon,
            "train_s": train_s, "nonprivate_train_s": nonprivate_s, "run": run, "seconds": seconds,
        })
        if verbose:
            t = run.training
            print(f"epsilon {epsilon:g}: PRV {t.epsilon:.3f}, RDP {t.epsilon_rdp:.3f}, sigma {t.noise_multiplier:.3f}, "
                  f"GDP mu {run.mu:.3f}; audits: CP {run.cp_audit.epsilon:.2f} (max {run.cp_audit.max_epsilon:.2f}), "
                  f"one-run {run.one_run_audit.epsilon:.2f} ({run.one_run_audit.correct}/{run.one_run_audit.guesses} "
                  f"correct, max {run.one_run_audit.max_epsilon:.2f}); naive {run.naive_epsilon:.2f}; "
                  f"shadows {run.shadow_s:.1f} s; row {seconds:.1f} s", flush=True)
    return rows


def public_rows(epsilons=(1.0, 2.0, 4.0, 8.0), *, n_shadows: int = 16, repeats: int = 3, seed: int = 0,
                verbose: bool = True) -> list[dict]:
    """Lesson 06b's rows in `COLUMNS`: ``public-features`` and ``public-finetune`` per epsilon, ``public-only``.

    The public network is trained once on scikit-learn's digits (`train_public_network`, seed `seed`);
    ``train_s`` / ``nonprivate_train_s`` time the private part's DP-SGD run against its non-private twin
    (best of `repeats`, alternated), as the from-scratch rows do.
    """
    from ..defenses.dp_public import private_part, public_only_accuracy, run_public
    from ..defenses.public_features import load_public_digits, train_public_network

    Xm, ym, Xn, yn, Xc, yc, included = _data(seed)
    public = load_public_digits()
    start = time.perf_counter()
    network = train_public_network(public.X, public.y, seed=seed)
    public_s = time.perf_counter() - start
    rows = [{"model": "public-only", "epsilon": 0.0, "test_acc": public_only_accuracy(network, Xn, yn),
             "lira_tpr@1%fpr": None, "lira_auc": None, "audit_eps": None, "accountant_eps": 0.0,
             "train_s": public_s, "nonprivate_train_s": public_s}]
    for name, part in (("public-features", "head"), ("public-finetune", "finetune")):
        chosen = private_part(part)
        X_train = chosen.inputs(network, np.concatenate([Xm, Xc[included == 1]]))
        y_train = np.concatenate([ym, yc[included == 1]])
        for epsilon in epsilons:
            run = run_public(epsilon, network, part, Xm, ym, Xn, yn, Xc, yc, included, delta=DELTA,
                             n_shadows=n_shadows, seed=seed)
            private, twin = [], []
            for _ in range(repeats):
                for eps, times in ((math.inf, twin), (epsilon, private)):
                    times.append(train_dp(init_model(chosen.build(network), seed), X_train, y_train, chosen.recipe,
                                          epsilon=eps, delta=DELTA, max_grad_norm=chosen.max_grad_norm,
                                          seed=seed).train_s)
            lira = summarize_attack(run.labels, run.scores["lira-online"], fprs=(0.01,))
            rows.append({"model": name, "epsilon": epsilon, "test_acc": run.test_accuracy,
                         "lira_tpr@1%fpr": (lira.tpr_at_fpr[0.01], *lira.tpr_interval[0.01]), "lira_auc": lira.auc,
                         "audit_eps": run.audit_epsilon, "accountant_eps": run.training.epsilon,
                         "train_s": min(private), "nonprivate_train_s": min(twin), "run": run})
            if verbose:
                print(f"{name} epsilon {epsilon:g}: accuracy {run.test_accuracy:.3f}, PRV {run.training.epsilon:.3f}",
                      flush=True)
    if verbose:
        print(f"public network: {len(public.y)} public digits, trained in {public_s:.1f} s", flush=True)
    return rows


def format_ceiling_table(rows) -> str:
    """`utils.audit_limits.ceiling_table` rows as a markdown table."""
    lines = ["| guesses | canaries | max_epsilon (delta 0) | max_epsilon (delta 1e-5) |", "|---|---|---|---|"]
    lines += [f"| {r['guesses']:,} | {r['canaries']:,} | {r['max_epsilon']:.3f} | {r['max_epsilon_delta']:.3f} |"
              for r in rows]
    return "\n".join(lines)


def format_table(rows) -> str:
    """The rows as one markdown table with the columns of `COLUMNS`."""

    def cell(key, value):
        if value is None:
            return "n/a"
        if key == "model":
            return value
        if key == "epsilon":
            return "inf" if math.isinf(value) else f"{value:g}"
        if key == "lira_tpr@1%fpr":
            return f"{value[0]:.2%} [{value[1]:.2%}, {value[2]:.2%}]"
        if key.endswith("_s"):
            return f"{value:.2f}"
        return "inf" if math.isinf(value) else f"{value:.3f}"

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(k, row[k]) for k in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def defense_rows(context) -> list[dict]:
    """Rows ``dp-eps-1``, ``dp-eps-4``, ``dp-eps-16`` in `utils.bench.defenses`'s format.

    Uses the course's membership split (the candidates of `context` are its members and
    non-members) and ``context.n_shadows`` DP shadows per target; one target per epsilon (DP-SGD's
    noise makes its attacks' low-FPR numbers near chance, so pooling targets changes little).
    """
    from .defenses import defense_row

    Xm, ym, Xn, yn, Xc, yc, included = _data(getattr(context, "seed", 0))
    rows = []
    for epsilon in (1.0, 4.0, 16.0):
        start = time.perf_counter()
        run = run_epsilon(epsilon, Xm, ym, Xn, yn, Xc, yc, included, delta=DELTA, n_shadows=context.n_shadows,
                          seed=getattr(context, "seed", 0))
        print(f"dp-eps-{epsilon:g}: spent epsilon {run.training.epsilon:.3f} (PRV), delta {DELTA:g}, "
              f"audit {run.audit_epsilon:.2f}")
        rows.append(defense_row(f"dp-eps-{epsilon:g}", test_acc=run.test_accuracy,
                                seconds=time.perf_counter() - start,
                                loss=(run.labels, run.scores["loss"]), lira=(run.labels, run.scores["lira-online"])))
    return rows


def headline() -> list[tuple[str, float]]:
    """The figures `python -m utils.bench all` lists (protocol: utils/bench/all.py): what DP-SGD costs and buys.

    The table's epsilon-8 and ``inf`` rows (`sweep`, the table's own code; seed 0, delta 1e-5,
    1,250 members + the included canaries of 256): the DP target's test accuracy, the epsilon its
    accountant spent (PRV) and the epsilon the audits certify (95% lower bound, the better of
    Clopper-Pearson on LiRA and the one-run audit on the canaries), which must stay below the
    accountant's; the non-private target's certified epsilon (the audit still finds its leak); and
    DP-SGD's training time over its non-private twin's (best of 3 alternated samples, 1 with
    COURSE_FAST=1; a ratio measured in one run). 16 LiRA shadows per target (4 with COURSE_FAST=1):
    9.4 s (5 s) on the 2-core machine at load 1.3. Measured (default sizes): accuracy 83.0%,
    accountant 7.99, audit 0.00, non-private audit 3.27, time ratio 1.68x (1.5-1.9x over runs).
    """
    n_shadows = pick(default=16, fast=4)
    private, nonprivate = sweep((8.0,), n_shadows=n_shadows, repeats=pick(default=3, fast=1), verbose=False)
    slowdown = private["train_s"] / private["nonprivate_train_s"]
    figures = [("DP-SGD at epsilon 8, test accuracy (%)", 100 * private["test_acc"]),
               ("DP-SGD at epsilon 8, accountant's epsilon, PRV, delta 1e-5 (epsilon)", private["accountant_eps"]),
               (f"DP-SGD at epsilon 8, audited epsilon, 95% lower bound, {n_shadows} shadows (epsilon)",
                private["audit_eps"]),
               (f"non-private target, audited epsilon, 95% lower bound, {n_shadows} shadows (epsilon)",
                nonprivate["audit_eps"]),
               ("DP-SGD training time over its non-private twin's (x)", slowdown)]
    return [(name, float(value)) for name, value in figures]


def _search(seed: int = 0) -> None:
    digits = load_digits()
    split = make_membership_split(digits.y, seed=seed)
    pool = np.random.default_rng(seed).permutation(split.attacker_pool)
    train, val = pool[: len(pool) // 2], pool[len(pool) // 2 :]
    rows = search_recipe(digits.X[train], digits.y[train], digits.X[val], digits.y[val], epsilon=8.0, delta=DELTA,
                         seed=seed)
    print("| epochs | batch_size | lr | max_grad_norm | val_acc | noise_multiplier | train_s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['epochs']} | {r['batch_size']} | {r['lr']:g} | {r['max_grad_norm']:g} | {r['val_acc']:.4f} | "
              f"{r['noise_multiplier']:.3f} | {r['train_s']:.2f} |")


def _search_public(seed: int = 0) -> None:
    """Lesson 06b's grid on a stratified split of the attacker's pool (never the members or test records)."""
    from ..data import stratified_split
    from ..defenses.dp_public import search_public_recipe
    from ..defenses.public_features import load_public_digits, train_public_network

    digits = load_digits()
    split = make_membership_split(digits.y, seed=seed)
    X_pool, y_pool = digits.X[split.attacker_pool], digits.y[split.attacker_pool]
    train, val = stratified_split(np.arange(len(y_pool)), y_pool, 1368, seed=seed)
    public = load_public_digits()
    network = train_public_network(public.X, public.y, seed=seed)
    rows = search_public_recipe(network, X_pool[train], y_pool[train], X_pool[val], y_pool[val], seed=seed)
    print("| part | lr | max_grad_norm | epsilon | val_acc |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['part']} | {r['lr']:g} | {r['max_grad_norm']:g} | {r['epsilon']:g} | {r['val_acc']:.3f} |")


def _modes(repeats: int, seed: int = 0) -> None:
    """Training time of one DP-SGD run (epsilon 8, `DP_RECIPE`) per Opacus per-sample gradient mode."""
    from ..defenses.dp import GRAD_SAMPLE_MODES

    Xm, ym, *_ = _data(seed)
    times = {mode: [] for mode in ("non-private", *GRAD_SAMPLE_MODES)}
    for _ in range(repeats):  # alternate the modes, so that the host's load hits them alike
        for mode in times:
            eps = math.inf if mode == "non-private" else 8.0
            run = train_dp(init_model(MLP, seed), Xm, ym, DP_RECIPE, epsilon=eps, delta=DELTA, seed=seed,
                           grad_sample_mode="ghost" if mode == "non-private" else mode)
            times[mode].append(run.train_s)
    print("| grad_sample_mode | best train_s | all samples |")
    print("|---|---|---|")
    for mode, values in times.items():
        print(f"| {mode} | {min(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.bench dp", description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="small sizes (also with COURSE_FAST=1)")
    parser.add_argument("--repeats", type=int, default=None, help="timing samples per epsilon (default 3, fast 1)")
    parser.add_argument("--search", action="store_true", help="rerun the recipe search instead")
    parser.add_argument("--search-public", action="store_true",
                        help="rerun Lesson 06b's search of the private parts' recipes instead")
    parser.add_argument("--modes", action="store_true", help="time Opacus's per-sample gradient modes instead")
    args = parser.parse_args(argv)
    if args.search:
        _search()
        return 0
    if args.search_public:
        _search_public()
        return 0
    if args.modes:
        _modes(args.repeats or 3)
        return 0
    fast = args.fast or is_fast()
    n_shadows, repeats = (4 if fast else 16), args.repeats or (1 if fast else 3)
    rows = sweep((1.0, 4.0, 16.0) if fast else (1.0, 4.0, 8.0, 16.0), n_shadows=n_shadows, repeats=repeats)
    rows += public_rows((1.0, 8.0) if fast else (1.0, 2.0, 4.0, 8.0), n_shadows=n_shadows, repeats=repeats)
    print(format_table(rows))
    print()
    print("Audit ceiling: the most epsilon a one-run audit certifies at 95% when every guess is right")
    print()
    print(format_ceiling_table(ceiling_table((10, 100, 128, 1000, 10_000, 100_000), delta=DELTA)))
    return 0
