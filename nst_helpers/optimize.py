"""The optimization loop shared by stylization, content reconstruction and texture synthesis.

Neural style transfer optimizes the pixels of an image, not a network. One **step** here is exactly one evaluation of
the losses and their gradient (one VGG forward and backward pass), for both optimizers, so "300 steps" costs the same
with either and their loss curves compare:

- L-BFGS runs in one call with a strong-Wolfe line search and a budget of ``steps`` evaluations; its tolerances are
  off, so it never stops early. An L-BFGS *iteration* may take several evaluations (the line search's trial points),
  each counted as a step and recorded in the history. Without a line search, L-BFGS overshot on its second iteration
  (the loss jumped by up to 1e8x, and to infinity at 64 px) in our tests.
- Adam takes one gradient step per step.

Staying in [0, 1]: Adam's pixels are projected back to [0, 1] after every step. L-BFGS's cannot be: clamping between
its iterations breaks the curvature pairs it learns from. Left alone, L-BFGS pushes pixels outside [0, 1], where
they lower the loss but not that of the clamped image the user gets (chelsea x brushstrokes, 256 px, 200 steps: 4.7 %
of the values outside, by up to 0.75, and the clamped result's float32 loss 2.60 against the optimizer's 1.49). So
every step adds a **range penalty**, ``RANGE_WEIGHT * mean((x - clip(x, 0, 1))**2)``: zero for a valid image, smooth,
and strong enough to hold the values within about 0.01 of [0, 1] (same run: clamped result's loss 1.53). It is
recorded in the history as ``"range"`` (always 0 for Adam) and included in ``"total"``.

Coordinates: by default the optimizer changes the pixels. With ``pyramid_levels=L > 1`` it changes the levels of an
:class:`~nst_helpers.pyramid.ImagePyramid` that add up to the image instead: the same loss, reached in fewer steps
(see that module).

Guards: a non-finite loss stops the run with a warning and returns the last image whose loss was finite; an
interrupt (Ctrl-C, the notebook's stop button) stops the run and returns the best image so far, marked
``interrupted``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from .pyramid import ImagePyramid

LossFunction = Callable[[torch.Tensor], dict[str, torch.Tensor]]  # image -> {"total": ..., other terms ...}
Callback = Callable[[int, torch.Tensor, dict[str, float]], Any]  # (step, image, losses)

OPTIMIZERS = ("lbfgs", "adam")
ADAM_LEARNING_RATE = 0.02  # in pixel units of [0, 1] images
RANGE_WEIGHT = 1e4  # weight of range_penalty; 1e2 and 1e3 left values up to 0.25 and 0.09 outside [0, 1]


@dataclass
class Result:
    """What an optimization run produced.

    ``image`` is the evaluated image with the lowest total loss (after a non-finite loss: the last image whose loss
    was finite), (1, 3, H, W) on the CPU. ``history`` maps each loss
    term (already multiplied by its weight, so the terms add up to ``"total"``) to its value at every step.
    ``frames`` are ``(step, image)`` pairs saved every ``every`` steps. ``image_scale_start`` is the index in the
    history of the first step at ``image``'s size (above 0 only for coarse-to-fine runs, whose history holds every
    scale).
    """

    image: torch.Tensor
    history: dict[str, list[float]]
    frames: list[tuple[int, torch.Tensor]]
    seconds: float
    settings: dict[str, Any]
    steps_done: int = 0
    interrupted: bool = False
    stopped_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    image_scale_start: int = 0

    @property
    def final_loss(self) -> float:
        """The lowest total loss reached at ``image``'s size (the loss of ``image``)."""
        totals = self.history.get("total", [])[self.image_scale_start:]
        return min(totals) if totals else float("nan")

    @property
    def ms_per_step(self) -> float:
        return 1000.0 * self.seconds / max(self.steps_done, 1)


def range_penalty(image: torch.Tensor) -> torch.Tensor:
    """Mean squared distance of the pixel values from [0, 1]; zero for a valid image."""
    return (image - image.clamp(0.0, 1.0)).pow(2).mean()


class NonFiniteLoss(ArithmeticError):
    """Raised inside the loop when a loss becomes NaN or infinite."""


class BudgetSpent(Exception):
    """Raised by the closure when L-BFGS asks for one evaluation more than the steps asked for."""


def make_optimizer(
    name: str, image: torch.Tensor | list[torch.Tensor], steps: int, lr: float | None = None
) -> torch.optim.Optimizer:
    """L-BFGS with a line search and a budget of ``steps`` evaluations that never stops by itself, or Adam.

    ``image`` is the tensor to optimize, or a list of them (the levels of an image pyramid).
    """
    params = image if isinstance(image, list) else [image]
    if name == "lbfgs":
        return torch.optim.LBFGS(
            params, lr=lr or 1.0, max_iter=max(steps, 1), max_eval=max(steps, 1), history_size=100,
            tolerance_grad=-1.0, tolerance_change=-1.0, line_search_fn="strong_wolfe",
        )
    if name == "adam":
        return torch.optim.Adam(params, lr=lr or ADAM_LEARNING_RATE)
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")


def optimize_image(
    init: torch.Tensor,
    loss_function: LossFunction,
    *,
    steps: int,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    progress: bool = True,
    callback: Callback | None = None,
    every: int | None = None,
    settings: dict[str, Any] | None = None,
    description: str = "optimizing",
    range_weight: float = RANGE_WEIGHT,
    pyramid_levels: int = 1,
) -> Result:
    """Minimize ``loss_function(image)["total"]`` plus ``range_weight`` times :func:`range_penalty`, starting from
    ``init``, for exactly ``steps`` evaluations; over the pixels, or over ``pyramid_levels`` levels of an image
    pyramid (1: the pixels)."""
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    every = every or max(1, steps // 10)
    pyramid = ImagePyramid(init, pyramid_levels)
    opt = make_optimizer(optimizer, pyramid.levels, steps, lr)
    history: dict[str, list[float]] = {}
    frames: list[tuple[int, torch.Tensor]] = []
    best = {"loss": float("inf"), "image": init.detach().clamp(0, 1).cpu().clone()}
    last_finite = best["image"]
    bar = tqdm(total=steps, desc=description, disable=not progress, leave=False)

    def closure() -> torch.Tensor:
        nonlocal last_finite
        step = len(history.get("total", []))  # evaluations so far
        if step >= steps:
            raise BudgetSpent
        opt.zero_grad(set_to_none=True)
        image = pyramid.image()
        losses = dict(loss_function(image))
        losses["range"] = range_weight * range_penalty(image)
        losses["total"] = total = losses["total"] + losses["range"]
        if not torch.isfinite(total):
            raise NonFiniteLoss(f"the loss became {total.item()} at step {step + 1}")
        total.backward()
        last_finite = image.detach().cpu().clone()
        values = {name: float(value.detach()) for name, value in losses.items()}
        for name, value in values.items():
            history.setdefault(name, []).append(value)
        if values["total"] < best["loss"]:
            best["loss"], best["image"] = values["total"], image.detach().cpu().clone()
        if (step + 1) % every == 0 or step + 1 == steps:
            shown = image.detach().clamp(0.0, 1.0)  # what the user would get: L-BFGS values may lie just outside [0, 1]
            frames.append((step + 1, shown.cpu()))
            if callback is not None:
                callback(step + 1, shown, values)
        bar.update(1)
        bar.set_postfix(loss=f"{values['total']:.4g}", refresh=False)
        return total

    interrupted, stopped_reason = False, None
    start = time.perf_counter()
    try:
        while len(history.get("total", [])) < steps:  # one L-BFGS call usually spends the whole budget
            opt.step(closure)
            if optimizer == "adam":
                pyramid.clamp_()  # projected gradient descent: stay a valid image
    except BudgetSpent:
        pass
    except KeyboardInterrupt:
        interrupted, stopped_reason = True, f"interrupted after {len(history.get('total', []))} steps"
        warnings.warn(f"{description}: {stopped_reason}; returning the best image so far", stacklevel=2)
    except NonFiniteLoss as error:
        stopped_reason = str(error)
        warnings.warn(
            f"{description}: {error}; stopped and returned the last image with a finite loss. Lower the weights or "
            "the learning rate, or use optimizer='lbfgs'",
            RuntimeWarning,
            stacklevel=2,
        )
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    returned = last_finite if stopped_reason and not interrupted else best["image"]
    return Result(
        image=returned.clamp(0, 1),
        history=history,
        frames=frames,
        seconds=seconds,
        settings={**(settings or {}), "steps": steps, "optimizer": optimizer, "lr": opt.defaults["lr"],
                  "pyramid_levels": pyramid_levels},
        steps_done=len(history.get("total", [])),
        interrupted=interrupted,
        stopped_reason=stopped_reason,
    )
