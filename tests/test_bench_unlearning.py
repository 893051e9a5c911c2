"""python -m utils.bench unlearning: the issue's rows and columns, the checks, and the headline protocol."""

import math
import re

from utils.bench import all as bench_all
from utils.bench import unlearning

ISSUE_COLUMNS = ["seconds", "time_ratio", "test_acc", "population_auc", "ulira_tpr@1%fpr", "ulira_tpr@1%fpr_low",
                 "ulira_tpr@1%fpr_high", "ulira_tpr@0.1%fpr"]


def _fake_measure(**_):
    row = dict.fromkeys(ISSUE_COLUMNS, 0.5) | {"ulira_tpr@1%fpr": 0.01, "ulira_tpr@1%fpr_low": 0.007,
                                               "ulira_tpr@1%fpr_high": 0.013}
    traces = row | {"ulira_tpr@1%fpr": 0.1, "ulira_tpr@1%fpr_low": 0.09, "ulira_tpr@1%fpr_high": 0.11}
    table = {name: dict(row if name in ("retrain", "sisa") else traces) for name in unlearning.METHOD_ROWS}
    return {"table": table, "experiment_seconds": {"original": 1.0}, "n_pairs": 100,
            "sisa": {"shards_retrained": 5, "exact": True}}


def test_main_prints_one_table_with_the_issues_rows_and_columns(monkeypatch, capsys):
    monkeypatch.setattr(unlearning, "measure", _fake_measure)
    assert unlearning.main(["--shadows", "4"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("|")]
    assert [c.strip() for c in lines[0].strip("|").split("|")] == ["method", *ISSUE_COLUMNS]
    assert [line.split("|")[1].strip() for line in lines[2:]] == ["retrain", "sisa", "finetune", "gradient-ascent",
                                                                  "ascent-descent"]
    assert out.count("[pass]") == 5 and "[FAIL]" not in out


def test_a_check_fails_when_an_exact_method_is_told_apart(monkeypatch, capsys):
    def leaky(**kwargs):
        result = _fake_measure(**kwargs)
        result["table"]["sisa"].update({"ulira_tpr@1%fpr_low": 0.05, "ulira_tpr@1%fpr_high": 0.08})
        return result

    monkeypatch.setattr(unlearning, "measure", leaky)
    unlearning.main([])
    assert re.search(r"\[FAIL\] sisa", capsys.readouterr().out)


def test_headline_figures_follow_the_protocol_and_the_story():
    pairs = bench_all._as_pairs(unlearning.headline())  # COURSE_FAST: 8 shadow targets
    figures = dict(pairs)
    assert all(re.search(r"\([^()]+\)$", name) and math.isfinite(v) for name, v in pairs)
    retrain = figures["retrain U-LiRA TPR at 1% FPR (fraction)"]
    ascent = figures["gradient-ascent (5 steps) U-LiRA TPR at 1% FPR (fraction)"]
    assert retrain < 0.03 and ascent > 2 * max(retrain, 0.01), (retrain, ascent)
    assert abs(figures["gradient-ascent (5 steps) population AUC (0.5 = chance)"] - 0.5) < 0.1
