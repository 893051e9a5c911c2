"""The course's progress bar: `tqdm`, drawn so that a saved notebook shows how it ended.

`tqdm.auto` draws an ipywidgets bar in a notebook. A saved copy (the static course pages, a graded
notebook, a colleague's download) keeps only the widget's text fallback from the moment it was first
drawn, so every bar reads "0%| | 0/30" forever. This bar is plain text in a display that it keeps
updating (``update_display_data``), so a saved copy shows its last state: the finished count for a
bar that stays (``leave=True``), nothing for one that goes (``leave=False``). In a terminal it is
tqdm's own text bar.

    from utils.progress import progress_bar
    for epsilon in progress_bar(EPSILONS, desc="targets"):
        ...

`progress_bar` takes tqdm's arguments (``desc``, ``total``, ``unit``, ``leave``, ``disable``, ...): the
bar counts what ``desc`` and ``unit`` say, so name the thing one step is (an epoch, a model, a target).
"""

from __future__ import annotations

import io

from tqdm.std import tqdm as _text_tqdm

__all__ = ["progress_bar", "in_notebook"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a display can be updated), False in a terminal or a test."""
    try:
        from IPython import get_ipython
    except ImportError:  # IPython is a requirement, but the library must not depend on it to import
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class _SavedBar(_text_tqdm):
    """tqdm's text bar, written into one updatable notebook display instead of a terminal."""

    def __init__(self, *args, **kwargs):
        self._handle = None
        # tqdm writes carriage returns and newlines to its file; the display replaces them
        kwargs.setdefault("file", io.StringIO())
        kwargs.setdefault("ascii", False)
        kwargs.setdefault("ncols", 100)
        super().__init__(*args, **kwargs)

    def display(self, msg=None, pos=None):
        from IPython.display import display

        text = self.__str__() if msg is None else msg
        bundle = {"text/plain": text}
        if self._handle is None:
            if not text:
                return True
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
        return True


def progress_bar(iterable=None, **kwargs):
    """A progress bar over ``iterable`` (or of ``total`` steps, updated by hand), as `tqdm.tqdm`.

    Parameters
    ----------
    iterable : iterable, optional
        What to loop over; ``len()`` gives the total where it exists.
    **kwargs
        tqdm's own: ``desc`` (what is counted), ``total``, ``unit``, ``leave`` (keep the finished bar,
        default True), ``disable``, ...

    Returns
    -------
    tqdm
        Iterate over it, or call ``.update(n)`` and use it as a context manager, as with tqdm.
    """
    bar = _SavedBar if in_notebook() else _text_tqdm
    return bar(iterable, **kwargs)
