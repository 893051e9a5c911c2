"""Every docstring example in `utils` runs as a doctest (one test per module, so a failure names its module).

Only the library is collected (never lessons or notebooks); modules without examples are skipped
by construction (not collected), so this file adds no time for them.
"""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import utils


def _modules_with_examples():
    names = []
    for info in pkgutil.walk_packages(utils.__path__, prefix="utils."):
        if info.name.endswith("__main__"):
            continue
        spec = importlib.util.find_spec(info.name)
        origin = getattr(spec, "origin", None)
        if origin and origin.endswith(".py") and ">>>" in open(origin, encoding="utf-8").read():
            names.append(info.name)
    return sorted(names)


MODULES = _modules_with_examples()


def test_the_library_has_examples():
    assert {"utils.metrics", "utils.attacks.rmia", "utils.attacks.registry", "utils.validation"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, name, globs={"np": np, **vars(module)}) if t.examples]
    assert tests, f"{name} mentions >>> but doctest found no examples in it"
    report = []
    for test in tests:
        runner.run(test, out=report.append)
    failed = sum(r.failed for r in [runner.summarize(verbose=False)])
    assert failed == 0, f"{failed} examples in {name} failed:\n" + "".join(report)
