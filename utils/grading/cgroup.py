"""One memory and process budget per sandbox: a cgroup the grader creates and removes (Lesson 01 onwards).

`RLIMIT_*` limits count per process (and ``RLIMIT_NPROC`` per host uid), so four processes of one
sandbox could each take ``--memory-mb`` and a fork bomb was not stopped. A cgroup counts every
process of the sandbox together, tmpfs pages included (they are charged to the writer's memory
cgroup): ``memory`` (no swap either) and ``pids`` (processes and threads).

- cgroup v2 where the unified hierarchy offers both controllers (``cgroup.subtree_control``);
- otherwise cgroup v1, one group in the ``memory`` and one in the ``pids`` hierarchy (this
  project's machines), each made inside the grader's own group so that its limits still apply.

`Budget.create` makes the groups with their limits; the sandbox's launcher writes its own pid
into `Budget.procs` before it starts bubblewrap, so no process of the sandbox is ever outside
them; `Budget.close` kills whatever is left in them and removes them, whatever happened.
`available` says why there is no budget (not root, no controllers): the grader then says so.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Budget", "available", "CGROUP_ROOT"]

CGROUP_ROOT = Path(os.environ.get("COURSE_GRADER_CGROUP_ROOT", "/sys/fs/cgroup"))
PREFIX = "course-grader-"


def _own_group(controller: str) -> str:
    """The grader's own group in the v1 hierarchy of `controller` ("" for v2's), from /proc/self/cgroup."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return "/"
    for line in lines:
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return path
    return "/"


def _layout():
    """("v2", [group parent]) or ("v1", [memory parent, pids parent]), or (None, why)."""
    unified = CGROUP_ROOT if (CGROUP_ROOT / "cgroup.subtree_control").exists() else CGROUP_ROOT / "unified"
    try:
        control = (unified / "cgroup.subtree_control").read_text().split()
    except OSError:
        control = []
    if {"memory", "pids"} <= set(control) and os.access(unified, os.W_OK):
        return "v2", [unified]
    parents = []
    for controller in ("memory", "pids"):
        base = CGROUP_ROOT / controller
        parent = base / _own_group(controller).lstrip("/")
        if not (base / "cgroup.procs").exists():
            return None, (f"no cgroup v2 with the memory and pids controllers, and no cgroup v1 {controller} "
                          f"hierarchy at {base}")
        if not os.access(parent, os.W_OK):
            return None, f"the grader may not create cgroups in {parent} (run it as root)"
        parents.append(parent)
    return "v1", parents


def available() -> str:
    """"" when per-sandbox cgroups can be made here, else why not (a sentence for the reports)."""
    version, detail = _layout()
    return "" if version else detail


@dataclass
class Budget:
    """The cgroup(s) of one sandbox: created with their limits, then closed (killed and removed)."""

    version: str
    groups: list
    memory_bytes: int
    pids: int
    closed: bool = field(default=False)

    @classmethod
    def create(cls, memory_mb: int, pids: int) -> Budget:
        """Make the groups of one sandbox; OSError when that fails (nothing is left behind)."""
        version, parents = _layout()
        if version is None:
            raise OSError(parents)
        name = PREFIX + secrets.token_hex(6)
        budget = cls(version, [], memory_mb * 2**20, pids)
        try:
            for parent in parents:
                group = Path(parent) / name
                group.mkdir(mode=0o755)
                budget.groups.append(group)
            if version == "v2":
                group = budget.groups[0]
                _write(group / "memory.max", budget.memory_bytes)
                _write(group / "memory.swap.max", 0, optional=True)
                _write(group / "pids.max", pids)
            else:
                memory, pid_group = budget.groups
                _write(memory / "memory.limit_in_bytes", budget.memory_bytes)
                _write(memory / "memory.memsw.limit_in_bytes", budget.memory_bytes, optional=True)
                _write(pid_group / "pids.max", pids)
        except OSError:
            budget.close()
            raise
        return budget

    @property
    def procs(self) -> list:
        """The ``cgroup.procs`` files the sandbox's first process writes its pid into."""
        return [str(g / "cgroup.procs") for g in self.groups]

    def peak_memory_mb(self) -> float | None:
        """Largest memory use of the whole sandbox so far, in MiB (tmpfs included); None if unknown."""
        name = "memory.peak" if self.version == "v2" else "memory.max_usage_in_bytes"
        try:
            return int((self.groups[0] / name).read_text().split()[0]) / 2**20
        except (OSError, ValueError, IndexError):
            return None

    def pids_refused(self) -> int | None:
        """How many forks the pids limit refused (``pids.events`` max), None if unknown."""
        group = self.groups[0] if self.version == "v2" else self.groups[-1]
        try:
            for line in (group / "pids.events").read_text().splitlines():
                key, value = line.split()
                if key == "max":
                    return int(value)
        except (OSError, ValueError):
            return None
        return None

    def close(self) -> None:
        """Kill every process left in the groups and remove them (safe to call twice)."""
        if self.closed:
            return
        for group in reversed(self.groups):
            for _ in range(100):
                pids = _pids(group)
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.02)
            for _ in range(100):
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # still busy: processes dying, memory being uncharged
                    time.sleep(0.05)
        self.closed = True


def _pids(group: Path) -> list:
    try:
        return [int(p) for p in (group / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _write(path: Path, value, *, optional: bool = False) -> None:
    try:
        path.write_text(f"{value}\n")
    except OSError:
        if not optional or path.exists():
            raise
