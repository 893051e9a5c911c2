"""``python -m utils.bench property [--worlds A B]``: every property attack on the census and the digits.

Prints one markdown table,
``property | worlds | attack | accuracy | ci_low | ci_high | n_leaked | victims | seconds``:

- ``census-a``, ``census-b``, ``census-c``: the CPSSW8 census, fraction of women in world 0 vs world
  1 (default 0.2 vs 0.5; ``--worlds A B`` changes it, e.g. ``--worlds 0.5 0.5`` for identical
  worlds, where every attack must be at chance), in the three settings of lesson 04 (see
  `utils.property.scenarios`);
- ``digits``: MNIST-5k, fraction of zeros (default 0.1 vs 0.2, ``--digit-worlds``);
- ``company-x``: presence of one census region (Company X's customers), 0 vs ``--company-share``.

Then, for ``census-dp`` (Lesson 06b, `utils.property.dp`), a second table: census setting (a), 0.2 vs 0.5,
with every model trained by DP-SGD at each epsilon of ``--dp-epsilons`` (default 0.05 1 4 8 inf):
``epsilon | best_attack | accuracy | ci_low | ci_high | lira_tpr@1%fpr | dp_bound@1%fpr | test_acc | seconds``,
the group's secret (the best property attack) next to the members' (offline LiRA, pooled over the victims).

Every game: 1,000 records per model (500 for the digits), MLP (32, 16), ``--shadows`` per world
(default 25), ``--victims`` held-out victims (default 200, half per world), 95% Clopper-Pearson
intervals. ``seconds`` is the attack's own time; each game's training time is printed below the
table. Then the issue's targets are checked and printed (they never fail the command). With
identical worlds, "every interval contains 0.5" is a claim about all census rows at once, checked
with Bonferroni intervals (`utils.property.familywise_interval`): a lone 95% interval misses a
true 0.5 one time in 20, so among 15 rows one misses about half the time by chance alone. IBM ART
has no property-inference attack to compare with. ``COURSE_FAST=1`` trains for fewer epochs.

`headline` (for ``python -m utils.bench all``): the KL attack's accuracy on census setting (a).
"""

from __future__ import annotations

import argparse
import time

import torch

from ..config import pick
from ..property import PROPERTY_ATTACKS, familywise_interval, run_property_attacks
from ..property.scenarios import census_game, digits_game, presence_game

__all__ = ["main", "format_table", "format_dp_table", "dp_rows", "headline"]

COLUMNS = ("property", "worlds", "attack", "accuracy", "ci_low", "ci_high", "n_leaked", "victims", "seconds")


def format_table(rows) -> str:
    """Markdown table of `rows`: dicts with the keys of `COLUMNS`."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = []
        for key in COLUMNS:
            value = row[key]
            cells.append(
                f"{value:.3f}"
                if isinstance(value, float) and key != "seconds"
                else f"{value:.2f}"
                if isinstance(value, float)
                else str(value)
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _rows(name, game, attacks):
    """The table rows of one game, and its `PropertyResult` s (same order)."""
    worlds = f"{game.fractions[0]:g} vs {game.fractions[1]:g}"
    results = run_property_attacks(game, attacks)
    return [
        {
            "property": name,
            "worlds": worlds,
            "attack": r.attack,
            "accuracy": r.accuracy,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "n_leaked": r.n_leaked,
            "victims": r.n_victims,
            "seconds": r.seconds,
        }
        for r in results
    ], results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.bench property", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--worlds",
        nargs=2,
        type=float,
        default=(0.2, 0.5),
        metavar=("A", "B"),
        help="census fractions of women in world 0 and world 1",
    )
    parser.add_argument("--digit-worlds", nargs=2, type=float, default=(0.1, 0.2), metavar=("A", "B"))
    parser.add_argument("--company-share", type=float, default=0.1)
    parser.add_argument("--shadows", type=int, default=25, help="shadow models per world")
    parser.add_argument("--victims", type=int, default=200, help="held-out victims, half per world")
    parser.add_argument("--epochs", type=int, default=None, help="default: 30 (15 with COURSE_FAST=1)")
    parser.add_argument(
        "--only", nargs="*", default=None, help="subset of: census-a census-b census-c digits company-x census-dp"
    )
    parser.add_argument("--attacks", nargs="*", default=None, help=f"subset of {list(PROPERTY_ATTACKS)}")
    parser.add_argument("--dp-epsilons", nargs="*", type=float, default=[0.05, 1.0, 4.0, 8.0, float("inf")])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    sizes = dict(n_shadows=args.shadows, n_victims=args.victims, epochs=args.epochs, seed=args.seed)
    games = {
        "census-a": lambda: census_game("a", tuple(args.worlds), **sizes),
        "census-b": lambda: census_game("b", tuple(args.worlds), **sizes),
        "census-c": lambda: census_game("c", tuple(args.worlds), **sizes),
        "digits": lambda: digits_game(tuple(args.digit_worlds), **sizes),
        "company-x": lambda: presence_game(args.company_share, **sizes),
        "census-dp": None,  # its own table, below
    }
    chosen = args.only or list(games)
    unknown = [n for n in chosen if n not in games]
    if unknown:
        parser.error(f"unknown game(s) {unknown}; choose from {list(games)}")
    rows, results, training = [], [], {}
    for name in [n for n in chosen if n != "census-dp"]:
        start = time.perf_counter()
        game = games[name]()
        training[name] = time.perf_counter() - start
        game_rows, game_results = _rows(name, game, args.attacks)
        rows += game_rows
        results += game_results
    print(format_table(rows))
    print()
    print(
        "training (all shadows and victims of a game, one batched call): "
        + ", ".join(f"{n} {s:.1f} s" for n, s in training.items())
    )
    best = {}
    for row in rows:
        if row["accuracy"] >= best.get(row["property"], {"accuracy": -1})["accuracy"]:
            best[row["property"]] = row
    identical = args.worlds[0] == args.worlds[1]
    checks = []
    if "census-a" in best and not identical:
        b = best["census-a"]
        checks.append(
            (
                f"census-a best ({b['attack']}) >= 0.90 with ci_low > 0.80, <= 25 shadows/world",
                b["accuracy"] >= 0.9 and b["ci_low"] > 0.8 and args.shadows <= 25,
            )
        )
    for name, aim in (("census-b", 0.8), ("census-c", 0.65)):
        if name in best and not identical:
            checks.append((f"{name} best ({best[name]['attack']}) > {aim} (aim)", best[name]["accuracy"] > aim))
    if "digits" in best:
        checks.append((f"digits best ({best['digits']['attack']}) >= 0.85", best["digits"]["accuracy"] >= 0.85))
    if identical:
        # Every attack is at chance, but each 95% interval still misses 0.5 one time in 20: with 15
        # census rows at least one misses about half the time. The claim is about the family, so it
        # is checked with Bonferroni intervals (all hold together with probability >= 95%).
        census = [(r, res) for r, res in zip(rows, results) if r["property"].startswith("census")]
        missed = [f"{r['property']} {r['attack']}" for r, _ in census if not r["ci_low"] <= 0.5 <= r["ci_high"]]
        checks.append(
            (
                f"identical worlds: every census interval contains 0.5, family-wise 95% (Bonferroni over "
                f"{len(census)}); 95% intervals missing 0.5: {len(missed)} (expected by chance "
                f"{0.05 * len(census):.2f}){': ' + ', '.join(missed) if missed else ''}",
                all(lo <= 0.5 <= hi for lo, hi in (familywise_interval(res, len(census)) for _, res in census)),
            )
        )
    for text, ok in checks:
        print(f"- [{'x' if ok else ' '}] {text}")
    if "census-dp" in chosen:
        print()
        print(format_dp_table(dp_rows(args.dp_epsilons, n_shadows=args.shadows, n_victims=args.victims,
                                      seed=args.seed)))
    return 0


DP_COLUMNS = ("epsilon", "best_attack", "accuracy", "ci_low", "ci_high", "lira_tpr@1%fpr", "dp_bound@1%fpr",
              "test_acc", "seconds")


def dp_rows(epsilons, *, n_shadows: int = 25, n_victims: int = 200, seed: int = 0) -> list[dict]:
    """One row of `DP_COLUMNS` per epsilon: `utils.property.dp.secret_society_under_dp`."""
    import math

    from ..metrics import dp_max_tpr
    from ..property.dp import secret_society_under_dp

    rows = []
    for epsilon in epsilons:
        start = time.perf_counter()
        run = secret_society_under_dp(epsilon, n_shadows=n_shadows, n_victims=n_victims, seed=seed)
        rows.append({"epsilon": run.epsilon, "best_attack": run.best.attack, "accuracy": run.best.accuracy,
                     "ci_low": run.best.ci_low, "ci_high": run.best.ci_high,
                     "lira_tpr@1%fpr": (run.lira_tpr, run.lira_tpr_low, run.lira_tpr_high),
                     "dp_bound@1%fpr": dp_max_tpr(0.01, run.epsilon, 1e-5) if math.isfinite(run.epsilon) else 1.0,
                     "test_acc": run.test_accuracy, "seconds": time.perf_counter() - start})
    return rows


def format_dp_table(rows) -> str:
    """`dp_rows` as a markdown table, titled."""
    def cell(key, value):
        if key == "best_attack":
            return value
        if key == "lira_tpr@1%fpr":
            return f"{value[0]:.2%} [{value[1]:.2%}, {value[2]:.2%}]"
        if key == "epsilon":
            return "inf" if value == float("inf") else f"{value:.3g}"
        return f"{value:.1f}" if key == "seconds" else f"{value:.3f}"

    lines = ["census-dp: census (a), 0.2 vs 0.5 women, every model DP-SGD (PRV, delta 1e-5)", "",
             "| " + " | ".join(DP_COLUMNS) + " |", "|" + "---|" * len(DP_COLUMNS)]
    lines += ["| " + " | ".join(cell(k, row[k]) for k in DP_COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def headline() -> list[tuple[str, float]]:
    """The figures `python -m utils.bench all` lists (protocol: utils/bench/all.py): the census KL attack.

    Census setting (a), 0.2 vs 0.5 women, as in this benchmark's ``census-a`` rows: 25 shadows per
    world and 200 victims, 30 epochs (``COURSE_FAST=1``: 10 shadows per world, 100 victims, 15
    epochs), seed 0, one torch thread (this benchmark's default). Returns the ``property-kl``
    accuracy over the held-out victims (chance 0.5; 0.94 measured, 0.83 with COURSE_FAST=1) and the seconds the game
    took (training every shadow and victim in one batched call, then the attack). About 3 s
    (1 s fast) on a busy 2-core machine.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        game = census_game("a", (0.2, 0.5), n_shadows=pick(default=25, fast=10), n_victims=pick(default=200, fast=100),
                           seed=0)
        (result,) = run_property_attacks(game, ["property-kl"])
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    return [(f"census (a) 0.2 vs 0.5 women, KL attack accuracy over {result.n_victims} victims (fraction)",
             result.accuracy),
            (f"census (a) game, {len(game.shadows0)} shadows per world + {result.n_victims} victims trained, "
             "KL attack run (s)", seconds)]
