"""Ghosts in the Weights: the course library every lesson, exercise and test imports.

Modules (each one idea; see the docstring of each for the lesson that introduces it), in three blocks.

The core, which every lesson uses:

- `utils.config`   : the `COURSE_FAST` switch and the compute device.
- `utils.seed`     : `seed_everything` and per-model seeds.
- `utils.validation`: the shared input checks behind every clear error message.
- `utils.data`     : the offline MNIST-5k digits, membership splits, optional downloads; `utils.tables`: the
                     census and patients tables (lesson 04).
- `utils.models`   : small MLP / CNN definitions (no BatchNorm, so Opacus can use them).
- `utils.recipe`   : the training recipe (`Recipe`), one validated value every trainer takes.
- `utils.train`    : single and batched (K models at once) trainers; `utils.stacked`: the batched fast path;
                     `utils.optim`: their optimiser; `utils.inference`: logits, losses and accuracy of trained models.
- `utils.metrics`  : ROC/AUC, TPR at low FPR, advantage, Clopper-Pearson intervals, DP bounds.
- `utils.plots`    : log-log ROC curves, member/non-member histograms, every lesson's figures.
- `utils.progress` : the progress bar that saved notebooks show finished (tqdm's text, in an updated display).
- `utils.widgets`  : the interactive controls of the lessons and the plain plots behind them.

The topics, one package (or module) per part of the course:

- `utils.experiments`: the experiments of lessons 01-02 (the gap, the membership game, degraded copies).
- `utils.attacks`  : threshold (Yeom), shadow-model (Shokri), LiRA and RMIA attacks; pooled low-FPR runs.
- `utils.property` : property inference (lesson 04): the two-world game, its attacks, and (`property.dp`) the game
                     under DP-SGD (lesson 06b).
- `utils.defenses` : regularisation, masking and DP-SGD (lessons 05-07); `defenses.public_features` and
                     `defenses.dp_public`: private training on public features (lesson 06b).
- `utils.audit`, `utils.audit_limits`: DP bounds and empirical audits of epsilon (lesson 06); what an audit can
                     certify at most, the Gaussian-DP estimate (lesson 06b).
- `utils.capstone` : lesson 08's audit of a released model (threat model, attacks, verdict, deletion);
                     `utils.audit_report`: its report for the manager who decides (HTML and PDF).
- `utils.lm`       : lesson 09's byte-level language model, canaries, exposure, extraction and text attacks.
- `utils.unlearning`: unlearning methods (retrain, SISA, fine-tune, gradient ascent) and their audits (U-LiRA).

The instructor's kit (students never need to import it):

- `utils.checks`   : `check()/hint()/solution()` for the exercises; `utils.grade` (the command) and `utils.grading`
                     (the sandboxed grader behind it) grade notebooks.
- `utils.build_exercises`: generates `exercises/` from `solutions/`; `utils.build_site`: the static HTML course;
  `utils.colab`: the Colab set-up cell.
- `utils.cache`    : the disk cache of heavy experiments (`utils.cache_format`: its data-only file format);
                     `utils.demo`: warms it before class.
- `utils.nbrun`    : runs a notebook in a fresh kernel (tests, benchmarks); `utils.bench`: benchmarks.

Importing `utils` changes no settings (no matplotlib styles, no global seeds).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]  # the package exports only its version: import the modules above by name
