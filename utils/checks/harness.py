"""The grading harness: what runs *inside* a student's kernel at grading time (Lesson 01).

After the student's cells have run, the grader asks the kernel to run one more cell that calls
`collect_answers`: it loads the hidden inputs (an ``.npz`` the grader wrote only then), calls the
student's functions on them, and writes what they returned as plain JSON. No grade is decided
here: the grader process reads the JSON back with `answers_from_json` (which trusts nothing in it)
and compares with the reference answers it computed itself. Whatever student code does to this
module inside its own kernel, it can only change the numbers it ships back.
"""

from __future__ import annotations

import json
import math
import os
import signal

import numpy as np

from .core import MAX_ANSWER_VALUES, NOT_ATTEMPTED, Answer, capture

__all__ = ["collect_answers", "answer_to_json", "answer_from_json", "answers_from_json", "KINDS"]

KINDS = ("value", "raised", NOT_ATTEMPTED, "missing")


class _CallTimeout(BaseException):
    """Raised in the kernel when one call of a student's function runs too long."""


def answer_to_json(answer: Answer) -> dict:
    """An `Answer` as a JSON-ready dict."""
    values = None if answer.values is None else answer.values
    return {
        "kind": answer.kind,
        "type": answer.type_name,
        "shape": None if values is None else list(values.shape),
        "values": None if values is None else values.ravel().tolist(),
        "error": answer.error,
    }


def answer_from_json(data) -> Answer:
    """Rebuild an `Answer` from untrusted JSON data; raises ValueError for anything malformed."""
    if not isinstance(data, dict):
        raise ValueError(f"an answer must be a JSON object, got {type(data).__name__}")
    kind, type_name, error = data.get("kind"), data.get("type", ""), data.get("error", "")
    if kind not in KINDS:
        raise ValueError(f"unknown answer kind {str(kind)[:40]!r}")
    if not isinstance(type_name, str) or not isinstance(error, str):
        raise ValueError("answer type and error must be strings")
    shape, values = data.get("shape"), data.get("values")
    if values is None:
        return Answer(kind, type_name[:200], None, error[:500])
    if kind != "value":
        raise ValueError(f"an answer of kind {kind!r} carries no values")
    if not isinstance(shape, list) or len(shape) > 8 or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
    ):
        raise ValueError("answer shape must be a list of at most 8 non-negative integers")
    if not isinstance(values, list) or len(values) > MAX_ANSWER_VALUES or len(values) != math.prod(shape):
        raise ValueError(f"answer holds {len(values) if isinstance(values, list) else '?'} values for shape {shape}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError("answer values must all be numbers")
    try:
        array = np.array(values, dtype=np.float64).reshape(shape)
    except (OverflowError, ValueError):
        raise ValueError("answer values do not fit in float64") from None
    return Answer(kind, type_name[:200], array, error[:500])


def answers_from_json(data, question_ids_and_counts: dict) -> dict:
    """Validate a whole answers file: ``{question id: [answer, ...]}`` with the expected counts.

    Returns ``{question id: list of Answer}``. Raises ValueError naming the first problem.
    """
    if not isinstance(data, dict):
        raise ValueError(f"the answers file must hold a JSON object, got {type(data).__name__}")
    result = {}
    for qid, count in question_ids_and_counts.items():
        answers = data.get(qid)
        if not isinstance(answers, list) or len(answers) != count:
            raise ValueError(f"question {qid}: expected {count} answers")
        result[qid] = [answer_from_json(a) for a in answers]
    return result


def _unwrap(array: np.ndarray):
    return array.item() if array.ndim == 0 else array


def _on_alarm(signum, frame):
    raise _CallTimeout()


def collect_answers(namespace: dict, spec_json: str, inputs_path: str, out_path: str, call_timeout: float = 0) -> None:
    """Call the student's functions on the hidden inputs and write their raw results to `out_path`.

    Parameters
    ----------
    namespace : dict
        The notebook's global namespace (where the student defined the functions).
    spec_json : str
        JSON: ``{"questions": [{"id": "1.1", "function": "name", "cases": [{arg: npz key}, ...]}]}``.
    inputs_path : str
        The ``.npz`` of input arrays (read with ``allow_pickle=False``).
    out_path : str
        Where to write ``{question id: [answer as JSON, ...]}``.
    call_timeout : float, default=0
        Seconds allowed per call (0: no limit of its own; the grader's cell time limit still applies).
    """
    spec = json.loads(spec_json)
    with np.load(inputs_path, allow_pickle=False) as f:
        arrays = {key: f[key] for key in f.files}
    results = {}
    use_alarm = call_timeout > 0 and hasattr(signal, "setitimer")
    previous = signal.signal(signal.SIGALRM, _on_alarm) if use_alarm else None
    try:
        for question in spec["questions"]:
            function = namespace.get(question["function"])
            answers = []
            for case in question["cases"]:
                if function is None:
                    answer = Answer("missing", error="it is not defined in the notebook")
                elif not callable(function):
                    answer = Answer("missing", error=f"`{question['function']}` is a {type(function).__name__}, not a function")
                else:
                    args = {name: _unwrap(arrays[key]) for name, key in case.items()}
                    try:
                        if use_alarm:
                            signal.setitimer(signal.ITIMER_REAL, call_timeout)
                        answer = capture(function, args)
                    except _CallTimeout:
                        answer = Answer("raised", "TimeoutError", error=f"TimeoutError: it ran longer than {call_timeout:g} s")
                    except BaseException as exc:  # SystemExit, KeyboardInterrupt ...: still an answer
                        answer = Answer("raised", type(exc).__name__, error=f"{type(exc).__name__}: {str(exc)[:300]}")
                    finally:
                        if use_alarm:
                            signal.setitimer(signal.ITIMER_REAL, 0)
                answers.append(answer_to_json(answer))
            results[question["id"]] = answers
    finally:
        if use_alarm:
            signal.signal(signal.SIGALRM, previous)
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f)
    os.replace(tmp, out_path)
