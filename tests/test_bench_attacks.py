"""`python -m utils.bench attacks`: one row per attack, and it survives without ART."""

import sys

from utils.bench import attacks as bench

CONTRACT = "| attack | auc | advantage | tpr@1%fpr | tpr@0.1%fpr | seconds |"


def test_bench_prints_one_row_per_attack_and_survives_without_art(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "art", None)  # as if adversarial-robustness-toolbox were not installed
    assert bench.main(["--shadows", "4", "--art-shadows", "2", "--art-epochs", "1", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0].startswith(CONTRACT)
    rows = {line.split(" | ")[0][2:]: line for line in table[1:]}
    assert {"loss", "shokri", "lira-offline", "lira-online", "art-blackbox"} <= set(rows)
    assert {"lira-offline-4", "rmia-offline-4", "rmia-online-4"} <= set(rows)  # --shadows 4, 4 references
    assert "rmia-offline-4 vs lira-offline-4 (same 4 reference models)" in out
    assert "| n/a |" in rows["art-blackbox"] and "not installed" in out
    assert "Checks:" in out
