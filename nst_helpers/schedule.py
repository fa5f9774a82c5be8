"""Speed wrapper: coarse-to-fine schedules, and when the image pyramid is on by default.

A coarse-to-fine run optimizes the image at a fraction of the size first (a step there costs about that fraction
squared), then upsamples it and goes on at the next scale; the paper optimizes one scale. An integer ``steps`` is the
last scale's count and each coarser scale takes a quarter of it. Defaults, chosen from the measurements in
``benchmarks/README.md``: L-BFGS results of ``PYRAMID_FROM_SIZE`` px or more optimize an image pyramid
(:mod:`nst_helpers.pyramid`), and from ``COARSE_TO_FINE_FROM_SIZE`` px they start at half size. Smaller runs, the
notebooks' among them, keep the paper's pixels at one scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .pyramid import automatic_levels
from .settings import StyleSettings

PYRAMID_FROM_SIZE = 512
COARSE_TO_FINE_FROM_SIZE = 1024
DEFAULT_SCALES = (0.5, 1.0)
SMALLEST_SCALE = 16  # px: no coarse scale is made smaller than this


@dataclass(frozen=True)
class Scale:
    """One stage of a run: the longest side it optimizes at, its steps and its pyramid levels (1: the pixels)."""

    size: int
    steps: int
    pyramid_levels: int


def steps_per_scale(steps: int | Sequence[int], count: int) -> list[int]:
    """A list is taken as it is; a number is the last scale's steps, and each coarser scale gets a quarter of it."""
    if isinstance(steps, int):
        return [max(1, steps // 4)] * (count - 1) + [steps]
    return list(steps)


def plan_scales(settings: StyleSettings, working_size: int) -> list[Scale]:
    """The scales a run at ``working_size`` px goes through, with the automatic choices of this module filled in."""
    lbfgs = settings.optimizer == "lbfgs"
    scales = settings.scales
    if scales is None:
        scales = DEFAULT_SCALES if lbfgs and working_size >= COARSE_TO_FINE_FROM_SIZE else (1.0,)
    sizes = [max(SMALLEST_SCALE, round(working_size * s)) for s in scales]
    steps = steps_per_scale(settings.steps, len(sizes))
    pyramid = lbfgs and working_size >= PYRAMID_FROM_SIZE
    return [
        Scale(size, count, settings.pyramid_levels or (automatic_levels(size) if pyramid else 1))
        for size, count in zip(sizes, steps, strict=True)
    ]
