r"""Speed wrappers around the textbook losses and extractor: the same values, computed faster.

Each wrapper says how it differs from the textbook function and why; ``tests/test_fast.py`` checks each against the
textbook value within a stated tolerance.

- :func:`fast_features`: :func:`~nst_helpers.vgg.extract_features` in channels-last memory and, where the hardware
  runs it natively, under bfloat16 autocast (convolutions are most of a step; both make them faster).
- :func:`fast_gram_matrix`: :func:`~nst_helpers.losses.gram_matrix` with a backward pass of one matrix product
  instead of two, computed in float32 from bfloat16 features (sums over many positions lose accuracy in 16 bits).
- :func:`fast_content_loss`, :func:`fast_style_loss`: the textbook losses on float32 copies of bfloat16 features,
  the style loss with :func:`fast_gram_matrix`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch

from .losses import content_loss
from .vgg import VGG19Features


def upcast(tensor: torch.Tensor) -> torch.Tensor:
    """bfloat16/float16 -> float32 (losses and Gram matrices sum many terms); other dtypes unchanged."""
    return tensor.float() if tensor.dtype in (torch.bfloat16, torch.float16) else tensor


def fast_features(
    model: VGG19Features, image: torch.Tensor, layers: Iterable[str], bf16: bool = False
) -> dict[str, torch.Tensor]:
    """The VGG forward pass in channels-last memory and, if ``bf16``, bfloat16 autocast (features come out bf16)."""
    image = image.contiguous(memory_format=torch.channels_last)
    with torch.autocast(image.device.type, dtype=torch.bfloat16, enabled=bf16):
        return model(image, layers)


class _GramProduct(torch.autograd.Function):
    r""":math:`F F^\top` for (B, N, M) features, with a backward pass of one matrix product instead of two.

    Autograd differentiates ``F @ F.transpose`` as two products, one per factor, and adds them. Since
    :math:`d(F F^\top) = dF\,F^\top + F\,dF^\top`, the gradient is :math:`(\bar G + \bar G^\top) F`: one N x N sum,
    then one product, a third less Gram arithmetic per step.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, flat: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(flat)
        return flat @ flat.transpose(1, 2)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad_gram: torch.Tensor) -> torch.Tensor:
        (flat,) = ctx.saved_tensors
        return (grad_gram + grad_gram.transpose(1, 2)) @ flat


def fast_gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """``F F^T / M`` like :func:`~nst_helpers.losses.gram_matrix`, in float32, with a one-product backward pass."""
    batch, channels, height, width = features.shape
    flat = upcast(features).reshape(batch, channels, height * width)
    return _GramProduct.apply(flat) / (height * width)


def fast_content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """:func:`~nst_helpers.losses.content_loss` on float32 copies of the features."""
    return content_loss(upcast(features), upcast(target))


def fast_style_loss(
    features: Mapping[str, torch.Tensor], target_grams: Mapping[str, torch.Tensor], layer_weights: Mapping[str, float]
) -> torch.Tensor:
    """:func:`~nst_helpers.losses.style_loss` with :func:`fast_gram_matrix`: ``sum_l w_l mean((G_l - A_l)**2)``."""
    terms = [weight * ((fast_gram_matrix(features[name]) - target_grams[name]) ** 2).mean()
             for name, weight in layer_weights.items()]
    return torch.stack(terms).sum()
