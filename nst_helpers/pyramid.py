r"""An image stored as a pyramid of resolutions, so the optimizer can move coarse structure fast.

The optimizer changes :math:`L` tensors, one per level, and the image is their sum after upsampling:

.. math:: x = \sum_{k=0}^{L-1} \mathrm{up}_k(p_k), \qquad p_k \text{ of size } \lceil H/2^k \rceil \times
    \lceil W/2^k \rceil,

with :math:`p_0` the full-size image and :math:`\mathrm{up}_k` bilinear upsampling. The image is the same kind of
object and the loss the same function of it; only the optimizer's coordinates change. Why it helps: the gradient of
level :math:`k` sums the pixel gradients of a :math:`2^k \times 2^k` block, so one step moves a smooth pattern
:math:`4^k` times further than a step on the pixels would. Style transfer's loss is much flatter for large, smooth
changes (where colours and strokes sit across the image) than for fine ones, and L-BFGS, which starts every run
with one step size for all directions, needs many steps to learn that; the pyramid builds it in, as a
preconditioner. Idea from Mordvintsev et al., "Differentiable Image Parameterizations" (Distill, 2018).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .errors import SettingsError

COARSEST_SIDE = 32  # automatic pyramids add levels while the coarsest level's longest side stays at least this


def automatic_levels(longest_side: int) -> int:
    """Number of levels for an image: halve while the coarsest level keeps >= ``COARSEST_SIDE`` pixels (512 -> 5)."""
    levels = 1
    while longest_side // 2**levels >= COARSEST_SIDE:
        levels += 1
    return levels


class ImagePyramid:
    """The image ``init`` as ``levels`` tensors to optimize: the full-size image plus coarser levels starting at 0."""

    def __init__(self, init: torch.Tensor, levels: int = 1) -> None:
        if levels < 1:
            raise SettingsError(f"pyramid levels must be at least 1 (1: plain pixels), got {levels}")
        self.size = tuple(init.shape[-2:])
        height, width = self.size
        coarse = [init.new_zeros(*init.shape[:-2], -(-height // 2**k), -(-width // 2**k)) for k in range(1, levels)]
        self.levels = [init.detach().clone().contiguous(), *coarse]
        for level in self.levels:
            level.requires_grad_(True)

    def image(self) -> torch.Tensor:
        """The image the levels add up to (differentiable with respect to every level)."""
        image = self.levels[0]
        for level in self.levels[1:]:
            image = image + F.interpolate(level, size=self.size, mode="bilinear", align_corners=False)
        return image

    @torch.no_grad()
    def clamp_(self) -> None:
        """Make the image valid (values in [0, 1]) by correcting the finest level only."""
        image = self.image()
        self.levels[0] += image.clamp(0.0, 1.0) - image
