"""Figures for the notebooks: feature maps, Gram heatmaps, loss curves, image grids and progress strips.

Every function returns a matplotlib figure and never calls ``plt.show()``; in a notebook the returned figure is
displayed once. Figures are closed after creation (``plt.close``) so they are not shown twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from .images import tensor_to_pil


def _finish(fig: Figure) -> Figure:
    if fig.get_layout_engine() is None:  # constrained layouts place titles and colour bars themselves
        fig.tight_layout()
    plt.close(fig)
    return fig


def feature_maps(
    features: torch.Tensor, channels: Sequence[int] | int = 16, *, ncols: int = 8, title: str | None = None
) -> Figure:
    """A grid of single-channel activations of a (1, C, H, W) feature tensor; each map has its own colour range."""
    maps = features.detach().float().cpu()[0]
    indices = list(range(min(channels, maps.shape[0]))) if isinstance(channels, int) else list(channels)
    nrows = -(-len(indices) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.6 * ncols, 1.7 * nrows + 0.4), squeeze=False,
                             layout="constrained")  # each row's titles clear of the row above
    for ax in axes.flat:
        ax.axis("off")
    for ax, index in zip(axes.flat, indices, strict=False):
        ax.imshow(maps[index].numpy(), cmap="viridis")
        ax.set_title(f"ch {index}", fontsize=8)
    if title:
        fig.suptitle(title)
    return _finish(fig)


def _gram_array(gram: torch.Tensor, max_channels: int | None) -> tuple[np.ndarray, str]:
    """The matrix to draw and the words for which channels it holds ("channels 0-63 of 512")."""
    matrix = gram.detach().float().cpu().reshape(gram.shape[-2:]).numpy()
    total = matrix.shape[0]
    if max_channels and total > max_channels:
        return matrix[:max_channels, :max_channels], f"channels 0–{max_channels - 1} of {total}"
    return matrix, f"all {total} channels"


def gram_heatmap(
    gram: torch.Tensor, *, title: str = "Gram matrix", max_channels: int | None = 64, vmax: float | None = None
) -> Figure:
    """A (N, N) or (1, N, N) Gram matrix as a heatmap (first ``max_channels`` channels, said on the axes) with a
    colour bar from 0 (or the smallest value) to ``vmax`` (default: its largest value)."""
    matrix, shown = _gram_array(gram, max_channels)
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    image = ax.imshow(matrix, cmap="magma", vmin=min(0.0, float(matrix.min())), vmax=vmax)
    fig.colorbar(image, ax=ax, fraction=0.046).set_label("G[i, j]")
    ax.set_title(title)
    ax.set_xlabel(f"channel j ({shown})")
    ax.set_ylabel("channel i")
    return _finish(fig)


def gram_heatmaps(grams: Mapping[str, torch.Tensor], *, layer: str, max_channels: int | None = 64) -> Figure:
    """Several Gram matrices of one layer side by side on one colour scale, so their values can be compared."""
    arrays = {title: _gram_array(gram, max_channels) for title, gram in grams.items()}
    low = min(0.0, *(float(matrix.min()) for matrix, _ in arrays.values()))
    high = max(float(matrix.max()) for matrix, _ in arrays.values())
    fig, axes = plt.subplots(1, len(arrays), figsize=(3.4 * len(arrays) + 1.0, 3.6), squeeze=False,
                             layout="constrained")
    for ax, (title, (matrix, shown)) in zip(axes[0], arrays.items(), strict=True):
        image = ax.imshow(matrix, cmap="magma", vmin=low, vmax=high)
        ax.set_title(title)
        ax.set_xlabel(f"channel j ({shown})", fontsize=8)
        ax.set_ylabel("channel i", fontsize=8)
    fig.suptitle(f"Gram matrices of {layer}, on one colour scale", fontsize=10)
    fig.colorbar(image, ax=list(axes[0]), fraction=0.046, pad=0.04).set_label("G[i, j]")
    return _finish(fig)


def loss_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]] | Sequence[float]], *, terms: Sequence[str] = ("total",),
    log: bool = True, title: str = "Loss per step",
) -> Figure:
    """Loss against step for one or several runs: ``{"run name": result.history}`` or ``{"run name": [values]}``."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for run, history in histories.items():
        series = {"": history} if not isinstance(history, Mapping) else {t: history[t] for t in terms if t in history}
        for term, values in series.items():
            label = f"{run} {term}".strip() if len(terms) > 1 or not run else run
            ax.plot(np.arange(1, len(values) + 1), values, label=label)
    ax.set_xlabel("step (one forward-backward pass)")
    ax.set_ylabel("loss")
    if log:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _finish(fig)


def image_grid(
    images: Sequence[Sequence[torch.Tensor]], *, row_titles: Sequence[str] = (), col_titles: Sequence[str] = (),
    size: float = 2.4,
) -> Figure:
    """A rows x columns grid of images (a list of rows), with optional row and column titles."""
    nrows, ncols = len(images), max(len(row) for row in images)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for r, row in enumerate(images):
        for c in range(ncols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(row):
                ax.imshow(tensor_to_pil(row[c]))
            if r == 0 and c < len(col_titles):
                ax.set_title(col_titles[c], fontsize=10)
            if c == 0 and r < len(row_titles):
                ax.set_ylabel(row_titles[r], fontsize=10)
    return _finish(fig)


def progress_strip(frames: Sequence[tuple[int, torch.Tensor]], *, max_frames: int = 6, size: float = 2.2) -> Figure:
    """Evenly chosen ``(step, image)`` frames of a run in one row, titled by step."""
    if not frames:
        raise ValueError("no frames to show: run with every=N to record frames")
    picks = np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int))
    chosen = [frames[i] for i in picks]
    return image_grid([[image for _, image in chosen]], col_titles=[f"step {step}" for step, _ in chosen], size=size)
