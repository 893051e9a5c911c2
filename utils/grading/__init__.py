"""The exercise grader behind ``python -m utils.grade`` (Lesson 01 onwards).

Modules, in the order a submission meets them:

- `submissions`: find the notebooks and who handed each in (ids never misfiled);
- `sandbox`: the bubblewrap sandbox each kernel runs in, and its limits;
- `jail`: the host side of one sandbox: its cgroup budget (`cgroup`), and as root an unprivileged
  host uid with the launcher that sets both up (`launch`); `probe`: what works on this machine;
- `runner`: run one notebook in its sandbox (`worker` runs inside it) and bring back plain data;
- `provenance`: where each graded function's answers come from, read from the notebook's source;
- `scoring`: draw hidden inputs, compare answers with the reference, build the tests;
- `states`: the typed states (`RunStatus`, `TestOutcome`);
- `batch`: grade many submissions, N sandboxes at a time;
- `report`: Gradescope JSON per submission, ``scores.csv``, ``manual_answers.md``, the summary;
  `merge`: ``--merge`` under the identity rules of one batch;
- `cli`: the command line; `gradescope`: the Gradescope autograder bundle.
"""

__all__ = []  # modules only: import them by name (`from utils.grading import batch`)
