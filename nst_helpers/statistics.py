r"""Style statistics as losses: *what* of the style image's features the generated image has to match (notebook 08).

Each statistic has a **target**, computed once from the style's features at a layer, and a **distance** between the
features of the generated image and that target. The style loss is :math:`\sum_l w_l\, d_l`, as in notebook 03.

- ``"gram"`` (Gatys et al. 2016): the Gram matrix :math:`\hat G = F F^\top / M`, distance ``mean((G - A)**2)``; the
  textbook :func:`~nst_helpers.losses.gram_matrix` and :func:`~nst_helpers.losses.style_loss`, unchanged.
- ``"meanstd"`` (the statistics of AdaIN and instance normalization, Huang and Belongie 2017): each channel's mean
  :math:`\mu_i` and standard deviation :math:`\sigma_i` over the positions, stacked as a (B, 2, N) tensor; distance
  ``mean((stats - target)**2)``. Huang and Belongie add the two Euclidean norms; the mean square keeps every
  statistic on the scale of the relative losses (notebook 04).
- ``"sliced_wasserstein"`` (Heitz et al., CVPR 2021): the whole distribution of the feature vectors. Project both
  feature sets onto :math:`K` random unit directions, sort each projection, and compare the sorted values (the 1-D
  optimal transport): ``mean((sort(V^T F) - sort(V^T F_s))**2)``. The target is the style's (B, N, M) features.
  A run draws its directions once, :math:`K = 2N` per layer, from its own seeded generator (never the global random
  state), and keeps them: L-BFGS needs the same function at every evaluation (with directions drawn afresh at each
  evaluation it made no progress). When the two feature sets have different numbers of positions, both sorted lists
  are resampled to the larger count by linear interpolation of their quantile functions at :math:`(k + \tfrac12)/n`.

``"meanstd"`` and ``"sliced_wasserstein"`` run in plain float32 (features upcast from bfloat16 if needed); only the
Gram statistic has the speed wrappers of :mod:`nst_helpers.fast`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from .losses import gram_matrix, style_loss
from .settings import STATISTICS, named_choice

EPS = 1e-8  # added to the variance before the square root: a constant channel would have an infinite gradient


def mean_std(features: torch.Tensor) -> torch.Tensor:
    r"""(B, N, H, W) -> (B, 2, N): each channel's mean :math:`\mu_i` and standard deviation :math:`\sigma_i`."""
    flat = features.flatten(2)
    mean = flat.mean(dim=2)
    std = (flat.var(dim=2, unbiased=False) + EPS).sqrt()
    return torch.stack([mean, std], dim=1)


def adain(content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    r"""Adaptive instance normalization: :math:`\sigma_s (F_c - \mu_c) / \sigma_c + \mu_s`, channel by channel."""
    content_stats, style_stats = mean_std(content), mean_std(style)
    mean_c, std_c = content_stats[:, 0, :, None, None], content_stats[:, 1, :, None, None]
    mean_s, std_s = style_stats[:, 0, :, None, None], style_stats[:, 1, :, None, None]
    return std_s * (content - mean_c) / std_c + mean_s


def random_directions(channels: int, count: int, generator: torch.Generator | None) -> torch.Tensor:
    """(N, K) random unit vectors, uniform on the sphere (normalized Gaussians), from ``generator``."""
    directions = torch.randn(channels, count, generator=generator, dtype=torch.float64)
    return directions / directions.norm(dim=0, keepdim=True)


def resample_sorted(values: torch.Tensor, count: int) -> torch.Tensor:
    r"""Sorted values (..., M) -> (..., ``count``): the quantile function read at :math:`(k + \tfrac12)/\text{count}`.

    Value :math:`j` sits at quantile :math:`(j + \tfrac12)/M`; between two, linear interpolation; beyond the ends,
    the end value. With ``count == M`` the values come back unchanged.
    """
    size = values.shape[-1]
    if size == count:
        return values
    position = ((torch.arange(count, dtype=torch.float64) + 0.5) * size / count - 0.5).clamp(0, size - 1)
    low = position.floor().long()
    high = (low + 1).clamp(max=size - 1)
    share = (position - low).to(values.dtype).to(values.device)
    return values[..., low.to(values.device)] * (1 - share) + values[..., high.to(values.device)] * share


def sliced_wasserstein(
    flat: torch.Tensor, target: torch.Tensor, directions: torch.Tensor
) -> torch.Tensor:
    """Mean squared difference of the sorted projections of (B, N, M) and (B, N, M') features onto (N, K) directions."""
    directions = directions.to(flat.dtype).to(flat.device)
    mine = torch.sort(directions.T @ flat, dim=-1).values
    theirs = torch.sort(directions.T @ target.to(flat.dtype), dim=-1).values
    count = max(mine.shape[-1], theirs.shape[-1])
    return ((resample_sorted(mine, count) - resample_sorted(theirs, count)) ** 2).mean()


Directions = torch.Tensor | None  # (N, K) unit vectors for "sliced_wasserstein"; unused by the other statistics


@dataclass(frozen=True)
class Statistic:
    """A style statistic: its target from the style's features, and the distance of an image's features to it."""

    name: str
    target: Callable[[torch.Tensor], torch.Tensor]
    distance: Callable[[torch.Tensor, torch.Tensor, Directions], torch.Tensor]


def _gram_distance(features: torch.Tensor, target: torch.Tensor, directions: Directions) -> torch.Tensor:
    return style_loss({"layer": features}, {"layer": target}, {"layer": 1.0})


def _meanstd_distance(features: torch.Tensor, target: torch.Tensor, directions: Directions) -> torch.Tensor:
    return ((mean_std(features.float()) - target) ** 2).mean()


def _sliced_distance(features: torch.Tensor, target: torch.Tensor, directions: Directions) -> torch.Tensor:
    if directions is None:
        raise ValueError("the sliced Wasserstein distance needs its projection directions; see draw_directions")
    return sliced_wasserstein(features.float().flatten(2), target, directions)


def _flat_float(features: torch.Tensor) -> torch.Tensor:
    return features.float().flatten(2)


def _gram_float(features: torch.Tensor) -> torch.Tensor:
    return gram_matrix(features.float())


STATISTIC_FUNCTIONS = {
    "gram": Statistic("gram", _gram_float, _gram_distance),
    "meanstd": Statistic("meanstd", lambda features: mean_std(features.float()), _meanstd_distance),
    "sliced_wasserstein": Statistic("sliced_wasserstein", _flat_float, _sliced_distance),
}


def get_statistic(name: str, argument: str = "statistic") -> Statistic:
    """The statistic called ``name``; a one-line :class:`SettingsError` with a did-you-mean otherwise."""
    named_choice(argument, name, STATISTICS)
    return STATISTIC_FUNCTIONS[name]


def draw_directions(
    targets: Mapping[str, torch.Tensor], generator: torch.Generator | None, per_channel: int = 2
) -> dict[str, torch.Tensor]:
    """For each layer's (B, N, M) target, ``per_channel * N`` random unit directions, in layer order."""
    return {name: random_directions(target.shape[1], per_channel * target.shape[1], generator)
            for name, target in targets.items()}


def statistic_style_loss(
    features: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor], layer_weights: Mapping[str, float],
    statistic: str = "gram", directions: Mapping[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """``sum_l w_l * d(features_l, target_l)``; for ``"gram"`` exactly :func:`~nst_helpers.losses.style_loss`."""
    if statistic == "gram":
        return style_loss(features, targets, layer_weights)
    distance = get_statistic(statistic).distance
    directions = directions or {}
    return sum(weight * distance(features[name], targets[name], directions.get(name))
               for name, weight in layer_weights.items())
