"""Property inference: what does a model's training set look like as a whole? (Lesson 04)

- `worlds`: the two worlds and how their training sets are drawn (impossible worlds are errors);
- `game`: the two-world game, shadows on the attacker's share, victims on a disjoint share;
- `attacks`: victim-level attacks in one call shape (loss, threshold, KL, meta-classifiers);
- `metrics`: accuracy over victims with its interval, and n_leaked (Suri & Evans 2022);
- `exposure`: lesson 02's loss attack on each victim (the members' secrets, for question 2);
- `scenarios`: the lesson's worlds on real data (census settings (a)-(c), digits, Company X).
"""

from .attacks import *  # noqa: F401,F403
from .attacks import __all__ as _attacks_all
from .exposure import *  # noqa: F401,F403
from .exposure import __all__ as _exposure_all
from .game import *  # noqa: F401,F403
from .game import __all__ as _game_all
from .metrics import *  # noqa: F401,F403
from .metrics import __all__ as _metrics_all
from .worlds import *  # noqa: F401,F403
from .worlds import __all__ as _worlds_all

__all__ = [*_worlds_all, *_game_all, *_attacks_all, *_metrics_all, *_exposure_all]
