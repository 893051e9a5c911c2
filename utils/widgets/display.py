"""How every course widget shows itself: controls, plus a figure that is an ordinary output.

A slider lives only while a kernel runs; a saved notebook, its HTML copy or a static renderer
keeps only ordinary outputs. So each widget draws its figure with ``display(fig, display_id=...)``
(an ordinary ``image/png`` output) and *updates that same output* when a slider moves: the live
notebook shows one figure that follows the sliders, and a saved copy shows the last figure drawn.
The controls are shown with a plain-text stand-in instead of ipywidgets' ``VBox(children=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib.pyplot as plt

__all__ = ["Explorer", "show_explorer"]


@dataclass
class Explorer:
    """A displayed widget: its controls and the live figure they redraw.

    Attributes
    ----------
    controls : ipywidgets.Widget
        The sliders (set ``explorer.controls.children[i].value`` to move one from code).
    handle : IPython.display.DisplayHandle or None
        The figure's output, updated in place on every redraw (None outside IPython).
    redraws : int
        How many figures were drawn (1 after the first display).
    status : ipywidgets.HTML or None
        The line under the controls that names the setting the figure shows.
    """

    controls: object
    handle: object
    redraws: int = field(default=0)
    status: object = field(default=None)

    def _ipython_display_(self):  # already displayed by show_explorer: showing it again would duplicate it
        pass


def show_explorer(controls, draw, parameters: dict, *, description: str) -> Explorer:
    """Display `controls` and the figure ``draw(**values)`` returns, and redraw on every change.

    Parameters
    ----------
    controls : ipywidgets.Widget
        The box of sliders to display.
    draw : callable
        ``draw(**values) -> matplotlib Figure`` for the current slider values.
    parameters : dict of str -> ipywidgets value widget
        Keyword name of each slider in `draw`.
    description : str
        What a reader without a running kernel sees instead of the sliders.

    Under the controls a status line names the values the figure is for, and says "drawing ..."
    while a redraw runs: after quick moves the figure lags the sliders, and a reader should know
    which setting the picture shows.
    """
    import ipywidgets as widgets
    from IPython.display import display

    def current():
        return {name: widget.value for name, widget in parameters.items()}

    def setting(values) -> str:
        def shown(name, value):
            label = getattr(parameters[name], "label", None)  # a selection's label ("non-private", not inf)
            if isinstance(label, str) and label:
                return label
            return f"{value:.2g}" if isinstance(value, float) else str(value)

        return ", ".join(f"{getattr(parameters[n], 'description', '') or n} = {shown(n, v)}" for n, v in values.items())

    status = widgets.HTML(layout=widgets.Layout(margin="0 0 0 8px"))
    status.add_class("course-figure-status")

    def figure():
        values = current()
        status.value = f"<i>drawing the figure for {setting(values)} ...</i>"
        fig = draw(**values)
        plt.close(fig)  # shown by display only, once, under any matplotlib backend
        status.value = f"figure below: {setting(values)}"
        return fig

    bundle = widgets.VBox([controls, status])._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    shown = {key: value for key, value in bundle.items() if key != "text/plain"}
    display(shown | {"text/plain": description}, raw=True)
    explorer = Explorer(controls, display(figure(), display_id=True), 1, status)

    def redraw(_change):
        fig = figure()
        if explorer.handle is not None:  # None outside IPython, where display only prints
            explorer.handle.update(fig)
        explorer.redraws += 1

    for widget in parameters.values():
        widget.observe(redraw, names="value")
    return explorer
