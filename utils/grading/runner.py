"""Run one submission in its sandbox and bring back plain data (Lesson 01 onwards).

The grader process never imports or runs student code. For each submission it writes the
notebook into a private scratch folder, starts ``python -m utils.grading.worker`` in the sandbox
(`utils.grading.sandbox`), sends it the job on stdin, and waits with a deadline. Only when the
worker says that the student's cells have run does it call `draw_inputs` (the hidden inputs are
created now, in the grader) and send them. At the end it kills the sandbox, whatever happened.

A failure of the machinery (the sandbox or the kernel cannot start, the worker crashes on its
own) is a `RunStatus.GRADER_ERROR`, never the student's 0.
"""

from __future__ import annotations

import base64
import collections
import io
import json
import os
import queue
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .jail import Jail
from .sandbox import (
    COURSE_DIR,
    HOME_DIR,
    SANDBOX_VARIABLE,
    SUBMISSION_DIR,
    WORK_DIR,
    WRITABLE_COURSE_DIRS,
    Limits,
    kill_group,
    kill_marked,
    sandbox_env,
)
from .states import RunStatus

__all__ = ["RunResult", "run_submission", "read_capped", "safe_json", "MAX_EVENT_BYTES", "MAX_JSON_DEPTH"]

MAX_EVENT_BYTES = 40 * 2**20  # longest line read from a sandbox; a longer one is that student's 0
MAX_LOG_BYTES = 64 * 2**10  # the worker's log: only its tail is kept
MAX_JSON_DEPTH = 64  # deeper JSON from a sandbox is malformed
_WORKER_STATUS = {"ok": RunStatus.OK, "timeout": RunStatus.TIMEOUT, "dead": RunStatus.DEAD}


@dataclass
class RunResult:
    """What came back from one sandbox.

    Attributes
    ----------
    status : RunStatus
    detail : str
        A sentence for the report when status is not OK.
    stopped_at : int or None
        Index of the cell that timed out or killed the kernel.
    cell_errors : list of dict
        ``{"cell", "ename", "evalue"}`` for each cell that raised.
    answer_lines : list
        The raw JSON lines of the answers (untrusted; `utils.checks.harness.answers_from_json` reads them).
    harness_problem : str
        Why some or all answers are missing, when the checks did not run to their end.
    output_bytes : int
    seconds : float
        Wall-clock seconds of the whole sandbox, start-up included.
    """

    status: RunStatus
    detail: str = ""
    stopped_at: int | None = None
    cell_errors: list = field(default_factory=list)
    answer_lines: list = field(default_factory=list)
    harness_problem: str = ""
    output_bytes: int = 0
    seconds: float = 0.0
    recovered: str = ""
    protections: dict = field(default_factory=dict)
    usage: dict = field(default_factory=dict)


def _depth_ok(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > limit:
                return False
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return True


def safe_json(text, limit: int = MAX_JSON_DEPTH):
    """Parse untrusted JSON text; ValueError for anything malformed, too deep (> `limit`) or too long."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError, TypeError, MemoryError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not _depth_ok(value, limit):
        raise ValueError(f"JSON nested deeper than {limit} levels")
    return value


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


def _encode_inputs(arrays: dict) -> str:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def run_submission(notebook_bytes: bytes, notebook_name: str, draw_inputs, course: Path, limits: Limits, *,
                   bwrap: str | None, env: dict | None = None) -> RunResult:
    """Execute one notebook in its sandbox and collect its answers.

    Parameters
    ----------
    notebook_bytes : bytes
        The submitted notebook, already checked to be a readable notebook.
    notebook_name : str
        File name to give it in the sandbox.
    draw_inputs : callable () -> (spec, arrays, call_timeout)
        Called once the student's cells have run: the harness spec, the input arrays by key,
        and the seconds allowed per call.
    course : Path
        The student copy of the library (``utils/``, ``data/``), without reference solutions.
    limits : Limits
    bwrap : str or None
        The ``bwrap`` executable; None runs without a sandbox (``--unsafe-no-sandbox``).
    env : dict, optional
        Extra environment variables for the kernel (e.g. ``COURSE_FAST``).
    """
    scratch = Path(tempfile.mkdtemp(prefix="grade-"))
    try:
        notebook = scratch / "submission" / notebook_name
        notebook.parent.mkdir(mode=0o755)
        notebook.write_bytes(notebook_bytes)
        notebook.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        job = {"cell_timeout": limits.cell_timeout, "notebook_timeout": limits.notebook_timeout,
               "harness_timeout": limits.harness_timeout, "startup_timeout": limits.startup_timeout,
               "limits": limits.rlimits()}
        worker = [sys.executable, "-m", "utils.grading.worker"]
        if bwrap:
            job.update(notebook=f"{SUBMISSION_DIR}/{notebook_name}", cwd=WORK_DIR,
                       reserve=f"{HOME_DIR}/.grader-reserve")
            run_env = sandbox_env(limits, env or {}, course=COURSE_DIR, home=HOME_DIR)
            try:
                jail = Jail(bwrap, course=course, notebook=notebook, limits=limits).__enter__()
            except OSError as exc:
                return RunResult(RunStatus.GRADER_ERROR, f"the sandbox could not be set up ({exc})")
            try:
                result = _drive(jail.full_command(worker), run_env, None, job, draw_inputs, limits, scratch,
                                sandboxed=True)
                result.protections, result.usage = jail.protections, jail.usage()
                return result
            finally:
                jail.close()
        own_course = scratch / "course"  # a copy of its own: a student who edits it changes nothing else
        shutil.copytree(course, own_course)
        for name in WRITABLE_COURSE_DIRS:
            (own_course / name).chmod(stat.S_IRWXU)
        work, home = scratch / "work", scratch / "home"
        work.mkdir()
        home.mkdir()
        job.update(notebook=str(notebook), cwd=str(work), reserve="")
        run_env = sandbox_env(limits, env or {}, course=str(own_course), home=str(home))
        run_env[SANDBOX_VARIABLE] = str(scratch)
        result = _drive(worker, run_env, work, job, draw_inputs, limits, scratch, sandboxed=False)
        result.protections = {"sandbox": ""}
        return result
    finally:
        if not bwrap:
            kill_marked(str(scratch))
        _remove(scratch)


def _remove(path: Path) -> None:
    def make_writable(function, name, excinfo):
        try:
            os.chmod(os.path.dirname(name), stat.S_IRWXU)
            os.chmod(name, stat.S_IRWXU)
            function(name)
        except OSError:
            pass

    shutil.rmtree(path, onerror=make_writable)


def _drive(command, env, cwd, job, draw_inputs, limits, scratch, *, sandboxed) -> RunResult:
    """Start the worker, feed it, read its events, and kill everything at the end."""
    started = time.monotonic()
    events: queue.Queue = queue.Queue()
    log = collections.deque(maxlen=64)  # the tail of the worker's log, at most MAX_LOG_BYTES in all
    malformed = []
    try:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=cwd, env=env, start_new_session=True, close_fds=True)
    except OSError as exc:
        return RunResult(RunStatus.GRADER_ERROR, f"the sandbox could not start ({exc})")

    def read_events():
        while True:  # every line bounded: a longer one is malformed output, never grader memory
            line = proc.stdout.readline(MAX_EVENT_BYTES + 1)
            if not line:
                break
            if len(line) > MAX_EVENT_BYTES:
                malformed.append(f"a message longer than {MAX_EVENT_BYTES // 2**20} MiB")
                break
            try:
                event = safe_json(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                events.put(event)
        events.put(None)

    def read_log():
        while True:
            chunk = proc.stderr.readline(4096)
            if not chunk:
                return
            log.append(chunk[-1024:])

    threading.Thread(target=read_log, daemon=True).start()
    reader = threading.Thread(target=read_events, daemon=True)
    reader.start()
    seen, done, timed_out = set(), None, False
    try:
        _send(proc, job)
        deadline = started + limits.deadline
        while True:
            try:
                event = events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                timed_out = True
                break
            if event is None:
                break
            kind = event.get("event")
            seen.add(kind)
            if kind == "cells_done":
                if event.get("harness") is True:
                    spec, arrays, call_timeout = draw_inputs()  # the hidden inputs exist from now on
                    _send(proc, {"spec": spec, "inputs_npz_b64": _encode_inputs(arrays), "call_timeout": call_timeout})
                else:
                    _send(proc, None)
            elif kind == "done":
                done = event
                break
    finally:
        proc.kill()  # bwrap: its init dies with it (--die-with-parent), and the whole PID namespace with that
        kill_group(proc.pid)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        reader.join(timeout=5)
    seconds = round(time.monotonic() - started, 2)
    log_path = log  # the tail, for _log_tail
    if malformed:
        return RunResult(RunStatus.MALFORMED, f"the sandbox sent malformed output ({malformed[0]}); "
                                              "nothing of this run is graded", seconds=seconds)
    if timed_out:
        return RunResult(RunStatus.TIMEOUT, f"grading this notebook took longer than {limits.deadline:g} s in total "
                                            f"(last step{_log_tail(log_path) or ': none'})", seconds=seconds)
    if done is None:
        if "kernel" in seen:  # the student's code got this far: it may have killed its own worker
            return RunResult(RunStatus.DEAD, "the notebook's kernel and its worker stopped without a result",
                             seconds=seconds)
        where = "sandbox" if sandboxed else "grading worker"
        return RunResult(RunStatus.GRADER_ERROR,
                         f"the {where} stopped before the kernel started "
                         f"(exit code {proc.returncode}){_log_tail(log_path)}",
                         seconds=seconds)
    return _result_from(done, seconds)


def _send(proc, message) -> None:
    try:
        proc.stdin.write((json.dumps(message) + "\n").encode() if message is not None else b"\n")
        proc.stdin.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass


def _result_from(done: dict, seconds: float) -> RunResult:
    status = _WORKER_STATUS.get(done.get("status"))
    detail = str(done.get("detail", ""))[:500]
    if status is None:  # "no_kernel", "worker_error", or anything unexpected: the machinery failed
        return RunResult(RunStatus.GRADER_ERROR, detail or "the grading worker failed", seconds=seconds)
    stopped = done.get("stopped_at")
    lines = []  # each answers line comes as text: parsed here, bounded in depth; a malformed one is dropped
    for raw in done.get("answers") if isinstance(done.get("answers"), list) else []:
        try:
            lines.append(safe_json(raw) if isinstance(raw, str) else None)
        except ValueError:
            continue
    harness = done.get("harness")
    problem = ""
    if harness != "ok":
        problem = str(done.get("harness_detail") or "")[:300] or (
            "the kernel could not be recovered after the cell that stopped it" if harness == "skipped"
            else f"the checks did not finish ({str(harness)[:40]})")
    return RunResult(
        status=status, detail=detail,
        stopped_at=stopped if isinstance(stopped, int) and not isinstance(stopped, bool) else None,
        cell_errors=[c for c in done.get("cells", []) if isinstance(c, dict)][:200],
        answer_lines=[line for line in lines if line is not None],
        harness_problem=problem,
        recovered=str(done.get("recovered") or "")[:20],
        output_bytes=int(done.get("output_bytes", 0) or 0) if isinstance(done.get("output_bytes"), int) else 0,
        seconds=seconds,
    )


def _log_tail(lines) -> str:
    data = b"".join(list(lines))[-600:].decode("utf-8", "replace").strip()
    last = data.splitlines()[-1] if data else ""
    return f": {last[:300]}" if last else ""
