"""A static HTML copy of the course, for reading without running anything (instructor's kit).

    python -m utils.build_site                     # every lesson -> build/site/lessons/*.html, build/site/index.html
    python -m utils.build_site --out DIR --fast    # elsewhere, with COURSE_FAST=1 sizes
    python -m utils.build_site lessons/02_loss_attack.ipynb   # one notebook

Each notebook runs top to bottom in a fresh kernel (its folder as working directory, matplotlib's
inline backend, so figures are ordinary PNG outputs) and is exported with nbconvert's ``lab``
template, images embedded. A page has no kernel, so a widget cannot move: its live controls are
left out and the widget is shown as its figure (the image the widget drew when the cell ran, or the
figures its ipywidgets ``Output`` captured). A notebook that fails still gets a page, with the error
where it happened, and the command exits 1 naming it. The stored notebooks are never written.

`execute_notebook` is also what ``python -m utils.demo`` times: it reports when the first figure
appeared.
"""

from __future__ import annotations

import argparse
import copy
import html
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = ["ExecutedNotebook", "build_site", "execute_notebook", "main", "peak_rss_mb", "render_html", "static_widgets"]

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
FIGURE_MIMES = ("image/png", "image/svg+xml", "image/jpeg")


@dataclass
class ExecutedNotebook:
    """A notebook after a run, with its outputs.

    Attributes
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (outputs included), a copy: the file is not written.
    ok : bool
        True when every cell ran without error within the time limit.
    wall_s : float
        Seconds from the first cell's start (kernel already running) to the end of the last cell run.
    kernel_start_s : float
        Seconds the kernel took to start.
    first_figure_s : float or None
        Seconds from the first cell's start to the end of the first cell that showed a figure
        (what a person waits for after "Run all"); None when no cell did.
    cell_s : list of float
        Seconds each executed cell took, in order.
    error : str or None
        When not ok: which cell failed and why.
    peak_rss_mb : float or None
        The kernel process's peak resident memory (Linux ``VmHWM``, MiB) when the run ended; None
        where the system does not report it.
    """

    nb: object
    ok: bool
    wall_s: float
    kernel_start_s: float
    first_figure_s: float | None
    cell_s: list = field(default_factory=list)
    error: str | None = None
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


def _has_figure(cell) -> bool:
    return any(any(m in o.get("data", {}) for m in FIGURE_MIMES) for o in cell.get("outputs", []))


def _failure(nb, index: int, exc: Exception) -> str:
    """'cell N failed: ename: evalue' (the cell's own error output when there is one), then the details."""
    if index < 0:
        return f"the kernel did not start: {type(exc).__name__}: {exc}"
    errors = [o for o in nb.cells[index].get("outputs", []) if o.get("output_type") == "error"]
    what = f"{errors[-1].get('ename')}: {errors[-1].get('evalue')}" if errors else f"{type(exc).__name__}: {exc}"
    source = nb.cells[index].get("source", "")
    return f"cell {index} failed: {what.strip()[:1000]}\n--- source ---\n{source}"


def execute_notebook(path, *, env: dict | None = None, timeout_s: float = 600) -> ExecutedNotebook:
    """Run `path` in a fresh ``python3`` kernel, in memory, keeping outputs and the widgets' state.

    Parameters
    ----------
    path : str or Path
        The ``.ipynb`` file (read, never written).
    env : dict of str -> str, optional
        Extra environment for the kernel, added to this process's. ``MPLBACKEND`` defaults to the
        inline backend (a person's kernel draws that way; with ``Agg`` figures shown by ``display``
        would be text), and ``OMP_WAIT_POLICY`` to ``PASSIVE``.
    timeout_s : float, default=600
        Hang guard for the whole run.

    Returns
    -------
    ExecutedNotebook
        ``ok`` False (never an exception) when a cell fails, the kernel dies or time runs out.
    """
    from nbclient import NotebookClient

    path = Path(path).resolve()
    if not path.is_file():
        raise ValueError(f"no notebook at {path}; pass the path of an existing .ipynb file.")
    if not (isinstance(timeout_s, (int, float)) and not isinstance(timeout_s, bool) and timeout_s > 0):
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}.")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=int(timeout_s), kernel_name="python3", allow_errors=False,
                            store_widget_state=True, resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])  # no TCP-encryption warning
    kernel_env = {**os.environ, "MPLBACKEND": INLINE_BACKEND, **(env or {})}
    kernel_env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    start = time.perf_counter()
    kernel_start_s, first_figure_s, cell_s, index, peak = 0.0, None, [], -1, None
    run_start = start
    try:
        with client.setup_kernel(env=kernel_env):
            run_start = time.perf_counter()
            kernel_start_s = run_start - start
            for index, cell in enumerate(nb.cells):
                remaining = timeout_s - (time.perf_counter() - start)
                if remaining <= 0:
                    raise TimeoutError(f"the notebook ran past its {timeout_s:.0f} s limit")
                client.timeout = max(1, int(remaining))
                cell_start = time.perf_counter()
                client.execute_cell(cell, index)
                cell_s.append(time.perf_counter() - cell_start)
                if first_figure_s is None and _has_figure(cell):
                    first_figure_s = time.perf_counter() - run_start
            wall_s = time.perf_counter() - run_start
            peak = peak_rss_mb(_kernel_pid(client))  # before shutdown, while the kernel process exists
            client.set_widgets_metadata()
    except Exception as exc:  # noqa: BLE001 -- a failing cell, a timeout, a dead kernel: reported, not raised
        return ExecutedNotebook(nb, False, time.perf_counter() - run_start, kernel_start_s, first_figure_s, cell_s,
                                _failure(nb, index, exc), peak)
    return ExecutedNotebook(nb, True, wall_s, kernel_start_s, first_figure_s, cell_s, None, peak)


def _output_widget_outputs(state: dict, model_id: str, seen=None) -> list:
    """The outputs captured by ipywidgets ``Output`` models in the widget tree under `model_id`, in order."""
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in state:
        return []
    seen.add(model_id)
    model = state[model_id]
    found = list(model.get("state", {}).get("outputs", [])) if model.get("model_name") == "OutputModel" else []
    for child in model.get("state", {}).get("children", []):
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            found += _output_widget_outputs(state, child[len("IPY_MODEL_"):], seen)
    return found


def static_widgets(nb):
    """A copy of `nb` in which each widget is shown as its figure, for a page without a kernel.

    An output holding a live widget loses the widget. If the cell shows a figure as an ordinary
    output (the course's widgets do), nothing else is needed; otherwise the outputs that the
    widget's ipywidgets ``Output`` models captured (the stored widget state) take its place. A text
    stand-in such as ``VBox(children=...)`` is dropped; a plain-text description is kept.
    """
    nb = copy.deepcopy(nb)
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type != "code" or not any(WIDGET_VIEW in o.get("data", {}) for o in cell.get("outputs", [])):
            continue
        shows_figure = _has_figure(cell)
        outputs = []
        for output in cell.outputs:
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                outputs.append(output)
                continue
            if not shows_figure:
                captured = _output_widget_outputs(state, data[WIDGET_VIEW].get("model_id", ""))
                outputs += [nbformat.from_dict(o) for o in captured]
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if text and not text.lstrip().startswith(("VBox(", "HBox(", "Box(", "interactive(", "Output(")):
                kept = copy.deepcopy(output)
                kept["data"] = {"text/plain": text}
                outputs.append(kept)
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)  # no kernel, no widget manager: the state would only render as blanks
    return nb


def render_html(nb, title: str) -> str:
    """`nb` as one self-contained HTML page (nbconvert's ``lab`` template, images embedded)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(static_widgets(nb), resources={"metadata": {"name": title}})
    return body


def _index_html(rows: list[tuple[str, str, str]]) -> str:
    items = "\n".join(
        f'<li><a href="{html.escape(href)}">{html.escape(name)}</a> <small>{html.escape(note)}</small></li>'
        for href, name, note in rows
    )
    return ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Ghosts in the Weights</title></head>\n"
            "<body><h1>Ghosts in the Weights</h1>\n<p>Static copy of the course: the outputs of one run. "
            "Sliders do not move here; run the notebooks in JupyterLab for that.</p>\n"
            f"<ul>\n{items}\n</ul>\n</body></html>\n")


def build_site(notebooks, out, *, env: dict | None = None, timeout_s: float = 600, log=print) -> list:
    """Execute each notebook and write ``out/<folder>/<name>.html`` and ``out/index.html``.

    Returns
    -------
    list of (Path, ExecutedNotebook)
        One entry per notebook, in order; failed runs are included (their page shows the error).
    """
    out = Path(out)
    results, rows = [], []
    for path in map(Path, notebooks):
        run = execute_notebook(path, env=env, timeout_s=timeout_s)
        page = out / path.parent.name / f"{path.stem}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(render_html(run.nb, path.stem), encoding="utf-8")
        results.append((path, run))
        note = f"ran in {run.wall_s:.0f} s" if run.ok else "FAILED: " + (run.error or "").splitlines()[0]
        rows.append((page.relative_to(out).as_posix(), f"{path.parent.name}/{path.stem}", note))
        log(f"{'ok    ' if run.ok else 'FAILED'} {path.parent.name}/{path.name} -> {page} ({run.wall_s:.1f} s)")
        if not run.ok:
            log("    " + (run.error or "").replace("\n", "\n    "))
    (out / "index.html").parent.mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_text(_index_html(rows), encoding="utf-8")
    return results


def main(argv=None) -> int:
    """Command line; exit 1 when a notebook failed (its page is still written)."""
    parser = argparse.ArgumentParser(prog="python -m utils.build_site", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to build (default: every lesson)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site", help="output folder (default: build/site)")
    parser.add_argument("--fast", action="store_true", help="run with COURSE_FAST=1 (smaller sizes)")
    parser.add_argument("--timeout", type=float, default=600, help="hang guard per notebook, in seconds")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "lessons").glob("*.ipynb"))
    missing = [str(p) for p in notebooks if not Path(p).is_file()]
    if missing or not notebooks:
        parser.error(f"no notebook at {', '.join(missing) or ROOT / 'lessons'}")
    env = {"COURSE_FAST": "1" if args.fast else os.environ.get("COURSE_FAST", "0")}
    results = build_site(notebooks, args.out, env=env, timeout_s=args.timeout)
    failed = [p for p, run in results if not run.ok]
    print(f"wrote {len(results)} pages and {args.out / 'index.html'}; {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
