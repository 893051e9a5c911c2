"""Deprecated: this module is `utils.widgets.display` now (import `show_explorer` from `utils.widgets`)."""

import warnings

from .display import Explorer, show_explorer

__all__ = ["Explorer", "show_explorer"]

warnings.warn("utils.widgets._display is now utils.widgets.display; write `from utils.widgets import show_explorer`.",
              DeprecationWarning, stacklevel=2)
