"""Test-wide setup: fast sizes, a headless matplotlib, and no network (here and in every kernel)."""

import importlib.util
import os
from pathlib import Path

import pytest

NETGUARD = Path(__file__).resolve().parent / "netguard"

# Set before anything imports matplotlib or starts a kernel; kernels inherit the environment,
# and Python runs tests/netguard/sitecustomize.py at the start of each of them.
os.environ["COURSE_FAST"] = "1"
os.environ["MPLBACKEND"] = "Agg"
# Tests measure the real computation and never read or write the instructor's cache under data/cache;
# the tests of the cache itself turn it back on in a private folder.
os.environ["COURSE_CACHE"] = "off"
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETGUARD), os.environ.get("PYTHONPATH", "")]))

# This process started before PYTHONPATH was set, so install the same guard here directly.
_spec = importlib.util.spec_from_file_location("course_netguard", NETGUARD / "sitecustomize.py")
_spec.loader.exec_module(importlib.util.module_from_spec(_spec))

# One torch/OpenMP thread per process: on a shared 2-core machine two spinning OpenMP threads per
# process slow these tiny models several-fold whenever anything else runs (a kernel, a second
# grader job). Kernels inherit it; `python -m utils.bench` measures with the machine's default.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep instead of spinning


@pytest.fixture
def shell():
    """An IPython shell that renders figures as PNG, as a notebook kernel does (the widget tests)."""
    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats

    shell = InteractiveShell.instance()
    select_figure_formats(shell, {"png"})
    yield shell
    plt.close("all")
