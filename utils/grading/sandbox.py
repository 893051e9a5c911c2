"""Run one submission in a sandboxed worker process and bring back plain data (Lesson 01 onwards).

The grader process never imports or runs student code. For each submission it

- writes a private folder: the notebook, and a fresh copy of the course library (``utils/`` and
  the digits cache) taken *in memory* when grading started, so a student who edits library files
  changes only their own copy, never the grader's checks or another student's;
- starts ``python -m utils.grading.worker`` in its own process group with that copy first on
  ``PYTHONPATH``, sends it the job (hidden inputs included) on stdin, and waits with a deadline;
- kills the worker's and the kernel's process groups when done, whatever happened, and then any
  process still carrying the sandbox's marker in its environment;
- reads the worker's JSON result and the answers file (bounded reads, no symlinks followed).

Limits: this isolates students from the grade and from each other's files, but the kernel runs
as the same Unix user; for untrusted cohorts, run the grader inside a container or as its own user.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Limits", "LibrarySnapshot", "RunResult", "run_submission", "read_capped"]

ROOT = Path(__file__).resolve().parents[2]
MAX_ANSWERS_BYTES = 32 * 2**20
SANDBOX_VARIABLE = "COURSE_GRADER_SANDBOX"  # set in every worker and kernel, to find them all afterwards


@dataclass(frozen=True)
class Limits:
    """Time and resource limits of one submission.

    Attributes
    ----------
    cell_timeout : float
        Seconds one cell may run.
    notebook_timeout : float
        Seconds all the student's cells together may run.
    harness_timeout : float
        Seconds the hidden checks (all calls of the student's functions) may run.
    startup_timeout : float
        Seconds the kernel may take to start.
    memory_mb : int
        Data memory (heap) of the kernel, in MiB (``RLIMIT_DATA``): a larger allocation raises MemoryError.
    file_mb : int
        Largest file the kernel may write, in MiB (``RLIMIT_FSIZE``).
    threads : int
        Threads per kernel for BLAS/OpenMP (kernels run in parallel).
    total_timeout : float or None
        Wall-clock seconds after which the worker and its kernel are killed, whatever they are
        doing; by default the sum of the limits above plus 30 s.
    """

    cell_timeout: float = 60.0
    notebook_timeout: float = 300.0
    harness_timeout: float = 60.0
    startup_timeout: float = 60.0
    memory_mb: int = 3072
    file_mb: int = 64
    threads: int = 1
    total_timeout: float | None = None

    @property
    def deadline(self) -> float:
        """Wall-clock seconds after which the whole worker is killed."""
        if self.total_timeout is not None:
            return self.total_timeout
        return self.startup_timeout + self.notebook_timeout + self.harness_timeout + 30.0


class LibrarySnapshot:
    """The course library's files, read into memory once, before any student code runs."""

    def __init__(self, root: Path = ROOT):
        self.files = {}
        for path in sorted((root / "utils").rglob("*.py")):
            self.files[str(path.relative_to(root))] = path.read_bytes()
        cache = root / "data" / "mnist5k.npz"
        if not cache.exists():  # build the digits cache once here, not in every kernel
            try:
                from ..data import load_digits

                load_digits(cache_dir=cache.parent)
            except Exception:
                pass  # each kernel then parses the digits itself: slower, still correct
        if cache.exists():
            self.files["data/mnist5k.npz"] = cache.read_bytes()

    def write(self, target: Path) -> None:
        """Write the files under `target` (read-only, so an accidental edit fails loudly)."""
        for relative, content in self.files.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            path.chmod(stat.S_IRUSR | stat.S_IRGRP)


@dataclass
class RunResult:
    """What came back from one worker.

    Attributes
    ----------
    status : str
        "ok" (every cell ran in time), "timeout", "dead" (the kernel died) or "error".
    detail : str
        A sentence for the report when status is not "ok".
    cell_errors : list of dict
        ``{"cell", "ename", "evalue"}`` for each cell that raised.
    answers : dict or None
        The raw JSON of the answers file, or None when there is none.
    answers_problem : str
        Why there are no answers, when there are none.
    output_bytes : int
    seconds : float
    """

    status: str
    detail: str = ""
    cell_errors: list = None
    answers: dict | None = None
    answers_problem: str = ""
    output_bytes: int = 0
    seconds: float = 0.0


def read_capped(path: Path, limit: int) -> bytes:
    """Read a regular file without following symlinks; ValueError if it is larger than `limit` bytes."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ValueError(f"larger than {limit // 2**20} MiB")
    return data


def _kill_group(pid) -> None:
    if isinstance(pid, int) and pid > 1 and pid != os.getpid():
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass


def _kill_leftovers(marker: str) -> None:
    """Kill every process whose environment carries `marker` (Linux /proc; elsewhere a no-op).

    The kernel and anything it started inherit the worker's environment, so this also catches a
    kernel whose pid never reached us and children that left the kernel's process group.
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


def _encode_inputs(arrays: dict) -> str:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def run_submission(notebook_bytes: bytes, notebook_name: str, harness_spec: dict, input_arrays: dict,
                   library: LibrarySnapshot, limits: Limits, *, env: dict | None = None,
                   keep: Path | None = None) -> RunResult:
    """Execute one notebook in a sandbox and collect its answers on `input_arrays`.

    Parameters
    ----------
    notebook_bytes : bytes
        The submitted notebook, already checked to be a readable notebook.
    notebook_name : str
        File name to give it in the sandbox.
    harness_spec : dict
        ``{"questions": [{"id", "function", "cases": [{arg: key}]}]}`` for `utils.checks.harness`.
    input_arrays : dict of str -> ndarray
        The public and hidden inputs, by key.
    library : LibrarySnapshot
    limits : Limits
    env : dict, optional
        Extra environment variables for the kernel (e.g. ``COURSE_FAST``).
    keep : Path, optional
        Use this folder as the sandbox and keep it (for debugging); a temporary folder otherwise.
    """
    sandbox = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="grade-"))
    try:
        library.write(sandbox / "lib")
        work = sandbox / "work"
        work.mkdir(parents=True, exist_ok=True)
        notebook_path = work / notebook_name
        notebook_path.write_bytes(notebook_bytes)
        answers_path = work / f".grader-answers-{os.urandom(8).hex()}.json"
        total_calls = sum(len(q["cases"]) for q in harness_spec["questions"]) or 1
        job = {
            "notebook": str(notebook_path),
            "cwd": str(work),
            "answers_path": str(answers_path),
            "cell_timeout": limits.cell_timeout,
            "notebook_timeout": limits.notebook_timeout,
            "harness_timeout": limits.harness_timeout,
            "startup_timeout": limits.startup_timeout,
            "limits": {
                "RLIMIT_DATA": limits.memory_mb * 2**20,
                "RLIMIT_FSIZE": limits.file_mb * 2**20,
                "RLIMIT_CPU": int(2 * limits.deadline) + 60,
                "RLIMIT_CORE": 0,
            },
            "harness": {
                "spec": harness_spec,
                "inputs_npz_b64": _encode_inputs(input_arrays),
                "call_timeout": max(1.0, limits.harness_timeout / (total_calls + 1)),
            },
        }
        return _run_worker(job, sandbox, answers_path, limits, env or {})
    finally:
        if keep is None:
            shutil.rmtree(sandbox, ignore_errors=True)


def _worker_env(sandbox: Path, limits: Limits, extra: dict) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(sandbox / "lib"), env.get("PYTHONPATH", "")]))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = str(limits.threads)
    env["MPLBACKEND"] = "Agg"  # figures are not graded; no GUI, no inline images to ship
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    env[SANDBOX_VARIABLE] = str(sandbox)
    return env


def _run_worker(job, sandbox, answers_path, limits, extra_env) -> RunResult:
    log_path = sandbox / "worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "utils.grading.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=job["cwd"],
            env=_worker_env(sandbox, limits, extra_env), start_new_session=True,
        )
    events, kernel_pids = [], []

    def read_events():
        for line in proc.stdout:
            if len(line) > 2**20:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                if event.get("event") == "kernel" and isinstance(event.get("pid"), int):
                    kernel_pids.append(event["pid"])
                events.append(event)

    reader = threading.Thread(target=read_events, daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    try:
        proc.wait(timeout=limits.deadline)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        for pid in kernel_pids:
            _kill_group(pid)
        _kill_group(proc.pid)
        proc.wait()
        _kill_leftovers(str(sandbox))
        reader.join(timeout=5)

    done = next((e for e in events if e.get("event") == "done"), None)
    if timed_out:
        return RunResult("timeout", f"grading this notebook took longer than {limits.deadline:g} s in total")
    if done is None:
        tail = _log_tail(log_path)
        return RunResult("error", f"the grading worker stopped without a result (exit code {proc.returncode}){tail}")
    result = RunResult(
        status=str(done.get("status", "error")) if done.get("status") in ("ok", "timeout", "dead", "error") else "error",
        detail=str(done.get("detail", ""))[:500],
        cell_errors=[c for c in done.get("cells", []) if isinstance(c, dict)][:200],
        output_bytes=int(done.get("output_bytes", 0) or 0),
        seconds=float(done.get("seconds", 0.0) or 0.0),
    )
    if result.status != "ok":
        return result
    if done.get("harness") != "ok":
        result.answers_problem = (
            f"the hidden checks could not run in your kernel ({str(done.get('harness_detail') or done.get('harness'))[:300]})"
        )
        return result
    try:
        result.answers = json.loads(read_capped(answers_path, MAX_ANSWERS_BYTES))
    except FileNotFoundError:
        result.answers_problem = "the hidden checks wrote no answers (was the harness tampered with?)"
    except (ValueError, OSError, UnicodeDecodeError, RecursionError) as exc:
        result.answers_problem = f"the answers file is unreadable ({type(exc).__name__})"
    return result


def _log_tail(path: Path) -> str:
    try:
        data = read_capped(path, 64 * 2**20)[-600:].decode("utf-8", "replace").strip()
    except (ValueError, OSError):
        return ""
    last = data.splitlines()[-1] if data else ""
    return f": {last[:300]}" if last else ""
