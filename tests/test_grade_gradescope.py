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
