"""The exercise builder: markers, errors that say where, byte-identical output, and --check."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from utils import build_exercises as build

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def solution_cell(source, exercise="1.1", kind="code"):
    make = new_code_cell if kind == "code" else new_markdown_cell
    return make(source, metadata={"tags": ["solution"], "exercise": exercise})


def notebook(*cells):
    nb = new_notebook(cells=list(cells))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    return nb


def write(nb, folder, name="01_demo.ipynb"):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder / name


# ----------------------------------------------------------------------------- markers
def test_solution_region_becomes_a_stub_at_the_same_indentation():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n\nprint(f)"
    assert build.strip_solution_code(source, "1.2") == (
        'def f(x):\n    y = 1\n    raise NotImplementedError("Exercise 1.2: write your code here")\n\nprint(f)'
    )


def test_every_region_of_a_cell_is_replaced():
    source = (
        "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nkeep = 2\n"
        "        ### BEGIN SOLUTION\n        b = 3\n        ### END SOLUTION"
    )
    out = build.strip_solution_code(source, "1.1").split("\n")
    assert out == [
        'raise NotImplementedError("Exercise 1.1: write your code here")',
        "keep = 2",
        '        raise NotImplementedError("Exercise 1.1: write your code here")',
    ]


def test_markdown_answer_becomes_a_placeholder():
    source = "**Answer.**\n<!-- BEGIN ANSWER -->\nBecause the loss is lower.\nMuch lower.\n<!-- END ANSWER -->\nThanks."
    assert build.strip_answer_markdown(source) == "**Answer.**\n*Your answer here*\nThanks."


@pytest.mark.parametrize(
    "source, words",
    [
        ("### BEGIN SOLUTION\nx = 1", "never closed"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\nx\n### END SOLUTION\n### END SOLUTION", "nested"),
        ("x = 1\n### END SOLUTION", "has no '### BEGIN SOLUTION'"),
        ("x = 1  ### BEGIN SOLUTION\n### END SOLUTION", "not alone on its line"),
    ],
    ids=["unclosed", "nested", "stray-end", "inline"],
)
def test_bad_markers_are_errors_naming_notebook_and_cell(source, words):
    nb = notebook(new_markdown_cell("# Title"), solution_cell(source))
    with pytest.raises(build.BuildError) as info:
        build.build_notebook(nb, "01_demo.ipynb")
    assert "01_demo.ipynb, cell 1 (id c1)" in str(info.value) and words in str(info.value)


def test_unclosed_answer_in_markdown_is_an_error():
    nb = notebook(solution_cell("<!-- BEGIN ANSWER -->\nText", "1.3", kind="markdown"))
    with pytest.raises(build.BuildError, match="cell 0.*never closed"):
        build.build_notebook(nb, "01_demo.ipynb")


@pytest.mark.parametrize(
    "cell, words",
    [
        (new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), "no 'solution' tag"),
        (solution_cell("x = 1"), "has no markers"),
        (
            new_code_cell("### BEGIN SOLUTION\nx\n### END SOLUTION", metadata={"tags": ["solution"]}),
            '"exercise": "1.M"',
        ),
        (solution_cell("### BEGIN SOLUTION\nx\n### END SOLUTION", exercise="2.1"), '"exercise": "1.M"'),
        (solution_cell("<!-- BEGIN ANSWER -->\nx\n<!-- END ANSWER -->"), "belong in markdown"),
        (solution_cell("### BEGIN SOLUTION\nx\n### END SOLUTION", kind="markdown"), "belong in code"),
    ],
    ids=["untagged", "no-markers", "no-exercise-id", "wrong-exercise-number", "answer-in-code", "solution-in-markdown"],
)
def test_solution_cells_must_be_declared(cell, words):
    with pytest.raises(build.BuildError, match="01_demo.ipynb, cell 0") as info:
        build.build_notebook(notebook(cell), "01_demo.ipynb")
    assert words in str(info.value)


def test_notebook_names_need_a_two_digit_prefix():
    with pytest.raises(build.BuildError, match="NN_title"):
        build.build_notebook(notebook(new_markdown_cell("x")), "demo.ipynb")


# ----------------------------------------------------------------------------- normalisation
def executed_demo():
    code = solution_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")
    code.execution_count = 7
    code.outputs = [new_output("stream", name="stdout", text="hello\n")]
    code.metadata["scrolled"] = True
    code.metadata["execution"] = {"iopub.status.busy": "2024-01-01"}
    answer = solution_cell("<!-- BEGIN ANSWER -->\nyes\n<!-- END ANSWER -->", "1.2", "markdown")
    return notebook(new_markdown_cell("# Demo"), code, answer)


def test_output_is_normalised_and_keeps_what_the_grader_needs():
    out = build.build_notebook(executed_demo(), "01_demo.ipynb")
    code = out.cells[1]
    assert code.outputs == [] and code.execution_count is None
    assert dict(code.metadata) == {"tags": ["solution"], "exercise": "1.1"}
    assert out.cells[2].metadata["exercise"] == "1.2" and out.cells[2].source == "*Your answer here*"
    assert [c.id for c in out.cells] == ["c0", "c1", "c2"]


def test_rebuilding_is_byte_identical_whatever_the_solution_s_outputs(tmp_path):
    clean = executed_demo()
    for cell in clean.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    texts = {
        build.render(build.build_notebook(nb, "01_demo.ipynb")) for nb in (executed_demo(), clean, executed_demo())
    }
    assert len(texts) == 1


# ----------------------------------------------------------------------------- build_all / --check
def test_check_passes_after_a_build_and_catches_drift(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    write(executed_demo(), solutions)
    build.build_all(solutions, exercises)
    assert build.check_all(solutions, exercises) == []

    target = exercises / "01_demo.ipynb"
    target.write_text(target.read_text().replace("*Your answer here*", "my answer"))
    problems = build.check_all(solutions, exercises)
    assert len(problems) == 1 and "01_demo.ipynb: differs" in problems[0] and "cell 2" in problems[0]
    assert build.main(["--check", "--solutions", str(solutions), "--exercises", str(exercises)]) == 1

    target.unlink()
    (exercises / "02_old.ipynb").write_text("{}")
    problems = build.check_all(solutions, exercises)
    assert any("01_demo.ipynb: missing" in p for p in problems)
    assert any("02_old.ipynb" in p and "stale" in p for p in problems)

    assert build.main(["--solutions", str(solutions), "--exercises", str(exercises)]) == 0
    (exercises / "02_old.ipynb").unlink()
    assert build.main(["--check", "--solutions", str(solutions), "--exercises", str(exercises)]) == 0


def test_one_bad_notebook_writes_nothing(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    write(executed_demo(), solutions, "01_good.ipynb")
    write(notebook(solution_cell("### BEGIN SOLUTION\nx")), solutions, "02_bad.ipynb")
    with pytest.raises(build.BuildError, match="02_bad.ipynb, cell 0"):
        build.build_all(solutions, exercises)
    assert not exercises.exists() or not list(exercises.iterdir())


def test_the_repository_s_exercises_are_up_to_date():
    result = subprocess.run([sys.executable, "-m", "utils.build_exercises", "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_generated_exercises_give_no_solution_away(solution):
    nb = nbformat.read(solution, as_version=4)
    exercise = nbformat.read(ROOT / "exercises" / solution.name, as_version=4)
    assert len(exercise.cells) == len(nb.cells)
    solution_cells = [i for i, c in enumerate(nb.cells) if "solution" in c.metadata.get("tags", [])]
    assert solution_cells, "a solution notebook declares at least one solution cell"
    for i in solution_cells:
        inside, hidden_lines = False, []
        for line in nb.cells[i].source.split("\n"):
            if line.strip() in (build.CODE_BEGIN, build.ANSWER_BEGIN):
                inside = True
            elif line.strip() in (build.CODE_END, build.ANSWER_END):
                inside = False
            elif inside and line.strip():
                hidden_lines.append(line)
        generated = exercise.cells[i].source
        assert not any(line in generated for line in hidden_lines)
        assert "NotImplementedError" in generated or build.ANSWER_PLACEHOLDER in generated
    for cell in exercise.cells:
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None


def test_graded_release_has_no_solutions_and_working_checks(tmp_path):
    import os

    target = tmp_path / "release"
    done = subprocess.run([sys.executable, "-m", "utils.build_exercises", "--graded", str(target)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (target / "exercises").glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "exercises").glob("*.ipynb"))
    generated = (target / "utils" / "checks" / "ex01.py").read_text()
    assert "def per_record_losses" not in generated and "reference=" not in generated
    code = "from utils.checks import ex01, ex02\nex01.q1.solution()\nex02.q3.solution()\nex01.q1.hint()\n"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(target), "HOME": str(tmp_path)}
    shown = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("not part of this graded release") == 2 and "Hint 1" in shown.stdout
    again = subprocess.run([sys.executable, "-m", "utils.build_exercises", "--graded", str(target)],
                           cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 1 and "exists already" in again.stderr


def test_an_answer_cell_with_text_outside_its_answer_is_an_error():
    nb = notebook(solution_cell("**Why?**\n\n<!-- BEGIN ANSWER -->\nBecause.\n<!-- END ANSWER -->", kind="markdown"))
    with pytest.raises(build.BuildError, match="exercise 1.1 holds text outside its answer region"):
        build.build_notebook(nb, "01_demo.ipynb")


@pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_an_untouched_written_answer_is_graded_blank(solution):
    """Every written question's answer cell holds only the placeholder, which the grader reads as blank."""
    from utils.checks import load_exercise
    from utils.grading.scoring import written_answers

    exercise = load_exercise(int(solution.name[:2]))
    built = build.build_notebook(nbformat.read(solution, as_version=4), solution.name)
    answers = written_answers(built, exercise)
    assert answers == {q.id: "" for q in exercise.written_questions}, answers
