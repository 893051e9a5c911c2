"""Run the course's notebooks top to bottom, as the tests and the benchmarks do.

`run_notebook` executes a notebook in a fresh ``python3`` kernel whose working directory is the
notebook's folder, and reports whether it ran, how long it took and, if it failed, which cell
failed and why. The executed notebook is never written back: notebooks stay stored without
outputs.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["NotebookRun", "find_notebooks", "run_notebook"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
NOTEBOOK_FOLDERS = ("lessons", "solutions")


@dataclass(frozen=True)
class NotebookRun:
    """The outcome of executing one notebook.

    Attributes
    ----------
    path : Path
        The notebook.
    ok : bool
        True when every cell ran without error within the time limit.
    wall_s : float
        Seconds from starting the kernel to the end of the last cell (or the failure).
    error : str or None
        When not ok: the failing cell's number and source, then the error and the end of its traceback.
    cell_s : tuple of float
        Seconds each executed cell took, in order (markdown cells take ~0).
    """

    path: Path
    ok: bool
    wall_s: float
    error: str | None = None
    cell_s: tuple = ()


def find_notebooks(root, folders=NOTEBOOK_FOLDERS) -> list[Path]:
    """Every ``*.ipynb`` directly under ``root/lessons`` and ``root/solutions``, sorted.

    Checkpoint copies (``.ipynb_checkpoints``) are skipped; missing folders contribute nothing.
    """
    root = Path(root)
    found = []
    for folder in folders:
        found += sorted(p for p in (root / folder).glob("*.ipynb") if p.is_file())
    return found


def _cell_error(index: int, cell, exc: Exception) -> str:
    source = cell.get("source", "") if cell is not None else ""
    outputs = cell.get("outputs", []) if cell is not None else []
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if errors:
        err = errors[-1]
        trace = _ANSI.sub("", "\n".join(err.get("traceback", [])))
        tail = "\n".join(trace.strip().splitlines()[-15:])
        what = f"{err.get('ename')}: {err.get('evalue')}\n--- traceback (end) ---\n{tail}"
    else:
        what = f"{type(exc).__name__}: {_ANSI.sub('', str(exc)).strip()[-3000:]}"
    return f"cell {index} failed:\n--- source ---\n{source}\n--- error ---\n{what}"


def run_notebook(path, *, timeout_s: float = 600, env: dict | None = None, kernel_name: str = "python3") -> NotebookRun:
    """Execute a notebook in a fresh kernel, in memory, and report how it went.

    Parameters
    ----------
    path : str or Path
        The ``.ipynb`` file. It is read, never written.
    timeout_s : float, default=600
        Time limit for starting the kernel and running every cell (a hang guard, not a
        performance budget); shutting the kernel down comes on top.
    env : dict of str -> str, optional
        Extra environment variables for the kernel (e.g. ``{"COURSE_FAST": "1"}``), added to
        this process's environment, which the kernel inherits. Unless either sets it, the kernel
        gets ``OMP_WAIT_POLICY=PASSIVE``: with the default (spinning) policy, a notebook on a
        2-core machine where another process also computes with torch can run 20-50x slower.
    kernel_name : str, default="python3"

    Returns
    -------
    NotebookRun
        ``ok`` False (never an exception) when a cell fails, the kernel dies or time runs out.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path).resolve()
    if not path.is_file():
        raise ValueError(f"no notebook at {path}; pass the path of an existing .ipynb file.")
    if not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}.")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=int(timeout_s),
        kernel_name=kernel_name,
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
        # The kernel writes its own log lines ("[IPKernelApp] WARNING | Kernel is running over TCP
        # without encryption...") to the stderr it inherits from us, i.e. into test and benchmark
        # output; they say nothing about the notebook. Errors still come through.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    kernel_env = {**os.environ, **(env or {})}
    kernel_env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep instead of spinning
    start = time.perf_counter()
    index, cell, cell_s = -1, None, []
    try:
        with client.setup_kernel(env=kernel_env):
            for index, cell in enumerate(nb.cells):
                remaining = timeout_s - (time.perf_counter() - start)
                if remaining <= 0:
                    raise TimeoutError(f"the notebook ran past its {timeout_s:.0f} s limit")
                client.timeout = max(1, int(remaining))  # nbclient's limit is per cell
                cell_start = time.perf_counter()
                client.execute_cell(cell, index)
                cell_s.append(time.perf_counter() - cell_start)
    except Exception as exc:  # a failing cell, a timeout, a dead kernel: all reported, none raised
        wall = time.perf_counter() - start
        if index < 0:
            return NotebookRun(path, False, wall, f"the kernel did not start: {type(exc).__name__}: {exc}")
        return NotebookRun(path, False, wall, _cell_error(index, cell, exc), tuple(cell_s))
    return NotebookRun(path, True, time.perf_counter() - start, None, tuple(cell_s))
