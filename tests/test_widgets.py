"""utils.widgets: each widget displays its controls and a figure that is an ordinary image output,
and moving a control updates that same output."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

widgets = pytest.importorskip("ipywidgets")
from IPython.utils.capture import capture_output  # noqa: E402

from utils.data import make_membership_split  # noqa: E402
from utils.widgets import Explorer, overfitting_explorer, threshold_explorer  # noqa: E402


def toy_attack(n=400, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(n // 2, int), np.zeros(n - n // 2, int)]
    return labels, -rng.lognormal(-3.0 - labels, 1.5)


def test_threshold_explorer_shows_controls_and_a_png_figure(shell):
    labels, scores = toy_attack()
    open_before = set(plt.get_fignums())  # figures other tests left open are not this explorer's
    with capture_output() as shown:
        explorer = threshold_explorer(labels, scores, max_loss=0.01)
    controls, figure = shown.outputs
    assert "application/vnd.jupyter.widget-view+json" in controls.data
    assert controls.data["text/plain"].startswith("[slider: the loss threshold")
    assert "VBox" not in controls.data["text/plain"]
    assert "image/png" in figure.data  # an ordinary output: a saved notebook keeps it
    assert isinstance(explorer, Explorer) and explorer.redraws == 1
    slider = explorer.controls.children[0]
    assert isinstance(slider, widgets.FloatLogSlider) and slider.value == pytest.approx(0.01)
    with capture_output() as updated:
        slider.value = 0.1
    (update,) = updated.outputs
    assert explorer.redraws == 2 and update.update and "image/png" in update.data  # the same output, updated in place
    assert set(plt.get_fignums()) <= open_before  # every figure closed after display: none drawn twice


def test_explorer_displays_nothing_more_when_it_is_the_last_expression(shell):
    labels, scores = toy_attack()
    with capture_output():
        explorer = threshold_explorer(labels, scores)
    with capture_output() as again:
        shell.display_formatter.format(explorer)
        from IPython.display import display

        display(explorer)
    assert again.outputs == []


def test_overfitting_explorer_caches_settings_already_seen(shell, monkeypatch):
    from utils.experiments import OverfitReport
    from utils.widgets import overfitting as module

    calls = []

    def fake_train_and_measure(X, y, split, *, n_train, epochs, seed):
        calls.append((n_train, epochs))
        rng = np.random.default_rng(n_train + epochs)
        return OverfitReport(rng.uniform(1e-4, 1, n_train), rng.uniform(1e-4, 1, 50), np.ones(n_train), np.ones(50),
                             1.0, 0.9, n_train, epochs)

    monkeypatch.setattr(module, "train_and_measure", fake_train_and_measure)
    y = np.repeat(np.arange(10), 40)
    split = make_membership_split(y, n_members=100, n_nonmembers=100)
    X = np.zeros((400, 4), np.float32)
    with capture_output() as shown:
        explorer = overfitting_explorer(X, y, split, n_train=50, epochs=10)
    assert "image/png" in shown.outputs[1].data and "50 records and 10 epochs" in shown.outputs[0].data["text/plain"]
    sizes, epochs = explorer.controls.children
    with capture_output():
        sizes.value = 100
        epochs.value = 20
        sizes.value = 50
        epochs.value = 10  # back to the start: redrawn from the cache
    assert calls == [(50, 10), (100, 10), (100, 20), (50, 20)] and explorer.redraws == 5


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_train": 500}, "need n_train <= 100 members"), ({"epochs": 0}, "epochs must be an integer >= 1"),
     ({"epochs": 200}, "epochs <= max_epochs = 100")],
)
def test_overfitting_explorer_rejects_bad_settings(kwargs, match):
    y = np.repeat(np.arange(10), 40)
    split = make_membership_split(y, n_members=100, n_nonmembers=100)
    with pytest.raises(ValueError, match=match):
        overfitting_explorer(np.zeros((400, 4), np.float32), y, split, **kwargs)


def test_threshold_explorer_rejects_scores_that_are_not_minus_losses():
    labels, scores = toy_attack()
    with pytest.raises(ValueError, match="minus the loss"):
        threshold_explorer(labels, -scores)
    with pytest.raises(ValueError, match="max_loss must be a positive number"):
        threshold_explorer(labels, scores, max_loss=True)


def test_a_widget_cell_of_an_executed_notebook_carries_an_image_output(tmp_path):
    """What a saved notebook keeps: run one widget cell in a real kernel and read its outputs."""
    import os
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    root = Path(__file__).resolve().parents[1]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        f"import sys; sys.path.insert(0, {str(root)!r})\n"
        "import numpy as np\nfrom utils.widgets import threshold_explorer\n"
        "rng = np.random.default_rng(0)\nlabels = np.r_[np.ones(50, int), np.zeros(50, int)]\n"
        "threshold_explorer(labels, -rng.lognormal(-3.0 - labels, 1.5))")]
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])  # no TCP-encryption warning
    with client.setup_kernel(env=env):
        client.execute_cell(nb.cells[0], 0)
    outputs = nb.cells[0].outputs
    kinds = [sorted(o.get("data", {})) for o in outputs]
    assert any("image/png" in k for k in kinds), kinds
    assert not any("VBox" in o.get("data", {}).get("text/plain", "") for o in outputs)
    assert not any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in outputs)


def test_the_status_line_names_the_setting_the_figure_shows(shell):
    labels, scores = toy_attack()
    with capture_output():
        explorer = threshold_explorer(labels, scores, max_loss=0.01)
    status = explorer.status
    assert status.value == "figure below: max loss = 0.01"
    seen = []
    status.observe(lambda change: seen.append(change["new"]), names="value")
    with capture_output():
        explorer.controls.children[0].value = 0.1
    assert seen == ["<i>drawing the figure for max loss = 0.1 ...</i>", "figure below: max loss = 0.1"]


def test_threshold_slider_has_a_usable_range_and_a_text_box(shell):
    labels, scores = toy_attack()
    losses = -scores
    with capture_output():
        explorer = threshold_explorer(labels, scores, max_loss=0.01)
    slider, typed = explorer.controls.children
    decades = slider.max - slider.min
    assert 10**slider.min <= np.quantile(losses, 0.01) and 10**slider.max >= losses.max()
    assert decades <= np.log10(losses.max() / np.quantile(losses, 0.01)) + 1.0  # not the 12 decades of the min
    assert int(slider.layout.width.rstrip("px")) / decades >= 50  # pixels per decade
    with capture_output():
        typed.value = 0.2
    assert slider.value == pytest.approx(0.2) and explorer.redraws == 2
