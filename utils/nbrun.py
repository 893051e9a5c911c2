"""Run the course's notebooks top to bottom: the one executor behind the tests, the benchmarks, the site and the demo.

`run_notebook` executes a notebook in a fresh ``python3`` kernel whose working directory is the
notebook's folder, and reports whether it ran, how long the kernel took to start, how long each
cell took, when the first figure appeared, the kernel's peak memory and, if it failed, which cell
failed and why. The executed notebook (outputs and widget state included) comes back in the
result; the file is never written: notebooks stay stored without outputs.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["INLINE_BACKEND", "NotebookRun", "find_notebooks", "peak_rss_mb", "run_notebook", "shows_figure",
           "unfinished_bars"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
NOTEBOOK_FOLDERS = ("lessons", "solutions")
# What a person's JupyterLab draws with: figures become PNG outputs. Pass it as MPLBACKEND to see figures
# (the tests run with Agg, which shows none and is faster).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
FIGURE_MIMES = ("image/png", "image/svg+xml", "image/jpeg")


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
        Seconds from the first cell's start (the kernel already running) to the end of the last cell
        run (or the failure): what a person waits after "Run all".
    error : str or None
        When not ok: ``cell N failed: <error>``, then the cell's source and the end of the traceback.
    cell_s : tuple of float
        Seconds each executed cell took, in order (markdown cells take ~0).
    nb : nbformat.NotebookNode or None
        The executed notebook, outputs and widget state included (None if the file could not start).
    kernel_start_s : float
        Seconds the kernel took to start (not part of `wall_s`).
    first_figure_s : float or None
        Seconds from the first cell's start to the end of the first cell that showed a figure; None
        when none did (as with ``MPLBACKEND=Agg``, which displays nothing).
    peak_rss_mb : float or None
        The kernel process's peak resident memory (Linux ``VmHWM``, MiB) when the run ended; None
        where the system does not report it.
    """

    path: Path
    ok: bool
    wall_s: float
    error: str | None = None
    cell_s: tuple = ()
    nb: object = None
    kernel_start_s: float = 0.0
    first_figure_s: float | None = None
    peak_rss_mb: float | None = None


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory of process `pid` in MiB (``VmHWM`` of ``/proc/<pid>/status``), or None.

    The kernel keeps its high-water mark itself, so one read after the last cell sees the peak of
    the whole run, however short the spike; nothing has to poll.
    """
    try:
        status = Path(f"/proc/{int(pid)}/status").read_text()
    except (OSError, ValueError, TypeError):  # no such process, or no pid at all
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # the file counts kB (KiB)
    return None


def _kernel_pid(client) -> int | None:
    provisioner = getattr(getattr(client, "km", None), "provisioner", None)
    pid = getattr(provisioner, "pid", None)
    if pid is None:
        pid = getattr(getattr(provisioner, "process", None), "pid", None)
    return pid


def shows_figure(cell) -> bool:
    """True when one of the cell's outputs is an image (a figure drawn with the inline backend)."""
    return any(any(m in o.get("data", {}) for m in FIGURE_MIMES) for o in cell.get("outputs", []))


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
    """``cell N failed: ename: evalue`` on the first line (what a table row shows), then the source and traceback."""
    source = cell.get("source", "") if cell is not None else ""
    outputs = cell.get("outputs", []) if cell is not None else []
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if errors:
        err = errors[-1]
        trace = _ANSI.sub("", "\n".join(err.get("traceback", [])))
        tail = "\n".join(trace.strip().splitlines()[-15:])
        what = f"{err.get('ename')}: {err.get('evalue')}"
        details = f"{what}\n--- traceback (end) ---\n{tail}"
    else:
        what = details = f"{type(exc).__name__}: {_ANSI.sub('', str(exc)).strip()[-3000:]}"
    first_line = what.splitlines()[0][:300] if what.strip() else type(exc).__name__
    return f"cell {index} failed: {first_line}\n--- source ---\n{source}\n--- error ---\n{details}"


def run_notebook(path, *, timeout_s: float = 600, env: dict | None = None, kernel_name: str = "python3",
                 replace: dict | None = None) -> NotebookRun:
    """Execute a notebook in a fresh kernel, in memory, and report how it went.

    Parameters
    ----------
    path : str or Path
        The ``.ipynb`` file. It is read, never written.
    timeout_s : float, default=600
        Time limit for starting the kernel and running every cell (a hang guard, not a
        performance budget); shutting the kernel down comes on top.
    env : dict of str -> str, optional
        Extra environment variables for the kernel (e.g. ``{"COURSE_FAST": "1"}``, or
        ``{"MPLBACKEND": INLINE_BACKEND}`` to get figures as outputs), added to this process's
        environment, which the kernel inherits. Unless either sets it, the kernel gets
        ``OMP_WAIT_POLICY=PASSIVE``: with the default (spinning) policy, a notebook on a 2-core
        machine where another process also computes with torch can run 20-50x slower.
    kernel_name : str, default="python3"
    replace : dict of str -> str, optional
        Edits made in memory before the run (the file is never written): each key must occur in
        exactly one code cell, where it is replaced by its value. A test runs a lesson as a student
        who changed a line would (lesson 08 under each threat model).

    Returns
    -------
    NotebookRun
        ``ok`` False (never an exception) when a cell fails, the kernel dies or time runs out.

    Raises
    ------
    ValueError
        No notebook at `path`, or a `timeout_s` that is not a positive number of seconds.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path).resolve()
    if not path.is_file():
        raise ValueError(f"no notebook at {path}; pass the path of an existing .ipynb file.")
    if isinstance(timeout_s, bool) or not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}.")
    nb = nbformat.read(path, as_version=4)
    for old, new in (replace or {}).items():
        cells = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        if len(cells) != 1 or cells[0].source.count(old) != 1:
            raise ValueError(f"replace: {old!r} occurs {sum(c.source.count(old) for c in cells)} times in the code "
                             f"cells of {path.name}; give a line that occurs exactly once.")
        cells[0].source = cells[0].source.replace(old, new)
    client = NotebookClient(
        nb,
        timeout=int(timeout_s),
        kernel_name=kernel_name,
        allow_errors=False,
        store_widget_state=True,  # a static copy (utils.build_site) shows widgets from their saved state
        resources={"metadata": {"path": str(path.parent)}},
        # The kernel writes its own log lines ("[IPKernelApp] WARNING | Kernel is running over TCP
        # without encryption...") to the stderr it inherits from us, i.e. into test and benchmark
        # output; they say nothing about the notebook. Errors still come through.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    kernel_env = {**os.environ, **(env or {})}
    kernel_env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep instead of spinning
    start = time.perf_counter()
    run_start, kernel_start_s, first_figure_s = start, 0.0, None
    index, cell, cell_s = -1, None, []
    try:
        with client.setup_kernel(env=kernel_env):
            run_start = time.perf_counter()
            kernel_start_s = run_start - start
            for index, cell in enumerate(nb.cells):
                remaining = timeout_s - (time.perf_counter() - start)
                if remaining <= 0:
                    raise TimeoutError(f"the notebook ran past its {timeout_s:.0f} s limit")
                client.timeout = max(1, int(remaining))  # nbclient's limit is per cell
                cell_start = time.perf_counter()
                client.execute_cell(cell, index)
                cell_s.append(time.perf_counter() - cell_start)
                if first_figure_s is None and shows_figure(cell):
                    first_figure_s = time.perf_counter() - run_start
            wall_s = time.perf_counter() - run_start
            peak = peak_rss_mb(_kernel_pid(client))  # before shutdown, while the kernel process exists
            client.set_widgets_metadata()
    except Exception as exc:  # a failing cell, a timeout, a dead kernel: all reported, none raised
        wall_s = time.perf_counter() - run_start
        if index < 0:
            return NotebookRun(path, False, wall_s, f"the kernel did not start: {type(exc).__name__}: {exc}", nb=nb,
                               kernel_start_s=wall_s)
        return NotebookRun(path, False, wall_s, _cell_error(index, cell, exc), tuple(cell_s), nb, kernel_start_s,
                           first_figure_s)
    return NotebookRun(path, True, wall_s, None, tuple(cell_s), nb, kernel_start_s, first_figure_s, peak)


_BAR = re.compile(r"(\d+)%\|.*\| *(\d+)/(\d+)")


def unfinished_bars(nb) -> list[str]:
    """Progress bars in an executed notebook's outputs that a saved copy shows short of their total.

    A tqdm widget's saved text is its first frame ("0%| | 0/30"); the course's bar (utils.progress)
    saves its last one, full for a bar that stays and empty for one that goes.
    """
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/plain", "") if "data" in out else ""
            for line in str(text).splitlines():
                m = _BAR.search(line)
                if m and int(m.group(2)) != int(m.group(3)):
                    found.append(f"cell {i}: {line.strip()}")
    return found
