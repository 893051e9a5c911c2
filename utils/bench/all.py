"""One benchmark for the whole course: every notebook's time and memory, and each benchmark's headline.

    python -m utils.bench all [--root DIR] [--modes default,fast] [--timeout S] [--no-headlines]
    python -m utils.bench --all          # the same

Part 1, the notebooks: every lesson and solution runs in a fresh kernel, once with the default sizes
and once with ``COURSE_FAST=1``; one row each gives the wall time (first cell to last, kernel start
apart), the first figure's time (what a class waits for after "Run all") and the kernel's peak
resident memory (Linux ``VmHWM``, read once at the end: the kernel keeps the high-water mark). The
totals are compared with the course's targets: the whole course under 10 min (default) and 5 min
(fast) on 2 cores, every kernel under 1.5 GiB so that one JupyterHub node holds a class.

Part 2, the headlines: every other benchmark module ``utils/bench/<name>.py`` is asked for its
headline figure. The protocol, for whoever adds a benchmark:

    def headline():
        '''The one figure a regression would move, measured at a modest size (seconds, not minutes).'''
        result = run(...)                       # the module's own measurement
        return ("batched speedup vs loop (x)", result.speedup)   # or a list of such pairs

``headline()`` takes no arguments and returns one ``(name, value)`` pair or a list of them; the
name carries the unit. A module without ``headline`` is listed as such; one that raises is reported
and the table goes on. Nothing is asserted: timings on a shared machine are noisy, compare ratios
measured in one run.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
import time
from pathlib import Path

from ..nbrun import INLINE_BACKEND, find_notebooks, run_notebook
from .notebooks import MODES, NO_CACHE

__all__ = ["COURSE_TARGETS_S", "PEAK_TARGET_MB", "NotebookRow", "collect_headlines", "notebook_rows", "main"]

ROOT = Path(__file__).resolve().parents[2]
COURSE_TARGETS_S = {"default": 600.0, "fast": 300.0}
PEAK_TARGET_MB = 1536.0
SKIP = {"all", "notebooks"}  # this module, and the one whose figures are part 1's table


class NotebookRow:
    """One notebook run: ``path``, ``mode``, ``ok``, ``wall_s``, ``first_figure_s``, ``peak_mb``, ``error``."""

    __slots__ = ("path", "mode", "ok", "wall_s", "first_figure_s", "peak_mb", "error")

    def __init__(self, path, mode, ok, wall_s, first_figure_s, peak_mb, error=None):
        self.path, self.mode, self.ok, self.wall_s = Path(path), mode, ok, wall_s
        self.first_figure_s, self.peak_mb, self.error = first_figure_s, peak_mb, error


def notebook_rows(notebooks, modes=("default", "fast"), *, timeout_s: float = 900, log=print) -> list[NotebookRow]:
    """Run each notebook in each mode in a fresh kernel; print a row as each finishes and return them all."""
    rows = []
    width = max([len(f"{p.parent.name}/{p.name}") for p in notebooks] + [8])
    header = f"{'notebook':<{width}}  {'mode':<7}  {'wall_s':>7}  {'1st_fig_s':>9}  {'peak_MB':>7}  status"
    log(header)
    log("-" * len(header))
    for path in notebooks:
        for mode in modes:
            env = {"COURSE_FAST": MODES[mode], "MPLBACKEND": INLINE_BACKEND, **NO_CACHE}
            run = run_notebook(path, env=env, timeout_s=timeout_s)
            row = NotebookRow(path, mode, run.ok, run.wall_s, run.first_figure_s, run.peak_rss_mb, run.error)
            rows.append(row)
            first = "-" if row.first_figure_s is None else f"{row.first_figure_s:.1f}"
            peak = "?" if row.peak_mb is None else f"{row.peak_mb:.0f}"
            status = "ok" if row.ok else "FAILED: " + (row.error or "").splitlines()[0][:100]
            if row.ok and row.peak_mb is not None and row.peak_mb > PEAK_TARGET_MB:
                status = f"ok, OVER the {PEAK_TARGET_MB:.0f} MB memory target"
            name = f"{path.parent.name}/{path.name}"
            log(f"{name:<{width}}  {mode:<7}  {row.wall_s:7.1f}  {first:>9}  {peak:>7}  {status}")
    return rows


def _summary(rows, modes, log=print) -> None:
    log("")
    for mode in modes:
        runs = [r for r in rows if r.mode == mode]
        total = sum(r.wall_s for r in runs)
        target = COURSE_TARGETS_S[mode]
        verdict = "within" if total <= target and all(r.ok for r in runs) else "OVER (or failed)"
        log(f"course total, {mode:<7}: {total:7.1f} s for {len(runs)} notebooks "
            f"({verdict} the {target / 60:.0f} min target)")
    peaks = [r.peak_mb for r in rows if r.peak_mb is not None]
    if peaks:
        worst = max(rows, key=lambda r: -1 if r.peak_mb is None else r.peak_mb)
        verdict = "within" if max(peaks) <= PEAK_TARGET_MB else "OVER"
        log(f"largest kernel peak: {max(peaks):.0f} MB ({worst.path.parent.name}/{worst.path.name}, {worst.mode}; "
            f"{verdict} the {PEAK_TARGET_MB:.0f} MB target)")


def _as_pairs(value) -> list[tuple[str, object]]:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return [value]
    pairs = list(value)
    if not all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in pairs):
        raise TypeError(f"headline() must return a (name, value) pair or a list of them, got {value!r}")
    return pairs


def collect_headlines(modules: dict) -> list[tuple[str, str, str]]:
    """Ask each module for its ``headline()``; rows of (benchmark, figure, value as text), in name order."""
    rows = []
    for name in sorted(modules):
        module = modules[name]
        if not callable(getattr(module, "headline", None)):
            rows.append((name, "(no headline(); see utils/bench/all.py for the protocol)", ""))
            continue
        start = time.perf_counter()
        try:
            pairs = _as_pairs(module.headline())
        except Exception as exc:  # noqa: BLE001 -- one broken benchmark must not hide the others' figures
            rows.append((name, f"FAILED: {type(exc).__name__}: {exc}"[:160], ""))
            continue
        seconds = time.perf_counter() - start
        for figure, value in pairs:
            text = f"{value:.4g}" if isinstance(value, float) and math.isfinite(value) else str(value)
            rows.append((name, figure, text))
        rows.append((name, "(seconds to measure the headline)", f"{seconds:.1f}"))
    return rows


def _benchmark_modules() -> dict:
    from .__main__ import commands

    return {name: importlib.import_module(f"utils.bench.{name}") for name in commands() if name not in SKIP}


def main(argv=None) -> int:
    """Command line: print the notebook table, the totals and the headlines; exit 1 if a notebook failed."""
    parser = argparse.ArgumentParser(prog="python -m utils.bench all", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="course folder holding lessons/ and solutions/")
    parser.add_argument("--modes", default="default,fast", help="comma-separated: default, fast (default: both)")
    parser.add_argument("--timeout", type=float, default=900, help="hang guard per notebook run, in seconds")
    parser.add_argument("--no-headlines", action="store_true", help="only the notebook table")
    parser.add_argument("--no-notebooks", action="store_true", help="only the headlines")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in MODES for m in modes):
        parser.error(f"--modes must list some of {', '.join(MODES)}, got {args.modes!r}")
    print(f"# {os.cpu_count()} CPUs, 1-minute load average {os.getloadavg()[0]:.1f} (other processes skew timings)")
    failed = False
    if not args.no_notebooks:
        notebooks = find_notebooks(args.root)
        if not notebooks:
            print(f"no notebooks under {args.root}/lessons or {args.root}/solutions")
            return 1
        rows = notebook_rows(notebooks, modes, timeout_s=args.timeout)
        _summary(rows, modes)
        failed = not all(r.ok for r in rows)
    if not args.no_headlines:
        print("")
        headlines = collect_headlines(_benchmark_modules())
        width = max([len(b) for b, _, _ in headlines] + [9])
        print(f"{'benchmark':<{width}}  figure = value")
        for benchmark, figure, value in headlines:
            print(f"{benchmark:<{width}}  {figure}" + (f" = {value}" if value else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
