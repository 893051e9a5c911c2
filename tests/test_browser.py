"""The widget lessons in a real browser: JupyterLab on loopback, driven through Debian's Chromium.

For each lesson whose code uses a widget (it imports ``utils.widgets`` or ``ipywidgets``), the test
opens a copy of the lesson in JupyterLab, runs every cell (``runmenu:run-all``), checks that every
widget output renders as a live widget with a slider (not "Loading widget..." nor a text repr),
drags one slider and checks that the figure under it changes, and saves a screenshot of each
code cell under ``reports/browser/<lesson>/`` (git-ignored) for a person to look at.

The server is isolated: a fresh token, temporary settings, workspace, runtime and config folders,
and a temporary root folder holding copies of the lessons, so autosave can never write outputs
into the stored notebooks. Kernels inherit this process's environment (``COURSE_FAST=1`` and the
network guard of ``conftest.py``). No browser is downloaded: Playwright drives the system Chromium
(``apt-get install chromium``); the test is skipped only where no Chromium is installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "reports" / "browser"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
WIDGET_CODE = re.compile(r"^\s*(from|import)\s+(utils\.widgets|ipywidgets)\b", re.MULTILINE)
SERVER_START_S = 90
RUN_ALL_S = 420  # a hang guard per lesson on a busy 2-core machine, not a performance budget
FIGURE_CHANGE_S = 60


def find_chromium() -> str | None:
    """The system Chromium's path (``$COURSE_CHROMIUM`` first), or None where none is installed."""
    for candidate in (os.environ.get("COURSE_CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def widget_lessons(root=ROOT) -> list[Path]:
    """The lessons whose code imports ``utils.widgets`` or ``ipywidgets``, sorted."""
    found = []
    for path in sorted((Path(root) / "lessons").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if any(c.cell_type == "code" and WIDGET_CODE.search(c.source) for c in nb.cells):
            found.append(path)
    return found


CHROMIUM = find_chromium()
LESSONS = widget_lessons()


def test_widget_lessons_are_discovered(tmp_path):
    """The discovery finds lessons that import a widget module, and only those."""
    assert LESSONS, "no lesson imports utils.widgets or ipywidgets; the browser test would check nothing."
    (tmp_path / "lessons").mkdir()
    sources = {"01_a.ipynb": "from utils.widgets import overfitting_explorer", "02_b.ipynb": "import numpy as np",
               "03_c.ipynb": "x = 1\nimport ipywidgets as widgets", "04_d.ipynb": "# from utils.widgets import x"}
    for name, source in sources.items():
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), tmp_path / "lessons" / name)
    assert [p.name for p in widget_lessons(tmp_path)] == ["01_a.ipynb", "03_c.ipynb"]


# ---------------------------------------------------------------- JupyterLab, isolated


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(settings_dir: Path) -> None:
    """User settings for a quiet, test-friendly JupyterLab: no news toast, no autosave, every cell in the DOM."""
    user = settings_dir / "@jupyterlab"  # JUPYTERLAB_SETTINGS_DIR is the user-settings folder itself
    settings = {
        "apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
        "docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        # 'none' attaches every cell to the page, so that a cell's outputs can be found and screenshotted.
        "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for name, values in settings.items():
        (user / name).parent.mkdir(parents=True, exist_ok=True)
        (user / name).write_text(json.dumps(values))


class JupyterLab:
    """A JupyterLab server on 127.0.0.1 with a fresh token and private folders; `stop()` ends it."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.root = workdir / "root"
        self.root.mkdir(parents=True)
        self.token = secrets.token_hex(24)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        # A person's kernel draws with matplotlib's inline backend; with Agg (conftest.py) figures shown
        # by `display(fig)` would be text reprs, "<Figure size ...>", and the test would see no image.
        env.pop("MPLBACKEND", None)
        for key, folder in (("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                            ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config")):
            env[key] = str(workdir / folder)
            (workdir / folder).mkdir(parents=True, exist_ok=True)
        _write_settings(workdir / "settings")
        self.log_path = workdir / "jupyterlab.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}", "--ServerApp.allow_root=True", "--LabApp.expose_app_in_browser=True",
             "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def log_tail(self, n_chars: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-n_chars:]

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def wait_ready(self, timeout_s: float = SERVER_START_S) -> None:
        """Poll the status API until it answers; fail at once, with the log, if the server died."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.api("/api/status")
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer within {timeout_s:.0f} s:\n{self.log_tail()}")

    def delete_sessions(self) -> None:
        """Shut down every session, so that a notebook opens with a fresh kernel."""
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", method="DELETE")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip(f"no Chromium installed (looked for {', '.join(CHROMIUM_CANDIDATES)}); "
                    "install it with `apt-get install chromium` to run the browser test.")
    server = JupyterLab(tmp_path_factory.mktemp("jupyterlab"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: Chromium's sandbox refuses to start as root (CI containers).
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield instance
        finally:
            instance.close()


# ---------------------------------------------------------------- reading the page

# The notebook model, read through the app object (exposed by --LabApp.expose_app_in_browser).
CELLS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model || !panel.sessionContext) return null;
  const cells = [];
  for (const cell of panel.content.model.cells) {
    if (cell.type !== 'code') continue;
    const outputs = [];
    for (let i = 0; i < cell.outputs.length; i++) {
      const o = cell.outputs.get(i).toJSON();
      outputs.push({type: o.output_type, mimes: Object.keys(o.data || {}), ename: o.ename || null,
                    evalue: o.evalue || null});
    }
    cells.push({id: cell.id, count: cell.executionCount, outputs});
  }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {cells, kernelStatus: kernel ? kernel.status : null};
}"""

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
SLIDER = ".jupyter-widgets .widget-slider, .jupyter-widgets.widget-slider"


def _status_bar(page) -> str:
    return page.locator("#jp-main-statusbar").inner_text(timeout=5000)


def _wait_for(predicate, timeout_s: float, what: str, interval_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _kernel_idle(page) -> bool:
    state = page.evaluate(CELLS_JS)
    return bool(state and state["kernelStatus"] == "idle" and "| Idle" in _status_bar(page))


def _run_finished(page, n_code_cells: int):
    state = page.evaluate(CELLS_JS)
    if not state:
        return None
    cells = state["cells"]
    errors = [o for c in cells for o in c["outputs"] if o["type"] == "error"]
    if errors:
        return state  # stop waiting: the error is reported by the caller
    done = len(cells) == n_code_cells and all(c["count"] is not None for c in cells)
    if done and state["kernelStatus"] == "idle" and "| Idle" in _status_bar(page):
        return state
    return None


def _figure_source(cell) -> str:
    """The src of the last image in the cell's outputs ('' while it has none).

    A widget may draw its figure inside itself (an ipywidgets Output) or as an ordinary output of
    the same cell that it updates in place; either way it is the cell's last image.
    """
    images = cell.locator(".jp-Cell-outputArea img")
    n = images.count()
    return images.nth(n - 1).get_attribute("src") or "" if n else ""


def _wait_until_stable(read, timeout_s: float, settle_s: float = 2.0, interval_s: float = 0.4):
    """Poll `read` until its value has not changed for `settle_s` seconds; return that value."""
    deadline = time.monotonic() + timeout_s
    value, since = read(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(interval_s)
        current = read()
        if current != value:
            value, since = current, time.monotonic()
        elif time.monotonic() - since >= settle_s:
            return value
    raise AssertionError(f"the figure kept changing for {timeout_s:.0f} s")


def _screenshot_cells(page, folder: Path) -> list[Path]:
    """One screenshot per code cell that has outputs (the notebook scrolls inside its panel)."""
    saved = []
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    for i in range(cells.count()):
        cell = cells.nth(i)
        if cell.locator(".jp-OutputArea-output").count() == 0:
            continue
        cell.scroll_into_view_if_needed(timeout=10_000)
        path = folder / f"cell_{i:02d}.png"
        cell.screenshot(path=str(path), timeout=20_000)
        saved.append(path)
    return saved


# ---------------------------------------------------------------- the test


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.name for p in LESSONS])
def test_lesson_widgets_work_in_chromium(lab, browser, lesson):
    name = lesson.name
    (lab.root / "lessons").mkdir(exist_ok=True)
    shutil.copy2(lesson, lab.root / "lessons" / name)
    n_code_cells = sum(c.cell_type == "code" for c in nbformat.read(lesson, as_version=4).cells)
    folder = ARTIFACTS / lesson.stem
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    lab.delete_sessions()  # an old session's kernel would be re-attached, outputs and all

    from playwright.sync_api import Error as PlaywrightError

    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    console_errors = []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    try:
        page.goto(f"{lab.url}/lab/tree/lessons/{name}?reset&token={lab.token}", timeout=60_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                               "&& window.jupyterapp.shell.currentWidget.content", timeout=60_000)
        _wait_for(lambda: _kernel_idle(page), 90, "the kernel to start (status bar '| Idle')")

        page.evaluate("() => window.jupyterapp.commands.execute('runmenu:run-all')")
        state = _wait_for(lambda: _run_finished(page, n_code_cells), RUN_ALL_S, f"Run All of {name} to finish", 1.0)
        page.screenshot(path=str(folder / "page_after_run_all.png"))
        errors = [f"{o['ename']}: {o['evalue']}" for c in state["cells"] for o in c["outputs"] if o["type"] == "error"]
        assert not errors, f"{name} raised in the browser: {errors}\nscreenshots in {folder}"

        # Every widget output renders as a live widget (the sliders; progress bars are text); the
        # cells with a slider also show a figure.
        code_cells = page.locator(".jp-Notebook .jp-CodeCell")
        assert code_cells.count() == n_code_cells
        widget_cells = {i: sum(WIDGET_MIME in o["mimes"] for o in c["outputs"]) for i, c in enumerate(state["cells"])}
        widget_cells = {i: n for i, n in widget_cells.items() if n}
        assert widget_cells, f"{name} imports a widget module but no cell displayed a widget"
        _wait_for(lambda: page.locator(SLIDER).count() > 0, 30, f"a slider in {name}")
        slider_cells = []
        for i, n_widgets in widget_cells.items():
            cell = code_cells.nth(i)
            cell.scroll_into_view_if_needed()
            # Until the widget manager renders a widget, its output reads "Loading widget..." (for
            # ever when the frontend lacks the widget extension). A widget closed by the kernel
            # renders as nothing, which is fine.
            outputs = cell.locator(".jp-Cell-outputArea")
            _wait_for(lambda outputs=outputs: "Loading widget" not in outputs.inner_text(), 30,
                      f"the {n_widgets} widget(s) of {name} cell {i} to render (still 'Loading widget...')")
            text = cell.locator(".jp-Cell-outputArea").inner_text()
            assert "Loading widget" not in text, f"{name} cell {i}: a widget did not render ('Loading widget...')"
            assert not re.search(r"\b(VBox|HBox|interactive|IntSlider|FloatLogSlider|FloatSlider)\(", text), (
                f"{name} cell {i}: a widget shows as text, not as a widget:\n{text[:300]}")
            if cell.locator(SLIDER).count():
                slider_cells.append(i)
                _wait_for(lambda cell=cell: _figure_source(cell), 60, f"the figure under the slider of {name} cell {i}")
        assert slider_cells, f"{name} imports a widget module but shows no slider"

        # Drag the first slider of the first widget cell and wait for the figure to settle on a new picture.
        cell = code_cells.nth(slider_cells[0])
        cell.scroll_into_view_if_needed()
        before_src = _wait_until_stable(lambda: _figure_source(cell), FIGURE_CHANGE_S)
        cell.screenshot(path=str(folder / f"widget_cell_{slider_cells[0]:02d}_before.png"))
        slider = cell.locator(SLIDER).first
        readout = slider.locator(".widget-readout")
        before_value = readout.inner_text() if readout.count() else None
        handle = slider.locator(".noUi-handle").first
        box = handle.bounding_box()
        assert box, f"{name}: the slider's handle is not on the page"
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        now, top = (handle.get_attribute(a) for a in ("aria-valuenow", "aria-valuemax"))
        direction = -1 if now is not None and top is not None and float(now) >= float(top) else 1  # room to move
        page.mouse.move(x, y)
        page.mouse.down()
        for step in range(1, 9):  # a person's drag: several small moves, then release
            page.mouse.move(x + direction * 5 * step, y)
        page.mouse.up()
        if before_value is not None:
            _wait_for(lambda: readout.inner_text() != before_value, 10, f"the slider readout of {name} to change")
        _wait_for(lambda: _figure_source(cell) not in ("", before_src), FIGURE_CHANGE_S,
                  f"the figure of {name} to change after the slider moved")
        after_src = _wait_until_stable(lambda: _figure_source(cell), FIGURE_CHANGE_S)
        assert after_src and after_src != before_src
        cell.screenshot(path=str(folder / f"widget_cell_{slider_cells[0]:02d}_after.png"))

        saved = _screenshot_cells(page, folder)
        assert saved, f"no screenshot of {name} was saved"
        assert not console_errors, f"{name}: JavaScript errors in the page: {console_errors[:3]}"
    except Exception:
        with contextlib.suppress(PlaywrightError):  # the page may be gone; the original error matters more
            page.screenshot(path=str(folder / "page_on_failure.png"))
        raise
    finally:
        page.close()
        lab.delete_sessions()  # free the kernel's memory before the next lesson
