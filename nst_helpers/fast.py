r"""Speed wrappers around the textbook losses and extractor: the same values, computed faster.

Each wrapper says how it differs from the textbook function and why; ``tests/test_fast.py`` checks each against the
textbook value within a stated tolerance.

- :func:`channels_last_model`: the network's convolution weights in channels-last memory, the order of the features
  :func:`fast_features` feeds them; with weights left in PyTorch's NCHW order a step cost about 8 % more.
- :func:`fast_features`: :func:`~nst_helpers.vgg.extract_features` in channels-last memory and, where the hardware
  runs it natively, under bfloat16 autocast (convolutions are most of a step; both make them faster).
- :func:`bfloat16_model`: a copy of the network with its convolution weights cast to bfloat16 once per objective;
  autocast casts frozen weights again at every pass (the same values, about 1.5 ms a pass on a 2-core CPU).
- :func:`fast_gram_matrix`: :func:`~nst_helpers.losses.gram_matrix` with a backward pass of one matrix product
  instead of two, in the features' precision (bfloat16 products accumulate in float32) and their memory order.
- :func:`fast_content_loss`: :func:`~nst_helpers.losses.content_loss` on float32 copies, taken in the features'
  channels-last order so that its gradient keeps that order (a gradient in NCHW order slowed the ReLU backward pass
  it joins).
- :func:`fast_style_loss`: :func:`~nst_helpers.losses.style_loss` with each layer's term one autograd node,
  ``mean((G - A)**2)`` with a one-product backward pass: as separate nodes, the small operations around the products
  added nearly half the products' own time.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

import torch

from .losses import content_loss
from .vgg import VGG19Features


def upcast(tensor: torch.Tensor) -> torch.Tensor:
    """bfloat16/float16 -> float32 (losses and Gram matrices sum many terms); other dtypes unchanged."""
    return tensor.float() if tensor.dtype in (torch.bfloat16, torch.float16) else tensor


def channels_last_model(model: VGG19Features) -> VGG19Features:
    """``model`` with its weights in channels-last memory (changed in place and returned; the values stay the same)."""
    return model.to(memory_format=torch.channels_last)


def bfloat16_model(model: VGG19Features) -> VGG19Features:
    """A copy of ``model`` with bfloat16 convolution weights (memory order kept, preprocessing left in float32), for
    :func:`fast_features` with ``bf16``: autocast then has nothing to cast but the features. ``model`` is unchanged."""
    cast = {id(weight): torch.nn.Parameter(weight.detach().to(torch.bfloat16), requires_grad=False)
            for weight in model.layers.parameters()}
    return copy.deepcopy(model, memo=cast)  # deepcopy takes each weight from the memo: no float32 copy is made


def fast_features(
    model: VGG19Features, image: torch.Tensor, layers: Iterable[str], bf16: bool = False
) -> dict[str, torch.Tensor]:
    """The VGG forward pass in channels-last memory and, if ``bf16``, bfloat16 autocast (features come out bf16)."""
    image = image.contiguous(memory_format=torch.channels_last)
    with torch.autocast(image.device.type, dtype=torch.bfloat16, enabled=bf16):
        return model(image, layers)


class _GramProduct(torch.autograd.Function):
    r""":math:`X^\top X` for (B, M, N) features laid out positions-first, with a one-product backward pass.

    Autograd differentiates ``X.T @ X`` as two products, one per factor, and adds them. Since
    :math:`d(X^\top X) = dX^\top X + X^\top dX`, the gradient is :math:`X (\bar G + \bar G^\top)`: one N x N sum,
    then one product. Both products run in the features' own precision (bfloat16 products accumulate in float32).
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, flat: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(flat)
        return _batched([sample.T @ sample for sample in flat])  # matrix products: faster than bmm in bfloat16

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad_gram: torch.Tensor) -> torch.Tensor:
        (flat,) = ctx.saved_tensors
        symmetric = (grad_gram + grad_gram.transpose(1, 2)).to(flat.dtype)
        return _batched([sample @ grad for sample, grad in zip(flat, symmetric, strict=True)])


def _batched(matrices: list[torch.Tensor]) -> torch.Tensor:
    """Stack per-image results into a batch; one image (the usual case) needs no copy of its large gradient."""
    return matrices[0].unsqueeze(0) if len(matrices) == 1 else torch.stack(matrices)


class _GramStyleTerm(torch.autograd.Function):
    r""":math:`\operatorname{mean}((X^\top X / M - A)^2)` for (B, M, N) features laid out positions-first and a
    constant float32 target A, in one node.

    With the residual :math:`R = X^\top X / M - A` (symmetric), the gradient is :math:`4 X R / (M \cdot B N^2)`:
    one product per image, in the features' precision (bfloat16 products accumulate in float32).
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, flat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        residual = upcast(_batched([sample.T @ sample for sample in flat])) / flat.shape[1] - target
        ctx.save_for_backward(flat, residual)
        return residual.pow(2).mean()

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad_loss: torch.Tensor) -> tuple[torch.Tensor, None]:
        flat, residual = ctx.saved_tensors
        scaled = (residual * (4 * grad_loss / (flat.shape[1] * residual.numel()))).to(flat.dtype)
        return _batched([sample @ term for sample, term in zip(flat, scaled, strict=True)]), None


def positions_first(features: torch.Tensor) -> torch.Tensor:
    """(B, N, H, W) -> (B, H W, N): for channels-last features that is their memory order, so no copy is made."""
    batch, channels, height, width = features.shape
    return features.permute(0, 2, 3, 1).reshape(batch, height * width, channels)


def fast_gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """``F F^T / M`` like :func:`~nst_helpers.losses.gram_matrix`, returned in float32, one-product backward.

    The features are read positions-first, (B, H W, N): for channels-last features that is their memory order, so
    neither the product nor its gradient copies them into another layout. bfloat16 features give a bfloat16 product
    (float32 accumulation, each entry rounded to 8 bits of mantissa), 2-3x faster on CPUs with bfloat16 units.
    """
    flat = positions_first(features)
    return upcast(_GramProduct.apply(flat)) / flat.shape[1]


def fast_content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """:func:`~nst_helpers.losses.content_loss` on float32 copies, positions-first (the gradient keeps that order)."""
    return content_loss(upcast(positions_first(features)), upcast(positions_first(target)))


def fast_style_loss(
    features: Mapping[str, torch.Tensor], target_grams: Mapping[str, torch.Tensor], layer_weights: Mapping[str, float]
) -> torch.Tensor:
    """:func:`~nst_helpers.losses.style_loss`, ``sum_l w_l mean((G_l - A_l)**2)``, each layer's term one node."""
    terms = [weight * _GramStyleTerm.apply(positions_first(features[name]), target_grams[name])
             for name, weight in layer_weights.items()]
    return torch.stack(terms).sum()
