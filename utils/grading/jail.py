"""Everything one sandbox needs on the host, set up before it starts and removed after (Lesson 01 onwards).

`Jail` wraps the bubblewrap command of `utils.grading.sandbox` with

- its cgroup budget (`utils.grading.cgroup`: memory of every process and its tmpfs together,
  ``--memory-mb`` + ``--tmpfs-mb``; a process count), when the host offers cgroups;
- when the grader is root: an unprivileged host uid of its own, and staged copies (bind mounts
  in a private mount namespace) of the folders that uid could not reach (`utils.grading.launch`).

`protections` says what was active, for every report; `missing` says what was not (a sentence).
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
from pathlib import Path

from . import cgroup
from .launch import SANDBOX_HOST_UID_BASE, launcher_command, reachable, staging_base
from .sandbox import Limits, bound_folders, bwrap_command

__all__ = ["Jail", "protections_missing", "NO_CGROUP_ENV"]

NO_CGROUP_ENV = "COURSE_GRADER_NO_CGROUP"  # "1": do not use cgroups (to measure their cost; says so everywhere)
_SLOTS = itertools.count()
_SLOTS_LOCK = threading.Lock()
UID_SLOTS = 10000


def _cgroups_wanted() -> bool:
    return os.environ.get(NO_CGROUP_ENV, "") != "1"


def protections_missing() -> str:
    """"" when every protection is available here, else a sentence naming what is missing and why."""
    if not _cgroups_wanted():
        return (f"no per-sandbox cgroup ({NO_CGROUP_ENV}=1): memory and process limits apply per process only, "
                "so a notebook's processes together may exceed them")
    why = cgroup.available()
    if why:
        return (f"no per-sandbox cgroup ({why}): memory and process limits apply per process only, so a "
                "notebook's processes together may exceed them")
    return ""


class Jail:
    """The host side of one sandbox: ``with Jail(...) as jail: Popen(jail.command + [...])``."""

    def __init__(self, bwrap: str, *, course: Path, notebook: Path, limits: Limits):
        self.bwrap, self.course, self.notebook, self.limits = bwrap, Path(course), Path(notebook), limits
        self.budget = None
        self.stage = None
        self.command = []
        self.uid = None
        self.protections = {}

    def __enter__(self) -> Jail:
        try:
            self._set_up()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _set_up(self) -> None:
        limits = self.limits
        if _cgroups_wanted() and not cgroup.available():
            self.budget = cgroup.Budget.create(limits.memory_mb + limits.tmpfs_mb, limits.pids)
        binds, staged = [], {}
        root = os.geteuid() == 0
        if root:
            with _SLOTS_LOCK:
                slot = next(_SLOTS) % UID_SLOTS
            self.uid = SANDBOX_HOST_UID_BASE + slot
            for i, folder in enumerate(bound_folders(self.course, self.notebook)):
                if reachable(folder):
                    continue
                if self.stage is None:
                    self.stage = Path(tempfile.mkdtemp(prefix="grade-stage-", dir=staging_base()))
                    self.stage.chmod(0o755)
                target = self.stage / str(i)
                target.mkdir(mode=0o755)
                binds.append((folder, str(target)))
                staged[folder] = str(target)
        args = bwrap_command(self.bwrap, course=self.course, notebook=self.notebook, limits=limits,
                             source=lambda path: staged.get(path, path))
        procs = self.budget.procs if self.budget else []
        if procs or binds or self.uid is not None:
            self.command = launcher_command(args, procs=procs, binds=binds, uid=self.uid, gid=self.uid)
            # bubblewrap's own arguments end with "--"; the caller appends the worker's command to the launcher's argv
        else:
            self.command = args
        self.protections = {
            "sandbox": "bubblewrap",
            "cgroup": self.budget.version if self.budget else "",
            "memory_limit_mb": limits.memory_mb + limits.tmpfs_mb if self.budget else None,
            "pids_limit": limits.pids if self.budget else None,
            "host_uid": self.uid if self.uid is not None else os.geteuid(),
            "read_only_root": True,
            "tmpfs_mb": limits.tmpfs_mb,
        }

    def full_command(self, worker: list) -> list:
        """The whole command: the launcher (if any) and bubblewrap, then `worker`."""
        if self.command and self.command[0] != self.bwrap:  # launcher: the worker goes into its spec's argv
            import json

            spec = json.loads(self.command[-1])
            spec["argv"] += list(worker)
            return [*self.command[:-1], json.dumps(spec)]
        return [*self.command, *worker]

    def usage(self) -> dict:
        """What the sandbox used, as far as its cgroup knows: peak memory (MiB), forks refused."""
        if not self.budget:
            return {}
        peak = self.budget.peak_memory_mb()
        return {"peak_memory_mb": round(peak, 1) if peak is not None else None,
                "forks_refused": self.budget.pids_refused()}

    def close(self) -> None:
        if self.budget is not None:
            self.budget.close()
        if self.stage is not None:
            for child in self.stage.iterdir():  # empty mount points (the mounts lived in the launcher's namespace)
                try:
                    child.rmdir()
                except OSError:
                    pass
            try:  # rmdir only, never a recursive delete: a mount point must never lead into a real folder
                self.stage.rmdir()
            except OSError:
                pass
            self.stage = None
