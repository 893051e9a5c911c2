"""The grader's parts that need no kernel: who handed in what, options, --out (lock, merge, refuse),
grader errors, scoring rules (timeouts keep earlier checks, flags, written answers)."""

import csv
import json
import sys
import urllib.parse
from pathlib import Path

import nbformat
import numpy as np
import pytest

from utils.checks import core, ex01, harness
from utils.grading import batch as batch_module
from utils.grading import cli, report, scoring
from utils.grading.runner import RunResult, read_capped
from utils.grading.states import RunStatus
from utils.grading.states import TestOutcome as Outcome
from utils.grading.submissions import Submission, file_name, find_submissions

NOTEBOOK = "01_overfit_a_model"


def touch(path, text="{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- ids
def test_find_submissions_understands_both_layouts_and_lists_what_it_skips(tmp_path):
    b = tmp_path / "batch"
    touch(b / "ada" / f"{NOTEBOOK}.ipynb")
    touch(b / "ada" / "notes.ipynb")
    touch(b / "ada" / ".ipynb_checkpoints" / f"{NOTEBOOK}-checkpoint.ipynb")
    touch(b / "ada" / "old" / f"{NOTEBOOK}.ipynb")
    touch(b / "cy" / f"{NOTEBOOK}.IPYNB")
    touch(b / "02_the_loss_attack__bo b.ipynb")
    touch(b / "readme.txt")
    touch(b / ".hidden.ipynb")
    found, skipped, collisions = find_submissions([b, tmp_path / "missing"])
    assert [(s.student, s.notebook, s.number) for s in found] == [
        ("ada", NOTEBOOK, 1), ("bo b", "02_the_loss_attack", 2), ("cy", NOTEBOOK, 1)]
    reasons = {p.path.name: p.reason for p in skipped}
    assert "not named" in reasons["notes.ipynb"] and "hidden" in reasons[".ipynb_checkpoints"]
    assert "inside a student's folder" in reasons["old"] and "not named" in reasons["readme.txt"]
    assert "hidden" in reasons[".hidden.ipynb"] and "no such" in reasons["missing"]
    assert collisions == []


def test_a_file_in_a_students_folder_never_claims_another_id(tmp_path):
    touch(tmp_path / "yan" / f"{NOTEBOOK}__zoe.ipynb")
    touch(tmp_path / "zoe" / f"{NOTEBOOK}.ipynb")
    touch(tmp_path / "zoe" / "02_the_loss_attack__zoe.ipynb")
    found, skipped, collisions = find_submissions([tmp_path])
    assert [(s.student, s.notebook) for s in found] == [("zoe", NOTEBOOK), ("zoe", "02_the_loss_attack")]
    assert "claims student 'zoe'" in str(skipped[0]) and collisions == []


def test_colliding_ids_are_refused_naming_both_files(tmp_path):
    a = touch(tmp_path / "Zoe" / f"{NOTEBOOK}.ipynb")
    b = touch(tmp_path / f"{NOTEBOOK}__zoe.ipynb")
    found, _, collisions = find_submissions([tmp_path])
    assert len(collisions) == 1 and {str(a), str(b)} <= set(str(collisions[0]).split(" and ")[0:1] + [str(b), str(a)])
    assert str(a) in str(collisions[0]) and str(b) in str(collisions[0])
    out = tmp_path / "out"
    assert cli.main([str(tmp_path / "Zoe"), str(b), "--out", str(out), "--unsafe-no-sandbox"]) == 2
    assert not (out / "scores.csv").exists()


def test_non_ascii_ids_are_kept_distinct_and_encoded_reversibly(tmp_path):
    touch(tmp_path / "José" / f"{NOTEBOOK}.ipynb")
    touch(tmp_path / "Josè" / f"{NOTEBOOK}.ipynb")
    touch(tmp_path / f"{NOTEBOOK}__a.b%c d.ipynb")
    found, _, collisions = find_submissions([tmp_path])
    assert collisions == [] and {s.student for s in found} == {"José", "Josè", "a.b%c d"}
    for student in ("José", "Josè", "a.b%c d", "../etc", ".hidden", "x/y"):
        name = file_name(student)
        assert "/" not in name and not name.startswith(".") and urllib.parse.unquote(name) == student
    nfd = "Jose\u0301"  # José typed with a combining accent: the same id
    touch(tmp_path / "more" / f"{NOTEBOOK}__{nfd}.ipynb")
    assert len(find_submissions([tmp_path, tmp_path / "more"])[2]) == 1


def test_symlinks_are_refused(tmp_path):
    real = touch(tmp_path / "real" / f"{NOTEBOOK}.ipynb")
    (tmp_path / "batch").mkdir()
    (tmp_path / "batch" / "linked").symlink_to(tmp_path / "real")
    (tmp_path / "batch" / "ann").mkdir()
    (tmp_path / "batch" / "ann" / f"{NOTEBOOK}.ipynb").symlink_to(real)
    found, skipped, _ = find_submissions([tmp_path / "batch"])
    assert found == [] and sorted(s.path.name for s in skipped) == [f"{NOTEBOOK}.ipynb", "linked"]
    assert all("symbolic link" in s.reason for s in skipped)


# ----------------------------------------------------------------------------- options
@pytest.mark.parametrize("option", [
    ["--cell-timeout", "0"], ["--cell-timeout", "nan"], ["--cell-timeout", "-3"], ["--notebook-timeout", "inf"],
    ["--seed", "-1"], ["--seed", "1.5"], ["--jobs", "0"], ["--memory-mb", "10"], ["--tmpfs-mb", "1"],
])
def test_bad_options_exit_2_before_anything_runs(tmp_path, capsys, option):
    nb = touch(tmp_path / "ada" / f"{NOTEBOOK}.ipynb")
    with pytest.raises(SystemExit) as exit_info:
        cli.main([str(nb), "--out", str(tmp_path / "out"), *option])
    assert exit_info.value.code == 2 and "error" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_fractional_timeouts_are_accepted():
    args = cli.parse_args(["x.ipynb", "--out", "o", "--cell-timeout", "30.5", "--seed", "0"])
    assert args.cell_timeout == 30.5 and args.seed == 0


# ------------------------------------------------------------------- --out: lock, refuse, merge, grader errors
def fake_grade_one(score_by_student):
    """A stand-in for grading: the reference's answers for students in `score_by_student`, zeros otherwise."""
    def grade(submission, exercises, course, limits, *, seed, bwrap, env=None, warning=""):
        if submission.student == "broken-grader":
            raise OSError(28, "No space left on device")
        _, _, cases = scoring.draw_inputs(ex01.EXERCISE, np.random.default_rng(0))
        good = score_by_student.get(submission.student, False)
        run = fake_run(lines=answer_lines(cases, right=good))
        result = scoring.NotebookResult(submission.student, submission.notebook, 1, [], run.status,
                                        source=str(submission.path))
        result.tests = scoring.score_run(ex01.EXERCISE, cases, run, result.status)
        result.tests += scoring.written_tests(ex01.EXERCISE, {"1.3": "Lower loss." if good else ""})
        return result
    return grade


@pytest.fixture
def no_sandbox(monkeypatch):
    monkeypatch.setattr(batch_module, "course_copy", lambda *a, **k: Path(__import__("tempfile").mkdtemp()))


def read_rows(out):
    with open(out / "scores.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_earlier_results_are_refused_or_merged_and_regraded_rows_replaced(tmp_path, monkeypatch, no_sandbox):
    for student in ("ada", "bo"):
        touch(tmp_path / "first" / student / f"{NOTEBOOK}.ipynb")
    touch(tmp_path / "second" / "bo" / f"{NOTEBOOK}.ipynb")
    touch(tmp_path / "second" / "cy" / f"{NOTEBOOK}.ipynb")
    out = tmp_path / "out"
    monkeypatch.setattr(batch_module, "grade_one", fake_grade_one({"ada": True, "bo": False, "cy": True}))
    assert cli.main([str(tmp_path / "first"), "--out", str(out), "--unsafe-no-sandbox", "--no-progress"]) == 0
    first = read_rows(out)
    assert cli.main([str(tmp_path / "second"), "--out", str(out), "--unsafe-no-sandbox", "--no-progress"]) == 2
    assert read_rows(out) == first  # refused: nothing touched
    monkeypatch.setattr(batch_module, "grade_one", fake_grade_one({"bo": True, "cy": True}))
    # bo's exercise 01 comes from another file now: replacing his grade must be asked for (--replace)
    assert cli.main([str(tmp_path / "second"), "--out", str(out), "--unsafe-no-sandbox", "--no-progress",
                     "--merge"]) == 2
    assert read_rows(out) == first
    assert cli.main([str(tmp_path / "second"), "--out", str(out), "--unsafe-no-sandbox", "--no-progress",
                     "--merge", "--replace"]) == 0
    rows = read_rows(out)
    scores = {(r["student"], r["question"]): r["score"] for r in rows}
    assert scores[("ada", "1.1")] == "2" and scores[("bo", "1.1")] == "2" and scores[("cy", "1.2")] == "2"
    assert len(rows) == 9 and {p.parent.name for p in out.glob("*/*.json")} == {"ada", "bo", "cy"}
    text = (out / "manual_answers.md").read_text()
    assert all(f"### {s} ({NOTEBOOK})" in text for s in ("ada", "bo", "cy"))
    assert not list(out.glob(".incoming-*"))


def test_a_second_grader_on_the_same_out_is_refused(tmp_path, capsys):
    nb = touch(tmp_path / "ada" / f"{NOTEBOOK}.ipynb")
    lock = cli.OutLock(tmp_path / "out")
    assert lock.acquire()
    try:
        assert cli.main([str(nb), "--out", str(tmp_path / "out"), "--unsafe-no-sandbox"]) == 2
        assert "another grader" in capsys.readouterr().err
    finally:
        lock.release()


def test_a_grader_failure_is_not_a_zero_and_exits_non_zero(tmp_path, monkeypatch, no_sandbox, capsys):
    touch(tmp_path / "b" / "ada" / f"{NOTEBOOK}.ipynb")
    touch(tmp_path / "b" / "broken-grader" / f"{NOTEBOOK}.ipynb")
    monkeypatch.setattr(batch_module, "grade_one", fake_grade_one({"ada": True}))
    out = tmp_path / "out"
    assert cli.main([str(tmp_path / "b"), "--out", str(out), "--unsafe-no-sandbox", "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "NOT graded" in captured.err and "WITHOUT a sandbox" in captured.out
    rows = {(r["student"], r["question"]): r for r in read_rows(out)}
    assert rows[("broken-grader", "1.1")]["score"] == "" and rows[("broken-grader", "1.1")]["status"] == "not graded"
    assert rows[("ada", "1.1")]["score"] == "2"
    report_json = json.loads((out / "broken-grader" / f"{NOTEBOOK}.json").read_text())
    assert "not a grade" in report_json["output"] and "No space left" in report_json["output"]


def test_a_planted_folder_in_out_loses_no_report(tmp_path):
    results = [scoring.NotebookResult("ada", NOTEBOOK, 1, [], RunStatus.OK)]
    (tmp_path / "ada" / f"{NOTEBOOK}.json").mkdir(parents=True)
    problems = report.publish(tmp_path, results, {1: ex01.EXERCISE}, merge=False)
    assert len(problems) == 1 and "is a folder" in problems[0]
    kept = list(tmp_path.glob(".incoming-*/ada/*.json"))
    assert len(kept) == 1 and (tmp_path / "scores.csv").exists()


# ----------------------------------------------------------------------------- scoring rules
def fake_run(status=RunStatus.OK, lines=None, problem="", detail="", errors=()):
    return RunResult(status, detail=detail, cell_errors=list(errors), answer_lines=lines or [],
                     harness_problem=problem)


def answer_lines(cases, right=True, origin="notebook", only=None):
    lines = []
    for qid, drawn in cases.items():
        if only and not qid.startswith(only):
            continue
        question = ex01.q1 if qid.startswith("1.1") else ex01.q2
        values = [question.reference(**c) for c in drawn] if right else [np.zeros(1) for _ in drawn]
        answers = [harness.answer_to_json(core.to_answer(v)) for v in values]
        lines.append({"id": qid, "origin": origin, "answers": answers})
    return lines


def outcomes(tests):
    return {t.name: (t.outcome, t.score) for t in tests if t.max_score > 0}


def test_checks_defined_before_a_timeout_still_score():
    _, _, cases = scoring.draw_inputs(ex01.EXERCISE, np.random.default_rng(0))
    run = fake_run(RunStatus.TIMEOUT, answer_lines(cases, only="1.1"), detail="cell 4 ran longer than its 10 s limit")
    got = outcomes(scoring.score_run(ex01.EXERCISE, cases, run, "timed out in cell 4"))
    assert got["1.1 per_record_losses: hidden checks"] == (Outcome.PASSED, 2.0)
    assert got["1.2 generalisation_gap: hidden checks"] == (Outcome.NOT_RUN, 0.0)


def test_answers_from_elsewhere_are_flagged_but_judged():
    _, _, cases = scoring.draw_inputs(ex01.EXERCISE, np.random.default_rng(0))
    tests = scoring.score_run(ex01.EXERCISE, cases, fake_run(lines=answer_lines(cases, origin="helper.f")), "ran")
    hidden = [t for t in tests if t.name.endswith("hidden checks")]
    assert all(t.outcome == Outcome.PASSED and "helper.f" in t.flag for t in hidden)


def test_status_text_counts_errors_honestly():
    errors = [{"cell": 1, "ename": "ValueError", "evalue": "x"}, {"cell": 3, "ename": "KeyError", "evalue": "y"}]
    result = scoring.NotebookResult("ada", NOTEBOOK, 1, [], RunStatus.OK, cell_errors=errors)
    assert result.status == "ran with 2 errors"
    timed_out = scoring.NotebookResult("ada", NOTEBOOK, 1, [], RunStatus.TIMEOUT, stopped_at=5)
    assert timed_out.status == "timed out in cell 5"
    tests = scoring.score_run(ex01.EXERCISE, scoring.draw_inputs(ex01.EXERCISE, np.random.default_rng(0))[2],
                              fake_run(errors=errors), "ran with 2 errors")
    assert tests[0].outcome == Outcome.FAILED and "ran with 2 errors" in tests[0].output


def test_written_answers_are_answered_blank_or_missing():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("<!-- BEGIN ANSWER -->\nLower loss.\n<!-- END ANSWER -->",
                                      metadata={"exercise": "1.3"}),
    ])
    assert [t.outcome for t in scoring.written_tests(ex01.EXERCISE, scoring.written_answers(nb, ex01.EXERCISE))] \
        == [Outcome.ANSWERED]
    nb.cells[0].source = "*Your answer here*"
    assert scoring.written_tests(ex01.EXERCISE, scoring.written_answers(nb, ex01.EXERCISE))[0].outcome == Outcome.BLANK
    nb.cells[0].metadata = {}
    assert scoring.written_tests(ex01.EXERCISE, scoring.written_answers(nb, ex01.EXERCISE))[0].outcome \
        == Outcome.NO_ANSWER_CELL


@pytest.mark.parametrize("data, words", [(b"", "empty"), (b"\xff\xfe", "UTF-8"), (b"{not json", "not a valid notebook"),
                                         (b'{"cells": 5}', "not a valid notebook")])
def test_unreadable_notebooks_are_explained(data, words):
    with pytest.raises(ValueError, match=words):
        scoring.read_notebook(data)


def test_read_capped_refuses_links_and_large_files(tmp_path):
    assert read_capped(touch(tmp_path / "small.json", "[]"), 10) == b"[]"
    with pytest.raises(ValueError, match="larger"):
        read_capped(touch(tmp_path / "big.json", "x" * 100), 10)
    (tmp_path / "link.json").symlink_to("/dev/zero")
    with pytest.raises(OSError):
        read_capped(tmp_path / "link.json", 10)


def test_hidden_inputs_follow_from_the_batch_seed_and_the_submission():
    ada, bo = (Submission(Path(f"{s}.ipynb"), s, NOTEBOOK, 1) for s in ("ada", "bo"))

    def draw(seed, submission):
        rng = np.random.default_rng(batch_module._seed_sequence(seed, submission))
        return scoring.draw_inputs(ex01.EXERCISE, rng)[1]

    first, again, other, reseeded = draw(5, ada), draw(5, ada), draw(5, bo), draw(6, ada)
    keys = [k for k in first if "hidden" in k]
    assert all(np.array_equal(first[k], again[k]) for k in first)
    for different in (other, reseeded):
        assert not all(first[k].shape == different[k].shape and np.array_equal(first[k], different[k]) for k in keys)


def test_reports_never_hold_the_seed_or_the_source_path():
    result = scoring.NotebookResult("ada", NOTEBOOK, 1, [], RunStatus.OK, source="/secret/submissions/ada/x.ipynb")
    text = json.dumps(result.to_gradescope())
    assert "seed" not in text and "/secret" not in text


# ----------------------------------------------------------------------------- issue 18: classes 3 and 5
def test_one_grade_per_exercise_per_student_copies_under_other_titles_are_refused(tmp_path, capsys):
    a = touch(tmp_path / "ada" / f"{NOTEBOOK}.ipynb")
    b = touch(tmp_path / "ada" / f"{NOTEBOOK} .ipynb")  # a trailing space
    c = touch(tmp_path / "ada" / "01_copy_for_points.ipynb")
    touch(tmp_path / "ada" / "02_the_loss_attack.ipynb")
    found, _, collisions = find_submissions([tmp_path])
    assert [s.number for s in found] == [1, 2] and len(collisions) == 2
    named = " ".join(str(x) for x in collisions)
    assert all(str(p) in named for p in (a, b, c)) and "exercise 01" in named
    assert cli.main([str(tmp_path), "--out", str(tmp_path / "out"), "--unsafe-no-sandbox"]) == 2
    assert "one grade per exercise" in capsys.readouterr().err and not (tmp_path / "out" / "scores.csv").exists()


def test_a_long_id_gets_a_short_distinct_folder_and_the_batch_publishes(tmp_path, monkeypatch, no_sandbox):
    long_a, long_b = "é" * 99 + "a", "é" * 99 + "b"  # legal ids (100 characters), 300 bytes encoded
    for student in (long_a, long_b, "ada"):
        touch(tmp_path / "b" / f"{NOTEBOOK}__{student}.ipynb")
    for student in (long_a, long_b):
        assert len(file_name(student).encode()) <= 160
    assert file_name(long_a) != file_name(long_b)
    monkeypatch.setattr(batch_module, "grade_one", fake_grade_one({long_a: True}))
    out = tmp_path / "out"
    assert cli.main([str(tmp_path / "b"), "--out", str(out), "--unsafe-no-sandbox", "--no-progress"]) == 0
    assert {r["student"] for r in read_rows(out)} == {long_a, long_b, "ada"}


def test_formula_ids_are_inert_in_scores_csv_and_read_back_under_merge(tmp_path, monkeypatch, no_sandbox):
    touch(tmp_path / "b" / f"{NOTEBOOK}__=HYPERLINK(1).ipynb")
    touch(tmp_path / "b" / f"{NOTEBOOK}__ada.ipynb")
    monkeypatch.setattr(batch_module, "grade_one", fake_grade_one({"=HYPERLINK(1)": True}))
    out = tmp_path / "out"
    assert cli.main([str(tmp_path / "b"), "--out", str(out), "--unsafe-no-sandbox", "--no-progress"]) == 0
    cells = [r["student"] for r in read_rows(out)]
    assert "'=HYPERLINK(1)" in cells and not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    touch(tmp_path / "c" / f"{NOTEBOOK}__bo.ipynb")
    assert cli.main([str(tmp_path / "c"), "--out", str(out), "--unsafe-no-sandbox", "--no-progress", "--merge"]) == 0
    cells = [r["student"] for r in read_rows(out)]
    assert cells.count("'=HYPERLINK(1)") == 3 and "''=HYPERLINK(1)" not in cells


def test_a_carriage_return_in_a_title_never_reaches_the_terminal(tmp_path, monkeypatch, no_sandbox, capsys):
    touch(tmp_path / "ada" / "01_x\rzz-honest 01_overfit_a_model  4:4.ipynb")
    monkeypatch.setattr(batch_module, "grade_one", fake_grade_one({}))
    assert cli.main([str(tmp_path), "--out", str(tmp_path / "out"), "--unsafe-no-sandbox", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.out + captured.err and "\\r" in captured.out
    names = [p.name for p in (tmp_path / "out" / "ada").iterdir()]
    assert names == ["01_x%0Dzz-honest%2001_overfit_a_model%20%204%3A4.json"]


def test_merge_keeps_one_id_per_student_and_refuses_a_flat_file_replacing_a_grade(tmp_path, monkeypatch, no_sandbox,
                                                                                   capsys):
    touch(tmp_path / "first" / "zoe" / f"{NOTEBOOK}.ipynb")
    monkeypatch.setattr(batch_module, "grade_one", fake_grade_one({"zoe": True}))
    out = tmp_path / "out"
    assert cli.main([str(tmp_path / "first"), "--out", str(out), "--unsafe-no-sandbox", "--no-progress"]) == 0
    first = read_rows(out)
    touch(tmp_path / "second" / "Zoe" / "02_the_loss_attack.ipynb")  # a case variant: the same student
    assert cli.main([str(tmp_path / "second"), "--out", str(out), "--unsafe-no-sandbox", "--merge"]) == 2
    assert "spelled 'zoe'" in capsys.readouterr().err and read_rows(out) == first
    touch(tmp_path / "third" / f"{NOTEBOOK}__zoe.ipynb")  # yan drops a flat file claiming zoe
    monkeypatch.setattr(batch_module, "grade_one", fake_grade_one({}))
    assert cli.main([str(tmp_path / "third"), "--out", str(out), "--unsafe-no-sandbox", "--merge"]) == 2
    err = capsys.readouterr().err
    assert "would replace 'zoe'" in err and str(tmp_path / "first" / "zoe" / f"{NOTEBOOK}.ipynb") in err
    assert read_rows(out) == first
    # grading zoe's own file again is a regrade, not a replacement
    assert cli.main([str(tmp_path / "first"), "--out", str(out), "--unsafe-no-sandbox", "--merge"]) == 0


def test_a_lock_file_that_is_a_symlink_is_never_followed(tmp_path, capsys):
    victim = touch(tmp_path / "precious.txt", "keep me")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".grader.lock").symlink_to(victim)
    nb = touch(tmp_path / "ada" / f"{NOTEBOOK}.ipynb")
    assert cli.main([str(nb), "--out", str(tmp_path / "out"), "--unsafe-no-sandbox"]) == 2
    assert victim.read_text() == "keep me" and "lock file" in capsys.readouterr().err


def test_malformed_answers_from_a_sandbox_are_the_students_zero_never_a_grader_error():
    from utils.grading.runner import _result_from

    deep = "[" * 100_000 + "]" * 100_000
    fine = json.dumps({"id": "1.1/hidden", "origin": "notebook", "answers": []})
    run = _result_from({"status": "ok", "answers": [deep, "{" * 70 + "}" * 70, fine, 5]}, 1.0)
    assert run.status == RunStatus.OK and len(run.answer_lines) == 1
    tests = scoring.score_run(ex01.EXERCISE, scoring.draw_inputs(ex01.EXERCISE, np.random.default_rng(0))[2], run)
    assert sum(t.score for t in tests) == 0


def test_an_over_long_line_from_a_sandbox_is_malformed_output_not_grader_memory(tmp_path, monkeypatch):
    from utils.grading import runner

    monkeypatch.setattr(runner, "MAX_EVENT_BYTES", 2**20)
    code = "import sys; sys.stdout.write('x' * (3 * 2**20)); sys.stdout.flush()"
    result = runner._drive([sys.executable, "-c", code], None, None, {}, None, runner.Limits(total_timeout=30),
                           tmp_path, sandboxed=True)
    assert result.status == RunStatus.MALFORMED and "longer than 1 MiB" in result.detail


def test_without_cgroups_the_summary_and_every_report_say_so(tmp_path, monkeypatch, no_sandbox, capsys):
    from utils.grading import jail

    monkeypatch.setenv(jail.NO_CGROUP_ENV, "1")
    monkeypatch.setattr(cli, "probe_bwrap", lambda: "/usr/bin/bwrap")
    seen = []
    fake = fake_grade_one({"ada": True})

    def grade(submission, *args, warning="", **kwargs):
        seen.append(warning)
        result = fake(submission, *args, **kwargs)
        result.warning = warning
        return result

    monkeypatch.setattr(batch_module, "grade_one", grade)
    touch(tmp_path / "b" / "ada" / f"{NOTEBOOK}.ipynb")
    out = tmp_path / "out"
    assert cli.main([str(tmp_path / "b"), "--out", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "WARNING: no per-sandbox cgroup" in captured.out and "no per-sandbox cgroup" in seen[0]
    report = json.loads((out / "ada" / f"{NOTEBOOK}.json").read_text())
    assert "WARNING: no per-sandbox cgroup" in report["output"] and report["extra_data"]["warning"] == seen[0]


@pytest.mark.parametrize("source, needle", [
    ("from utils.inference import per_record_loss\ndef per_record_losses(logits, labels):\n"
     "    return per_record_loss(logits, labels)", "utils.inference.per_record_loss"),
    ("import utils.inference as inf\ndef _helper(a, b):\n    return inf.per_record_loss(a, b)\n"
     "def per_record_losses(logits, labels):\n    return _helper(logits, labels)", "utils.inference.per_record_loss"),
    ("from utils import inference\nf = inference.per_record_loss\ndef per_record_losses(logits, labels):\n"
     "    return f(logits, labels)", "utils.inference.per_record_loss"),
    ("from utils.inference import per_record_loss as per_record_losses", "imported from `utils.inference"),
    ("import utils\nper_record_losses = utils.inference.per_record_loss", "bound by an assignment"),
    ("def per_record_losses(logits, labels):\n    import importlib\n"
     "    return importlib.import_module('utils.inference').per_record_loss(logits, labels)", "run time"),
    ("def per_record_losses(logits, labels):\n    return getattr(__import__('utils'), 'x')(logits)", "run time"),
    ("exec('def per_record_losses(a, b): return a')", "not defined by a `def`"),
    ("from helper import f\ndef per_record_losses(logits, labels):\n    return f(logits, labels)", "`helper.f`"),
])
def test_provenance_is_read_from_the_notebook_source_and_flags_library_answers(source, needle):
    from utils.grading.provenance import function_flags

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
                                         nbformat.v4.new_code_cell(source)])
    flags = function_flags(nb, ex01.q1)
    assert any(needle in f for f in flags), flags


def test_provenance_leaves_honest_and_allowed_code_unflagged():
    from utils.checks import ex06
    from utils.grading.provenance import function_flags

    honest = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import numpy as np\nfrom utils.metrics import clopper_pearson\n"
        "def _mean(x):\n    return np.mean(x)\n"
        "def cp_epsilon_lower_bound(true_positives, n_members, false_positives, n_nonmembers, delta):\n"
        "    low = clopper_pearson(true_positives, n_members)\n    return float(_mean(low))")])
    assert function_flags(honest, ex06.q2) == []  # 6.2 allows utils.metrics.clopper_pearson
    assert function_flags(honest, ex06.q1)[0].startswith("`dp_max_tpr` is not defined")
