"""The exercise grader behind ``python -m utils.grade`` (Lesson 01 onwards).

Modules, in the order a submission meets them:

- `submissions`: find the notebooks and who handed each in (ids never misfiled);
- `sandbox`: the bubblewrap sandbox each kernel runs in, and its limits;
- `runner`: run one notebook in its sandbox (`worker` runs inside it) and bring back plain data;
- `scoring`: draw hidden inputs, compare answers with the reference, build the tests;
- `states`: the typed states (`RunStatus`, `TestOutcome`);
- `batch`: grade many submissions, N sandboxes at a time;
- `report`: Gradescope JSON per submission, ``scores.csv``, ``manual_answers.md``, the summary;
- `cli`: the command line; `gradescope`: the Gradescope autograder bundle.
"""
