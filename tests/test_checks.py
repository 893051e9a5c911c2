"""The self-check framework (utils.checks.core), the harness's plain-data protocol, and exercise 01's checks."""

import json

import numpy as np
import pytest

from utils.checks import core, ex01, harness, load_exercise
from utils.checks.compare import per_record_problem
from utils.train import per_record_loss


def outcome(question, function):
    return question.evaluate(function)


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise 1.1: write your code here")


# ----------------------------------------------------------------------------- reference answers (known answers)
def test_reference_loss_known_answers():
    # Equal logits over C classes: probability 1/C each, loss ln C.
    assert np.allclose(ex01.per_record_losses(np.zeros((4, 5)), [0, 1, 2, 4]), np.log(5))
    # Logits in the hundreds: finite, exact.
    losses = ex01.per_record_losses(np.array([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 0.0]]), [0, 0])
    assert np.allclose(losses, [0.0, 1600.0])


def test_reference_loss_matches_the_library():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(0, 5, size=(300, 7)), rng.integers(0, 7, size=300)
    assert np.allclose(ex01.per_record_losses(logits, labels), per_record_loss(logits, labels))


def test_reference_gap_known_answer():
    assert ex01.generalisation_gap([0.1, 0.2, 0.3], [1.0, 2.0]) == pytest.approx(1.3)
    assert ex01.generalisation_gap([0.5, 0.7], [0.4, 0.6]) == pytest.approx(-0.1)


# ----------------------------------------------------------------------------- the three outcomes
def test_reference_passes_public_checks(capsys):
    for question in (ex01.q1, ex01.q2):
        question.check(question.reference)
        printed = capsys.readouterr().out
        assert "public checks passed" in printed
        assert "all tests passed" not in printed.lower()


@pytest.mark.parametrize("question", [ex01.q1, ex01.q2])
def test_starter_is_not_attempted(question):
    verdict = outcome(question, stub)
    assert verdict.outcome == core.NOT_ATTEMPTED and "not attempted" in verdict.message


def test_missing_return_is_spotted():
    def forgot_return(logits, labels):
        np.asarray(logits).sum()

    verdict = outcome(ex01.q1, forgot_return)
    assert verdict.outcome == core.NOT_ATTEMPTED and "`return`" in verdict.message


def test_non_callable_gets_a_pointer_to_the_right_call():
    verdict = outcome(ex01.q1, np.zeros(3))
    assert not verdict.passed and "ex01.q1.check(per_record_losses)" in verdict.message


@pytest.mark.parametrize(
    "function, expected_words",
    [
        (lambda logits, labels: ex01.per_record_losses(logits, labels).mean(), "single number"),
        (lambda logits, labels: -ex01.per_record_losses(logits, labels), "negative"),
        (lambda logits, labels: np.exp(-ex01.per_record_losses(logits, labels)), "probability of the true class"),
        (lambda logits, labels: ex01.per_record_losses(logits, labels) / np.log(2), "bits"),
        (
            lambda logits, labels: np.log(np.exp(logits).sum(1)) - np.asarray(logits)[np.arange(len(labels)), labels],
            "NaN or infinite",
        ),
        (lambda logits, labels: np.asarray(logits) * 0 + 1, "one value per class"),
        (lambda logits, labels: ex01.per_record_losses(logits, labels)[:-1], "but there are 3 records"),
        (lambda logits, labels: ex01.per_record_losses(logits, np.zeros_like(labels)), "differ from the reference"),
        (lambda logits, labels: "losses", "returned a str"),
        (lambda logits, labels: 1 / 0, "raised ZeroDivisionError"),
    ],
    ids=[
        "mean", "log-prob", "probability", "bits", "overflow", "per-class", "short", "wrong-label", "string", "raises"
    ],
)
def test_q1_explains_common_slips(function, expected_words):
    with np.errstate(all="ignore"):
        verdict = outcome(ex01.q1, function)
    assert verdict.outcome == core.INCORRECT
    assert expected_words in verdict.message
    assert "ex01.q1.hint()" in verdict.message


@pytest.mark.parametrize(
    "function, expected_words",
    [
        (
            lambda train_losses, test_losses: float(np.mean(train_losses) - np.mean(test_losses)),
            "training loss minus test loss",
        ),
        (lambda train_losses, test_losses: abs(float(np.mean(test_losses) - np.mean(train_losses))), "absolute value"),
        (lambda train_losses, test_losses: float(np.median(test_losses) - np.median(train_losses)), "medians"),
        (lambda train_losses, test_losses: [1.0, 2.0], "returned 2 numbers"),
        (lambda train_losses, test_losses: float("nan"), "finite number"),
    ],
    ids=["reversed", "abs", "median", "array", "nan"],
)
def test_q2_explains_common_slips(function, expected_words):
    verdict = outcome(ex01.q2, function)
    assert verdict.outcome == core.INCORRECT and expected_words in verdict.message


def test_the_brief_s_example_message():
    answer = core.to_answer(np.zeros(1250))
    message = per_record_problem(answer, np.zeros(2500), name="attack", what="scores", rtol=0, atol=0)
    assert message == "`attack` returns 1,250 scores but there are 2,500 records."


def test_arguments_are_copied_before_the_student_function_runs():
    def correct_but_destructive(logits, labels):
        result = ex01.per_record_losses(logits, labels)
        logits[...] = 0.0  # vandalises its input after computing
        return result

    assert outcome(ex01.q1, correct_but_destructive).passed


def test_torch_tensors_are_accepted():
    import torch

    verdict = outcome(ex01.q1, lambda logits, labels: torch.as_tensor(ex01.per_record_losses(logits, labels)))
    assert verdict.passed


# ----------------------------------------------------------------------------- hints and solutions
def test_hints_are_numbered_and_reveal_more(capsys):
    ex01.q1.hint()
    first = capsys.readouterr().out
    ex01.q1.hint(3)
    last = capsys.readouterr().out
    ex01.q1.hint(99)
    wrong = capsys.readouterr().out
    assert first.startswith("Hint 1 of 3") and "ex01.q1.hint(2)" in first
    assert last.startswith("Hint 3 of 3") and "hint(4)" not in last
    assert "hints 1 to 3" in wrong


def test_solutions_print_reference_code_and_model_answer(capsys):
    ex01.q1.solution()
    code = capsys.readouterr().out
    ex01.q3.solution()
    answer = capsys.readouterr().out
    ex01.q3.check()
    written = capsys.readouterr().out
    assert "def per_record_losses(logits, labels):" in code
    assert "generalisation gap" in answer and "membership" in answer
    assert "written answer" in written and "passed" not in written


# ----------------------------------------------------------------------------- hidden inputs
def test_hidden_cases_are_fresh_and_reproducible():
    a = ex01.q1.hidden_cases(np.random.default_rng(1))
    b = ex01.q1.hidden_cases(np.random.default_rng(1))
    c = ex01.q1.hidden_cases(np.random.default_rng(2))
    assert all(np.array_equal(x["logits"], y["logits"]) for x, y in zip(a, b))
    assert not all(
        x["logits"].shape == y["logits"].shape and np.allclose(x["logits"], y["logits"]) for x, y in zip(a, c)
    )
    public_shapes = {case["logits"].shape for case in ex01.q1.public_cases()}
    assert not any(case["logits"].shape in public_shapes for case in a)
    assert any(np.abs(case["logits"]).max() > 100 for case in a)  # the overflow trap is always present


def test_hidden_checks_catch_answers_that_only_fit_the_public_inputs():
    public = ex01.q2.public_cases()
    table = {(len(c["train_losses"]), len(c["test_losses"])): ex01.generalisation_gap(**c) for c in public}

    def memorised(train_losses, test_losses):
        return table.get((len(train_losses), len(test_losses)), 0.0)

    assert outcome(ex01.q2, memorised).passed
    for seed in range(5):
        hidden = ex01.q2.hidden_cases(np.random.default_rng(seed))
        answers = [core.capture(memorised, args) for args in hidden]
        assert not ex01.q2.grade(hidden, answers, checks="hidden").passed


def test_hidden_gap_cases_include_a_negative_gap():
    for seed in range(5):
        gaps = [ex01.generalisation_gap(**c) for c in ex01.q2.hidden_cases(np.random.default_rng(seed))]
        assert min(gaps) < 0 < max(gaps)


# ----------------------------------------------------------------------------- the plain-data protocol
def test_answers_survive_the_json_round_trip():
    for value in (np.arange(6.0).reshape(2, 3), 2.5, np.float32(1.5), [1, 2, 3], True):
        answer = core.to_answer(value)
        back = harness.answer_from_json(json.loads(json.dumps(harness.answer_to_json(answer))))
        assert back.kind == answer.kind and np.array_equal(back.values, answer.values)
    for kind in ("missing", "not attempted"):
        assert harness.answer_from_json(harness.answer_to_json(core.Answer(kind))).kind == kind


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"kind": "passed"},
        {"kind": "value", "type": "ndarray", "shape": [3], "values": [1.0, 2.0]},
        {"kind": "value", "type": "ndarray", "shape": [2], "values": ["a", "b"]},
        {"kind": "value", "type": "ndarray", "shape": [2], "values": [True, False]},
        {"kind": "value", "type": "ndarray", "shape": [-1], "values": []},
        {"kind": "value", "type": 7, "shape": None, "values": None},
        {"kind": "raised", "type": "X", "shape": [1], "values": [1.0]},
        {"kind": "value", "type": "list", "shape": [2_000_000], "values": [0.0] * 2_000_000},
        {"kind": "value", "type": "int", "shape": [1], "values": [10**400]},
    ],
)
def test_malformed_answers_are_rejected(data):
    with pytest.raises(ValueError):
        harness.answer_from_json(data)


def test_answers_lines_need_the_right_count_and_keep_the_questions_that_came_back():
    line = {"id": "1.1/hidden", "origin": "notebook", "answers": [harness.answer_to_json(core.to_answer(1.0))] * 3}
    answers, problems = harness.answers_from_json([line], {"1.1/hidden": 3, "1.2/hidden": 3})
    assert len(answers["1.1/hidden"]) == 3 and "no answers" in problems["1.2/hidden"]
    answers, problems = harness.answers_from_json([line, "junk", 7], {"1.1/hidden": 2})
    assert answers == {} and "expected 2" in problems["1.1/hidden"]
    with pytest.raises(ValueError):
        harness.answers_from_json({"1.1/hidden": []}, {"1.1/hidden": 3})
    assert harness.origins_from_json([line, {"id": 5}]) == {"1.1/hidden": "notebook"}


def test_function_origin_tells_notebook_cells_from_elsewhere():
    namespace = {"__name__": "__main__"}
    exec(compile("def f(x):\n    return x\n", "/tmp/ipykernel_42/1234.py", "exec"), namespace)
    assert harness.function_origin(namespace["f"]) == harness.NOTEBOOK_ORIGIN
    assert harness.function_origin(np.mean) == "numpy.mean"
    assert harness.function_origin(len) == "builtins.len"
    assert harness.function_origin(ex01.per_record_losses) == "utils.checks.ex01.per_record_losses"


def test_collect_answers_reports_each_function_s_fate(tmp_path):
    import time

    inputs = tmp_path / "inputs.npz"
    np.savez(inputs, a=np.arange(3.0), b=np.array(2.0))
    namespace = {
        "double": lambda x, k: x * k,
        "not_a_function": 3,
        "quits": lambda x, k: exit(),
        "sleeps": lambda x, k: time.sleep(30),
    }
    names = ["double", "absent", "not_a_function", "quits", "sleeps"]
    spec = {"questions": [{"id": n, "function": n, "cases": [{"x": "a", "k": "b"}]} for n in names]}
    out = tmp_path / "answers.jsonl"
    harness.collect_answers(namespace, json.dumps(spec), str(inputs), str(out), call_timeout=0.5)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    answers, problems = harness.answers_from_json(lines, {n: 1 for n in names})
    assert problems == {}
    assert np.array_equal(answers["double"][0].values, [0.0, 2.0, 4.0])
    assert answers["absent"][0].kind == "missing"
    assert answers["not_a_function"][0].kind == "missing" and "int" in answers["not_a_function"][0].error
    assert answers["quits"][0].kind == "raised" and "SystemExit" in answers["quits"][0].error
    assert answers["sleeps"][0].kind == "raised" and "TimeoutError" in answers["sleeps"][0].error


# ----------------------------------------------------------------------------- discovery
def test_exercises_are_found_by_number():
    assert load_exercise(1) is ex01.EXERCISE
    assert [q.id for q in ex01.EXERCISE.questions] == ["1.1", "1.2", "1.3"]
    with pytest.raises(ValueError, match="ex99"):
        load_exercise(99)


def test_exercise_rejects_duplicate_or_foreign_question_ids():
    with pytest.raises(ValueError, match="twice"):
        core.Exercise(1, "x", (ex01.q1, ex01.q1))
    with pytest.raises(ValueError, match="does not belong"):
        core.Exercise(2, "x", (ex01.q1,))


# ----------------------------------------------------------------------------- typed states
def test_outcomes_and_answer_kinds_are_enums_that_refuse_unknown_values():
    assert core.Verdict("correct", "x").outcome is core.Outcome.CORRECT
    assert core.Answer("missing").kind is core.AnswerKind.MISSING
    with pytest.raises(ValueError):
        core.Verdict("passed", "x")
    with pytest.raises(ValueError):
        core.Answer("fine")


# ----------------------------------------------------------------------------- no reference in the student copy
def test_student_library_holds_no_reference_judge_or_model_answer(tmp_path):
    import inspect
    import subprocess
    import sys

    from utils.checks import release

    files = release.student_library()
    text = b"\n".join(files.values())
    for number in release.exercise_numbers():
        exercise = load_exercise(number)
        for q in exercise.function_questions:
            body = inspect.getsource(q.reference).split("\n", 1)[1].strip().encode()
            assert body not in text, q.id
            assert inspect.getsource(q.judge).strip().encode() not in text, q.id
        for q in exercise.written_questions:
            assert q.model_answer.strip().encode() not in text, q.id
    release.write_files(files, tmp_path)
    code = (
        "import numpy as np\n"
        "from utils.checks import ex01\n"
        "from utils.checks.ex01 import q1, q2, EXERCISE\n"
        "def gap(train_losses, test_losses):\n    return float(np.mean(test_losses) - np.mean(train_losses))\n"
        "ex01.q2.check(gap)\n"
        "ex01.q2.check(lambda train_losses, test_losses: 0.0)\n"
        "ex01.q1.solution(); ex01.q3.solution()\n"
        "try:\n    q1.reference(logits=1, labels=1)\nexcept RuntimeError as e:\n    print('no reference:', e)\n"
        "print([q.id for q in EXERCISE.questions])\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Exercise 1.2: public checks passed" in out and "Not quite yet" in out
    assert "not part of this graded release" in out and "def " not in out and "John Doe" not in out
    assert "no reference:" in out and "['1.1', '1.2', '1.3']" in out


def test_graded_setting_hides_solutions(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_GRADED", "1")
    ex01.q1.solution()
    ex01.q3.solution()
    out = capsys.readouterr().out
    assert "not shown" in out and "def " not in out and "John Doe" not in out
    monkeypatch.setenv("COURSE_GRADED", "0")
    ex01.q1.solution()
    assert "def per_record_losses" in capsys.readouterr().out
