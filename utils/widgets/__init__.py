"""Interactive controls of the lessons: thin `ipywidgets` layers over experiments and plots.

Each widget displays its controls and a figure; the figure is an ordinary image output that the
sliders update in place, so a saved or static copy of a notebook shows it too. The experiments
behind them live in `utils.experiments`, the figures in `utils.plots`. One module per lesson:

- `utils.widgets.overfitting` (Lesson 01): `overfitting_explorer`, sliders for training-set size
  and epochs.
- `utils.widgets.loss_threshold` (Lesson 02): `threshold_explorer`, a slider over the loss
  attack's threshold.

Everything is re-exported here, so lessons write ``from utils.widgets import threshold_explorer``.
"""

from ._display import Explorer
from .loss_threshold import *  # noqa: F401,F403
from .loss_threshold import __all__ as _loss_threshold_all
from .overfitting import *  # noqa: F401,F403
from .overfitting import __all__ as _overfitting_all

__all__ = ["Explorer", *_overfitting_all, *_loss_threshold_all]
