"""Interactive controls of the lessons: thin `ipywidgets` layers over experiments and plots.

Each widget displays its controls and a figure; the figure is an ordinary image output that the
sliders update in place, so a saved or static copy of a notebook shows it too. The experiments
behind them live in `utils.experiments`, the figures in `utils.plots`. One module per lesson:

- `utils.widgets.overfitting` (Lesson 01): `overfitting_explorer`, sliders for training-set size
  and epochs.
- `utils.widgets.loss_threshold` (Lesson 02): `threshold_explorer`, a slider over the loss
  attack's threshold.
- `utils.widgets.defenses` (Lesson 05): `privacy_utility_explorer`, a slider over precomputed
  defence settings on the privacy-utility chart.
- `utils.widgets.dp` (Lesson 06): `dp_roc_explorer`, a slider over the DP targets' ROC curves and bounds.
- `utils.widgets.lm` (Lesson 09): `canary_explorer`, a slider over the canaries and their candidates.

For a lesson's own one-off slider, `show_explorer(controls, draw, parameters, description=...)`
displays any controls with a figure that follows them (`Explorer` is what it returns).

Everything is re-exported here, so lessons write ``from utils.widgets import threshold_explorer``.
"""

from .defenses import *  # noqa: F401,F403
from .defenses import __all__ as _defenses_all
from .display import Explorer, show_explorer
from .dp import *  # noqa: F401,F403
from .dp import __all__ as _dp_all
from .lm import *  # noqa: F401,F403
from .lm import __all__ as _lm_all
from .loss_threshold import *  # noqa: F401,F403
from .loss_threshold import __all__ as _loss_threshold_all
from .overfitting import *  # noqa: F401,F403
from .overfitting import __all__ as _overfitting_all

__all__ = ["Explorer", "show_explorer", *_overfitting_all, *_loss_threshold_all, *_defenses_all, *_dp_all, *_lm_all]
