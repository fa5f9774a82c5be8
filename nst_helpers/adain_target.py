r"""Arbitrary style without training: the AdaIN target reached by optimizing the image (notebook 08).

Huang and Belongie (2017) stylize in one forward pass: encode content and style with VGG19 up to ``relu4_1``,
renormalize each content channel to the style's mean and standard deviation,
:math:`t = \sigma(s)\,(f(c) - \mu(c))/\sigma(c) + \mu(s)` (:func:`~nst_helpers.statistics.adain`), and decode
:math:`t` with a trained decoder. Their decoder is trained to make images whose ``relu4_1`` features are close to
:math:`t` and whose channel means and standard deviations at ``relu1_1`` ... ``relu4_1`` are the style's. Without a
decoder we minimize the same loss over the image itself, like Gatys et al.: the content term's target is :math:`t`
instead of :math:`f(c)`, and the style statistic is ``"meanstd"``.
"""

from __future__ import annotations

from typing import Any

import torch

from .images import load_image, resize_longest_side
from .optimize import Result, optimize_image
from .robust import MIN_WORKING_SIZE, mean_square
from .settings import StyleSettings, choose_device
from .statistics import adain
from .transfer import build_objective, check_loaded_size, initial_image, last_steps, load_run_model, resize_style

ADAIN = {"content_layer": "relu4_1", "style_layers": ("relu1_1", "relu2_1", "relu3_1", "relu4_1"),
         "statistic": "meanstd", "scales": None}


def stylize_adain(content: Any, style: Any, settings: StyleSettings | None = None, *, progress: bool = True,
                  **options: Any) -> Result:
    """Optimize an image towards the AdaIN target at ``relu4_1`` plus the style's means and stds (one scale)."""
    settings = StyleSettings.from_options(settings or StyleSettings(**ADAIN), **options)
    content_image, style_image = load_image(content), load_image(style)
    size = check_loaded_size(content_image, settings)
    model = load_run_model(settings)
    target = resize_longest_side(content_image, max(size, MIN_WORKING_SIZE)).to(choose_device(settings.device))
    objective = build_objective(model, target, [style_image], settings)
    with torch.no_grad():
        style_scaled = resize_style(style_image, target, settings.style_scale, list(settings.style_layers))
        style_features = objective.features(style_scaled.to(target.device))[settings.content_layer]
        objective.content_target = adain(objective.content_target.float(), style_features.float())
    objective.content_scale = 1.0 / mean_square(objective.content_target)
    start = initial_image(settings.init, target, style_scaled, settings.seed)
    result = optimize_image(start, objective, steps=last_steps(settings), optimizer=settings.optimizer, lr=settings.lr,
                            progress=progress, description="AdaIN target", lbfgs_history=settings.lbfgs_history)
    result.settings = settings
    if size < MIN_WORKING_SIZE:
        result.image = resize_longest_side(result.image, size)
    return result
