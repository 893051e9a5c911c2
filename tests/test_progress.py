"""The course's progress bar (utils.progress): a saved notebook shows how each bar ended."""

import nbformat
from tqdm.std import tqdm as text_tqdm

from utils.nbrun import run_notebook, unfinished_bars
from utils.progress import in_notebook, progress_bar


def test_outside_a_kernel_it_is_tqdms_text_bar():
    assert not in_notebook()
    bar = progress_bar(range(3), desc="epochs", disable=True)
    assert isinstance(bar, text_tqdm)
    assert list(bar) == [0, 1, 2]


def test_a_saved_notebook_shows_the_finished_bar_and_not_the_one_that_went(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from utils.progress import progress_bar\n"
                                  "for _ in progress_bar(range(7), desc='epochs', mininterval=0):\n    pass"),
        nbformat.v4.new_code_cell("with progress_bar(total=4, desc='models', leave=False, mininterval=0) as bar:\n"
                                  "    bar.update(4)\nprint('done')"),
        nbformat.v4.new_code_cell("bar = progress_bar(range(5), desc='stopped early', mininterval=0)\n"
                                  "for i in bar:\n    if i == 2:\n        break"),
    ]
    path = tmp_path / "bars.ipynb"
    nbformat.write(nb, path)
    run = run_notebook(path, timeout_s=120)
    assert run.ok, run.error
    kept, gone, stopped = (cell.outputs for cell in run.nb.cells)
    mimes = {m for cell in run.nb.cells for out in cell.outputs for m in out.get("data", {})}
    assert mimes == {"text/plain"}, f"the bars must be text, not widgets: {mimes}"
    assert [o["data"]["text/plain"] for o in kept if "data" in o] == [kept[0]["data"]["text/plain"]]
    assert "epochs: 100%" in kept[0]["data"]["text/plain"] and "7/7" in kept[0]["data"]["text/plain"]
    assert all(not o["data"]["text/plain"] for o in gone if "data" in o), "a leave=False bar leaves no text"
    assert any(o.get("text") == "done\n" for o in gone)
    # the check the lesson test runs flags a bar that a saved copy shows short of its total
    assert unfinished_bars(run.nb) == [f"cell 2: {stopped[0]['data']['text/plain'].strip()}"]
