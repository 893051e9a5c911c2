"""The Gradescope bundle: built by ``python -m utils.grade autograder``, its ``run_autograder`` run
against a temporary folder laid out as Gradescope lays out /autograder."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "01_overfit_a_model"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    path = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "utils.grade", "autograder", "--out", str(path), "--fast",
                           "--cell-timeout", "60", "--notebook-timeout", "150"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return path


def test_bundle_holds_setup_run_script_and_library(bundle):
    with zipfile.ZipFile(bundle) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "autograder_options.json", "utils/grade.py",
                "utils/checks/ex01.py", "requirements.txt"} <= names
        assert (z.getinfo("run_autograder").external_attr >> 16) & 0o111
        assert "bubblewrap" in z.read("setup.sh").decode()
        assert json.loads(z.read("autograder_options.json"))["fast"] is True


def gradescope_root(tmp_path, bundle, notebooks):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    (root / "submission").mkdir(parents=True)
    for name, source in notebooks.items():
        shutil.copy(source, root / "submission" / name)
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"email": "ada@example.org"}]}))
    return root


def run_autograder(root):
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    return subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed")
def test_run_autograder_grades_a_submission_into_results_json(tmp_path, bundle):
    root = gradescope_root(tmp_path, bundle, {f"{NOTEBOOK}.ipynb": ROOT / "solutions" / f"{NOTEBOOK}.ipynb",
                                              "notes.ipynb": ROOT / "solutions" / f"{NOTEBOOK}.ipynb"})
    done = run_autograder(root)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 4 and sum(t["max_score"] for t in results["tests"]) == 4
    assert all(t["name"].startswith(NOTEBOOK) for t in results["tests"])
    assert "notes.ipynb" in results["output"] and "WITHOUT a sandbox" not in results["output"]


def test_run_autograder_without_a_notebook_says_so(tmp_path, bundle):
    root = gradescope_root(tmp_path, bundle, {})
    (root / "submission" / "answers.txt").write_text("hello")
    done = run_autograder(root)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["tests"] == [] and "No notebook" in results["output"]


def test_setup_sh_obtains_the_python_the_pins_need_and_probes_the_sandbox(bundle):
    with zipfile.ZipFile(bundle) as z:
        setup = z.read("setup.sh").decode()
    assert "python3.11" in setup and "uv python install" in setup and "uv==" in setup
    assert "utils.grade probe" in setup
    assert subprocess.run(["bash", "-n"], input=setup, text=True).returncode == 0


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed")
def test_one_notebook_counts_once_and_the_score_never_exceeds_the_assignment(tmp_path):
    """Issue 18, class 3: three copies of one solved notebook under other titles scored 12 of 4."""
    path = tmp_path / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "utils.grade", "autograder", "--out", str(path), "--fast",
                           "--exercises", "1"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    solution = ROOT / "solutions" / f"{NOTEBOOK}.ipynb"
    root = gradescope_root(tmp_path, path, {f"{NOTEBOOK}.ipynb": solution, "01_copy.ipynb": solution,
                                            "01_overfit_a_model (2).ipynb": solution,
                                            "02_loss_attack.ipynb": ROOT / "solutions" / "02_loss_attack.ipynb"})
    newest = root / "submission" / "01_copy.ipynb"
    os.utime(newest, (newest.stat().st_mtime + 60,) * 2)
    done = run_autograder(root)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 4 and sum(t["max_score"] for t in results["tests"]) == 4
    assert "only the last one (most recently modified) is graded: 01_copy.ipynb" in results["output"]
    assert "exercise 02 is not part of this assignment" in results["output"]
    extra = results["extra_data"]
    assert extra["duplicates"][0]["graded"] == "01_copy.ipynb" and extra["assignment_points"] == 4
    assert extra["protections"]["sandbox"] == "bubblewrap" and "Protections: bubblewrap" in results["output"]
    assert {t["name"].split(":")[0] for t in results["tests"]} == {"01_copy"}
