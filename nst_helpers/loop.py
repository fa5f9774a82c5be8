"""Textbook core: the optimizer, its closure and the plain loop of notebook 04.

Neural style transfer optimizes the pixels of an image, not a network. One **step** is one evaluation of the loss
and its gradient (one VGG forward and backward pass). L-BFGS (the paper's optimizer) evaluates the loss several times
per ``optimizer.step`` (its iterations and its line search's trial points), so PyTorch asks for a **closure** that
recomputes it. We call L-BFGS once with a budget of ``steps`` evaluations, its early-stopping tolerances off and a
strong-Wolfe line search (without one, its second iteration can overshoot, even to an infinite loss). Adam takes one
step per evaluation and is projected back to [0, 1] after each.

:func:`nst_helpers.optimize.optimize_image` is the same loop with the named wrappers around it (exact budget,
non-finite guard, range penalty, image pyramid, best image, progress).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .errors import SettingsError

LossFunction = Callable[[torch.Tensor], dict[str, torch.Tensor]]  # image -> {"total": ..., other terms ...}

ADAM_LEARNING_RATE = 0.02  # in pixel units of [0, 1] images
LBFGS_HISTORY = 100  # curvature pairs L-BFGS keeps (PyTorch's default)


def make_optimizer(
    name: str, image: torch.Tensor | list[torch.Tensor], steps: int, lr: float | None = None,
    history: int = LBFGS_HISTORY,
) -> torch.optim.Optimizer:
    """L-BFGS with a line search and a budget of ``steps`` evaluations that never stops by itself, or Adam.

    ``image`` is the tensor to optimize, or a list of them (the levels of an image pyramid). ``history``: the
    curvature pairs L-BFGS keeps.
    """
    params = image if isinstance(image, list) else [image]
    if name == "lbfgs":
        return torch.optim.LBFGS(
            params, lr=lr or 1.0, max_iter=max(steps, 1), max_eval=max(steps, 1), history_size=history,
            tolerance_grad=-1.0, tolerance_change=-1.0, line_search_fn="strong_wolfe",
        )
    if name == "adam":
        return torch.optim.Adam(params, lr=lr or ADAM_LEARNING_RATE)
    raise SettingsError(f"optimizer must be 'lbfgs' or 'adam'; got {name!r}")


def make_closure(image: torch.Tensor, optimizer: torch.optim.Optimizer, loss_function: LossFunction) -> Callable:
    """The function the optimizer calls to evaluate the loss: zero the gradients, loss, backward, return the loss."""

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = loss_function(image)["total"]
        loss.backward()
        return loss

    return closure


def plain_loop(
    init: torch.Tensor, loss_function: LossFunction, steps: int, optimizer: str = "lbfgs", lr: float | None = None
) -> torch.Tensor:
    """Optimize a copy of ``init`` for about ``steps`` evaluations; return it clamped to [0, 1].

    L-BFGS runs in one call; its line search may finish an iteration a few evaluations past the budget.
    """
    image = init.detach().clone().requires_grad_(True)
    opt = make_optimizer(optimizer, image, steps, lr)
    closure = make_closure(image, opt, loss_function)
    if optimizer == "lbfgs" and steps > 0:
        opt.step(closure)
    elif optimizer == "adam":
        for _ in range(steps):
            opt.step(closure)
            with torch.no_grad():
                image.clamp_(0, 1)  # projected gradient descent: stay a valid image
    return image.detach().clamp(0, 1)
