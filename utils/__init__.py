"""Ghosts in the Weights: the course library every lesson, exercise and test imports.

Modules (each one idea; see the docstring of each for the lesson that introduces it):

- `utils.config`   : the `COURSE_FAST` switch and the compute device.
- `utils.seed`     : `seed_everything` and per-model seeds.
- `utils.validation`: the shared input checks behind every clear error message.
- `utils.data`     : the offline MNIST-5k digits, membership splits, optional downloads.
- `utils.models`   : small MLP / CNN definitions (no BatchNorm, so Opacus can use them).
- `utils.train`    : single and batched (K models at once) trainers, prediction, evaluation.
- `utils.metrics`  : ROC/AUC, TPR at low FPR, advantage, Clopper-Pearson intervals, DP bounds.
- `utils.plots`    : log-log ROC curves, member/non-member histograms.
- `utils.attacks`  : threshold (Yeom), shadow-model (Shokri) and LiRA attacks; pooled low-FPR runs.
- `utils.property` : property inference (lesson 04): the two-world game, its attacks, and (`property.dp`) the game
                     under DP-SGD (lesson 06b).
- `utils.defenses` : regularisation, masking and DP-SGD (lessons 05-07); `defenses.public_features` and
                     `defenses.dp_public`: private training on public features (lesson 06b).
- `utils.audit`, `utils.audit_limits`: DP bounds and empirical audits of epsilon (lesson 06); what an audit can
                     certify at most, the Gaussian-DP estimate (lesson 06b).
- `utils.lm`       : lesson 09's byte-level language model, canaries, exposure, extraction and text attacks.
- `utils.widgets`  : the interactive controls of the lessons and the plain plots behind them.
- `utils.unlearning`: unlearning methods (retrain, SISA, fine-tune, gradient ascent) and their audits (U-LiRA).
- `utils.checks`   : `check()/hint()/solution()` for the exercises; `utils.grade` grades notebooks.
- `utils.build_exercises`: generates `exercises/` from `solutions/`.
- `utils.nbrun`    : runs a notebook in a fresh kernel (tests, benchmarks); `utils.bench`: benchmarks.
- `utils.progress` : the progress bar that saved notebooks show finished (tqdm's text, in an updated display).

Importing `utils` changes no settings (no matplotlib styles, no global seeds).
"""

__version__ = "0.1.0"
