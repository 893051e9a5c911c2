"""utils.nbrun: a notebook run reports how it went, and its output holds nothing but the notebook's."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from utils.nbrun import run_notebook

ROOT = Path(__file__).resolve().parents[1]


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# tiny")] + [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def test_run_output_has_no_kernel_log_lines(tmp_path):
    """The kernel's own log ("[IPKernelApp] WARNING | Kernel is running over TCP ...") stays out of the output."""
    path = _notebook(tmp_path / "tiny.ipynb", "x = 6 * 7\nprint('answer', x)")
    code = f"from utils.nbrun import run_notebook; r = run_notebook({str(path)!r}, timeout_s=120); print('RUN', r.ok)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert "RUN True" in done.stdout, output
    assert "[IPKernelApp]" not in output, output


def test_run_reports_a_failing_cell(tmp_path):
    run = run_notebook(_notebook(tmp_path / "bad.ipynb", "a = 1", "raise ValueError('boom')"), timeout_s=120)
    assert not run.ok and "cell 2 failed" in run.error and "ValueError: boom" in run.error
    assert len(run.cell_s) == 2  # the markdown cell and the first code cell finished
    with pytest.raises(ValueError, match="no notebook"):
        run_notebook(tmp_path / "missing.ipynb")
