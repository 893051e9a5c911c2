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

Notebooks run through `utils.nbrun.run_notebook`, the executor the tests, the benchmarks and
``python -m utils.demo`` share.
"""

from __future__ import annotations

import argparse
import copy
import html
import os
import sys
from pathlib import Path

import nbformat

from .nbrun import INLINE_BACKEND, run_notebook, shows_figure

__all__ = ["build_site", "course_map", "figure_captions", "main", "render_html", "static_widgets",
           "without_setup_cells"]

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


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
        has_figure = shows_figure(cell)
        outputs = []
        for output in cell.outputs:
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                outputs.append(output)
                continue
            if not has_figure:
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


def without_setup_cells(nb):
    """A copy of `nb` without its Colab setup cell (it does nothing outside Colab, and a page is not Colab)."""
    from .colab import SETUP_TAG

    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if SETUP_TAG not in c.get("metadata", {}).get("tags", [])]
    return nb


def figure_captions(nb) -> list[str]:
    """A text alternative for every image output of `nb`, in page order (WCAG 2.1, 1.1.1).

    The course captions each figure in the markdown cell after it, in italics (``*Log-log ROC of ...*``):
    that caption is the figure's alternative text. A figure without one is described by its cell.
    """
    captions, title = [], _title(nb, "the lesson")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        images = sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
        after = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
        caption = ""
        if after is not None and after.cell_type == "markdown" and after.source.lstrip().startswith("*"):
            caption = after.source.strip().split("\n\n")[0].strip("* \n").replace("\n", " ")
        for _ in range(images):
            captions.append(caption or f"Figure {len(captions) + 1} of {title}, drawn by code cell {index}.")
    return captions


# What nbconvert writes when it knows nothing about an image: an alternative text that says nothing.
NO_DESCRIPTION = 'alt="No description has been provided for this image"'


def _with_alt_text(body: str, captions: list[str]) -> str:
    """Give each ``<img>`` without a real ``alt`` its caption (the k-th image of the page gets the k-th)."""
    parts = body.split("<img")
    pieces = [parts[0]]
    for k, part in enumerate(parts[1:]):
        head, sep, rest = part.partition(">")
        if NO_DESCRIPTION in head or "alt=" not in head:
            text = captions[k] if k < len(captions) else "Figure"
            head = head.replace(NO_DESCRIPTION, "").replace("  ", " ")
            head = f' alt="{html.escape(text, quote=True)}"' + head
        pieces.append(head + sep + rest)
    return "<img".join(pieces)


def render_html(nb, title: str) -> str:
    """`nb` as one self-contained HTML page (nbconvert's ``lab`` template, images embedded, alt text on each)."""
    from nbconvert import HTMLExporter

    page = static_widgets(without_setup_cells(nb))
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(page, resources={"metadata": {"name": title}})
    return _with_alt_text(body, figure_captions(page))


def course_map(readme: Path = ROOT / "README.md") -> dict[str, str]:
    """What each lesson teaches, from the README's course map: ``{"lessons/NN_name": text}``."""
    rows = {}
    for line in readme.read_text(encoding="utf-8").splitlines() if readme.is_file() else []:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[1].startswith("[`lessons/"):
            path = cells[1].split("`")[1]
            rows[path.removesuffix(".ipynb")] = cells[2]
    return rows


def _index_html(rows: list[dict]) -> str:
    """The course map: one row per lesson, its title, what it teaches, its run and its exercise."""
    def row(r):
        exercise = (f'<a href="{html.escape(r["exercise"])}">exercise</a>' if r.get("exercise") else "")
        return (f'<tr><td><a href="{html.escape(r["href"])}">{html.escape(r["title"])}</a></td>'
                f'<td>{html.escape(r["teaches"])}</td><td>{html.escape(r["note"])}</td><td>{exercise}</td></tr>')

    body = "\n".join(row(r) for r in rows)
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>Ghosts in the Weights</title>\n"
            "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto;color:#111}"
            "td,th{border-bottom:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}"
            "a{color:#0b4f8a}</style></head>\n"
            "<body><h1>Ghosts in the Weights</h1>\n<p>A static copy of the course: the outputs of one run. "
            "Sliders do not move here; run the notebooks in JupyterLab for that.</p>\n"
            "<h2>Course map</h2>\n<table><thead><tr><th scope='col'>Lesson</th><th scope='col'>What you learn</th>"
            "<th scope='col'>Run</th><th scope='col'>Exercise</th></tr></thead>\n"
            f"<tbody>\n{body}\n</tbody></table>\n</body></html>\n")


def _exercise_page(lesson: Path, out: Path) -> str:
    """Write the lesson's exercise (``exercises/NN_*.ipynb``, same two digits) as a page, not run; its href."""
    found = sorted((lesson.parent.parent / "exercises").glob(f"{lesson.name[:2]}_*.ipynb"))
    if not found:
        return ""
    page = out / "exercises" / f"{found[0].stem}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(render_html(nbformat.read(found[0], as_version=4), found[0].stem), encoding="utf-8")
    return page.relative_to(out).as_posix()


def _title(nb, fallback: str) -> str:
    return next((c.source.split("\n")[0].lstrip("# ").strip() for c in nb.cells
                 if c.cell_type == "markdown" and c.source.startswith("# ")), fallback)


def build_site(notebooks, out, *, env: dict | None = None, timeout_s: float = 600, log=print) -> list:
    """Execute each notebook and write ``out/<folder>/<name>.html`` and ``out/index.html``.

    Returns
    -------
    list of (Path, utils.nbrun.NotebookRun)
        One entry per notebook, in order; failed runs are included (their page shows the error).
    """
    out = Path(out)
    results, rows, teaches = [], [], course_map()
    for path in map(Path, notebooks):
        run = run_notebook(path, env={"MPLBACKEND": INLINE_BACKEND, **(env or {})}, timeout_s=timeout_s)
        page = out / path.parent.name / f"{path.stem}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(render_html(run.nb, path.stem), encoding="utf-8")
        results.append((path, run))
        note = f"ran in {run.wall_s:.0f} s" if run.ok else "FAILED: " + (run.error or "").splitlines()[0]
        rows.append({"href": page.relative_to(out).as_posix(), "title": _title(run.nb, path.stem),
                     "teaches": teaches.get(f"{path.parent.name}/{path.stem}", ""), "note": note,
                     "exercise": _exercise_page(path, out)})
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
