r"""The paper's own loss, exactly as Gatys et al. write it, run once beside the course's relative losses in notebook 04.

- content at layer :math:`l`: :math:`\tfrac12\sum_{ij}(F^l_{ij}-P^l_{ij})^2`;
- Gram matrix: :math:`G^l = F^l F^{l\top}`, a sum over the :math:`M_l` positions (not a mean);
- style: :math:`\sum_l w_l E_l` with :math:`E_l = \frac{1}{4N_l^2M_l^2}\sum_{ij}(G^l_{ij}-A^l_{ij})^2`;
- total: :math:`\alpha\,\mathcal{L}_{content} + \beta\,\mathcal{L}_{style}`, no total variation, no range penalty.

The paper's ``conv4_2`` is our ``relu4_2``: Caffe rectified its conv blobs in place. Its content term is a sum over
:math:`N_l M_l` terms, so it grows with the image while :math:`E_l` does not, and one :math:`\alpha/\beta` holds at one
size only; the course's relative losses (:mod:`nst_helpers.robust`) remove that dependence.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .vgg import CONTENT_LAYER, STYLE_LAYERS, VGG19Features


def paper_content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``1/2 * sum((F - P)**2)``."""
    return 0.5 * ((features - target) ** 2).sum()


def paper_gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(1, N, H, W) -> (N, N): ``F F^T``, summed over positions."""
    flat = features.reshape(features.shape[1], -1)
    return flat @ flat.T


def paper_layer_style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """``E_l = sum((G - A)**2) / (4 N^2 M^2)``."""
    channels, positions = features.shape[1], features.shape[2] * features.shape[3]
    return ((paper_gram_matrix(features) - target_gram) ** 2).sum() / (4 * channels**2 * positions**2)


class PaperObjective:
    """``image -> {"content", "style", "total"}`` with the paper's sums and ``w_l = 1/L``."""

    def __init__(
        self, model: VGG19Features, content: torch.Tensor, style: torch.Tensor, *, alpha: float = 1.0,
        beta: float = 1e4, content_layer: str = CONTENT_LAYER, style_layers: Sequence[str] = STYLE_LAYERS,
    ) -> None:
        self.model, self.alpha, self.beta = model, alpha, beta
        self.content_layer, self.style_layers = content_layer, list(style_layers)
        with torch.no_grad():
            self.content_target = model(content, [content_layer])[content_layer]
            style_features = model(style, self.style_layers)
            self.style_targets = {name: paper_gram_matrix(style_features[name]) for name in self.style_layers}

    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.model(image, [self.content_layer, *self.style_layers])
        content = self.alpha * paper_content_loss(features[self.content_layer], self.content_target)
        weight = 1.0 / len(self.style_layers)
        style = self.beta * sum(weight * paper_layer_style_loss(features[name], self.style_targets[name])
                                for name in self.style_layers)
        return {"content": content, "style": style, "total": content + style}
