"""Entry point: ``python -m utils.bench [NAME] [options]``; NAME is any benchmark module of this package.

Each benchmark is a module ``utils/bench/NAME.py`` with a ``main(argv) -> int``; a new one needs no
change here. Without a name, the training benchmark runs.
"""

import importlib
import pkgutil
import sys
from pathlib import Path


def commands() -> list[str]:
    """The benchmark names: every module of this package that defines `main`, in name order."""
    here = Path(__file__).resolve().parent
    names = [m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_")]
    return sorted(n for n in names if hasattr(importlib.import_module(f"utils.bench.{n}"), "main"))


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--all":
        argv[0] = "all"
    name = argv.pop(0) if argv and not argv[0].startswith("-") else "training"
    available = commands()
    if name not in available:
        print(f"unknown benchmark {name!r}; choose one of: {', '.join(available)}", file=sys.stderr)
        return 2
    return importlib.import_module(f"utils.bench.{name}").main(argv) or 0


if __name__ == "__main__":
    sys.exit(main())
