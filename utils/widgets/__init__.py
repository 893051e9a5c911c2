"""Interactive controls for the lessons, and the plain functions behind them.

Each control is a thin `ipywidgets` layer over a plain function that a notebook can also call
without widgets, so an executed notebook shows its figure even where no widget frontend runs.
One module per lesson:

- `utils.widgets.overfitting` (Lesson 01): `measure_overfitting`, `plot_overfitting`,
  `plot_loss_tails`, `generalization_curve`, and the `overfitting_explorer` sliders.
- `utils.widgets.threshold` (Lesson 02): `membership_game`, `plot_loss_threshold`, and the
  `threshold_explorer` slider.

Everything is re-exported here, so lessons write ``from utils.widgets import threshold_explorer``.
"""

from .overfitting import *  # noqa: F401,F403
from .overfitting import __all__ as _overfitting_all
from .threshold import *  # noqa: F401,F403
from .threshold import __all__ as _threshold_all

__all__ = [*_overfitting_all, *_threshold_all]
