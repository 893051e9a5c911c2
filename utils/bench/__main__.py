"""Entry point: ``python -m utils.bench [training|notebooks|attacks] [options]``."""

import importlib
import sys

COMMANDS = {"training": "utils.bench.training", "notebooks": "utils.bench.notebooks", "attacks": "utils.bench.attacks"}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv.pop(0) if argv and not argv[0].startswith("-") else "training"
    if name not in COMMANDS:
        print(f"unknown benchmark {name!r}; choose one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    return importlib.import_module(COMMANDS[name]).main(argv) or 0


if __name__ == "__main__":
    sys.exit(main())
