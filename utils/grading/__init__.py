"""The exercise grader behind ``python -m utils.grade`` (Lesson 01 onwards).

Modules, in the order a submission meets them:

- `submissions`: find the notebooks and who handed each in;
- `sandbox`: run one notebook in a sandboxed worker process (`worker` runs inside it) and bring
  back plain data: how the run went, and what the student's functions returned;
- `scoring`: draw hidden inputs, compare answers with the reference, build the tests;
- `report`: Gradescope JSON per submission, ``scores.csv``, ``manual_answers.md``, the summary table;
- `cli`: the command line and the parallel batch.
"""
