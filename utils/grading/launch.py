"""How a sandbox starts when the grader runs as root: its cgroups, then an unprivileged host uid (Lesson 01 onwards).

bubblewrap run by root maps the sandbox's uid to host uid 0: whatever escapes the namespaces (a
process count, a file handle) would be root's. So the grader starts each sandbox through a tiny
launcher (`LAUNCHER`, run as ``python -I -c``: no PYTHONPATH, no site packages, nothing of the
course) that, still as root,

1. writes its own pid into the sandbox's ``cgroup.procs`` files (`utils.grading.cgroup`), so that
   bubblewrap and everything it starts are inside the budget from their first instruction;
2. enters a private mount namespace and bind-mounts the folders the sandbox needs but the
   unprivileged uid may not reach (a Python under ``/root/.pyenv``, a scratch folder under a
   private ``TMPDIR``) onto empty folders of a staging folder anyone may traverse; these mounts
   exist only in that namespace and vanish with it;
3. drops every group and becomes `uid`/`gid` (real, effective and saved), then execs bubblewrap
   with the staged paths as its bind sources.

Without root, the launcher only joins the cgroups (when it may) and execs bubblewrap as the
grader's own (already unprivileged) user.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from pathlib import Path

__all__ = ["LAUNCHER", "launcher_command", "reachable", "staging_base", "SANDBOX_HOST_UID_BASE"]

# Host uids of sandboxes when the grader is root: base + slot (no account needs to exist for them).
SANDBOX_HOST_UID_BASE = int(os.environ.get("COURSE_GRADER_UID_BASE", "2000000"))

LAUNCHER = r"""
import ctypes, json, os, sys
spec = json.loads(sys.argv[1])
def fail(what):
    sys.stderr.write("sandbox launcher: " + what + "\n"); sys.stderr.flush(); os._exit(125)
for procs in spec["procs"]:
    try:
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
    except OSError as exc:
        fail("could not join the cgroup %s (%s)" % (procs, exc))
if spec["binds"]:
    libc = ctypes.CDLL(None, use_errno=True)
    MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
    if libc.unshare(0x00020000) != 0:
        fail("unshare(CLONE_NEWNS) failed (errno %d)" % ctypes.get_errno())
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        fail("could not make the mounts private (errno %d)" % ctypes.get_errno())
    for source, target in spec["binds"]:
        if libc.mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None) != 0:
            fail("could not stage %s (errno %d)" % (source, ctypes.get_errno()))
if spec["uid"] is not None:
    try:
        os.setgroups([])
        os.setresgid(spec["gid"], spec["gid"], spec["gid"])
        os.setresuid(spec["uid"], spec["uid"], spec["uid"])
    except OSError as exc:
        fail("could not become uid %s (%s)" % (spec["uid"], exc))
    if os.getuid() == 0 or os.geteuid() == 0:
        fail("still root after dropping privileges")
try:
    os.execv(spec["argv"][0], spec["argv"])
except OSError as exc:
    fail("could not start %s (%s)" % (spec["argv"][0], exc))
"""


def reachable(path) -> bool:
    """True when any user may reach `path`: every folder above it searchable by others, and it readable."""
    path = Path(os.path.abspath(path))
    try:
        for parent in reversed(path.parents):
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
        mode = os.stat(path).st_mode
    except OSError:
        return False
    need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
    return mode & need == need


def staging_base() -> Path:
    """A folder that any user may traverse, for the staging folders (the temp folder, else /tmp)."""
    for candidate in (tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(candidate) and reachable(candidate):
            return Path(candidate)
    raise OSError("no temporary folder that an unprivileged user may traverse (/tmp is not)")


def launcher_command(argv: list, *, procs: list, binds: list, uid: int | None, gid: int | None) -> list:
    """The command that joins `procs`, stages `binds` ([source, empty target]), becomes `uid`, and execs `argv`."""
    spec = {"procs": list(procs), "binds": [list(b) for b in binds], "uid": uid, "gid": gid, "argv": list(argv)}
    return [sys.executable, "-I", "-S", "-c", LAUNCHER, json.dumps(spec)]
