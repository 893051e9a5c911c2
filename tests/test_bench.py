"""Smoke tests of the benchmarks (tiny sizes; no timing is asserted)."""

import re

import nbformat
import numpy as np
import pytest
from torch import nn

from utils.bench import notebooks as bench_notebooks
from utils.bench import training as bench_training
from utils.models import MLP

FIGURES = ["loop_s", "batched_s", "speedup", "achieved_gflops", "matmul_gflops", "roofline_fraction"]


# ---------------------------------------------------------------- training benchmark


def test_useful_flops_known_answers():
    # 196-128-10: forward 2*W, weight grads 2*W, input grads 2*W of every layer but the first.
    w1, w2 = 196 * 128, 128 * 10
    assert bench_training.useful_flops_per_record(MLP()) == 4 * (w1 + w2) + 2 * w2
    w = [196 * 64, 64 * 32, 32 * 10]
    assert bench_training.useful_flops_per_record(MLP(hidden=(64, 32))) == 4 * sum(w) + 2 * (w[1] + w[2])
    with pytest.raises(ValueError, match="no nn.Linear"):
        bench_training.useful_flops_per_record(nn.ReLU())


def test_training_benchmark_quick_prints_every_figure(capsys):
    assert bench_training.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "(512 x 196) @ (196 x 128)" in out  # says which matmul it timed: K*batch rows, K = 4
    values = {}
    for name in FIGURES + ["max_logit_diff"]:
        match = re.search(rf"^{name} = ([0-9.eE+-]+)", out, flags=re.M)
        assert match, f"no line '{name} = ...' in:\n{out}"
        values[name] = float(match.group(1))
    assert all(np.isfinite(v) and v > 0 for k, v in values.items() if k != "max_logit_diff")
    # The seconds are printed to 3 decimals and the speedup to 2: allow exactly that rounding.
    loop_s, batched_s = values["loop_s"], values["batched_s"]
    rounding = (0.0005 / loop_s + 0.0005 / batched_s) * loop_s / batched_s + 0.005
    assert abs(values["speedup"] - loop_s / batched_s) <= rounding
    assert values["max_logit_diff"] < 1e-2  # the two trainers train the same models


def test_training_benchmark_figures_are_the_best_of_their_samples():
    result = bench_training.run(n_models=2, epochs=1, n_train=64, repeats=3, matmul_min_s=0.01)
    assert {name: len(v) for name, v in result.samples.items()} == {"loop_s": 3, "batched_s": 3, "matmul_gflops": 3}
    assert result.loop_s == min(result.samples["loop_s"])
    assert result.batched_s == min(result.samples["batched_s"])
    assert result.matmul_gflops == max(result.samples["matmul_gflops"])


def test_training_benchmark_rejects_bad_options():
    with pytest.raises(SystemExit):
        bench_training.main(["--quick", "--models", "0"])


# ---------------------------------------------------------------- notebook benchmark


def test_notebook_budgets():
    assert bench_notebooks.budget_s("lessons/01_overfit_a_model.ipynb", "fast") == 30
    assert bench_notebooks.budget_s("lessons/01_overfit_a_model.ipynb", "default") == 60
    assert bench_notebooks.budget_s("lessons/02_loss_attack.ipynb", "default") == 90
    assert bench_notebooks.budget_s("solutions/02_loss_attack.ipynb", "fast") == 45
    with pytest.raises(ValueError, match="mode must be one of"):
        bench_notebooks.budget_s("x.ipynb", "slow")


def test_notebook_benchmark_prints_a_row_per_run(tmp_path, capsys):
    (tmp_path / "lessons").mkdir()
    for name, source in (("01_ok.ipynb", "import os\nprint(os.environ['COURSE_FAST'])"), ("02_bad.ipynb", "1 / 0")):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, tmp_path / "lessons" / name)
    assert bench_notebooks.main(["--root", str(tmp_path), "--modes", "fast", "--timeout", "120"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"lessons/01_ok.ipynb\s+fast\s+[0-9.]+\s+45\s+within budget", out), out
    assert re.search(r"lessons/02_bad.ipynb\s+fast\s+[0-9.]+\s+45\s+FAILED", out), out
    assert "ZeroDivisionError" in out
