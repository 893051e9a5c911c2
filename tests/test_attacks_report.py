"""The comparison table (utils.attacks.report): known answers, markdown, bad input."""

import numpy as np
import pytest

from utils.attacks import report

CONTRACT = "| attack | auc | advantage | tpr@1%fpr | tpr@0.1%fpr | seconds |"


def test_table_known_answers():
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(5000, int), np.zeros(5000, int)]
    table = report.compare_attacks(
        {"perfect": labels + 0.5, "random": rng.random(10_000), "backwards": -labels.astype(float)},
        labels=labels, seconds={"perfect": 1.5},
    )
    assert list(table["attack"]) == ["perfect", "random", "backwards"]
    perfect, random, backwards = (table.iloc[i] for i in range(3))
    assert perfect["auc"] == 1.0 and perfect["advantage"] == 1.0 and perfect["tpr@1%fpr"] == 1.0
    assert perfect["seconds"] == 1.5 and np.isnan(random["seconds"])
    assert 0.003 < random["tpr@1%fpr"] < 0.02 and abs(random["auc"] - 0.5) < 0.02
    assert backwards["auc"] == 0.0 and backwards["tpr@0.1%fpr"] == 0.0
    for col in ("tpr@1%fpr", "tpr@0.1%fpr"):
        assert np.all(table[col + "_low"] <= table[col]) and np.all(table[col] <= table[col + "_high"])
    assert random["tpr@1%fpr_high"] - random["tpr@1%fpr_low"] < 0.01
    assert list(table["n_nonmembers"]) == [5000] * 3


def test_pairs_for_attacks_on_different_records_and_markdown():
    table = report.compare_attacks({"a": ([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8]), "b": ([1, 0], [0.3, 0.7])})
    assert list(table["auc"]) == [1.0, 0.0] and list(table["n_members"]) == [2, 1]
    text = report.format_markdown(table)
    lines = text.splitlines()
    assert lines[0].startswith(CONTRACT) and "tpr@1%fpr 95% CI" in lines[0]
    assert len(lines) == 4 and lines[2].startswith("| a | 1.000 | 1.000 | 1.000 | 1.000 | n/a | [")
    assert report.fpr_column(0.001) == "tpr@0.1%fpr"


def test_table_bad_input():
    with pytest.raises(ValueError, match="non-empty dict"):
        report.compare_attacks({})
    with pytest.raises(ValueError, match="no labels were given"):
        report.compare_attacks({"a": [0.1, 0.2]})
    with pytest.raises(ValueError, match="labels=... was also given"):
        report.compare_attacks({"a": ([0, 1], [0.1, 0.2])}, labels=[0, 1])
    with pytest.raises(ValueError, match="not in results: \\['typo'\\]"):
        report.compare_attacks({"a": [0.1, 0.2]}, labels=[0, 1], seconds={"typo": 1.0})
    with pytest.raises(ValueError, match="one entry per record"):
        report.compare_attacks({"a": [0.1, 0.2, 0.3]}, labels=[0, 1])


def test_fprs_must_be_a_tuple_of_distinct_columns():
    labels, scores = [0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8]
    with pytest.raises(ValueError, match=r"tuple of false-positive rates, e\.g\. \(0\.01,\)"):
        report.compare_attacks({"a": scores}, labels=labels, fprs=0.01)
    # 0.01 and 0.0100000001 both print as "tpr@1%fpr": the second used to overwrite the first.
    with pytest.raises(ValueError, match="two rates would write one column"):
        report.compare_attacks({"a": scores}, labels=labels, fprs=(0.01, 0.0100000001))
    with pytest.raises(ValueError, match="more than once"):
        report.compare_attacks({"a": scores}, labels=labels, fprs=(0.01, 0.01))

