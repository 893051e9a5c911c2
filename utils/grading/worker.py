"""The grading worker: executes one submission in a fresh kernel (Lesson 01 onwards).

Started by the grader as ``python -m utils.grading.worker`` in its own process group, with the
job (JSON) on stdin and a private copy of ``utils`` first on ``PYTHONPATH``. It

1. puts resource limits on itself (memory, CPU time, file size), which the kernel inherits;
2. runs every code cell of the notebook with a per-cell time limit and an overall deadline,
   keeping no output (only its size) and recording each cell's error name;
3. if the kernel is still alive and on time, writes the hidden inputs (which it received on stdin,
   so student code could not read them earlier) and runs one harness cell that calls the
   student's functions on them (`utils.checks.harness.collect_answers`);
4. prints one JSON line per event on its original stdout, which the kernel cannot write to.

It decides no grade: the grader process reads the answers file and compares.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
import time

__all__ = ["main"]

MAX_CELLS_REPORTED = 200


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


def run(job: dict, emit) -> dict:
    """Execute the notebook of `job` and, when it finished cleanly, collect the answers."""
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    started = time.monotonic()
    result = {"event": "done", "status": "ok", "detail": "", "cells": [], "cells_run": 0,
              "output_bytes": 0, "harness": "skipped", "harness_detail": ""}
    nb = nbformat.read(job["notebook"], as_version=4)
    errors = []

    def on_cell_error(cell, cell_index, execute_reply):
        content = execute_reply.get("content", {}) if isinstance(execute_reply, dict) else {}
        if len(errors) < MAX_CELLS_REPORTED:
            errors.append({"cell": cell_index, "ename": str(content.get("ename", "?"))[:100],
                           "evalue": " ".join(str(content.get("evalue", "")).split())[:300]})

    client = _capped_client_class()(
        nb, kernel_name="python3", timeout=job["cell_timeout"], allow_errors=True,
        startup_timeout=job["startup_timeout"], record_timing=False, shutdown_kernel="immediate",
        resources={"metadata": {"path": job["cwd"]}}, on_cell_error=on_cell_error,
    )
    deadline = started + job["notebook_timeout"]
    try:
        with client.setup_kernel():
            provisioner = getattr(client.km, "provisioner", None)
            pid = getattr(provisioner, "pid", None) or getattr(getattr(provisioner, "process", None), "pid", None)
            emit({"event": "kernel", "pid": pid})
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    result.update(status="timeout", detail=f"the notebook ran past its {job['notebook_timeout']:g} s limit before cell {index}")
                    break
                limit = max(1, int(min(job["cell_timeout"], remaining)))
                client.timeout = limit
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    result.update(status="timeout", detail=f"cell {index} ran longer than its {limit} s limit")
                    break
                except DeadKernelError:
                    result.update(status="dead", detail=f"the kernel died while running cell {index}")
                    break
                result["cells_run"] += 1
            else:
                result.update(_run_harness(client, job))
    except DeadKernelError:
        result.update(status="dead", detail="the kernel died")
    except RuntimeError as exc:  # e.g. the kernel failed to start
        result.update(status="error", detail=f"{type(exc).__name__}: {str(exc)[:300]}")
    result["cells"] = errors
    result["output_bytes"] = client.output_bytes
    result["seconds"] = round(time.monotonic() - started, 2)
    return result


def _run_harness(client, job) -> dict:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_code_cell

    harness = job["harness"]
    token = secrets.token_hex(8)
    inputs_path = os.path.join(job["cwd"], f".grader-inputs-{token}.npz")
    with open(inputs_path, "wb") as f:  # written only now, after every student cell has run
        f.write(base64.b64decode(harness["inputs_npz_b64"]))
    source = (
        "from utils.checks.harness import collect_answers as _grader_collect_answers\n"
        f"_grader_collect_answers(globals(), {json.dumps(harness['spec'])!r}, {inputs_path!r}, "
        f"{job['answers_path']!r}, call_timeout={harness['call_timeout']!r})\n"
    )
    cell = new_code_cell(source)
    client.timeout = job["harness_timeout"]
    client.nb.cells.append(cell)
    harness_errors = []
    client.on_cell_error = lambda cell, cell_index, execute_reply: harness_errors.append(
        str(execute_reply.get("content", {}).get("ename", "?"))[:100] + ": "
        + " ".join(str(execute_reply.get("content", {}).get("evalue", "")).split())[:300])
    try:
        client.execute_cell(cell, len(client.nb.cells) - 1, store_history=False)
    except CellTimeoutError:
        return {"status": "timeout", "harness": "timeout",
                "detail": f"calling your functions on the hidden inputs took longer than {job['harness_timeout']:g} s"}
    except DeadKernelError:
        return {"status": "dead", "harness": "dead", "detail": "the kernel died while your functions ran on the hidden inputs"}
    if harness_errors:
        return {"harness": "error", "harness_detail": harness_errors[0]}
    return {"harness": "ok"}


def main() -> int:
    # jsonschema imports this optional IRI checker if present, and building its grammar costs ~3 s
    # per worker; nbformat's schema never needs it.
    sys.modules.setdefault("rfc3987_syntax", None)
    # Keep the real stdout for results only; everything else (the kernel included) writes to /dev/null.
    results = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    job = json.loads(sys.stdin.read())
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    refused = _set_limits(job["limits"])

    def emit(event):
        results.write(json.dumps(event) + "\n")
        results.flush()

    try:
        result = run(job, emit)
    except Exception as exc:  # report, so the grader can say what went wrong
        result = {"event": "done", "status": "error", "detail": f"grading worker failed: {type(exc).__name__}: {str(exc)[:300]}"}
    result["limits_refused"] = refused
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
