r"""The three losses of neural style transfer, normalized so one set of weights works at every image size.

Notation (Gatys et al. 2016): a layer :math:`l` has :math:`N_l` channels and :math:`M_l = H_l W_l` positions;
:math:`F^l` is the :math:`N_l \times M_l` feature matrix of the generated image, :math:`P^l` that of the content image,
:math:`G^l = F^l F^{l\top}` and :math:`A^l` the Gram matrices of the generated and the style image.

How our normalized losses map to the paper's (this is the one place it is written down):

- content: paper :math:`\tfrac12 \sum (F-P)^2`; here the mean of :math:`(F-P)^2`, which is the paper's times
  :math:`2/(N M)`.
- Gram matrix: paper :math:`G = F F^\top`; here :math:`G / M`, a mean over positions.
- style, one layer: paper :math:`\tfrac{1}{4N^2M^2}\sum (G-A)^2`; here the mean of :math:`(G/M - A/M)^2`, which
  is the paper's times 4. Layers are combined with weights :math:`w_l` (equal by default), as in the paper.
- total variation (not in the paper): the mean squared difference of neighbouring pixels.

The paper's content loss is a sum over :math:`N M` terms, so it grows with the image while its style loss does not;
the weight ratio the paper tunes (:math:`\alpha/\beta`) therefore only holds at one size. Means fix that.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F


def _at_least_float32(tensor: torch.Tensor) -> torch.Tensor:
    """Upcast bfloat16/float16 to float32 (sums over many positions lose accuracy in 16 bits); keep float64."""
    return tensor.float() if tensor.dtype in (torch.bfloat16, torch.float16) else tensor


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between two feature maps of the same shape (paper's loss times 2/(N M))."""
    if features.shape != target.shape:
        raise ValueError(
            f"content_loss: features {tuple(features.shape)} and target {tuple(target.shape)} differ in shape; "
            "compute both at the same image size"
        )
    return F.mse_loss(_at_least_float32(features), _at_least_float32(target))


class _GramProduct(torch.autograd.Function):
    r""":math:`F F^\top` for (B, N, M) features, with a backward pass of one matrix product instead of two.

    Autograd would differentiate ``F @ F.transpose`` as two products, one for each factor, and add them. Since
    :math:`d(F F^\top) = dF\,F^\top + F\,dF^\top`, the gradient is :math:`(\bar G + \bar G^\top) F`: one N x N sum,
    then one product. This saves a third of the Gram arithmetic per step (checked by ``gradcheck`` in the tests).
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, flat: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(flat)
        return flat @ flat.transpose(1, 2)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad_gram: torch.Tensor) -> torch.Tensor:
        (flat,) = ctx.saved_tensors
        return (grad_gram + grad_gram.transpose(1, 2)) @ flat


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Channel correlations averaged over positions: ``G[b, i, j] = mean_k F[b, i, k] F[b, j, k]``.

    Takes (B, N, H, W), returns (B, N, N); bfloat16 features are upcast first, so the Gram matrix is float32.
    Computes ``flat @ flat.transpose(1, 2) / (H W)`` with a cheaper backward pass (:class:`_GramProduct`).
    """
    if features.dim() != 4:
        raise ValueError(f"gram_matrix expects features shaped (B, N, H, W), got {tuple(features.shape)}")
    batch, channels, height, width = features.shape
    flat = _at_least_float32(features).reshape(batch, channels, height * width)
    return _GramProduct.apply(flat) / (height * width)


def style_loss(
    features: Mapping[str, torch.Tensor],
    target_grams: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float] | None = None,
) -> torch.Tensor:
    """Weighted sum over layers of the mean squared Gram difference (paper's :math:`E_l` times 4).

    ``layer_weights`` defaults to 1 / (number of layers) for each layer of ``target_grams``, the paper's
    :math:`w_l`. Targets are Gram matrices (compute them once); sizes of style and generated image may differ.
    """
    if layer_weights is None:
        layer_weights = {name: 1.0 / len(target_grams) for name in target_grams}
    missing = [name for name in layer_weights if name not in features or name not in target_grams]
    if missing:
        raise KeyError(f"style_loss: no features or target Gram for layer(s) {missing}")
    terms = [
        weight * F.mse_loss(gram_matrix(features[name]), _at_least_float32(target_grams[name]))
        for name, weight in layer_weights.items()
    ]
    return torch.stack(terms).sum()


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation: mean squared difference between horizontal and between vertical neighbours.

    Penalizes pixel-level noise; the sum of the two means keeps it independent of image size.
    """
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return _at_least_float32(dx).pow(2).mean() + _at_least_float32(dy).pow(2).mean()
