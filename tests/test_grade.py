"""The grader, end to end: solutions earn full marks, starters earn nothing, and hostile or broken
submissions (tests/fixtures/hostile) get the expected status without a point they did not earn.

One batch (every solution, every generated exercise, every hostile fixture) is graded once, in
parallel, through the real command line; the unit tests below it need no kernel.
"""

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest

from utils.checks import core, ex01, harness
from utils.grading import scoring
from utils.grading.sandbox import read_capped
from utils.grading.submissions import find_submissions

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))

# fixture -> (run status, {question: status of its hidden check}); "error" rows earn nothing.
EXPECTED = {
    "syntax_error": ("ok", {"1.1": "failed", "1.2": "passed"}),
    "infinite_loop": ("timeout", {"1.1": "error", "1.2": "error"}),
    "kill_kernel": ("dead", {"1.1": "error", "1.2": "error"}),
    "exits_during_checks": ("dead", {"1.1": "error", "1.2": "error"}),
    "huge_allocation": ("ok", {"1.1": "failed", "1.2": "passed"}),
    "huge_output": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "monkeypatch_checks": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "fake_output": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "edit_files": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "renamed_functions": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "deleted_functions": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "wrong_types": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "nan_results": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "hardcoded_public": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "hangs_on_hidden": ("ok", {"1.1": "failed", "1.2": "passed"}),
    "not_json": ("error", {"1.1": "error", "1.2": "error"}),
    "empty": ("error", {"1.1": "error", "1.2": "error"}),
    "json_not_notebook": ("error", {"1.1": "error", "1.2": "error"}),
}


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def live_processes_mentioning(token: str) -> list:
    """Processes whose environment mentions `token` (every worker and kernel of the batch has it in PYTHONPATH)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if token.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade solutions (student "solution"), exercises ("starter") and the hostile fixtures in one run."""
    root = tmp_path_factory.mktemp("grading")
    submissions = root / "submissions"
    for student, notebooks in (("solution", SOLUTIONS), ("starter", EXERCISES)):
        (submissions / student).mkdir(parents=True)
        for path in notebooks:
            shutil.copy(path, submissions / student / path.name)
    sandboxes = root / "sandboxes"  # TMPDIR of the grader: every sandbox path contains it
    sandboxes.mkdir()
    protected = {p: sha256(p) for p in (ROOT / "utils" / "checks").glob("*.py")}
    out = root / "out"
    env = {**os.environ, "TMPDIR": str(sandboxes)}
    result = subprocess.run(
        [sys.executable, "-m", "utils.grade", str(submissions), str(HOSTILE), "--out", str(out), "--jobs", "2",
         "--cell-timeout", "20", "--harness-timeout", "10", "--notebook-timeout", "120", "--no-progress"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    reports = {}
    for path in out.glob("*/*.json"):
        reports[(path.parent.name, path.stem)] = json.loads(path.read_text())
    with open(out / "scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return SimpleNamespace(result=result, out=out, reports=reports, rows=rows, sandboxes=sandboxes,
                           protected=protected, n_students=2 + len(EXPECTED))


def hidden(report, question_id):
    return next(t for t in report["tests"] if t["name"].startswith(question_id) and t["name"].endswith("hidden checks"))


def test_batch_finishes_with_exit_0_and_a_summary(batch):
    assert batch.result.returncode == 0, batch.result.stderr[-3000:]
    for student in ("solution", "starter", *EXPECTED):
        assert student in batch.result.stdout


def test_scores_csv_is_complete(batch):
    assert list(batch.rows[0]) == ["student", "notebook", "exercise", "score", "max_score", "status"]
    pairs = {(r["student"], r["notebook"], r["exercise"]) for r in batch.rows}
    expected_students = {"solution", "starter", *EXPECTED}
    assert {r["student"] for r in batch.rows} == expected_students
    for student in expected_students:
        for question in ("1.1", "1.2", "1.3"):
            assert (student, "01_overfit_a_model", question) in pairs
    assert len(batch.rows) == len(pairs)


def test_reports_have_the_gradescope_shape(batch):
    assert len(batch.reports) == len(SOLUTIONS) + len(EXERCISES) + len(EXPECTED)
    for report in batch.reports.values():
        assert set(report) >= {"score", "max_score", "tests"}
        assert report["score"] == pytest.approx(sum(t["score"] for t in report["tests"]))
        assert report["max_score"] == pytest.approx(sum(t["max_score"] for t in report["tests"]))
        for test in report["tests"]:
            assert set(test) == {"name", "score", "max_score", "status", "output"}
            assert test["status"] in {"passed", "failed", "error", "manual"}
            assert 0 <= test["score"] <= test["max_score"]
            assert "all tests passed" not in test["output"].lower()


@pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_every_solution_earns_full_marks(batch, solution):
    report = batch.reports[("solution", solution.stem)]
    assert report["extra_data"]["run_status"] == "ok" and report["extra_data"]["cell_errors"] == []
    assert report["max_score"] > 0 and report["score"] == report["max_score"]
    automatic = [t for t in report["tests"] if t["name"].endswith("checks")]
    assert automatic and all(t["status"] == "passed" for t in automatic)
    assert all(t["score"] == 0 and t["status"] == "manual" for t in report["tests"] if "written answer" in t["name"])


@pytest.mark.parametrize("exercise", EXERCISES, ids=[p.name for p in EXERCISES])
def test_every_generated_exercise_runs_and_scores_zero(batch, exercise):
    report = batch.reports[("starter", exercise.stem)]
    assert report["extra_data"]["run_status"] == "ok"
    assert {e["ename"] for e in report["extra_data"]["cell_errors"]} <= {"NotImplementedError"}
    assert report["score"] == 0
    for test in report["tests"]:
        if test["name"].endswith("checks"):
            assert test["status"] == "failed" and "not attempted" in test["output"]


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_hostile_submission_gets_the_expected_status_and_no_unearned_point(batch, case):
    run_status, statuses = EXPECTED[case]
    report = batch.reports[(case, "01_overfit_a_model")]
    assert report["extra_data"]["run_status"] == run_status, report["extra_data"]
    for question, status in statuses.items():
        test = hidden(report, question)
        assert test["status"] == status, (question, test)
        assert (test["score"] > 0) == (status == "passed")
    if run_status != "ok":
        assert all(t["score"] == 0 for t in report["tests"])
        assert all(t["status"] == "error" for t in report["tests"] if t["max_score"] > 0)


def test_hostile_details(batch):
    reports = {case: batch.reports[(case, "01_overfit_a_model")] for case in EXPECTED}
    assert reports["huge_output"]["extra_data"]["output_bytes"] >= 100_000_000
    assert "20 s limit" in reports["infinite_loop"]["extra_data"]["run_detail"]
    assert "kernel died" in reports["kill_kernel"]["extra_data"]["run_detail"]
    assert "MemoryError" in hidden(reports["huge_allocation"], "1.1")["output"]
    assert "TimeoutError" in hidden(reports["hangs_on_hidden"], "1.1")["output"]
    assert "No function called `per_record_losses`" in hidden(reports["renamed_functions"], "1.1")["output"]
    assert "not a function" in hidden(reports["renamed_functions"], "1.2")["output"]
    assert "returned a str" in hidden(reports["wrong_types"], "1.1")["output"]
    assert "NaN or infinite" in hidden(reports["nan_results"], "1.1")["output"]
    assert "empty" in reports["empty"]["extra_data"]["run_detail"]
    assert "not a valid notebook" in reports["not_json"]["extra_data"]["run_detail"]
    public = next(t for t in reports["hardcoded_public"]["tests"] if t["name"].endswith("public checks"))
    assert public["status"] == "passed" and public["max_score"] == 0  # public checks alone earn nothing


def test_library_files_were_not_touched(batch):
    assert {p: sha256(p) for p in batch.protected} == batch.protected


def test_no_worker_or_kernel_outlives_the_batch(batch):
    assert live_processes_mentioning(str(batch.sandboxes)) == []


def test_manual_answers_are_exported(batch):
    text = (batch.out / "manual_answers.md").read_text()
    assert text.count("## Exercise 1.3") == 1
    for student in ("solution", "starter", *EXPECTED):
        assert f"### {student} (01_overfit_a_model)" in text
    assert "John Doe" in text and "BEGIN ANSWER" not in text
    assert "Not answered yet" in text


# ----------------------------------------------------------------------------- without kernels
def touch(path, text="{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_find_submissions_understands_both_layouts(tmp_path):
    touch(tmp_path / "batch" / "ada" / "01_overfit_a_model.ipynb")
    touch(tmp_path / "batch" / "ada" / "notes.ipynb")
    touch(tmp_path / "batch" / "02_the_loss_attack__bo b.ipynb")
    touch(tmp_path / "batch" / "readme.txt")
    single = touch(tmp_path / "cy" / "01_overfit_a_model.ipynb")
    again = touch(tmp_path / "other" / "01_overfit_a_model__ada.ipynb")
    found, warnings = find_submissions([tmp_path / "batch", single, again, tmp_path / "missing"])
    assert [(s.student, s.notebook, s.number) for s in found] == [
        ("ada", "01_overfit_a_model", 1), ("ada-2", "01_overfit_a_model", 1),
        ("bo-b", "02_the_loss_attack", 2), ("cy", "01_overfit_a_model", 1),
    ]
    assert any("notes.ipynb" in w for w in warnings) and any("missing" in w for w in warnings)


@pytest.mark.parametrize(
    "data, words",
    [(b"", "empty"), (b"\xff\xfe", "UTF-8"), (b"{not json", "not a valid notebook"), (b'{"cells": 5}', "not a valid notebook")],
)
def test_unreadable_notebooks_are_explained(data, words):
    with pytest.raises(ValueError, match=words):
        scoring.read_notebook(data)


def test_written_answers_are_found_by_cell_metadata():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("<!-- BEGIN ANSWER -->\nLower loss.\n<!-- END ANSWER -->", metadata={"exercise": "1.3"}),
    ])
    assert scoring.written_answers(nb, ex01.EXERCISE) == {"1.3": "Lower loss."}
    nb.cells[0].source = "*Your answer here*"
    assert scoring.written_answers(nb, ex01.EXERCISE) == {"1.3": ""}
    nb.cells[0].metadata = {}
    assert scoring.written_answers(nb, ex01.EXERCISE) == {"1.3": None}


def fake_run(status="ok", answers=None, problem=""):
    return SimpleNamespace(status=status, detail="cell 3 ran longer than its 10 s limit", cell_errors=[],
                           answers=answers, answers_problem=problem)


def reference_answers(cases, tamper=None):
    answers = {}
    for qid, drawn in cases.items():
        question = ex01.q1 if qid.startswith("1.1") else ex01.q2
        answers[qid] = [harness.answer_to_json(core.to_answer(question.reference(**c))) for c in drawn]
    if tamper:
        tamper(answers)
    return answers


def statuses(tests):
    return {t.name: (t.status, t.score) for t in tests if t.max_score > 0}


def test_scoring_compares_in_the_grader_process():
    spec, arrays, cases = scoring.draw_inputs(ex01.EXERCISE, np.random.default_rng(0))
    assert {q["id"] for q in spec["questions"]} == {"1.1/public", "1.1/hidden", "1.2/public", "1.2/hidden"}
    assert all(key in arrays for q in spec["questions"] for case in q["cases"] for key in case.values())

    right = scoring.score_run(ex01.EXERCISE, cases, fake_run(answers=reference_answers(cases)))
    assert all(status == "passed" and score > 0 for status, score in statuses(right).values())

    def off_by_a_bit(answers):
        answers["1.2/hidden"][1]["values"] = [answers["1.2/hidden"][1]["values"][0] + 0.01]

    nearly = statuses(scoring.score_run(ex01.EXERCISE, cases, fake_run(answers=reference_answers(cases, off_by_a_bit))))
    assert nearly["1.2 generalisation_gap: hidden checks"] == ("failed", 0.0)
    assert nearly["1.1 per_record_losses: hidden checks"][0] == "passed"


@pytest.mark.parametrize(
    "run",
    [
        fake_run(status="timeout"),
        fake_run(status="dead"),
        fake_run(answers=None, problem="the hidden checks wrote no answers"),
        fake_run(answers={"1.1/public": "everything passed"}),
        fake_run(answers=[1, 2, 3]),
    ],
    ids=["timeout", "dead", "no-answers", "malformed", "not-a-dict"],
)
def test_runs_without_usable_answers_score_zero_with_error(run):
    _, _, cases = scoring.draw_inputs(ex01.EXERCISE, np.random.default_rng(0))
    tests = scoring.score_run(ex01.EXERCISE, cases, run)
    assert all(status == "error" and score == 0 for status, score in statuses(tests).values())


def test_a_timed_out_run_never_passes_even_with_perfect_answers():
    _, _, cases = scoring.draw_inputs(ex01.EXERCISE, np.random.default_rng(0))
    tests = scoring.score_run(ex01.EXERCISE, cases, fake_run(status="timeout", answers=reference_answers(cases)))
    assert all(status == "error" and score == 0 for status, score in statuses(tests).values())


def test_read_capped_refuses_links_and_large_files(tmp_path):
    small = touch(tmp_path / "small.json", "[]")
    assert read_capped(small, 10) == b"[]"
    big = touch(tmp_path / "big.json", "x" * 100)
    with pytest.raises(ValueError, match="larger"):
        read_capped(big, 10)
    link = tmp_path / "link.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(OSError):
        read_capped(link, 10)


def test_a_worker_past_its_deadline_is_killed_with_its_kernel(tmp_path, monkeypatch):
    from utils.grading.sandbox import LibrarySnapshot, Limits, run_submission

    nb = nbformat.v4.new_notebook(cells=[
        # a child that leaves the kernel's process group, then a cell that never ends
        nbformat.v4.new_code_cell("import subprocess\nsubprocess.Popen(['sleep', '300'], start_new_session=True)"),
        nbformat.v4.new_code_cell("import time\nwhile True:\n    time.sleep(0.1)"),
    ])
    sandbox = tmp_path / "sandbox-deadline"
    spec, arrays, _ = scoring.draw_inputs(ex01.EXERCISE, np.random.default_rng(0))
    run = run_submission(nbformat.writes(nb).encode(), "01_x.ipynb", spec, arrays, LibrarySnapshot(),
                         Limits(cell_timeout=120, notebook_timeout=120, total_timeout=12), keep=sandbox)
    assert run.status == "timeout" and "12 s" in run.detail and run.answers is None
    assert live_processes_mentioning(str(sandbox)) == []


def test_hidden_inputs_follow_from_the_batch_seed_and_the_submission():
    from utils.grading.cli import _seed_sequence
    from utils.grading.submissions import Submission

    ada, bo = (Submission(Path(f"{s}.ipynb"), s, "01_overfit_a_model", 1) for s in ("ada", "bo"))

    def draw(seed, submission):
        return scoring.draw_inputs(ex01.EXERCISE, np.random.default_rng(_seed_sequence(seed, submission)))[1]

    first, again, other, reseeded = draw(5, ada), draw(5, ada), draw(5, bo), draw(6, ada)
    hidden_keys = [k for k in first if "hidden" in k]
    assert all(np.array_equal(first[k], again[k]) for k in first)
    for different in (other, reseeded):
        assert not all(first[k].shape == different[k].shape and np.array_equal(first[k], different[k]) for k in hidden_keys)
