r"""Measuring a stylization: how far two images are in content and in style, as numbers (notebook 08).

Every distance is **relative and symmetric**: for statistics :math:`s(a)`, :math:`s(b)` of the two images at a layer,

.. math:: d(a, b) = \frac{\operatorname{mean}\,(s(a) - s(b))^2}{\tfrac12\left(\operatorname{mean}\,s(a)^2 +
   \operatorname{mean}\,s(b)^2\right)},

zero for identical statistics and at most 4 (opposite ones); style distances average it over the layers, equal weights.

- :func:`content_distance`: :math:`s` is the feature map itself, so position matters (same-size images only).
- :func:`style_distance`, ``kind="gram"``: the Gram matrix; ``"meanstd"``: the channel means and standard deviations;
  ``"sliced_wasserstein"``: the sorted projections of the feature vectors on random unit directions (Heitz et al.
  2021), the numerator their mean squared difference (quantile functions resampled to the larger position count,
  :func:`~nst_helpers.statistics.resample_sorted`) and the denominator the features' mean squares. The directions
  come from a generator seeded with ``seed``: the same for both images, so the distance is symmetric.

The defaults measure with layers no default run optimizes (:data:`HELD_OUT_LAYERS`, the last ReLU of each block;
runs use ``relu4_2`` and the ``reluB_1``), so a method is not judged only by the loss it minimized. ``weights``
chooses another judge, e.g. ``"random"`` (a VGG19 with random filters).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .errors import ImageError
from .losses import gram_matrix
from .statistics import get_statistic, mean_std, random_directions, resample_sorted
from .vgg import VGG19Features, load_vgg

HELD_OUT_LAYERS = ("relu1_2", "relu2_2", "relu3_4", "relu4_4", "relu5_4")
HELD_OUT_CONTENT_LAYER = "relu4_4"
KINDS = ("gram", "sliced_wasserstein", "meanstd")


def relative_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """``mean((a - b)**2) / (0.5 * (mean(a**2) + mean(b**2)))``; 0 when both are zero."""
    a, b = a.double(), b.double()
    scale = 0.5 * (a.pow(2).mean() + b.pow(2).mean())
    return float((a - b).pow(2).mean() / scale) if scale > 0 else 0.0


def sliced_relative_distance(a: torch.Tensor, b: torch.Tensor, directions: torch.Tensor) -> float:
    """Relative sliced Wasserstein distance of (B, N, H, W) features ``a`` and ``b`` along (N, K) ``directions``."""
    flat_a, flat_b = a.double().flatten(2), b.double().flatten(2)
    directions = directions.double().to(flat_a.device)
    mine = torch.sort(directions.T @ flat_a, dim=-1).values
    theirs = torch.sort(directions.T @ flat_b, dim=-1).values
    count = max(mine.shape[-1], theirs.shape[-1])
    numerator = (resample_sorted(mine, count) - resample_sorted(theirs, count)).pow(2).mean()
    scale = 0.5 * (flat_a.pow(2).mean() + flat_b.pow(2).mean())
    return float(numerator / scale) if scale > 0 else 0.0


def feature_style_distance(a: torch.Tensor, b: torch.Tensor, kind: str = "gram", seed: int = 0) -> float:
    """The relative style distance of two (B, N, H, W) feature maps (sizes may differ) by statistic ``kind``."""
    get_statistic(kind, argument="kind")
    if kind == "gram":
        return relative_distance(gram_matrix(a.double()), gram_matrix(b.double()))
    if kind == "meanstd":
        return relative_distance(mean_std(a.double()), mean_std(b.double()))
    channels = a.shape[1]
    directions = random_directions(channels, 2 * channels, torch.Generator().manual_seed(seed))
    return sliced_relative_distance(a, b, directions)


def _features(model: VGG19Features, images: Sequence[torch.Tensor], layers: Sequence[str]) -> list[dict]:
    with torch.no_grad():
        return [model(image, layers) for image in images]


def content_distance(
    a: torch.Tensor, b: torch.Tensor, layer: str = HELD_OUT_CONTENT_LAYER, *, weights: str = "original",
    model: VGG19Features | None = None,
) -> float:
    """Relative distance of the feature maps of two same-size images at ``layer`` (position by position)."""
    if a.shape[-2:] != b.shape[-2:]:
        raise ImageError(f"content_distance compares positions: the images must have one size, got "
                         f"{tuple(a.shape[-2:])} and {tuple(b.shape[-2:])}; resize one with resize_longest_side")
    model = load_vgg(weights) if model is None else model
    features_a, features_b = _features(model, [a, b], [layer])
    return relative_distance(features_a[layer], features_b[layer])


def style_distance(
    a: torch.Tensor, b: torch.Tensor, kind: str = "gram", layers: Sequence[str] = HELD_OUT_LAYERS, *,
    weights: str = "original", model: VGG19Features | None = None, seed: int = 0,
) -> float:
    """Relative style distance of two images (any sizes), averaged over ``layers``; ``kind`` is the statistic."""
    get_statistic(kind, argument="kind")
    layers = list(layers)
    model = load_vgg(weights) if model is None else model
    features_a, features_b = _features(model, [a, b], layers)
    distances = [feature_style_distance(features_a[name], features_b[name], kind, seed) for name in layers]
    return sum(distances) / len(distances)
