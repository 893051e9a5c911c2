"""The sandbox every grading kernel runs in: bubblewrap, or (explicitly) nothing (Lesson 01 onwards).

With bubblewrap (``bwrap``, Debian/Ubuntu package ``bubblewrap``) each submission's worker and
kernel run with

- their own PID, network, IPC, UTS, cgroup and user namespaces (``--unshare-all``), no network at
  all (only a private loopback for the kernel's own sockets), a fresh session (``--new-session``),
  an unprivileged uid and no capabilities;
- a file system made of: the Python environment and system libraries, read-only; the student copy
  of the course library (no reference solutions, `utils.checks.release`) at ``/course``, read-only;
  the notebook at ``/submission``, read-only; a private ``/tmp`` and ``/dev/shm`` (tmpfs, each
  with the size quota) for everything they write; a private ``/proc``; a read-only minimal ``/dev``.
  No home, no submissions folder, no ``--out``, no other sandbox;
- ``--die-with-parent``: killing bwrap kills the sandbox's init, and with it every process in its
  PID namespace, whatever session it started; nothing survives the grader.

The kernel talks to the grader only through the worker's stdin/stdout pipes.

``--unsafe-no-sandbox`` runs the worker as a plain process of the grader's user (a private copy of
the library, the leftover processes killed by an environment marker): only for trusted notebooks,
and every report says so.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "SandboxUnavailable", "bwrap_path", "probe_bwrap", "bwrap_command", "sandbox_env",
           "kill_group", "kill_marked", "bound_folders", "SMALL_TMPFS_MB",
           "SANDBOX_VARIABLE", "COURSE_DIR", "SUBMISSION_DIR", "WORK_DIR",
           "WRITABLE_COURSE_DIRS"]

SANDBOX_VARIABLE = "COURSE_GRADER_SANDBOX"  # set in every unsandboxed worker and kernel, to find them all afterwards
COURSE_DIR, SUBMISSION_DIR, WORK_DIR, HOME_DIR = "/course", "/submission", "/tmp/work", "/tmp/home"
# folders of the library that code writes into (utils.audit_report: ROOT/reports): private tmpfs in the sandbox
WRITABLE_COURSE_DIRS = ("reports",)
SANDBOX_UID = 1000  # not root inside: no capabilities in the sandbox's user namespace
SMALL_TMPFS_MB = 16  # quota of /dev/shm and of the library's output folders in the sandbox
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/hosts", "/etc/mime.types")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces here; says why and what to do."""


@dataclass(frozen=True)
class Limits:
    """Time and resource limits of one submission.

    Attributes
    ----------
    cell_timeout : float
        Seconds one cell may run (kernels count whole seconds: 30.5 allows 31).
    notebook_timeout : float
        Seconds all the student's cells together may run.
    harness_timeout : float
        Seconds the checks (all calls of the student's functions) may run.
    startup_timeout : float
        Seconds the kernel may take to start.
    memory_mb : int
        Data memory (heap) of each process, in MiB (``RLIMIT_DATA``): a larger allocation raises
        MemoryError. With a cgroup, all processes of the sandbox and its tmpfs files together get
        ``memory_mb + tmpfs_mb`` (`utils.grading.cgroup`).
    file_mb : int
        Largest file the kernel may write, in MiB (``RLIMIT_FSIZE``).
    tmpfs_mb : int
        Size of the sandbox's private ``/tmp``, in MiB: all it may write, together.
    pids : int
        Processes and threads of the whole sandbox together (its cgroup's ``pids.max``).
    threads : int
        Threads per kernel for BLAS/OpenMP (kernels run in parallel).
    total_timeout : float or None
        Wall-clock seconds after which the sandbox is killed, whatever it is doing; by default
        the notebook and harness limits, plus twice the start-up limit and 30 s.
    """

    cell_timeout: float = 60.0
    notebook_timeout: float = 300.0
    harness_timeout: float = 60.0
    startup_timeout: float = 60.0
    memory_mb: int = 3072
    file_mb: int = 64
    tmpfs_mb: int = 256
    pids: int = 256
    threads: int = 1
    total_timeout: float | None = None

    @property
    def deadline(self) -> float:
        """Wall-clock seconds after which the whole sandbox is killed."""
        if self.total_timeout is not None:
            return self.total_timeout
        # a timed-out notebook may be replayed once in a fresh kernel: room for that too
        return 2 * self.startup_timeout + 2 * self.notebook_timeout + self.harness_timeout + 30.0

    def rlimits(self) -> dict:
        """The ``resource`` limits the worker sets on itself (its kernel inherits them)."""
        return {
            "RLIMIT_DATA": self.memory_mb * 2**20,
            "RLIMIT_FSIZE": self.file_mb * 2**20,
            "RLIMIT_CPU": int(2 * self.deadline) + 60,
            "RLIMIT_CORE": 0,
        }


def bwrap_path() -> str | None:
    """The ``bwrap`` executable, or None when bubblewrap is not installed."""
    return shutil.which("bwrap")


def _python_dirs() -> list:
    """The folders the interpreter and its packages live in (bound read-only)."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
            os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.add(path)
    real = {os.path.realpath(d) for d in dirs if d and os.path.isdir(d)}
    real |= {d for d in dirs if d and os.path.isdir(d)}
    # keep the outermost folders only, not folders inside the system directories (bound anyway)
    keep = sorted(d for d in real if not any(d == s or d.startswith(s + "/") for s in _SYSTEM_DIRS))
    return [d for d in keep if not any(d != o and d.startswith(o + "/") for o in keep)]


def bwrap_command(bwrap: str, *, course: Path, notebook: Path | None, limits: Limits, source=None) -> list:
    """The ``bwrap`` arguments (up to and including ``--``) for one sandbox.

    Parameters
    ----------
    course : Path
        The student copy of the library (a folder holding ``utils/`` and ``data/``): ``/course``.
    notebook : Path or None
        The submission's notebook file: its folder is bound at ``/submission``.
    source : callable (path) -> str, optional
        Where bubblewrap finds each bound folder (the staged copy of a folder the sandbox's uid
        cannot reach; `utils.grading.launch`); by default the folder itself.
    """
    source = source or str
    args = [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            # the worker is pid 1: no bubblewrap init holding the grader's descriptors, and student code can
            # neither open the worker's /proc/1/fd (it is not dumpable) nor kill it (init ignores SIGKILL)
            "--as-pid-1", "--disable-userns",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox"]
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in _ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    size = str(limits.tmpfs_mb * 2**20)
    small = str(min(limits.tmpfs_mb, SMALL_TMPFS_MB) * 2**20)
    # every writable path has a quota: /tmp the whole --tmpfs-mb, /dev/shm and the library's output folders a
    # small one; the root itself is remounted read-only at the end (its tmpfs would take half the RAM)
    args += ["--proc", "/proc", "--dev", "/dev", "--size", small, "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
             "--size", size, "--tmpfs", "/tmp", "--dir", WORK_DIR, "--dir", HOME_DIR]
    # After the private /tmp, so that an environment that lives under /tmp (a CI checkout's .venv) is
    # bound on top of it instead of being hidden by it.
    for path in _python_dirs():
        args += ["--ro-bind", source(path), path]
    args += ["--ro-bind", source(str(course)), COURSE_DIR]
    for name in WRITABLE_COURSE_DIRS:
        if (Path(course) / name).is_dir():
            args += ["--size", small, "--tmpfs", f"{COURSE_DIR}/{name}"]
    if notebook is not None:
        args += ["--ro-bind", source(str(Path(notebook).parent)), SUBMISSION_DIR]
    args += ["--remount-ro", "/", "--chdir", WORK_DIR, "--"]
    return args


def bound_folders(course: Path, notebook: Path | None) -> list:
    """The host folders a sandbox binds besides the system ones (what may need staging)."""
    folders = [*_python_dirs(), str(course)]
    if notebook is not None:
        folders.append(str(Path(notebook).parent))
    return folders


def sandbox_env(limits: Limits, extra: dict, *, course: str, home: str) -> dict:
    """A clean environment for the worker and its kernel: nothing of the grader's own."""
    env = {
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
        "PYTHONPATH": course,
        "HOME": home,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",  # figures are not graded; no GUI, no inline images to ship
        "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
        "JUPYTER_RUNTIME_DIR": os.path.join(home, ".jupyter-runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    if os.environ.get("VIRTUAL_ENV"):
        env["VIRTUAL_ENV"] = os.environ["VIRTUAL_ENV"]
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = str(limits.threads)
    env.update(extra)
    return env


def probe_bwrap(bwrap: str | None = None, timeout: float = 30.0) -> str:
    """Check that bubblewrap can build a sandbox here; return its path or raise `SandboxUnavailable`."""
    bwrap = bwrap or bwrap_path()
    if not bwrap:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so notebooks cannot be sandboxed. Install it "
            "(Debian/Ubuntu: sudo apt-get install bubblewrap) or, for trusted notebooks only, "
            "pass --unsafe-no-sandbox.")
    scratch = Path(os.environ.get("TMPDIR", "/tmp"))
    command = bwrap_command(bwrap, course=scratch, notebook=None, limits=Limits()) + [
        sys.executable, "-c", "import socket, sys; sys.exit(0)"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=sandbox_env(Limits(), {}, course=COURSE_DIR, home=HOME_DIR))
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bubblewrap could not start a sandbox ({exc}).") from None
    if done.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap is installed but cannot create a sandbox here: {done.stderr.strip()[:300]} "
            "(unprivileged user namespaces may be disabled: e.g. sysctl kernel.unprivileged_userns_clone=1, or on "
            "Ubuntu 24.04 kernel.apparmor_restrict_unprivileged_userns=0). For trusted notebooks only, pass "
            "--unsafe-no-sandbox.")
    return bwrap


def kill_group(pid) -> None:
    """SIGKILL the process group `pid` leads (no error when it is gone)."""
    if isinstance(pid, int) and pid > 1 and pid != os.getpid():
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass


def kill_marked(marker: str) -> None:
    """Kill every process whose environment carries `marker` (the unsandboxed mode; Linux /proc).

    A process that cleaned its environment escapes this: one reason the sandbox exists.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return
    needle = f"{SANDBOX_VARIABLE}={marker}".encode() + b"\0"
    for _ in range(20):
        found = False
        for entry in proc.iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if needle in (entry / "environ").read_bytes():
                    os.kill(int(entry.name), signal.SIGKILL)
                    found = True
            except (OSError, ValueError):
                continue
        if not found:
            return
        time.sleep(0.1)
