"""The grading harness: what runs *inside* a student's kernel at grading time (Lesson 01).

After the student's cells have run, the grader draws the hidden inputs (outside the sandbox) and
asks the kernel to run one more cell per question that calls `collect_answers`: it loads the inputs
(an ``.npz`` written only then), calls the student's function on them, and appends what it returned
as one line of plain JSON, with where the function was defined (`function_origin`: answers from a
function not defined in the notebook are flagged in the report). A kernel that dies on one question
keeps the lines of the questions before it. No grade is decided here: the grader reads the lines
back with `answers_from_json` (which trusts nothing in them) and compares with the reference answers
in its own process; the kernel's copy of the library holds no reference. Whatever student code does
to this module inside its own kernel, it can only change the numbers it ships back.
"""

from __future__ import annotations

import json
import math
import re
import signal

import numpy as np

from .core import MAX_ANSWER_VALUES, Answer, AnswerKind, capture

__all__ = ["collect_answers", "answer_to_json", "answer_from_json", "answers_from_json", "origins_from_json",
           "function_origin",
           "NOTEBOOK_ORIGIN"]

NOTEBOOK_ORIGIN = "notebook"
# ipykernel compiles each cell under <tmp>/ipykernel_<pid>/<hash>.py; IPython without it, <ipython-input-...>
_CELL_FILE = re.compile(r"(ipykernel_\d+[/\\]\d+\.py$)|(^<ipython-input-)")


class _CallTimeout(BaseException):
    """Raised in the kernel when one call of a student's function runs too long."""


def answer_to_json(answer: Answer) -> dict:
    """An `Answer` as a JSON-ready dict."""
    values = None if answer.values is None else answer.values
    return {
        "kind": str(answer.kind),
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
    if not isinstance(kind, str) or kind not in set(AnswerKind):
        raise ValueError(f"unknown answer kind {str(kind)[:40]!r}")
    kind = AnswerKind(kind)
    if not isinstance(type_name, str) or not isinstance(error, str):
        raise ValueError("answer type and error must be strings")
    shape, values = data.get("shape"), data.get("values")
    if values is None:
        return Answer(kind, type_name[:200], None, error[:500])
    if kind != AnswerKind.VALUE:
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


def answers_from_json(lines, question_ids_and_counts: dict) -> tuple[dict, dict]:
    """Validate the lines of an answers file against the questions asked.

    Parameters
    ----------
    lines : list
        Parsed JSON lines, each ``{"id": question id, "origin": str, "answers": [answer, ...]}``.
    question_ids_and_counts : dict
        ``{question id: number of cases}``.

    Returns
    -------
    answers : dict
        ``{question id: list of Answer}`` for each question with a valid line (the first one).
    problems : dict
        ``{question id: why it has no answers}`` for each other question.
    Where each function came from is read separately, by `origins_from_json`.
    """
    if not isinstance(lines, list):
        raise ValueError(f"the answers file must hold JSON lines, got {type(lines).__name__}")
    answers, problems = {}, {}
    by_id = {}
    for line in lines:
        if isinstance(line, dict) and isinstance(line.get("id"), str):
            by_id.setdefault(line["id"], line)
    for qid, count in question_ids_and_counts.items():
        line = by_id.get(qid)
        if line is None:
            problems[qid] = "no answers came back for this question"
            continue
        raw = line.get("answers")
        try:
            if not isinstance(raw, list) or len(raw) != count:
                raise ValueError(f"expected {count} answers")
            answers[qid] = [answer_from_json(a) for a in raw]
        except ValueError as exc:
            problems[qid] = f"the answers are malformed ({exc})"
    return answers, problems


def origins_from_json(lines) -> dict:
    """``{question id: origin}`` from the answers lines (`function_origin` texts; untrusted, capped)."""
    origins = {}
    for line in lines if isinstance(lines, list) else []:
        if isinstance(line, dict) and isinstance(line.get("id"), str) and isinstance(line.get("origin"), str):
            origins.setdefault(line["id"], line["origin"][:200])
    return origins


def function_origin(function) -> str:
    """`NOTEBOOK_ORIGIN` for a function defined in a notebook cell; else where it comes from."""
    code = getattr(function, "__code__", None)
    if code is not None and getattr(function, "__module__", None) == "__main__" and _CELL_FILE.search(code.co_filename):
        return NOTEBOOK_ORIGIN
    module = getattr(function, "__module__", None) or type(function).__module__
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}.{name}"


def _unwrap(array: np.ndarray):
    return array.item() if array.ndim == 0 else array


def _on_alarm(signum, frame):
    raise _CallTimeout()


def collect_answers(namespace: dict, spec_json: str, inputs_path: str, out_path: str, call_timeout: float = 0) -> None:
    """Call the student's functions on the inputs and append their raw results to `out_path`.

    Parameters
    ----------
    namespace : dict
        The notebook's global namespace (where the student defined the functions).
    spec_json : str
        JSON: ``{"questions": [{"id": "1.1/hidden", "function": "name", "cases": [{arg: npz key}, ...]}]}``.
    inputs_path : str
        The ``.npz`` of input arrays (read with ``allow_pickle=False``).
    out_path : str
        The file to append one JSON line per question to: ``{"id", "origin", "answers": [...]}``.
    call_timeout : float, default=0
        Seconds allowed per call (0: no limit of its own; the grader's cell time limit still applies).
    """
    spec = json.loads(spec_json)
    with np.load(inputs_path, allow_pickle=False) as f:
        arrays = {key: f[key] for key in f.files}
    use_alarm = call_timeout > 0 and hasattr(signal, "setitimer")
    previous = signal.signal(signal.SIGALRM, _on_alarm) if use_alarm else None
    try:
        for question in spec["questions"]:
            function = namespace.get(question["function"])
            origin = function_origin(function) if callable(function) else ""
            answers = []
            for case in question["cases"]:
                if function is None:
                    answer = Answer(AnswerKind.MISSING, error="it is not defined in the notebook")
                elif not callable(function):
                    answer = Answer(AnswerKind.MISSING,
                                    error=f"`{question['function']}` is a {type(function).__name__}, not a function")
                else:
                    args = {name: _unwrap(arrays[key]) for name, key in case.items()}
                    try:
                        if use_alarm:
                            signal.setitimer(signal.ITIMER_REAL, call_timeout)
                        answer = capture(function, args)
                    except _CallTimeout:
                        answer = Answer(AnswerKind.RAISED, "TimeoutError",
                                        error=f"TimeoutError: it ran longer than {call_timeout:g} s")
                    except BaseException as exc:  # SystemExit, KeyboardInterrupt ...: still an answer
                        answer = Answer(AnswerKind.RAISED, type(exc).__name__,
                                        error=f"{type(exc).__name__}: {str(exc)[:300]}")
                    finally:
                        if use_alarm:
                            signal.setitimer(signal.ITIMER_REAL, 0)
                answers.append(answer_to_json(answer))
            with open(out_path, "a") as f:  # one line per question: a later crash keeps this one
                f.write(json.dumps({"id": question["id"], "origin": origin, "answers": answers}) + "\n")
    finally:
        if use_alarm:
            signal.signal(signal.SIGALRM, previous)
