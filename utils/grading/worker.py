"""The grading worker: executes one submission in a fresh kernel, inside the sandbox (Lesson 01 onwards).

Started by the grader as ``python -m utils.grading.worker`` (inside bubblewrap, or with
``--unsafe-no-sandbox`` as a plain process), with the student copy of the library (no reference
solutions) first on ``PYTHONPATH``. It talks to the grader only through its stdin and stdout pipes,
one JSON object per line:

1. reads the job (notebook path, time limits, resource limits) and puts the limits on itself;
   the kernel inherits them; it makes itself non-dumpable so the kernel cannot read its memory;
2. runs every code cell with a per-cell time limit and an overall deadline, keeping no output
   (only its size) and recording each cell's error; a cell that runs too long is interrupted and
   a kernel that dies is restarted with the cells before it run again, so the functions defined
   before the slow or fatal cell are still checked;
3. says ``cells_done`` and only then receives the inputs (public and hidden, drawn by the grader
   now, outside the sandbox); runs one harness cell per question
   (`utils.checks.harness.collect_answers`), each appending one line to an answers file;
4. sends the answers lines back in its ``done`` event.

It decides no grade: the grader compares the answers with the reference in its own process.
"""

from __future__ import annotations

import base64
import json
import math
import os
import secrets
import sys
import time

__all__ = ["main"]

MAX_CELLS_REPORTED = 200
MAX_ANSWERS_BYTES = 32 * 2**20
PROBE_TIMEOUT = 5  # seconds an interrupted kernel has to answer again


_LOG = [sys.stderr]  # the worker's own log; the kernel's stderr goes to /dev/null (main)


def _log(message: str) -> None:
    """One progress line in the worker's log (the grader keeps the last one when a sandbox hangs)."""
    try:
        _LOG[0].write(f"[worker {time.monotonic():.1f}] {message}\n")
        _LOG[0].flush()
    except (OSError, ValueError):
        pass


def _set_limits(limits: dict) -> list:
    """Apply the limits this platform supports; return the names of those it refused."""
    try:
        import resource
    except ImportError:  # not POSIX: only the time limits apply
        return list(limits)
    refused = []
    for name, value in limits.items():
        try:
            which = getattr(resource, name)
            soft, hard = resource.getrlimit(which)
            value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
            resource.setrlimit(which, (value, hard))
        except (AttributeError, ValueError, OSError):
            refused.append(name)
    return refused


def _not_dumpable() -> None:
    """PR_SET_DUMPABLE 0: other processes of this user (the kernel) cannot read our memory or fds."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def _capped_client_class():
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        """Keeps no outputs: only counts their size, so 100 MB of prints cannot exhaust memory."""

        output_bytes = 0

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            size = len(content.get("text", "")) if isinstance(content.get("text"), str) else 0
            for value in (content.get("data") or {}).values():
                size += len(value) if isinstance(value, str) else 0
            self.output_bytes += size
            return None

        def clear_output(self, outs, msg, cell_index):
            return None

    return CappedClient


class _Run:
    """One notebook's execution: the client, the deadline, and what happened so far."""

    def __init__(self, job, emit):
        import nbformat

        self.job, self.emit = job, emit
        self.started = time.monotonic()
        self.deadline = self.started + job["notebook_timeout"]
        self.nb = nbformat.read(job["notebook"], as_version=4)
        self.errors = []
        self.executed = []  # indices of the code cells that ran to their end (with or without an error)
        self.result = {"event": "done", "status": "ok", "detail": "", "cells": [], "cells_run": 0, "stopped_at": None,
                       "output_bytes": 0, "harness": "skipped", "harness_detail": "", "answers": [], "recovered": ""}
        self.client = _capped_client_class()(
            self.nb, kernel_name="python3", timeout=self._seconds(job["cell_timeout"]), allow_errors=True,
            startup_timeout=self._seconds(job["startup_timeout"]), record_timing=False, shutdown_kernel="immediate",
            resources={"metadata": {"path": job["cwd"]}}, on_cell_error=self._on_cell_error,
        )

    @staticmethod
    def _seconds(value) -> int:
        return max(1, int(math.ceil(float(value))))  # nbclient's timeouts are whole seconds

    def _on_cell_error(self, cell, cell_index, execute_reply):
        content = execute_reply.get("content", {}) if isinstance(execute_reply, dict) else {}
        if len(self.errors) < MAX_CELLS_REPORTED:
            self.errors.append({"cell": cell_index, "ename": str(content.get("ename", "?"))[:100],
                                "evalue": " ".join(str(content.get("evalue", "")).split())[:300]})

    def _execute(self, cell, index, timeout, **kwargs):
        self.client.timeout = self._seconds(timeout)
        self.client.execute_cell(cell, index, **kwargs)

    def run_cells(self) -> bool:
        """Run the student's cells; True when the kernel is alive and holds every cell that finished."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code":
                continue
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self._stop("timeout", index, f"the notebook ran past its {self.job['notebook_timeout']:g} s limit "
                                             f"before cell {index}")
                return True
            limit = min(self.job["cell_timeout"], remaining)
            _log(f"cell {index}")
            try:
                self._execute(cell, index, limit)
            except CellTimeoutError:
                self._stop("timeout", index, f"cell {index} ran longer than its {self._seconds(limit)} s limit")
                return self._recover(interrupt=True)
            except DeadKernelError:
                self._stop("dead", index, f"the kernel died while running cell {index}")
                return self._recover(interrupt=False)
            self.executed.append(index)
            self.result["cells_run"] += 1
        return True

    def _stop(self, status, index, detail):
        self.result.update(status=status, detail=detail, stopped_at=index)

    def _recover(self, *, interrupt: bool) -> bool:
        """After a slow or fatal cell: interrupt (or restart and replay the cells before it)."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        from nbclient.util import run_sync
        from nbformat.v4 import new_code_cell

        _log(f"recovering (interrupt={interrupt})")
        if interrupt:
            try:
                run_sync(self.client.km.interrupt_kernel)()
                probe = new_code_cell("pass")
                self.client.nb.cells.append(probe)
                self._execute(probe, len(self.client.nb.cells) - 1, PROBE_TIMEOUT, store_history=False)
                self.result["recovered"] = "interrupted"
                return True
            except (CellTimeoutError, DeadKernelError, RuntimeError):
                pass
        _log("restarting the kernel")
        try:  # the kernel is gone or deaf: a fresh one, with the cells that had finished run again
            run_sync(self.client.km.restart_kernel)(now=True)
            run_sync(self.client.kc.wait_for_ready)(timeout=self.job["startup_timeout"])
            replay_deadline = time.monotonic() + self.job["notebook_timeout"]
            errors_before = list(self.errors)
            for index in self.executed:
                remaining = replay_deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._execute(self.nb.cells[index], index, min(self.job["cell_timeout"], remaining))
            self.errors = errors_before  # the replay's errors were reported the first time
            self.result["recovered"] = "restarted"
            return True
        except (CellTimeoutError, DeadKernelError, RuntimeError, TimeoutError):
            return False

    def run_harness(self, inputs: dict) -> None:
        """One harness cell per question; each appends its answers line (kept if a later one kills the kernel)."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        from nbformat.v4 import new_code_cell

        cwd = self.job["cwd"]
        token = secrets.token_hex(8)
        inputs_path = os.path.join(cwd, f".grader-inputs-{token}.npz")
        answers_path = os.path.join(cwd, f".grader-answers-{token}.jsonl")
        _release_reserve(self.job)
        try:
            with open(inputs_path, "wb") as f:  # written only now, after every student cell has run
                f.write(base64.b64decode(inputs["inputs_npz_b64"]))
        except OSError as exc:  # the notebook filled (or locked) its own sandbox: its checks cannot run
            detail = f"the checks' inputs could not be written ({exc.strerror}): did the notebook fill its disk?"
            self.result.update(harness="error", harness_detail=detail)
            return
        harness_errors = []
        self.client.on_cell_error = lambda cell, cell_index, reply: harness_errors.append(
            str(reply.get("content", {}).get("ename", "?"))[:100] + ": "
            + " ".join(str(reply.get("content", {}).get("evalue", "")).split())[:300])
        harness_deadline = time.monotonic() + self.job["harness_timeout"]
        self.result["harness"] = "ok"
        for question in inputs["spec"]["questions"]:
            remaining = harness_deadline - time.monotonic()
            if remaining <= 0:
                self.result.update(harness="timeout", harness_detail=f"the checks ran past their "
                                                                     f"{self.job['harness_timeout']:g} s limit")
                break
            _log(f"checks {question['id']}")
            spec = json.dumps({"questions": [question]})
            source = (
                "from utils.checks.harness import collect_answers as _grader_collect_answers\n"
                f"_grader_collect_answers(globals(), {spec!r}, {inputs_path!r}, {answers_path!r}, "
                f"call_timeout={inputs['call_timeout']!r})\n"
            )
            cell = new_code_cell(source)
            self.client.nb.cells.append(cell)
            try:
                self._execute(cell, len(self.client.nb.cells) - 1, remaining, store_history=False)
            except CellTimeoutError:
                self.result.update(harness="timeout", harness_detail=f"calling your functions for {question['id']} "
                                                                     f"took longer than {self._seconds(remaining)} s")
                break
            except DeadKernelError:
                self.result.update(harness="dead",
                                   harness_detail=f"the kernel died while your functions ran for {question['id']}")
                break
        if harness_errors and self.result["harness"] == "ok":
            self.result.update(harness="error", harness_detail=harness_errors[0])
        self.result["answers"] = _read_lines(answers_path)


RESERVE_BYTES = 32 * 2**20  # room kept free for the checks' inputs and answers


def _reserve(job) -> None:
    """Hold some of the sandbox's disk for the checks, so that a notebook filling it still gets them."""
    path = job.get("reserve")
    if path:
        try:
            with open(path, "wb") as f:
                f.write(b"\0" * RESERVE_BYTES)
        except OSError:
            pass


def _release_reserve(job) -> None:
    path = job.get("reserve")
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


def _read_lines(path) -> list:
    """The lines of the answers file as text (at most MAX_ANSWERS_BYTES), for the grader to parse.

    Not parsed here: a hostile line (deeply nested JSON) must be the student's 0 in the grader,
    never a crash of the worker (which would read as a grader error).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return []
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_ANSWERS_BYTES)
    return [raw.decode("utf-8", "replace") for raw in data.splitlines() if raw.strip()]


def run(job: dict, emit, receive) -> dict:
    """Execute the notebook of `job`; `receive()` returns the inputs once the cells have run."""
    from nbclient.exceptions import DeadKernelError

    _reserve(job)
    state = _Run(job, emit)
    result = state.result
    try:
        _log("starting the kernel")
        with state.client.setup_kernel():
            emit({"event": "kernel"})
            alive = state.run_cells()
            emit({"event": "cells_done", "harness": alive})
            if alive:
                _log("waiting for the inputs")
                inputs = receive()
                if inputs is not None:
                    state.run_harness(inputs)
    except DeadKernelError:
        result.update(status="dead", detail="the kernel died")
    except RuntimeError as exc:  # e.g. the kernel failed to start: not the student's doing
        result.update(status="no_kernel", detail=f"{type(exc).__name__}: {str(exc)[:300]}")
    result["cells"] = state.errors
    result["output_bytes"] = state.client.output_bytes
    result["seconds"] = round(time.monotonic() - state.started, 2)
    return result


def main() -> int:
    # jsonschema imports this optional IRI checker if present, and building its grammar costs ~3 s
    # per worker; nbformat's schema never needs it.
    sys.modules.setdefault("rfc3987_syntax", None)
    _not_dumpable()
    # Only the protocol's descriptors (0, 1, 2) stay open; all of them are moved out of the kernel's reach below.
    os.closerange(3, 65536)
    # Keep the real stdin/stdout for the grader only; the kernel gets /dev/null for both.
    results = os.fdopen(os.dup(1), "w")
    requests = os.fdopen(os.dup(0), "r")
    _LOG[0] = os.fdopen(os.dup(2), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    job = json.loads(requests.readline())
    refused = _set_limits(job["limits"])

    def emit(event):
        results.write(json.dumps(event) + "\n")
        results.flush()

    def receive():
        line = requests.readline()
        return json.loads(line) if line.strip() else None

    try:
        result = run(job, emit, receive)
    except Exception as exc:  # report, so the grader can say what went wrong
        result = {"event": "done", "status": "worker_error",
                  "detail": f"grading worker failed: {type(exc).__name__}: {str(exc)[:300]}"}
    result["limits_refused"] = refused
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
