"""Benchmark: wall time of every lesson and solution notebook against its budget.

    python -m utils.bench notebooks [--root DIR] [--modes default,fast] [--timeout S]

Runs each notebook in a fresh kernel (`utils.nbrun.run_notebook`), once with the default
sizes and once with ``COURSE_FAST=1``, and prints one table row per run. Budgets (seconds, on a
2-core CPU): lessons and solutions 90 default / 45 fast; lesson 01 60 / 30. Nothing is asserted:
the table is for people, timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..nbrun import find_notebooks, run_notebook

__all__ = ["budget_s", "headline", "main"]

ROOT = Path(__file__).resolve().parents[2]
MODES = {"default": "0", "fast": "1"}
# Lessons cache their heavy experiments (utils.cache); a benchmark times the computation, never a load from disk.
NO_CACHE = {"COURSE_CACHE": "off"}
BUDGETS = {"default": 90.0, "fast": 45.0}
SPECIAL_BUDGETS = {"01_overfit_a_model.ipynb": {"default": 60.0, "fast": 30.0}}


def budget_s(path, mode: str) -> float:
    """The time budget in seconds of notebook `path` in `mode` ("default" or "fast")."""
    if mode not in BUDGETS:
        raise ValueError(f"mode must be one of {sorted(BUDGETS)}, got {mode!r}.")
    return SPECIAL_BUDGETS.get(Path(path).name, BUDGETS)[mode]


def main(argv=None) -> int:
    """Command line: print a table of wall times against budgets; exit 1 if a notebook failed to run."""
    parser = argparse.ArgumentParser(prog="python -m utils.bench notebooks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="course folder holding lessons/ and solutions/")
    parser.add_argument("--modes", default="default,fast", help="comma-separated: default, fast (default: both)")
    parser.add_argument("--timeout", type=float, default=600, help="hang guard per notebook run, in seconds")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in MODES for m in modes):
        parser.error(f"--modes must list some of {', '.join(MODES)}, got {args.modes!r}")
    notebooks = find_notebooks(args.root)
    if not notebooks:
        print(f"no notebooks under {args.root}/lessons or {args.root}/solutions")
        return 1
    width = max(len(f"{p.parent.name}/{p.name}") for p in notebooks)
    header = f"{'notebook':<{width}}  {'mode':<7}  {'wall_s':>7}  {'budget_s':>8}  verdict"
    print(header)
    print("-" * len(header))
    failed = 0
    for path in notebooks:
        for mode in modes:
            env = {"COURSE_FAST": MODES[mode], "MPLBACKEND": os.environ.get("MPLBACKEND", "Agg"), **NO_CACHE}
            run = run_notebook(path, timeout_s=args.timeout, env=env)
            budget = budget_s(path, mode)
            if not run.ok:
                failed += 1
                first = (run.error or "").splitlines()[0] if run.error else "unknown error"
                verdict = f"FAILED ({first})"
            else:
                verdict = "within budget" if run.wall_s < budget else "OVER BUDGET"
            name = path.parent.name + "/" + path.name
            print(f"{name:<{width}}  {mode:<7}  {run.wall_s:7.1f}  {budget:8.0f}  {verdict}", flush=True)
            if not run.ok:
                print("    " + (run.error or "").replace("\n", "\n    "))
    return 1 if failed else 0


def headline() -> list[tuple[str, float]]:
    """The figure `python -m utils.bench all` would list (protocol: utils/bench/all.py): the course's fast run.

    Every lesson and solution once with COURSE_FAST=1 (minutes); `all` itself skips it, as its own
    table already holds these runs.
    """
    runs = [run_notebook(p, env={"COURSE_FAST": "1", **NO_CACHE}) for p in find_notebooks(ROOT)]
    return [("whole course with COURSE_FAST=1, total (s)", sum(r.wall_s for r in runs)),
            ("notebooks that failed", float(sum(not r.ok for r in runs)))]
