"""The static site (utils/build_site.py) on tiny notebooks: figures embedded, widgets shown as their figures."""

import base64
import re

import nbformat
import pytest

from utils import build_site
from utils.nbrun import INLINE_BACKEND, run_notebook

PLOT = "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([0, 1], [0, 1])\nplt.show()"
# The course's way: the sliders, then the figure as an ordinary output that a redraw updates in place.
COURSE_WIDGET = (
    "import ipywidgets as widgets\nfrom IPython.display import display\n"
    "slider = widgets.IntSlider(value=3, description='epochs')\n"
    "bundle = slider._repr_mimebundle_()\n"
    "bundle = {k: v for k, v in bundle.items() if k != 'text/plain'}\n"
    "display(bundle | {'text/plain': 'a slider over epochs'}, raw=True)\n"
    "fig, ax = plt.subplots()\nax.set_title('course widget figure')\nplt.close(fig)\n"
    "handle = display(fig, display_id=True)"
)
# The plain ipywidgets way: a figure drawn inside an Output widget, visible only through the widget state.
OUTPUT_WIDGET = (
    "out = widgets.Output()\nwith out:\n"
    "    fig, ax = plt.subplots()\n    ax.set_title('inside output')\n    plt.show()\n"
    "widgets.VBox([widgets.FloatSlider(), out])"
)


def _notebook(path, *sources, markdown="# A tiny lesson"):
    cells = [nbformat.v4.new_markdown_cell(markdown)] + [nbformat.v4.new_code_cell(s) for s in sources]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def widget_run(tmp_path_factory):
    path = _notebook(tmp_path_factory.mktemp("site") / "lessons" / "01_tiny.ipynb",
                     "import time\ntime.sleep(0.3)\nprint('hello from the kernel')", PLOT, COURSE_WIDGET, OUTPUT_WIDGET)
    before = path.read_bytes()
    run = run_notebook(path, env={"MPLBACKEND": INLINE_BACKEND}, timeout_s=180)
    assert path.read_bytes() == before, "building must not write the notebook back"
    return path, run


def test_execute_keeps_outputs_and_times_the_first_figure(widget_run):
    _, run = widget_run
    assert run.ok, run.error
    assert len(run.cell_s) == 5 and run.cell_s[1] >= 0.3
    assert run.first_figure_s is not None and run.cell_s[1] <= run.first_figure_s <= run.wall_s
    assert run.nb.cells[1].outputs[0]["text"] == "hello from the kernel\n"
    assert "image/png" in run.nb.cells[2].outputs[0]["data"]  # the inline backend, not Agg's nothing


def test_static_widgets_show_figures_not_controls(widget_run):
    _, run = widget_run
    static = build_site.static_widgets(run.nb)
    course, plain = static.cells[3], static.cells[4]
    assert not any(build_site.WIDGET_VIEW in o.get("data", {}) for c in static.cells for o in c.get("outputs", []))
    assert list(course.outputs[0]["data"]) == ["text/plain"]
    assert course.outputs[0]["data"]["text/plain"] == "a slider over epochs"
    assert sum("image/png" in o.get("data", {}) for o in course.outputs) == 1  # the figure, once
    assert sum("image/png" in o.get("data", {}) for o in plain.outputs) == 1  # recovered from the Output widget
    assert not any("VBox(" in str(o.get("data", {}).get("text/plain", "")) for o in plain.outputs)
    assert "widgets" not in static.metadata and "widgets" in run.nb.metadata  # the input is not modified


def test_html_page_embeds_every_figure(widget_run, tmp_path):
    path, _ = widget_run
    results = build_site.build_site([path], tmp_path / "site", log=lambda line: None)
    assert [p for p, _ in results] == [path]
    page = (tmp_path / "site" / "lessons" / "01_tiny.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 3  # the plot, the course widget's figure, the Output widget's figure
    assert all(base64.b64decode(img)[:8] == b"\x89PNG\r\n\x1a\n" for img in images)
    assert "hello from the kernel" in page and "A tiny lesson" in page
    assert "a slider over epochs" in page and "VBox(" not in page
    index = (tmp_path / "site" / "index.html").read_text()
    assert 'href="lessons/01_tiny.html"' in index


def test_a_failing_notebook_gets_a_page_with_its_error_and_exit_code_1(tmp_path, capsys):
    good = _notebook(tmp_path / "lessons" / "01_good.ipynb", "print(1 + 1)")
    bad = _notebook(tmp_path / "lessons" / "02_bad.ipynb", "x = 1", "1 / 0", "print('never')")
    code = build_site.main([str(good), str(bad), "--out", str(tmp_path / "site"), "--timeout", "120"])
    assert code == 1
    out = capsys.readouterr().out
    assert re.search(r"FAILED lessons/02_bad.ipynb", out) and "cell 2 failed" in out
    page = (tmp_path / "site" / "lessons" / "02_bad.html").read_text()
    assert "ZeroDivisionError" in page
    assert "FAILED" in (tmp_path / "site" / "index.html").read_text()


def test_bad_input_is_reported(tmp_path):
    with pytest.raises(ValueError, match="no notebook at"):
        run_notebook(tmp_path / "missing.ipynb")
    path = _notebook(tmp_path / "x.ipynb", "pass")
    with pytest.raises(ValueError, match="timeout_s must be a positive number"):
        run_notebook(path, timeout_s=0)
    with pytest.raises(SystemExit):
        build_site.main([str(tmp_path / "missing.ipynb")])


# ----------------------------------------------------------------------------- the first screen and accessibility
CAPTIONED = [
    "# Lesson 01 · A tiny lesson\n\nWhat it teaches.",
    "## 1. A section",
    PLOT,
    "*A straight line from (0, 0) to (1, 1).*\n\nIt goes up.",
    "### 1.1 A subsection",
    PLOT,  # no caption after it
]


def _course_notebook(folder, name="01_tiny.ipynb"):
    from utils.colab import HIDDEN_SOURCE, SETUP_TAG, setup_snippet

    cells = []
    for source in CAPTIONED:
        make = nbformat.v4.new_code_cell if source == PLOT else nbformat.v4.new_markdown_cell
        cells.append(make(source))
    setup = nbformat.v4.new_code_cell(setup_snippet(), metadata={"tags": [SETUP_TAG], "jupyter": HIDDEN_SOURCE})
    cells.insert(1, setup)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (folder / "lessons").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "lessons" / name)
    return folder / "lessons" / name


@pytest.fixture(scope="module")
def course_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    lesson = _course_notebook(root)
    exercise = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Exercise 01")])
    (root / "exercises").mkdir()
    nbformat.write(exercise, root / "exercises" / "01_tiny.ipynb")
    build_site.build_site([lesson], root / "site", log=lambda line: None)
    return root / "site"


def test_pages_leave_the_colab_setup_out(course_site):
    page = (course_site / "lessons" / "01_tiny.html").read_text()
    assert "google.colab" not in page and "A tiny lesson" in page


def test_every_figure_has_a_text_alternative_from_its_caption(course_site):
    page = (course_site / "lessons" / "01_tiny.html").read_text()
    images = re.findall(r"<img[^>]*>", page)
    assert len(images) == 2
    assert all('alt="' in img and "No description" not in img for img in images), images
    assert 'alt="A straight line from (0, 0) to (1, 1)."' in images[0]
    assert re.search(r'alt="Figure 2 of Lesson 01 · A tiny lesson, drawn by code cell \d+\."', images[1])


def test_headings_nest_without_skipping_a_level(course_site):
    for page in [course_site / "index.html", *course_site.glob("*/*.html")]:
        levels = [int(h) for h in re.findall(r"<h([1-6])[\s>]", page.read_text())]
        assert levels and levels[0] == 1, page
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), (page, levels)


def test_the_index_is_a_course_map(course_site):
    index = (course_site / "index.html").read_text()
    assert "<th scope='col'>What you learn</th>" in index and "Lesson 01 · A tiny lesson" in index
    assert 'href="exercises/01_tiny.html"' in index and (course_site / "exercises" / "01_tiny.html").is_file()
    assert "lang='en'" in index


def test_the_course_map_reads_what_each_lesson_teaches_from_the_readme():
    rows = build_site.course_map()
    assert "lessons/02_loss_attack" in rows and "membership game" in rows["lessons/02_loss_attack"]
    assert all(text for text in rows.values())


def test_a_real_lesson_page_has_alt_text_on_every_figure_and_no_setup_cell(tmp_path):
    """Lesson 01 as a student reads the static course (COURSE_FAST=1)."""
    from utils.colab import SETUP_TAG

    run = run_notebook(build_site.ROOT / "lessons" / "01_overfit_a_model.ipynb",
                       env={"MPLBACKEND": INLINE_BACKEND}, timeout_s=600)
    assert run.ok, run.error
    assert any(SETUP_TAG in c.metadata.get("tags", []) for c in run.nb.cells)
    page = build_site.render_html(run.nb, "01_overfit_a_model")
    images = re.findall(r"<img[^>]*>", page)
    assert images and all('alt="' in i and "No description" not in i for i in images)
    assert "google.colab" not in page
