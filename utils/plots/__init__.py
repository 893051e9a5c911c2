"""Every figure helper of the course (as d2l keeps its plots in one place).

Every function takes an optional matplotlib ``ax`` (or ``axes``) and returns it, so cells can
combine plots. Colours come from the Okabe-Ito palette, which stays distinguishable for
colour-blind readers; each attack has one look across the course (`attack_style`). Importing this
package changes no matplotlib settings.

One module per topic; each lesson's helpers are re-exported here, so lessons write
``from utils.plots import plot_roc``:

- `base`: palette, attack styles, ROC curves, member/non-member histograms, digits (lessons 01-03).
- `bars`: `plot_grouped_bars`, grouped bars with optional interval whiskers (every lesson).
- `overfitting`: the generalisation gap, loss histograms and tails, one record's loss (lesson 01).
- `defenses`: `plot_privacy_utility`, test accuracy against an attack's TPR at low FPR (lessons 05-07).
- `membership`: the membership game, one loss threshold, linear/log ROC pairs, degraded copies (lesson 02).
- `property`: attack accuracies with intervals, accuracy against the worlds' distance (lesson 04).
- `dp`: ROCs under the DP bound and the Gaussian-DP curve, epsilon sweeps, audits vs the accountant (lesson 06).
- `dp_public`: private training on public features against epsilon, an audit's ceiling (lesson 06b).
- `lm`: exposure against repetitions, a canary among its candidates, text-attack ROCs and AUCs (lesson 09).
- `capstone`: every allowed attack's ROC, the audit's privacy-utility chart, the ghost of deleted data (lesson 08).
- `layout`: point labels placed at draw time so that none overlaps another (`place_labels`), legends under the axes.
"""

from .bars import *  # noqa: F401,F403
from .bars import __all__ as _bars_all
from .base import *  # noqa: F401,F403
from .base import __all__ as _base_all
from .capstone import *  # noqa: F401,F403
from .capstone import __all__ as _capstone_all
from .defenses import *  # noqa: F401,F403
from .defenses import __all__ as _defenses_all
from .dp import *  # noqa: F401,F403
from .dp import __all__ as _dp_all
from .dp_public import *  # noqa: F401,F403
from .dp_public import __all__ as _dp_public_all
from .layout import *  # noqa: F401,F403
from .layout import __all__ as _layout_all
from .lm import *  # noqa: F401,F403
from .lm import __all__ as _lm_all
from .membership import *  # noqa: F401,F403
from .membership import __all__ as _membership_all
from .overfitting import *  # noqa: F401,F403
from .overfitting import __all__ as _overfitting_all
from .property import *  # noqa: F401,F403
from .property import __all__ as _property_all

__all__ = list(_base_all)
__all__ += _bars_all
__all__ += _membership_all + _overfitting_all
__all__ += _defenses_all
__all__ += _property_all
__all__ += _dp_all + _dp_public_all
__all__ += _capstone_all
__all__ += _layout_all
__all__ += _lm_all
