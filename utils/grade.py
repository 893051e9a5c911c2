"""Grade exercise notebooks: ``python -m utils.grade SUBMISSIONS... --out DIR`` (Lesson 01 onwards).

SUBMISSIONS are notebooks or folders (``student_id/NN_*.ipynb`` or ``NN_*__student_id.ipynb``).
``python -m utils.grade autograder --out autograder.zip`` writes a Gradescope autograder bundle.
See `utils.grading` for how it works, and ``python -m utils.grade --help`` for the options.
"""

import sys

from utils.grading.batch import grade_batch
from utils.grading.cli import main

__all__ = ["main", "grade_batch"]

if __name__ == "__main__":
    sys.exit(main())
