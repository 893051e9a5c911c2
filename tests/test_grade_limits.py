"""One budget per sandbox (issue 18, class 2): a bounded fork test, a memory hog of a fixed size and a
notebook that writes to every path, graded with small limits beside an honest student.

Each attack defines the right answers only if it got past the limits (and says what it got in a cell
error), so a limit that fails shows as points. Everything is bounded so that a missing limit cannot
hurt the machine: 300 processes, 4 x 400 MB, 200 MB per path.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from utils.grading import cgroup

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
NOTEBOOK = "01_overfit_a_model"
MEMORY_MB, TMPFS_MB, PIDS = 1024, 64, 64
ATTACKS = ("fork_bomb", "memory_hog", "fill_every_path")
HONEST = "zz-honest"

pytestmark = [
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed"),
    pytest.mark.skipif(bool(cgroup.available()), reason=f"no per-sandbox cgroups here: {cgroup.available()}"),
]


def leftovers() -> list:
    """Cgroups and staging folders of the grader that still exist."""
    found = []
    for base in (cgroup.CGROUP_ROOT / "memory", cgroup.CGROUP_ROOT / "pids", cgroup.CGROUP_ROOT / "unified"):
        if base.is_dir():
            found += [str(p) for p in base.rglob(f"{cgroup.PREFIX}*")]
    return found + [str(p) for p in Path("/tmp").glob("grade-stage-*")]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    before = leftovers()
    root = tmp_path_factory.mktemp("limits")
    submissions = root / "submissions"
    for case in ATTACKS:
        (submissions / case).mkdir(parents=True)
        shutil.copy(HOSTILE / f"{NOTEBOOK}__{case}.ipynb", submissions / case / f"{NOTEBOOK}.ipynb")
    (submissions / HONEST).mkdir()
    shutil.copy(ROOT / "solutions" / f"{NOTEBOOK}.ipynb", submissions / HONEST / f"{NOTEBOOK}.ipynb")
    out = root / "out"
    result = subprocess.run(
        [sys.executable, "-m", "utils.grade", str(submissions), "--out", str(out), "--jobs", "2", "--fast",
         "--memory-mb", str(MEMORY_MB), "--tmpfs-mb", str(TMPFS_MB), "--pids", str(PIDS), "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    reports = {}
    for path in out.glob("*/*.json"):
        report = json.loads(path.read_text())
        reports[report["extra_data"]["student"]] = report
    return SimpleNamespace(result=result, reports=reports, out=out, before=before)


def evalue(report) -> str:
    return " ".join(e["evalue"] for e in report["extra_data"]["cell_errors"])


def test_the_batch_finishes_and_the_honest_student_keeps_full_marks(batch):
    assert batch.result.returncode == 0, batch.result.stdout[-3000:] + batch.result.stderr[-3000:]
    honest = batch.reports[HONEST]
    assert honest["score"] == honest["max_score"] == 4
    assert "scores.csv" in os.listdir(batch.out)


@pytest.mark.parametrize("case", ATTACKS)
def test_no_attack_gets_past_the_sandbox_budget(batch, case):
    report = batch.reports[case]
    assert report["score"] == 0, evalue(report)
    protections = report["extra_data"]["protections"]
    assert protections["cgroup"] in ("v1", "v2") and protections["pids_limit"] == PIDS
    assert protections["memory_limit_mb"] == MEMORY_MB + TMPFS_MB


def test_a_fork_test_is_stopped_at_the_sandbox_process_limit(batch):
    forked = int(re.search(r"forked (\d+) of 300", evalue(batch.reports["fork_bomb"])).group(1))
    assert 0 < forked < PIDS  # the kernel's own threads count too
    assert batch.reports["fork_bomb"]["extra_data"]["usage"]["forks_refused"] >= 1


def test_all_processes_of_a_sandbox_together_stay_within_the_memory_limit(batch):
    report = batch.reports["memory_hog"]
    alive = int(re.search(r"(\d+) still held", evalue(report)).group(1)) if "still held" in evalue(report) else 0
    assert alive < 4  # 1.6 GB together would not fit in 1024 + 64 MiB
    assert report["extra_data"]["usage"]["peak_memory_mb"] <= MEMORY_MB + TMPFS_MB


def test_the_root_is_read_only_and_every_writable_path_has_a_quota(batch):
    text = evalue(batch.reports["fill_every_path"])
    written = int(re.search(r"wrote (\d+) MB", text).group(1))
    folders = re.findall(r"'(/[^']*)'", text)
    assert set(folders) <= {"/tmp", "/tmp/home", "/dev/shm", "/course/reports"}, text
    assert written <= TMPFS_MB + 2 * 16, text  # /tmp, plus the 16 MiB of /dev/shm and of /course/reports


def test_cgroups_and_staging_folders_are_removed(batch):
    assert [p for p in leftovers() if p not in batch.before] == []
