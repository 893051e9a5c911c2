"""The headlines of the attacks, property and grade benchmarks (protocol: utils/bench/all.py).

Run with ``COURSE_FAST=1`` (tests/conftest.py sets it): 16 LiRA shadows, 10 property shadows per
world, one graded notebook. Timings are never asserted; attack power is, within honest bands.
"""

import math
import re
import shutil
import sys
import types

import pytest

from utils.bench import all as bench_all
from utils.bench import attacks, grade
from utils.bench import property as bench_property
from utils.grading import sandbox

UNIT = re.compile(r"\([^()]+\)$")  # every figure's name ends with its unit in parentheses


def _figures(module) -> dict:
    pairs = bench_all._as_pairs(module.headline())
    assert pairs, f"{module.__name__}.headline() returned no figure"
    for name, value in pairs:
        assert isinstance(name, str) and UNIT.search(name), f"{name!r} does not end with its unit in parentheses"
        assert isinstance(value, float) and math.isfinite(value), f"{name!r} = {value!r} is not a finite float"
    assert len({name for name, _ in pairs}) == len(pairs), "two figures share a name"
    return dict(pairs)


@pytest.fixture(scope="module")
def attack_figures():
    return _figures(attacks)


@pytest.fixture(scope="module")
def property_figures():
    return _figures(bench_property)


def test_attacks_headline_shows_lira_beating_the_loss_attack(attack_figures):
    lira_tpr = attack_figures["lira-online (16 shadows) TPR at 1% FPR (fraction)"]  # the COURSE_FAST size
    lira_auc = attack_figures["lira-online (16 shadows) AUC (0.5 = chance)"]
    loss_tpr = attack_figures["loss attack TPR at 1% FPR (fraction)"]
    loss_auc = attack_figures["loss attack AUC (0.5 = chance)"]
    assert all(0.0 <= v <= 1.0 for v in attack_figures.values())
    # The loss attack is near chance on this well-generalising target; LiRA is well above it.
    assert 0.45 < loss_auc < 0.6 and loss_tpr < 0.03
    assert lira_auc > loss_auc + 0.05, (lira_auc, loss_auc)
    assert lira_tpr > 2 * loss_tpr and lira_tpr > 0.03, (lira_tpr, loss_tpr)


def test_lira_vs_loss_is_the_benchmark_tables_measurement(capsys, monkeypatch):
    """`lira_vs_loss` reproduces the ``loss`` and ``lira-online`` rows of ``python -m utils.bench attacks``."""
    monkeypatch.setitem(sys.modules, "art", None)  # skip ART: not what is compared here
    assert attacks.main(["--shadows", "4", "--epochs", "2", "--art-shadows", "2"]) == 0
    rows = {line.split(" | ")[0][2:]: line.split(" | ") for line in capsys.readouterr().out.splitlines()
            if line.startswith("| ")}
    result = attacks.lira_vs_loss(4, epochs=2)
    assert (result.n_shadows, result.epochs) == (4, 2) and result.seconds > 0
    for name, auc in (("loss", result.loss_auc), ("lira-online", result.lira_auc)):
        assert float(rows[name][1]) == pytest.approx(auc, abs=6e-4), name  # the table rounds to 3 digits


def test_property_headline_kl_attack_is_well_above_chance(property_figures):
    accuracy = property_figures["census (a) 0.2 vs 0.5 women, KL attack accuracy over 100 victims (fraction)"]
    assert 0.7 < accuracy <= 1.0, accuracy  # 0.83 measured at this size; 0.5 is chance
    seconds = property_figures["census (a) game, 10 shadows per world + 100 victims trained, KL attack run (s)"]
    assert seconds > 0


def test_property_headline_restores_torch_threads(monkeypatch):
    import torch

    calls = []
    monkeypatch.setattr(bench_property, "census_game", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 7)
    with pytest.raises(RuntimeError, match="boom"):
        bench_property.headline()
    assert calls == [1, 7]  # one thread while measuring, the caller's count restored even on failure


def test_grade_headline_without_bubblewrap_raises_a_clear_error_and_the_table_goes_on(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    with pytest.raises(sandbox.SandboxUnavailable, match="no sandbox here.*bubblewrap.*not installed"):
        grade.headline()
    rows = bench_all.collect_headlines({"grade": grade})
    assert rows[0][0] == "grade" and rows[0][1].startswith("FAILED: SandboxUnavailable: no sandbox here")


def test_grade_headline_refuses_to_time_a_failed_grading(monkeypatch):
    from utils.grading import runner

    monkeypatch.setattr(runner, "run_submission",
                        lambda *a, **k: types.SimpleNamespace(status="error", detail="kernel died"))
    with pytest.raises(RuntimeError, match="could not be graded: the sandbox run ended with error: kernel died"):
        grade._notebook_startup("/no/bwrap", repeats=1, strict=True, modes=("sandbox",))


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed")
def test_grade_headline_measures_the_sandbox():
    figures = _figures(grade)
    assert list(figures) == ["bubblewrap sandbox start-up cost, python -c pass inside minus outside (s)",
                             "one-cell notebook graded in the sandbox, kernel start included (s)"]
    assert figures["one-cell notebook graded in the sandbox, kernel start included (s)"] > 0
