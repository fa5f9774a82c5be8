"""The optimization loop with its guards: the textbook loop of :mod:`nst_helpers.loop`, wrapped.

The same optimizer and closure as the notebooks' :func:`~nst_helpers.loop.plain_loop`, plus, each one a named piece:

- an exact budget: every evaluation (L-BFGS's line-search trial points included) is one step, and the run stops at
  ``steps`` (:class:`BudgetSpent`), so loss curves of L-BFGS and Adam compare equal work;
- :func:`~nst_helpers.robust.range_penalty` added to the total, recorded as ``"range"`` (always 0 for Adam, whose
  pixels are projected to [0, 1] after every step);
- a shorter L-BFGS memory, ``SHORT_LBFGS_HISTORY`` curvature pairs instead of PyTorch's 100: its two-loop recursion
  reads every stored pair twice per iteration, which made a 512 px step about 20 % slower at 100 pairs, and the
  result's loss moves by under 1 % (``tests/test_transfer.py``; measured in ``benchmarks/README.md``);
- optional image-pyramid coordinates (:mod:`nst_helpers.pyramid`);
- a :class:`Recorder` keeping the history, the best image, frames, the callback and a progress bar;
- guards: a non-finite loss stops the run and returns the last image whose loss was finite; an interrupt (Ctrl-C,
  the notebook's stop button) returns the best image so far, marked ``interrupted``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from .errors import ImageError, SettingsError
from .loop import LossFunction, make_optimizer
from .pyramid import ImagePyramid
from .robust import RANGE_WEIGHT, NonFiniteLoss, check_finite, range_penalty

Callback = Callable[[int, torch.Tensor, dict[str, float]], Any]  # (step, image, losses)
SHORT_LBFGS_HISTORY = 20  # curvature pairs the guarded loop's L-BFGS keeps (the textbook loop: PyTorch's 100)


@dataclass
class Result:
    """What a run produced.

    ``image``: the evaluated image with the lowest total loss (after a non-finite loss: the last image whose loss was
    finite), (1, 3, H, W) on the CPU. ``history``: each loss term (already weighted, so the terms add up to
    ``"total"``) at every step. ``frames``: ``(step, image)`` pairs every ``every`` steps. ``settings``: the
    :class:`~nst_helpers.StyleSettings` of the run (pass them back to repeat it). ``schedule``: what each scale ran
    (size, steps, pyramid levels, precision). ``image_scale_start``: the history index of the first step at
    ``image``'s size (above 0 only for coarse-to-fine runs).
    """

    image: torch.Tensor
    history: dict[str, list[float]]
    frames: list[tuple[int, torch.Tensor]]
    seconds: float
    settings: Any = None
    steps_done: int = 0
    interrupted: bool = False
    stopped_reason: str | None = None
    schedule: list[dict[str, Any]] = field(default_factory=list)
    image_scale_start: int = 0

    @property
    def final_loss(self) -> float:
        """The lowest total loss reached at ``image``'s size (the loss of ``image``)."""
        totals = self.history.get("total", [])[self.image_scale_start:]
        return min(totals) if totals else float("nan")

    @property
    def ms_per_step(self) -> float:
        return 1000.0 * self.seconds / max(self.steps_done, 1)


class BudgetSpent(Exception):
    """Raised by the closure when L-BFGS asks for one evaluation more than the steps asked for."""


class Recorder:
    """History, best and last finite image, frames every ``every`` steps, the callback and the progress bar."""

    def __init__(
        self, init: torch.Tensor, steps: int, every: int, callback: Callback | None, bar: tqdm | None = None
    ) -> None:
        self.steps, self.every, self.callback, self.bar = steps, every, callback, bar
        self.history: dict[str, list[float]] = {}
        self.frames: list[tuple[int, torch.Tensor]] = []
        self.best_loss = float("inf")
        self.best_image = self.last_finite = init.detach().clamp(0, 1).cpu().clone()

    @property
    def evaluations(self) -> int:
        return len(self.history.get("total", []))

    def record(self, image: torch.Tensor, losses: dict[str, torch.Tensor]) -> None:
        values = {name: float(value.detach()) for name, value in losses.items()}
        for name, value in values.items():
            self.history.setdefault(name, []).append(value)
        if bool(torch.isfinite(image).all()):  # only finite images may be returned
            self.last_finite = image.detach().cpu().clone()
            if values["total"] < self.best_loss:
                self.best_loss, self.best_image = values["total"], self.last_finite
        step = self.evaluations
        if step % self.every == 0 or step == self.steps:
            shown = image.detach().clamp(0.0, 1.0)  # what the user would get: L-BFGS values may lie outside [0, 1]
            self.frames.append((step, shown.cpu()))
            if self.callback is not None:
                self.callback(step, shown, values)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{values['total']:.4g}", refresh=False)


def guarded_closure(
    pyramid: ImagePyramid, optimizer: torch.optim.Optimizer, loss_function: LossFunction, recorder: Recorder,
    range_weight: float,
) -> Callable[[], torch.Tensor]:
    """:func:`~nst_helpers.loop.make_closure` with the budget, the range penalty, the guard and the recorder."""

    def closure() -> torch.Tensor:
        if recorder.evaluations >= recorder.steps:
            raise BudgetSpent
        optimizer.zero_grad(set_to_none=True)
        image = pyramid.image()
        losses = dict(loss_function(image))
        losses["range"] = range_weight * range_penalty(image)
        losses["total"] = losses["total"] + losses["range"]
        check_finite(losses["total"], recorder.evaluations + 1)
        losses["total"].backward()
        recorder.record(image, losses)
        return losses["total"]

    return closure


def run_guarded(opt: torch.optim.Optimizer, closure: Callable, pyramid: ImagePyramid, recorder: Recorder,
                description: str) -> tuple[bool, str | None]:
    """Step until the budget is spent; return (interrupted, why it stopped early) and warn about either."""
    try:
        while recorder.evaluations < recorder.steps:  # one L-BFGS call usually spends the whole budget
            opt.step(closure)
            if isinstance(opt, torch.optim.Adam):
                pyramid.clamp_()  # projected gradient descent: stay a valid image
    except BudgetSpent:
        pass
    except KeyboardInterrupt:
        reason = f"interrupted after {recorder.evaluations} steps"
        warnings.warn(f"{description}: {reason}; returning the best image so far", stacklevel=3)
        return True, reason
    except NonFiniteLoss as error:
        warnings.warn(f"{description}: {error}; stopped and returned the last image with a finite loss. Lower the "
                      "weights or the learning rate, or use optimizer='lbfgs'", RuntimeWarning, stacklevel=3)
        return False, str(error)
    finally:
        if recorder.bar is not None:
            recorder.bar.close()
    return False, None


def optimize_image(
    init: torch.Tensor, loss_function: LossFunction, *, steps: int, optimizer: str = "lbfgs", lr: float | None = None,
    progress: bool = True, callback: Callback | None = None, every: int | None = None, description: str = "optimizing",
    range_weight: float = RANGE_WEIGHT, pyramid_levels: int = 1, lbfgs_history: int = SHORT_LBFGS_HISTORY,
) -> Result:
    """Minimize ``loss_function(image)["total"]`` plus ``range_weight`` times the range penalty from ``init``, for
    exactly ``steps`` evaluations, over the pixels or ``pyramid_levels`` levels of an image pyramid (1: pixels),
    with L-BFGS keeping ``lbfgs_history`` curvature pairs."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise SettingsError(f"steps must be a whole number of at least 0, got {steps!r}")
    if not bool(torch.isfinite(init).all()):
        bad = int((~torch.isfinite(init)).sum())
        raise ImageError(f"the starting image has {bad} NaN or infinite values; pass a finite image in [0, 1]")
    pyramid = ImagePyramid(init, pyramid_levels)
    opt = make_optimizer(optimizer, pyramid.levels, steps, lr, history=lbfgs_history)
    bar = tqdm(total=steps, desc=description, disable=not progress, leave=False)
    recorder = Recorder(init, steps, every or max(1, steps // 10), callback, bar)
    closure = guarded_closure(pyramid, opt, loss_function, recorder, range_weight)
    start = time.perf_counter()
    interrupted, reason = run_guarded(opt, closure, pyramid, recorder, description)
    returned = recorder.last_finite if reason and not interrupted else recorder.best_image
    return Result(
        image=returned.clamp(0, 1), history=recorder.history, frames=recorder.frames,
        seconds=time.perf_counter() - start, steps_done=recorder.evaluations, interrupted=interrupted,
        stopped_reason=reason,
        schedule=[{"steps": steps, "optimizer": optimizer, "lr": opt.defaults["lr"], "pyramid_levels": pyramid_levels}],
    )
