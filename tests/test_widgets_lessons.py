"""utils.widgets' lesson sliders (05: privacy-utility, 06: DP ROC) and the public `show_explorer`."""

import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

widgets = pytest.importorskip("ipywidgets")
from IPython.utils.capture import capture_output  # noqa: E402

import utils.widgets  # noqa: E402
from utils.widgets import Explorer, dp_roc_explorer, epsilon_label, privacy_utility_explorer, show_explorer  # noqa: E402


def test_show_explorer_is_public_and_the_private_path_still_works():
    from utils.widgets import display as _display

    assert show_explorer is _display.show_explorer and "show_explorer" in utils.widgets.__all__


def test_show_explorer_on_any_controls(shell):
    slider = widgets.IntSlider(value=2, min=1, max=5, description="k")
    drawn = []

    def draw(k):
        drawn.append(k)
        fig, ax = plt.subplots()
        ax.plot(range(k))
        return fig

    with capture_output() as shown:
        explorer = show_explorer(widgets.VBox([slider]), draw, {"k": slider}, description="[slider: k]")
    controls, figure = shown.outputs
    assert controls.data["text/plain"] == "[slider: k]" and "image/png" in figure.data
    with capture_output() as updated:
        slider.value = 4
    assert drawn == [2, 4] and explorer.redraws == 2 and updated.outputs[0].update
    assert explorer.status.value == "figure below: k = 4"


def test_privacy_utility_explorer_moves_the_highlighted_setting(shell):
    with capture_output() as shown:
        explorer = privacy_utility_explorer(
            [0.90, 0.88], [0.10, 0.05], labels=["none", "dropout 0.5"], grid_labels=["none", "1e-4", "1e-3"],
            grid_accuracies=[0.90, 0.89, 0.85], grid_tprs=[0.10, 0.06, 0.02], start=2)
    controls, figure = shown.outputs
    assert isinstance(explorer, Explorer) and "image/png" in figure.data
    assert controls.data["text/plain"].startswith("[slider: weight decay") and "1e-3" in controls.data["text/plain"]
    slider = explorer.controls.children[0]
    assert slider.value == "1e-3"
    with capture_output() as updated:
        slider.value = "1e-4"
    assert explorer.redraws == 2 and "image/png" in updated.outputs[0].data
    assert plt.get_fignums() == []
    with pytest.raises(ValueError, match="one entry per grid setting"):
        privacy_utility_explorer([0.9], [0.1], labels=["none"], grid_labels=["a", "b"], grid_accuracies=[0.9],
                                 grid_tprs=[0.1, 0.2])
    with pytest.raises(ValueError, match="start must index"):
        privacy_utility_explorer([0.9], [0.1], labels=["none"], grid_labels=["a"], grid_accuracies=[0.9],
                                 grid_tprs=[0.1], start=3)


def fake_runs(epsilons=(1.0, 4.0, math.inf)):
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(200, int), np.zeros(200, int)]
    return {e: SimpleNamespace(labels=labels, scores={"loss": rng.normal(size=400) + 0.2 * labels,
                                                      "lira-online": rng.normal(size=400) + 0.5 * labels},
                               training=SimpleNamespace(epsilon=e - 0.01 if math.isfinite(e) else math.inf),
                               mu=None if math.isinf(e) else e / 4)
            for e in epsilons}


def test_dp_roc_explorer_slides_over_the_trained_targets(shell):
    runs = fake_runs()
    with capture_output() as shown:
        explorer = dp_roc_explorer(runs, delta=1e-5)
    controls, figure = shown.outputs
    assert controls.data["text/plain"] == "[slider: epsilon of the DP target, one of 1, 4, non-private]"
    assert "image/png" in figure.data
    slider = explorer.controls.children[0]
    assert slider.value == 4.0 and [label for label, _ in slider.options] == ["1", "4", "non-private"]
    with capture_output() as updated:
        slider.value = math.inf
    assert explorer.redraws == 2 and "image/png" in updated.outputs[0].data
    assert "epsilon = non-private" in explorer.status.value
    with pytest.raises(ValueError, match="start must be one of"):
        dp_roc_explorer(runs, delta=1e-5, start=2.0)
    with pytest.raises(ValueError, match="runs is empty"):
        dp_roc_explorer({}, delta=1e-5)
    assert [epsilon_label(e) for e in (0.5, 8.0, math.inf)] == ["0.5", "8", "non-private"]
