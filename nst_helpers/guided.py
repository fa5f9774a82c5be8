r"""Guided Gram matrices: one style per region of the image, or per range of layers (Gatys et al. 2017, section 5).

A Gram matrix has no *where*, so a mask can say which positions it averages over. With the region's mask
:math:`m` brought to the resolution of layer :math:`l` (area averaging: a border cell gets the share of it that lies
inside), the guided Gram matrix is a weighted mean over positions,

.. math:: G^l[m] = \frac{(F^l \circ m)(F^l \circ m)^\top}{\sum_p m_p^2},

equal to the plain :func:`~nst_helpers.losses.gram_matrix` when :math:`m = 1` (normalizing by the mask's area keeps
a small region's statistics on the same scale as a large one's). The style loss sums one term per region,
:math:`\sum_r \sum_l w_l \lVert G^l[m_r] - A^l_r \rVert^2` (relative errors, as everywhere in the package).

A :class:`Region` is a style image with, optionally, a mask on the result (where it applies), a mask on the style
image (which part of it to read, for inpainting), and the layers it owns (scale mixing: fine layers from one style,
coarse from another).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .errors import SettingsError
from .fast import fast_gram_matrix, upcast
from .images import load_image
from .losses import content_loss, equal_layer_weights, gram_matrix, tv_loss
from .objective import StyleObjective
from .robust import mean_square
from .vgg import STYLE_LAYERS


@dataclass
class Region:
    """A style target: ``style`` (1, 3, H, W); ``mask`` on the result (None: everywhere); ``source_mask`` on the
    style image (None: all of it); ``layers`` it owns (None: every style layer)."""

    style: torch.Tensor | int  # an image, or the index of a style in the list given to stylize
    mask: torch.Tensor | None = None
    source_mask: torch.Tensor | None = None
    layers: Sequence[str] | None = None


def load_mask(source: Any, like: torch.Tensor, name: str = "mask") -> torch.Tensor:
    """A mask (white = the region) as a float tensor (1, 1, H, W) in [0, 1] at the size of ``like``.

    ``source``: a boolean or number array or tensor, a PIL image or an image file. Colour masks are averaged to grey;
    soft values are kept. A mask of another size is resized, with a warning saying so. An all-black mask is an error.
    """
    if isinstance(source, np.ndarray | torch.Tensor) and source.dtype in (np.bool_, torch.bool):
        source = torch.as_tensor(np.asarray(source) if isinstance(source, np.ndarray) else source).float()
    if isinstance(source, torch.Tensor) and source.ndim == 4 and source.shape[:2] == (1, 1):
        source = source[0]  # a (1, 1, H, W) mask, as this module returns them
    mask = load_image(source).mean(dim=1, keepdim=True)
    height, width = like.shape[-2:]
    if mask.shape[-2:] != (height, width):
        warnings.warn(f"{name} is {mask.shape[-1]}x{mask.shape[-2]} px, the image {width}x{height} px: the mask was "
                      "resized to the image", stacklevel=2)
        mask = F.interpolate(mask, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
    mask = mask.clamp(0, 1)
    if float(mask.max()) < 1e-3:
        raise SettingsError(f"{name} is empty (all black); paint the region white")
    return mask


def layer_mask(mask: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """``mask`` at a layer's resolution: each cell the mean of the pixels it covers."""
    return F.interpolate(mask, size=tuple(size), mode="area")


def guided_gram(features: torch.Tensor, mask: torch.Tensor | None, textbook: bool = False) -> torch.Tensor:
    """``(F m)(F m)^T / sum(m**2)``; the plain Gram matrix when ``mask`` is None."""
    gram = gram_matrix if textbook else fast_gram_matrix
    if mask is None:
        return gram(features)
    weights = layer_mask(mask, features.shape[-2:])
    area = features.shape[-2] * features.shape[-1]
    return gram(features * weights.to(features.dtype)) * area / weights.pow(2).sum().clamp_min(1e-8)


def masked_content_loss(features: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """:func:`~nst_helpers.losses.content_loss` over the positions of ``mask`` only (a weighted mean)."""
    weights = layer_mask(mask, features.shape[-2:])
    squares = (upcast(features) - upcast(target)).pow(2) * weights
    return squares.sum() / (weights.sum().clamp_min(1e-8) * features.shape[1])


class GuidedObjective(StyleObjective):
    """:class:`~nst_helpers.objective.StyleObjective` whose style term is one guided term per :class:`Region`;
    ``content_mask`` restricts the content term to some positions (inpainting)."""

    def __init__(self, model: Any, *, regions: Sequence[Region], content_mask: torch.Tensor | None = None,
                 **options: Any) -> None:
        super().__init__(model, styles=(), **options)
        share = equal_layer_weights(options.get("style_layers", STYLE_LAYERS))  # w_l, summing to 1
        self.layers = self.layers | set(share)
        self.regions, self.content_mask = list(regions), content_mask
        self.region_weights: list[dict[str, float]] = []
        self.region_targets: list[dict[str, torch.Tensor]] = []
        with torch.no_grad():
            for region in self.regions:
                owned = [name for name in share if region.layers is None or name in region.layers]
                features = self.features(region.style)
                targets = {name: guided_gram(features[name], region.source_mask, self.textbook) for name in owned}
                self.region_targets.append(targets)
                self.region_weights.append({name: share[name] / mean_square(targets[name]) for name in owned})

    def style_term(self, features: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``sum_r sum_l w_l mean((G_l[m_r] - A_lr)**2) / mean(A_lr**2)``."""
        terms = [weight * (guided_gram(features[name], region.mask, self.textbook) - targets[name]).pow(2).mean()
                 for region, targets, weights in zip(self.regions, self.region_targets, self.region_weights,
                                                     strict=True)
                 for name, weight in weights.items()]
        return torch.stack(terms).sum()

    def terms(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.features(image)
        zero = image.new_zeros(())
        content = zero
        if self.content_target is not None:
            feature = features[self.content_layer]
            content = (content_loss(upcast(feature), upcast(self.content_target)) if self.content_mask is None
                       else masked_content_loss(feature, self.content_target, self.content_mask))
        return {"content": self.content_scale * content, "style": self.style_term(features),
                "tv": tv_loss(image) if self.weights["tv"] else zero}
