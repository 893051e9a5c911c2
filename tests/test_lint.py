"""The whole tree passes `ruff check` with the project's configuration (pyproject.toml; lessons/ and solutions/
wrap at 100 characters, their ruff.toml). CI installs the pinned ruff of requirements-dev.txt; a machine without
it skips this test and says why."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff is not installed: pip install -r requirements-dev.txt (CI installs it)")
def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"ruff check . found problems (fix them, or `ruff check --fix .`):\n{done.stdout}"

