r"""Textbook core: the losses of neural style transfer, exactly as notebooks 02-04 build them.

Notation (Gatys et al. 2016): a layer :math:`l` has :math:`N_l` channels and :math:`M_l = H_l W_l` positions;
:math:`F^l` is the :math:`N_l \times M_l` feature matrix of the generated image, :math:`P^l` that of the content image,
:math:`G^l = F^l F^{l\top}` and :math:`A^l` the Gram matrices of the generated and the style image.

How these means map to the paper's sums (the one place it is written down):

- content: paper :math:`\tfrac12 \sum (F-P)^2`; here the mean of :math:`(F-P)^2`, the paper's times :math:`2/(N M)`.
- Gram matrix: paper :math:`G = F F^\top`; here :math:`G / M`, a mean over positions.
- style, one layer: paper :math:`E_l = \tfrac{1}{4N^2M^2}\sum (G-A)^2`; here the mean of :math:`(G/M - A/M)^2`,
  the paper's :math:`E_l` times 4. Layers are combined with weights :math:`w_l`, as in the paper.
- total variation (not in the paper): the mean squared difference of neighbouring pixels.

The paper's content loss is a sum over :math:`N M` terms, so it grows with the image while its style loss does not;
means keep the balance of the terms closer to one across image sizes. The speed-ups of the same formulas (a cheaper
Gram backward pass, bfloat16) are in :mod:`nst_helpers.fast`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of two feature maps: ``mean((F - P)**2)``."""
    return ((features - target) ** 2).mean()


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(B, N, H, W) features -> (B, N, N) channel correlations averaged over positions: ``F F^T / M``."""
    batch, channels, height, width = features.shape
    flat = features.reshape(batch, channels, height * width)
    return flat @ flat.transpose(1, 2) / (height * width)


def style_loss(
    features: Mapping[str, torch.Tensor],
    target_grams: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float],
) -> torch.Tensor:
    """``sum_l w_l * mean((G_l - A_l)**2)`` over the layers of ``layer_weights`` (targets are Gram matrices)."""
    loss = 0.0
    for name, weight in layer_weights.items():
        gram = gram_matrix(features[name])
        loss = loss + weight * ((gram - target_grams[name]) ** 2).mean()
    return loss


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation: mean squared difference of horizontal plus of vertical neighbours (smooths pixel noise)."""
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return (dx**2).mean() + (dy**2).mean()


def total_loss(terms: Mapping[str, torch.Tensor], weights: Mapping[str, float]) -> torch.Tensor:
    """The weighted sum of the loss terms: ``sum(weights[name] * terms[name])``."""
    return sum(weights[name] * value for name, value in terms.items())


def equal_layer_weights(layers: Mapping[str, float] | list[str] | tuple[str, ...]) -> dict[str, float]:
    """A layer list (equal weights, the paper's :math:`w_l = 1/L`) or ``{layer: weight}``, scaled to sum to 1."""
    weights = dict(layers) if isinstance(layers, Mapping) else {name: 1.0 for name in layers}
    total = sum(weights.values())
    return {name: weight / total for name, weight in weights.items()}
