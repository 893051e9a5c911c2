"""The grader, end to end, in its bubblewrap sandbox: solutions earn full marks, starters earn
nothing, hostile or broken submissions (tests/fixtures/hostile, one notebook per attack) get no
point they did not earn, and honest students graded after them keep full marks.

One batch is graded once, two sandboxes at a time, through the real command line. Unit tests
that need no kernel are in test_grade_units.py; the Gradescope bundle in test_grade_gradescope.py.
"""

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("01_*.ipynb"))  # starters run the same code paths: one is enough
NOTEBOOK = "01_overfit_a_model"
SOLUTION_01 = ROOT / "solutions" / f"{NOTEBOOK}.ipynb"
GHOST = "ghost-in-the-grader"  # in the command line of the processes escape_after_exit leaves behind

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None,
                                reason="bubblewrap (bwrap) is not installed: apt-get install bubblewrap")

# fixture -> (run status, {question: outcome of its hidden check}); only "passed" earns points.
EXPECTED = {
    "syntax_error": ("ok", {"1.1": "failed", "1.2": "passed"}),
    "infinite_loop": ("timeout", {"1.1": "passed", "1.2": "passed"}),  # defined before the slow cell: kept
    "kill_kernel": ("dead", {"1.1": "passed", "1.2": "passed"}),  # defined before the fatal cell: kept
    "exits_during_checks": ("ok", {"1.1": "passed", "1.2": "not run"}),
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
    "not_json": ("unreadable", {"1.1": "not run", "1.2": "not run"}),
    "empty": ("unreadable", {"1.1": "not run", "1.2": "not run"}),
    "json_not_notebook": ("unreadable", {"1.1": "not run", "1.2": "not run"}),
    # the attacks of issue 9
    "escape_after_exit": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "read_parent_proc": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "copy_submissions": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "alias_reference": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "patch_harness": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "fill_disk": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "plant_directory": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "network": ("ok", {"1.1": "failed", "1.2": "failed"}),
    # the worker is the sandbox's pid 1 (bwrap --as-pid-1): the kernel cannot kill it
    "kill_worker": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "forge_answers": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "outside_function": ("ok", {"1.1": "passed", "1.2": "passed"}),  # scores, and is flagged
    # the attacks of issue 18 (the resource limits are in test_grade_limits.py)
    "forge_through_proc_fd": ("ok", {"1.1": "failed", "1.2": "failed"}),
    "library_wrapper": ("ok", {"1.1": "passed", "1.2": "passed"}),  # scores, and is flagged from the host
    "nested_answers": ("ok", {"1.1": "failed", "1.2": "failed"}),  # its own 0, never a grader error
}
# graded after the hostile ones (ids sort last): they must keep full marks
HONEST = ("zz-honest-1", "zz-honest-2")


def processes_mentioning(token: str) -> list:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


class Listener:
    """A TCP server on loopback that records every connection (the network fixture must not reach it)."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, address = self.server.accept()
            except OSError:
                return
            self.connections.append(address)
            conn.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade solutions, starters, every hostile fixture, an impersonation and honest students in one run."""
    root = tmp_path_factory.mktemp("grading")
    submissions = root / "submissions"
    for student, notebooks in (("solution", SOLUTIONS), ("starter", EXERCISES)):
        (submissions / student).mkdir(parents=True)
        for path in notebooks:
            shutil.copy(path, submissions / student / path.name)
    listener = Listener()
    for case in EXPECTED:
        (submissions / case).mkdir()
        data = (HOSTILE / f"{NOTEBOOK}__{case}.ipynb").read_bytes()
        if case == "network":
            data = data.replace(b"PORT = 0", f"PORT = {listener.port}".encode())
        (submissions / case / f"{NOTEBOOK}.ipynb").write_bytes(data)
    for student in (*HONEST, "zoe", "José"):
        (submissions / student).mkdir()
        shutil.copy(SOLUTION_01, submissions / student / f"{NOTEBOOK}.ipynb")
    (submissions / "yan").mkdir()  # yan hands in a notebook that claims to be zoe's
    shutil.copy(HOSTILE / f"{NOTEBOOK}__fake_output.ipynb", submissions / "yan" / f"{NOTEBOOK}__zoe.ipynb")
    sandboxes = root / "sandboxes"  # TMPDIR of the grader: every sandbox's scratch path contains it
    sandboxes.mkdir()
    out = root / "out"
    env = {**os.environ, "TMPDIR": str(sandboxes)}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "utils.grade", str(submissions), "--out", str(out), "--jobs", "2", "--fast",
         "--cell-timeout", "60.5", "--harness-timeout", "20", "--notebook-timeout", "150", "--no-progress"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500,
    )
    seconds = time.monotonic() - started
    snapshot = {p: p.read_bytes() for p in [out / "scores.csv", *out.glob("*/*.json")]}
    time.sleep(12)  # escape_after_exit's ghosts would rewrite the results after 8 s
    reports = {}
    for path in out.glob("*/*.json"):
        report = json.loads(path.read_text())
        reports[(report["extra_data"]["student"], report["extra_data"]["notebook"])] = report
    with open(out / "scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    listener.server.close()
    return SimpleNamespace(result=result, out=out, reports=reports, rows=rows, sandboxes=sandboxes,
                           snapshot=snapshot, listener=listener, seconds=seconds)


def hidden(report, question_id):
    return next(t for t in report["tests"] if t["name"].startswith(question_id) and t["name"].endswith("hidden checks"))


def test_batch_finishes_with_exit_0_and_a_summary(batch):
    assert batch.result.returncode == 0, batch.result.stdout[-6000:] + batch.result.stderr[-3000:]
    for student in ("solution", "starter", *EXPECTED, *HONEST):
        assert student in batch.result.stdout
    assert "WITHOUT a sandbox" not in batch.result.stdout + batch.result.stderr


def test_scores_csv_is_complete(batch):
    assert list(batch.rows[0]) == ["student", "notebook", "question", "kind", "score", "max_score", "status", "run",
                                   "flag"]
    pairs = {(r["student"], r["notebook"], r["question"]) for r in batch.rows}
    students = {"solution", "starter", "zoe", "José", *EXPECTED, *HONEST}
    assert {r["student"] for r in batch.rows} == students
    for student in students - {"solution", "starter"}:
        for question in ("1.1", "1.2", "1.3"):
            assert (student, NOTEBOOK, question) in pairs
    assert len(batch.rows) == len(pairs)


def test_reports_have_the_gradescope_shape_and_no_seed(batch):
    assert len(batch.reports) == len(SOLUTIONS) + len(EXERCISES) + len(EXPECTED) + len(HONEST) + 2
    for path in batch.out.glob("*/*.json"):
        text = path.read_text()
        assert "seed" not in text.lower()
        report = json.loads(text)
        assert report["score"] == pytest.approx(sum(t["score"] for t in report["tests"]))
        assert report["max_score"] == pytest.approx(sum(t["max_score"] for t in report["tests"]))
        for test in report["tests"]:
            assert set(test) <= {"name", "score", "max_score", "status", "output", "extra_data"}
            assert test.get("status", "passed") in {"passed", "failed"}
            assert 0 <= test["score"] <= test["max_score"]
        assert report["extra_data"]["sandboxed"] is True


@pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_every_solution_earns_full_marks(batch, solution):
    report = batch.reports[("solution", solution.stem)]
    assert report["extra_data"]["status"] == "ran" and report["extra_data"]["cell_errors"] == []
    assert report["max_score"] > 0 and report["score"] == report["max_score"]
    assert report["extra_data"]["flags"] == []


@pytest.mark.parametrize("exercise", EXERCISES, ids=[p.name for p in EXERCISES])
def test_every_generated_exercise_runs_and_scores_zero(batch, exercise):
    report = batch.reports[("starter", exercise.stem)]
    assert report["extra_data"]["run_status"] == "ok"
    assert {e["ename"] for e in report["extra_data"]["cell_errors"]} <= {"NotImplementedError"}
    assert report["extra_data"]["status"].startswith("ran with ")  # honest: "ran with N errors"
    assert report["score"] == 0
    for test in report["tests"]:
        if test["name"].endswith("checks"):
            assert test["status"] == "failed" and "not attempted" in test["output"]


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_hostile_submission_scores_nothing_it_did_not_solve(batch, case):
    run_status, outcomes = EXPECTED[case]
    report = batch.reports[(case, NOTEBOOK)]
    assert report["extra_data"]["run_status"] == run_status, report["extra_data"]
    for question, outcome in outcomes.items():
        test = hidden(report, question)
        assert test["extra_data"]["outcome"] == outcome, (question, test)
        assert (test["score"] > 0) == (outcome == "passed")


@pytest.mark.parametrize("student", [*HONEST, "zoe", "José"])
def test_honest_students_graded_after_the_attacks_keep_full_marks(batch, student):
    report = batch.reports[(student, NOTEBOOK)]
    assert report["score"] == report["max_score"] == 4, report["extra_data"]


def test_impersonation_by_file_name_is_refused_and_listed(batch):
    assert ("yan", NOTEBOOK) not in batch.reports
    assert f"{NOTEBOOK}__zoe.ipynb" in batch.result.stdout and "claims student 'zoe'" in batch.result.stdout
    assert "zoe-2" not in batch.result.stdout


def test_status_texts_and_details_are_honest(batch):
    reports = {case: batch.reports[(case, NOTEBOOK)] for case in EXPECTED}
    assert reports["infinite_loop"]["extra_data"]["status"] == "timed out in cell 2"
    assert "61 s limit" in reports["infinite_loop"]["extra_data"]["run_detail"]  # --cell-timeout 60.5
    assert reports["kill_kernel"]["extra_data"]["status"] == "kernel died in cell 2"
    assert reports["syntax_error"]["extra_data"]["status"] == "ran with 1 error"
    assert reports["huge_output"]["extra_data"]["output_bytes"] >= 100_000_000
    assert "MemoryError" in hidden(reports["huge_allocation"], "1.1")["output"]
    assert "TimeoutError" in hidden(reports["hangs_on_hidden"], "1.1")["output"]
    assert "no reference" in hidden(reports["alias_reference"], "1.1")["output"]
    assert "No function called `per_record_losses`" in hidden(reports["renamed_functions"], "1.1")["output"]
    assert "empty" in reports["empty"]["extra_data"]["run_detail"]
    assert "not a valid notebook" in reports["not_json"]["extra_data"]["run_detail"]
    public = next(t for t in reports["hardcoded_public"]["tests"] if t["name"].endswith("public checks"))
    assert public["status"] == "passed" and public["max_score"] == 0  # public checks alone earn nothing


def test_answers_from_functions_defined_elsewhere_are_flagged(batch):
    report = batch.reports[("outside_function", NOTEBOOK)]
    assert any("helper.per_record_losses" in flag for flag in report["extra_data"]["flags"])
    assert "FLAGGED" in hidden(report, "1.1")["output"] and "FLAGGED" not in hidden(report, "1.2")["output"]
    row = next(r for r in batch.rows if r["student"] == "outside_function" and r["question"] == "1.1")
    assert "helper.per_record_losses" in row["flag"]


def test_an_answer_that_calls_a_library_function_is_flagged_from_the_notebook_source(batch):
    report = batch.reports[("library_wrapper", NOTEBOOK)]  # it silenced the kernel's own check
    flag = hidden(report, "1.1")["extra_data"]["flag"]
    assert "utils.inference.per_record_loss" in flag and "FLAGGED" in hidden(report, "1.1")["output"]
    assert hidden(report, "1.2")["extra_data"]["flag"] == ""
    row = next(r for r in batch.rows if r["student"] == "library_wrapper" and r["question"] == "1.1")
    assert "utils.inference.per_record_loss" in row["flag"]
    line = next(x for x in batch.result.stdout.splitlines() if x.startswith("library_wrapper "))
    assert "uses the course library" in line  # the summary's note


def test_no_descriptor_of_the_grader_is_reachable_from_the_sandbox(batch):
    report = batch.reports[("forge_through_proc_fd", NOTEBOOK)]
    assert report["extra_data"]["run_status"] == "ok" and "not your fault" not in json.dumps(report)
    assert report["extra_data"]["protections"]["sandbox"] == "bubblewrap"


def test_nothing_outlives_the_batch_or_rewrites_its_results(batch):
    assert processes_mentioning(GHOST) == []
    assert processes_mentioning(str(batch.sandboxes)) == []
    assert {p: p.read_bytes() for p in batch.snapshot} == batch.snapshot
    assert (batch.out / "scores.csv").is_file() and (batch.out / "manual_answers.md").is_file()
    assert [p.name for p in (batch.out / "plant_directory").iterdir()] == [f"{NOTEBOOK}.json"]
    assert not list(batch.out.glob(".incoming-*"))


def test_no_connection_left_the_sandbox(batch):
    assert batch.listener.connections == []


def test_written_answers_are_marked_and_exported(batch):
    statuses = {r["student"]: r["status"] for r in batch.rows if r["question"] == "1.3"}
    assert statuses["zoe"] == "answered" and statuses["starter"] == "blank"
    text = (batch.out / "manual_answers.md").read_text()
    assert text.count("## Exercise 1.3") == 1
    assert "**Model answer:**" in text and "John Doe" in text and "**Points:**" in text
    assert "### zoe (01_overfit_a_model): answered" in text and "### starter (01_overfit_a_model): blank" in text
    assert "BEGIN ANSWER" not in text
