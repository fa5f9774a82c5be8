"""Tests of nst_helpers.plots: each function returns a closed figure with the expected axes, titles and data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from nst_helpers import plots


def _image(value: float, size: int = 8) -> torch.Tensor:
    return torch.full((1, 3, size, size), value)


def _with_images(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.images]


def _is_closed(fig: Figure) -> bool:
    """The plots module closes every figure, so a notebook shows it once (as the cell's result)."""
    return fig.number not in plt.get_fignums()


def test_feature_maps_draws_one_titled_panel_per_channel():
    features = torch.rand(1, 20, 6, 5)
    fig = plots.feature_maps(features, channels=16, ncols=8, title="relu1_1")
    assert isinstance(fig, Figure) and _is_closed(fig)
    assert len(fig.axes) == 16
    shown = _with_images(fig)
    assert [ax.get_title() for ax in shown] == [f"ch {i}" for i in range(16)]
    np.testing.assert_array_equal(shown[3].images[0].get_array(), features[0, 3].numpy())
    assert fig._suptitle.get_text() == "relu1_1"


def test_feature_maps_with_chosen_channels_leaves_spare_panels_empty():
    features = torch.rand(1, 10, 4, 4)
    fig = plots.feature_maps(features, channels=[9, 2, 5], ncols=2)
    assert len(fig.axes) == 4  # 2 rows of 2
    assert [ax.get_title() for ax in _with_images(fig)] == ["ch 9", "ch 2", "ch 5"]
    assert not fig.axes[3].images and not fig.axes[3].axison
    assert fig._suptitle is None


def test_feature_maps_with_fewer_channels_than_asked_shows_them_all():
    fig = plots.feature_maps(torch.rand(1, 3, 4, 4), channels=16, ncols=8)
    assert len(_with_images(fig)) == 3


def test_gram_heatmap_has_a_colour_bar_and_crops_to_max_channels():
    gram = torch.arange(100 * 100, dtype=torch.float32).reshape(1, 100, 100)
    fig = plots.gram_heatmap(gram, title="Gram of relu2_1", max_channels=64)
    assert isinstance(fig, Figure) and _is_closed(fig)
    assert len(fig.axes) == 2  # the heatmap and its colour bar
    heatmap = fig.axes[0]
    assert heatmap.get_title() == "Gram of relu2_1"
    assert (heatmap.get_xlabel(), heatmap.get_ylabel()) == ("channel j (channels 0–63 of 100)", "channel i")
    np.testing.assert_array_equal(heatmap.images[0].get_array(), gram[0, :64, :64].numpy())
    assert heatmap.images[0].colorbar is not None and fig.axes[1].get_ylabel() == "G[i, j]"
    assert heatmap.images[0].get_clim() == (0.0, 63 * 100 + 63)  # from 0 to the largest value shown, G[63, 63]


def test_gram_heatmap_without_a_limit_shows_every_channel():
    fig = plots.gram_heatmap(torch.rand(70, 70), max_channels=None)
    assert fig.axes[0].images[0].get_array().shape == (70, 70)
    assert fig.axes[0].get_title() == "Gram matrix" and fig.axes[0].get_xlabel() == "channel j (all 70 channels)"


def test_gram_heatmaps_share_one_colour_scale_so_they_can_be_compared():
    style, texture = torch.full((1, 80, 80), 4.0), torch.full((1, 80, 80), 1.0)
    style[0, 0, 0], texture[0, 1, 1] = 1e6, 4e5  # the sizes the issue saw: about 1e6 against 4e5
    fig = plots.gram_heatmaps({"style": style, "texture": texture}, layer="relu5_1", max_channels=64)
    assert isinstance(fig, Figure) and _is_closed(fig)
    heatmaps = _with_images(fig)
    assert [ax.get_title() for ax in heatmaps] == ["style", "texture"]
    assert [ax.images[0].get_clim() for ax in heatmaps] == [(0.0, 1e6), (0.0, 1e6)]
    assert all(ax.get_xlabel() == "channel j (channels 0–63 of 80)" for ax in heatmaps)
    assert heatmaps[1].images[0].get_array()[1, 1] == 4e5
    colour_bars = [ax for ax in fig.axes if ax not in heatmaps]
    assert len(colour_bars) == 1 and colour_bars[0].get_ylabel() == "G[i, j]"  # one bar for both
    assert "one colour scale" in fig._suptitle.get_text() and "relu5_1" in fig._suptitle.get_text()


def test_loss_curves_draws_one_line_per_run_with_its_values():
    runs = {"lbfgs": [10.0, 5.0, 2.5, 1.0], "adam": [10.0, 8.0, 6.0]}
    fig = plots.loss_curves(runs, title="Optimizers")
    assert isinstance(fig, Figure) and _is_closed(fig)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 2
    for line, (run, values) in zip(lines, runs.items(), strict=True):
        assert line.get_label() == run
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(values) + 1))
        np.testing.assert_array_equal(line.get_ydata(), values)
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "Optimizers"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["lbfgs", "adam"]


def test_loss_curves_of_histories_picks_the_asked_terms():
    history = {"total": [3.0, 2.0], "content": [1.0, 0.5], "style": [2.0, 1.5]}
    fig = plots.loss_curves({"run": history}, terms=("content", "style", "missing"), log=False)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["run content", "run style"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [2.0, 1.5])
    assert ax.get_yscale() == "linear"


def test_loss_curves_of_a_history_shows_the_total_by_default():
    fig = plots.loss_curves({"a": {"total": [4.0, 3.0], "style": [1.0, 1.0]}})
    (line,) = fig.axes[0].get_lines()
    assert line.get_label() == "a"
    np.testing.assert_array_equal(line.get_ydata(), [4.0, 3.0])


def test_image_grid_has_rows_columns_and_titles():
    rows = [[_image(0.1), _image(0.2), _image(0.3)], [_image(0.4), _image(0.5)]]
    fig = plots.image_grid(rows, row_titles=["first", "second"], col_titles=["a", "b", "c"])
    assert isinstance(fig, Figure) and _is_closed(fig)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"]
    assert [ax.get_title() for ax in fig.axes[3:]] == ["", "", ""]
    assert [fig.axes[0].get_ylabel(), fig.axes[3].get_ylabel()] == ["first", "second"]
    assert [len(ax.images) for ax in fig.axes] == [1, 1, 1, 1, 1, 0]  # the short second row leaves a gap
    assert fig.axes[4].images[0].get_array()[0, 0, 0] == round(0.5 * 255)


def test_progress_strip_picks_evenly_spaced_frames_and_titles_them_by_step():
    frames = [(step, _image(step / 100)) for step in range(10, 101, 10)]  # 10 frames
    fig = plots.progress_strip(frames, max_frames=4)
    assert isinstance(fig, Figure) and _is_closed(fig)
    assert len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes] == ["step 10", "step 40", "step 70", "step 100"]
    assert [ax.images[0].get_array()[0, 0, 0] for ax in fig.axes] == [round(v * 255) for v in (0.1, 0.4, 0.7, 1.0)]


def test_progress_strip_shows_every_frame_when_there_are_few():
    frames = [(1, _image(0.0)), (2, _image(1.0))]
    fig = plots.progress_strip(frames, max_frames=6)
    assert [ax.get_title() for ax in fig.axes] == ["step 1", "step 2"]


def test_progress_strip_without_frames_says_how_to_record_them():
    with pytest.raises(ValueError, match="no frames to show: run with every=N"):
        plots.progress_strip([])
