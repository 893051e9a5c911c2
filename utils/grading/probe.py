"""``python -m utils.grade probe [--out FILE]``: which protections work on this machine (Lesson 01 onwards).

Starts one real sandbox the way grading does (`utils.grading.jail`: cgroups, the unprivileged host
uid, bubblewrap) around ``python -c`` and reports what held: bubblewrap, the cgroup, the uid seen
inside and on the host, a read-only root. The Gradescope bundle runs it when its image is built
(``setup.sh``) and before every submission; exit code 0 when a sandbox can be made here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .jail import Jail, protections_missing
from .sandbox import COURSE_DIR, HOME_DIR, Limits, SandboxUnavailable, probe_bwrap, sandbox_env

__all__ = ["probe", "main"]

_INSIDE = ("import json, os\n"
           "try:\n    open('/probe', 'w'); root = 'writable'\nexcept OSError:\n    root = 'read-only'\n"
           "print(json.dumps({'uid': os.getuid(), 'root': root}))")


def probe(timeout: float = 60.0) -> dict:
    """``{"ok", "protections", "missing", "inside", "error"}`` for one sandbox started here."""
    try:
        bwrap = probe_bwrap(timeout=timeout)
    except SandboxUnavailable as exc:
        return {"ok": False, "protections": {}, "missing": "", "inside": {}, "error": str(exc)}
    limits = Limits()
    with tempfile.TemporaryDirectory(prefix="grade-probe-") as scratch:
        course = Path(scratch) / "course"
        notebook = Path(scratch) / "submission" / "probe.ipynb"
        for folder in (course, notebook.parent):
            folder.mkdir(mode=0o755)
        Path(scratch).chmod(0o755)
        notebook.write_text("{}")
        try:
            with Jail(bwrap, course=course, notebook=notebook, limits=limits) as jail:
                done = subprocess.run(jail.full_command([sys.executable, "-I", "-c", _INSIDE]), capture_output=True,
                                      text=True, timeout=timeout,
                                      env=sandbox_env(limits, {}, course=COURSE_DIR, home=HOME_DIR))
                protections = jail.protections
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"ok": False, "protections": {}, "missing": protections_missing(), "inside": {},
                    "error": f"the sandbox could not be set up ({exc})"}
    try:
        inside = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        inside = {}
    ok = done.returncode == 0 and inside.get("root") == "read-only"
    return {"ok": ok, "protections": protections, "missing": protections_missing(), "inside": inside,
            "error": "" if ok else (done.stderr.strip()[-500:] or f"exit code {done.returncode}")}


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.grade probe",
                                     description="Start one sandbox and report which protections work here.")
    parser.add_argument("--out", type=Path, default=None, help="also write the report to this JSON file")
    args = parser.parse_args(argv)
    report = probe()
    text = json.dumps(report, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    if report["missing"]:
        print(f"WARNING: {report['missing']}", file=sys.stderr)
    return 0 if report["ok"] else 1
