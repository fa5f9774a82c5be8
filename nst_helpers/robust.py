r"""Robustness wrappers: what the paper does not do, added so one set of defaults works on any image.

- :func:`relative_scales`: each feature term is divided by its target's mean square, a relative squared error
  :math:`\lVert F-P\rVert^2/\lVert P\rVert^2`, :math:`\lVert G-A\rVert^2/\lVert A\rVert^2`. Raw means tie the weights
  to one image size (small images are nearly all edges), let deep layers outweigh shallow ones by orders of
  magnitude despite "equal" layer weights, and depend on the network's activation scale; relative errors serve
  every size, layer and weight source (measurements: ``benchmarks/README.md``).
- :func:`range_penalty`: L-BFGS cannot be clamped between iterations (that breaks its curvature pairs); left alone
  it pushes pixels outside [0, 1], where the loss is lower than that of the clamped image the user gets. A smooth
  penalty, zero for a valid image, holds them within about 0.01.
- :func:`check_finite`: a NaN or infinite loss stops the run instead of writing a black image.
- :data:`MIN_WORKING_SIZE`: below 128 px ``relu4_2`` has at most 8 positions across, too few to hold the
  content, so smaller results are optimized at 128 px and then downsized.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

RANGE_WEIGHT = 1e4  # the smallest power of ten that holds L-BFGS within about 0.01 of [0, 1]
MIN_WORKING_SIZE = 128


def mean_square(target: torch.Tensor) -> float:
    """The scale a relative error divides by; the floor keeps an all-black target from dividing by zero."""
    return max(float(target.float().pow(2).mean()), 1e-12)


def relative_scales(
    content_target: torch.Tensor | None, style_targets: Mapping[str, torch.Tensor], layer_weights: Mapping[str, float]
) -> tuple[float, dict[str, float]]:
    """The content term's factor ``1 / mean(P**2)`` and the layer weights ``w_l / mean(A_l**2)``."""
    content_scale = 1.0 / mean_square(content_target) if content_target is not None else 1.0
    return content_scale, {name: w / mean_square(style_targets[name]) for name, w in layer_weights.items()}


def range_penalty(image: torch.Tensor) -> torch.Tensor:
    """Mean squared distance of the pixel values from [0, 1]; zero for a valid image."""
    return (image - image.clamp(0.0, 1.0)).pow(2).mean()


class NonFiniteLoss(ArithmeticError):
    """Raised inside the loop when a loss becomes NaN or infinite."""


def check_finite(total: torch.Tensor, step: int) -> None:
    """Stop the run (:class:`NonFiniteLoss`) when the loss of evaluation ``step`` (from 1) is NaN or infinite."""
    if not torch.isfinite(total):
        raise NonFiniteLoss(f"the loss became {total.item()} at step {step}")
