"""The instructor's warm-up command (utils/demo.py) on a tiny lesson that caches one experiment."""

import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from utils import cache, demo

ROOT = Path(__file__).resolve().parents[1]
LESSON_CELLS = [
    "import pathlib\nimport matplotlib.pyplot as plt\nfrom utils.cache import cached",
    # A notebook-defined experiment: each real computation leaves a mark, so the test can count them.
    (
        "def experiment(n, *, seed=0):\n"
        "    with open('computed.log', 'a') as log:\n"
        "        log.write('computed\\n')\n"
        "    return [n * 2, seed]"
    ),
    "result = cached(experiment, 21, seed=1)\nassert result == [42, 1], result",
    "fig, ax = plt.subplots()\nax.set_title(f'answer {result[0]}')\nplt.show()",
]


@pytest.fixture
def tiny_lesson(tmp_path, monkeypatch):
    # The kernels import a frozen copy of the library: the cache keys on its files, and in a shared
    # checkout someone may save a file of utils/ between the cold and the warm run.
    shutil.copytree(ROOT / "utils", tmp_path / "library" / "utils", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path / "library"), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_CACHE", raising=False)
    folder = tmp_path / "lessons"
    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in LESSON_CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "01_tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_demo_fills_the_cache_the_warm_run_loads_it_and_changed_code_recomputes(tiny_lesson, capsys):
    assert demo.main([str(tiny_lesson), "--timeout", "180"]) == 0
    out = capsys.readouterr().out
    assert "1 cached experiment(s) computed and stored" in out
    assert re.search(r"warm run: first figure after [0-9.]+ s", out), out
    log = tiny_lesson.parent / "computed.log"
    assert log.read_text().count("computed") == 1  # cold run computed it; the warm run loaded it
    (entry,) = cache.entries()
    assert entry.function == "__main__.experiment" and entry.meta["arguments"] == {"arg1": "21", "seed": "1"}

    assert demo.main([str(tiny_lesson), "--no-verify", "--timeout", "180"]) == 0
    assert "no experiment was computed" in capsys.readouterr().out
    assert log.read_text().count("computed") == 1

    nb = nbformat.read(tiny_lesson, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("[n * 2, seed]", "[n + n, seed]")  # same answer, new code
    nbformat.write(nb, tiny_lesson)
    assert demo.main([str(tiny_lesson), "--no-verify", "--timeout", "180"]) == 0
    assert "1 cached experiment(s) computed and stored" in capsys.readouterr().out
    assert log.read_text().count("computed") == 2  # the stale entry was recomputed...
    assert len(cache.entries()) == 1  # ...and replaced, not kept beside the new one

    assert demo.main(["--list"]) == 0
    assert "__main__.experiment" in capsys.readouterr().out
    assert demo.main(["--clear"]) == 0
    assert cache.entries() == []


def test_a_failing_lesson_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_CACHE", raising=False)
    path = tmp_path / "02_bad.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    assert demo.main([str(path), "--timeout", "120"]) == 1
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_find_lesson_by_number_name_or_path(tmp_path):
    (tmp_path / "lessons").mkdir()
    for name in ("01_overfit.ipynb", "02_loss.ipynb", "12_more.ipynb"):
        (tmp_path / "lessons" / name).write_text("{}")
    lessons = tmp_path / "lessons"
    assert demo.find_lesson("2", tmp_path) == lessons / "02_loss.ipynb"
    assert demo.find_lesson("02", tmp_path) == lessons / "02_loss.ipynb"
    assert demo.find_lesson("12", tmp_path) == lessons / "12_more.ipynb"
    assert demo.find_lesson("01_overfit", tmp_path) == lessons / "01_overfit.ipynb"
    assert demo.find_lesson(str(lessons / "12_more.ipynb"), tmp_path) == lessons / "12_more.ipynb"
    with pytest.raises(ValueError, match="no lesson match '7'; name one of: 01_overfit, 02_loss, 12_more"):
        demo.find_lesson("7", tmp_path)
    (lessons / "03_a.ipynb").write_text("{}")
    (lessons / "03_b.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="2 lessons match '03'"):
        demo.find_lesson("03", tmp_path)


def _printed(nb) -> list[str]:
    """What a reader sees as text, cell by cell: stdout and plain-text results (progress bars and figures left out)."""
    seen = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                seen.append(out["text"])
            elif out.get("output_type") == "execute_result":
                seen.append(out.get("data", {}).get("text/plain", ""))
    return seen


def test_a_real_lesson_from_a_warm_cache_prints_what_it_computed(tmp_path, monkeypatch):
    """Lesson 07 caches its 20 models: the warm run must load them and print exactly what the cold run printed
    (the tables, the attack figures), which also holds the random generators' state restored after a hit."""
    from utils.nbrun import INLINE_BACKEND, run_notebook

    shutil.copytree(ROOT / "utils", tmp_path / "library" / "utils", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path / "library"), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_CACHE", raising=False)
    lesson = demo.find_lesson("07")
    cold = run_notebook(lesson, env={"MPLBACKEND": INLINE_BACKEND}, timeout_s=600)
    assert cold.ok, cold.error
    written = {e.path: e.meta["written"] for e in cache.entries()}
    assert [Path(p).parent.name for p in written] == ["utils.attacks.pooled.train_pooled"]
    warm = run_notebook(lesson, env={"MPLBACKEND": INLINE_BACKEND}, timeout_s=600)
    assert warm.ok, warm.error
    assert {e.path: e.meta["written"] for e in cache.entries()} == written  # loaded, not recomputed
    assert _printed(warm.nb) == _printed(cold.nb)
