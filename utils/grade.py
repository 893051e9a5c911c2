"""Grade exercise notebooks: ``python -m utils.grade SUBMISSIONS... --out DIR`` (Lesson 01 onwards).

SUBMISSIONS are notebooks or folders (``student_id/NN_*.ipynb`` or ``NN_*__student_id.ipynb``).
See `utils.grading` for how it works, and ``python -m utils.grade --help`` for the options.
"""

import sys

from utils.grading.cli import grade_batch, main

__all__ = ["main", "grade_batch"]

if __name__ == "__main__":
    sys.exit(main())
