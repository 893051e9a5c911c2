"""Warm a lesson's cache before class, so that a live "Run all" shows its first figure within seconds.

    python -m utils.demo 03              # run lesson 03 once (filling data/cache), then again to time it warm
    python -m utils.demo 03 --fast       # the same with COURSE_FAST=1 sizes (what the tests run)
    python -m utils.demo --list          # what the cache holds
    python -m utils.demo --clear         # empty it

Pre-training is generic: the lesson runs top to bottom in a fresh kernel, and every experiment it
wraps in ``utils.cache.cached(...)`` is stored under ``data/cache/`` keyed by the code and the
arguments (see `utils.cache`). The second, warm run reports when its first figure appeared and how
long the whole lesson took; the target is a first figure within 5 s of "Run all". Run it with the
same ``COURSE_FAST`` setting as the JupyterLab you teach from: the setting is part of the key.

How a lesson uses the cache: wrap the heavy call, nothing else changes::

    from utils.cache import cached
    curve = cached(generalization_curve, X, y, split, sizes, n_models=4, epochs=epochs, seed=0)

The function must be a pure function of its arguments (seeded by an argument) with a result that
pickles; a stale entry (other library code, other arguments, other ``COURSE_FAST``) is recomputed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from . import cache
from .nbrun import INLINE_BACKEND, run_notebook

__all__ = ["FIRST_FIGURE_TARGET_S", "find_lesson", "main"]

ROOT = Path(__file__).resolve().parents[1]
FIRST_FIGURE_TARGET_S = 5.0


def find_lesson(name: str, root=ROOT) -> Path:
    """The lesson notebook that `name` names: a path, a number (``3``, ``03``) or a stem (``03_shadow_models``).

    Raises
    ------
    ValueError
        If no lesson or more than one matches (the message lists the lessons).
    """
    path = Path(name)
    if path.suffix == ".ipynb" and path.is_file():
        return path.resolve()
    lessons = sorted((Path(root) / "lessons").glob("*.ipynb"))
    if re.fullmatch(r"\d{1,2}", name):
        matches = [p for p in lessons if p.name.startswith(f"{int(name):02d}_")]
    else:
        matches = [p for p in lessons if p.stem == name or p.name == name or p.stem.startswith(name)]
    if len(matches) != 1:
        known = ", ".join(p.stem for p in lessons) or "none"
        found = "no lesson" if not matches else f"{len(matches)} lessons"
        raise ValueError(f"{found} match {name!r}; name one of: {known} (a number such as 03 is enough).")
    return matches[0]


def _snapshot() -> dict:
    return {entry.path: entry.meta.get("written") for entry in cache.entries()}


def _print_entries(entries) -> None:
    if not entries:
        print(f"the cache at {cache.cache_dir()} is empty")
        return
    for entry in entries:
        size = entry.path.stat().st_size if entry.path.exists() else 0
        print(f"{entry.function:<55} {entry.compute_s:7.1f} s to compute  {size / 1e6:6.1f} MB  "
              f"COURSE_FAST={entry.meta.get('course_fast', '?')}  written {entry.meta.get('written', '?')}")


def _clear() -> int:
    removed = 0
    for entry in cache.entries():
        for path in (entry.path, entry.path.with_suffix(".json")):
            if path.exists():
                path.unlink()
                removed += 1
    print(f"removed {removed} files from {cache.cache_dir()}")
    return 0


def main(argv=None) -> int:
    """Command line; exit 1 when the lesson failed to run."""
    parser = argparse.ArgumentParser(prog="python -m utils.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("lesson", nargs="?", help="lesson number (03), name (03_shadow_models) or path")
    parser.add_argument("--fast", action="store_true", help="COURSE_FAST=1 sizes (the setting is part of the key)")
    parser.add_argument("--no-verify", action="store_true", help="skip the second, warm run that times the lesson")
    parser.add_argument("--timeout", type=float, default=900, help="hang guard per run, in seconds")
    parser.add_argument("--list", action="store_true", help="list the cache's entries and exit")
    parser.add_argument("--clear", action="store_true", help="delete every cache entry and exit")
    args = parser.parse_args(argv)
    if args.list:
        _print_entries(cache.entries())
        return 0
    if args.clear:
        return _clear()
    if not args.lesson:
        parser.error("name a lesson, e.g. `python -m utils.demo 03`, or use --list / --clear")
    try:
        lesson = find_lesson(args.lesson)
    except ValueError as exc:
        parser.error(str(exc))
    if not cache.cache_enabled():
        parser.error("COURSE_CACHE is off in this environment; unset it to fill the cache.")
    env = {"COURSE_FAST": "1" if args.fast else os.environ.get("COURSE_FAST", "0"), "MPLBACKEND": INLINE_BACKEND}
    print(f"{lesson.name}: running once to fill {cache.cache_dir()} (COURSE_FAST={env['COURSE_FAST']}) ...", flush=True)
    before = _snapshot()
    cold = run_notebook(lesson, env=env, timeout_s=args.timeout)
    if not cold.ok:
        print(f"the lesson failed, nothing to demo:\n{cold.error}")
        return 1
    written = [e for e in cache.entries() if before.get(e.path) != e.meta.get("written")]
    print(f"cold run: {cold.wall_s:.1f} s (kernel start {cold.kernel_start_s:.1f} s)")
    if written:
        print(f"{len(written)} cached experiment(s) computed and stored:")
        _print_entries(written)
    else:
        print("no experiment was computed: the cache was already warm, or the lesson wraps none in utils.cache.cached")
    if args.no_verify:
        return 0
    warm = run_notebook(lesson, env=env, timeout_s=args.timeout)
    if not warm.ok:
        print(f"the warm run failed:\n{warm.error}")
        return 1
    first = "no figure" if warm.first_figure_s is None else f"{warm.first_figure_s:.1f} s"
    verdict = "" if warm.first_figure_s is None else (
        "  (within the 5 s target)" if warm.first_figure_s <= FIRST_FIGURE_TARGET_S else "  (OVER the 5 s target)")
    print(f"warm run: first figure after {first}{verdict}; whole lesson {warm.wall_s:.1f} s "
          f"(kernel start {warm.kernel_start_s:.1f} s, not counted)")
    slowest = sorted(enumerate(warm.cell_s), key=lambda item: -item[1])[:3]
    print("slowest cells (warm): " + ", ".join(f"cell {i} {s:.1f} s" for i, s in slowest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
