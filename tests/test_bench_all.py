"""The whole-course benchmark (utils/bench/all.py): peak memory, the table, and the headline protocol."""

import os
import re
import resource
import types

import nbformat
import pytest

from utils.bench import all as bench_all
from utils.nbrun import peak_rss_mb


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_peak_rss_reads_the_high_water_mark_of_a_process():
    own = peak_rss_mb(os.getpid())
    ru_maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    assert own == pytest.approx(ru_maxrss_mb, rel=0.05)
    assert peak_rss_mb(2**31 - 1) is None  # no such process
    assert peak_rss_mb(None) is None


def test_table_shows_a_kernels_memory_peak_and_the_totals(tmp_path, capsys):
    small = _notebook(tmp_path / "lessons" / "01_small.ipynb", "x = 1")
    # 400 MiB touched, then freed: the peak stays, although the kernel ends small again.
    big = _notebook(tmp_path / "lessons" / "02_big.ipynb", "import numpy as np\na = np.ones(400 * 2**20 // 8)\ndel a")
    bad = _notebook(tmp_path / "solutions" / "03_bad.ipynb", "1 / 0")
    assert bench_all.main(["--root", str(tmp_path), "--modes", "fast", "--no-headlines", "--timeout", "120"]) == 1
    out = capsys.readouterr().out
    rows = {}
    for path in (small, big, bad):
        match = re.search(rf"{path.parent.name}/{path.name}\s+fast\s+([0-9.]+)\s+(\S+)\s+(\S+)\s+(.*)", out)
        assert match, out
        rows[path.stem] = match.groups()
    assert rows["01_small"][3] == "ok" and rows["02_big"][3] == "ok"
    assert rows["03_bad"][3].startswith("FAILED") and "ZeroDivisionError" in rows["03_bad"][3]
    small_mb, big_mb = float(rows["01_small"][2]), float(rows["02_big"][2])
    assert 350 <= big_mb - small_mb <= 500, (small_mb, big_mb)
    assert re.search(r"course total, fast\s*:\s+[0-9.]+ s for 3 notebooks \(OVER \(or failed\) the 5 min target\)", out)
    assert re.search(r"largest kernel peak: [0-9]+ MB \(lessons/02_big.ipynb, fast; within the 1536 MB target\)", out)


def test_headlines_follow_the_protocol():
    def boom():
        raise RuntimeError("no GPU here")

    modules = {
        "pair": types.SimpleNamespace(headline=lambda: ("speedup (x)", 5.123456)),
        "pairs": types.SimpleNamespace(headline=lambda: [("a (s)", 1.5), ("b", "text")]),
        "broken": types.SimpleNamespace(headline=boom),
        "wrong": types.SimpleNamespace(headline=lambda: 3.0),
        "silent": types.SimpleNamespace(main=lambda argv: 0),
    }
    rows = bench_all.collect_headlines(modules)
    figures = [(b, f, v) for b, f, v in rows if not f.startswith("(seconds")]
    assert figures == [
        ("broken", "FAILED: RuntimeError: no GPU here", ""),
        ("pair", "speedup (x)", "5.123"),
        ("pairs", "a (s)", "1.5"),
        ("pairs", "b", "text"),
        ("silent", "(no headline(); see utils/bench/all.py for the protocol)", ""),
        ("wrong", "FAILED: TypeError: 'float' object is not iterable", ""),
    ]
    assert [b for b, f, _ in rows if f.startswith("(seconds")] == ["pair", "pairs"]


def test_every_benchmark_module_is_asked_except_the_notebook_table():
    modules = bench_all._benchmark_modules()
    assert "training" in modules and "all" not in modules and "notebooks" not in modules


def test_bad_modes_are_refused():
    with pytest.raises(SystemExit):
        bench_all.main(["--modes", "slow"])


def test_training_headline_follows_the_protocol():
    from utils.bench import training

    pairs = bench_all._as_pairs(training.headline())
    assert [name for name, _ in pairs] == ["batched vs looped training of 8 shadow models, speedup (x)",
                                           "batched training of 8 models x 5 epochs (s)"]  # COURSE_FAST sizes
    assert all(isinstance(v, float) and v > 0 for _, v in pairs)
