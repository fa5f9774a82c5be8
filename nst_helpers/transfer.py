"""Style transfer and its two halves: content reconstruction (notebook 02) and texture synthesis (notebook 03).

Each builds a loss on VGG19 features of a target image, computes the targets once without gradients, and hands the
loss to :func:`nst_helpers.optimize.optimize_image`. Speed comes from doing only the needed work: the forward pass
stops at the deepest layer used, the network's weights never get gradients, the convolutions run in channels-last
memory and, where the hardware has it, in bfloat16 (Gram matrices and losses stay float32); large images are
optimized as an image pyramid, which needs fewer steps, and from 1024 px start at half size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .config import choose_device, resolve_precision, seed_everything
from .images import load_image, resize_longest_side
from .losses import content_loss, gram_matrix, style_loss, tv_loss
from .optimize import Callback, Result, optimize_image
from .pyramid import automatic_levels
from .vgg import CONTENT_LAYER, LAYER_NAMES, STYLE_LAYERS, VGG19Features, downsampling_factor, load_vgg

# Default weights, for the relative losses of FeatureLoss (each term divided by its target's mean square), so they
# hold for every image size and weight source. Tuned by eye with chelsea x brushstrokes, 150 L-BFGS steps, at 64 and
# 256 px and checked at 512 px. TV is a light touch: a few percent of the total loss.
CONTENT_WEIGHT = 1.0
STYLE_WEIGHT = 30.0
TV_WEIGHT = 10.0
# Below this longest side relu4_2 has at most 8 positions across, its receptive fields exceed the image, and the
# content was lost under any style weight we tried; smaller results are optimized at this size, then downsized.
MIN_WORKING_SIZE = 128
# From this longest side up, L-BFGS optimizes an image pyramid instead of the pixels by default (nst_helpers.pyramid):
# at 512 px it reached the loss of 300 pixel steps in 105 steps. It helps at 256 px too (the loss of 200 pixel
# steps in 85), but smaller runs, the notebooks' among them, keep the paper's pixels: notebook 04 compares L-BFGS and
# Adam there, and they should differ only in the optimizer.
PYRAMID_FROM_SIZE = 512
# From this longest side up, L-BFGS also runs a coarse-to-fine schedule by default: a quarter of the steps at half
# the size first (a step there costs about a quarter). At 1024 px it reached the loss of 80 pixel steps in 0.18 of
# their time (one-scale pyramid: 0.22) and ended level with the one-scale pyramid; at 512 px a coarse scale only
# cost time, so smaller results take one scale.
COARSE_TO_FINE_FROM_SIZE = 1024
DEFAULT_SCALES = (0.5, 1.0)
INITS = ("content", "noise", "style")


def layer_weights(layers: Sequence[str] | Mapping[str, float]) -> dict[str, float]:
    """Normalize a layer list (equal weights, as in the paper) or a ``{layer: weight}`` mapping to sum to 1."""
    weights = dict(layers) if isinstance(layers, Mapping) else {name: 1.0 for name in layers}
    total = sum(weights.values())
    if not weights or total <= 0:
        raise ValueError(f"style layers need at least one positive weight, got {weights}")
    return {name: weight / total for name, weight in weights.items()}


class FeatureLoss:
    r"""``image -> {"content", "style", "tv", "total"}``: weighted loss terms on VGG19 features.

    Content features and style Gram matrices of the targets are computed once, at construction, without gradients.

    With ``relative=True`` (what :func:`stylize` uses) each content and style-layer term is divided by the mean square
    of its target, so it becomes a relative squared error, :math:`\lVert F-P\rVert^2/\lVert P\rVert^2` and
    :math:`\lVert G-A\rVert^2/\lVert A\rVert^2`. Why: means alone leave the balance between terms dependent on
    image size (small images are nearly all edges, so early-layer activations, and the quartic style loss with them,
    grow: from 64 to 512 px the style/content ratio moved 6x in our measurement, 2.3x as relative errors), let
    relu4_1 outweigh relu1_1 about 1000-fold despite "equal" layer weights, and tie the weights to one network's
    activation scale. Relative errors make one set of weights serve every size, layer and weight source.
    """

    def __init__(
        self,
        model: VGG19Features,
        *,
        content: torch.Tensor | None = None,
        styles: Sequence[torch.Tensor] = (),
        style_blend: Sequence[float] | None = None,
        content_layer: str = CONTENT_LAYER,
        style_layers: Sequence[str] | Mapping[str, float] = STYLE_LAYERS,
        content_weight: float = 1.0,
        style_weight: float = 1.0,
        tv_weight: float = 0.0,
        dtype: torch.dtype = torch.float32,
        relative: bool = True,
    ) -> None:
        self.model, self.dtype = model, dtype
        self.content_layer = content_layer if content is not None else None
        self.style_weights = layer_weights(style_layers) if styles else {}
        self.weights = {"content": content_weight, "style": style_weight, "tv": tv_weight}
        self.layers = set(self.style_weights) | ({content_layer} if content is not None else set())
        with torch.no_grad():
            self.content_target = self.features(content)[content_layer] if content is not None else None
            self.style_targets = self._blended_grams(styles, style_blend) if styles else {}
        self.content_scale = 1.0
        if relative:
            if self.content_target is not None:
                self.content_scale = 1.0 / _mean_square(self.content_target)
            self.style_weights = {
                name: weight / _mean_square(self.style_targets[name]) for name, weight in self.style_weights.items()
            }

    def features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """The VGG forward pass, in channels-last memory and (if chosen) bfloat16 autocast."""
        device_type = image.device.type
        image = image.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.dtype == torch.bfloat16):
            return self.model(image, self.layers)

    def _blended_grams(self, styles: Sequence[torch.Tensor], blend: Sequence[float] | None) -> dict[str, torch.Tensor]:
        """Target Gram matrices; with several styles, their weighted average (blend weights normalized to sum 1)."""
        blend = list(blend) if blend is not None else [1.0] * len(styles)
        if len(blend) != len(styles) or sum(blend) <= 0 or min(blend) < 0:
            raise ValueError(f"style_blend needs one non-negative weight per style image ({len(styles)}), got {blend}")
        targets: dict[str, torch.Tensor] = {}
        for style, share in zip(styles, blend, strict=True):
            features = self.features(style)
            for name in self.style_weights:
                gram = gram_matrix(features[name]) * (share / sum(blend))
                targets[name] = targets[name] + gram if name in targets else gram
        return targets

    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.features(image)
        zero = image.new_zeros(())
        terms = {
            "content": self.content_scale * content_loss(features[self.content_layer], self.content_target)
            if self.content_target is not None
            else zero,
            "style": style_loss(features, self.style_targets, self.style_weights) if self.style_targets else zero,
            "tv": tv_loss(image) if self.weights["tv"] else zero,
        }
        weighted = {name: self.weights[name] * value for name, value in terms.items()}
        weighted["total"] = sum(weighted.values())
        return weighted


def _mean_square(target: torch.Tensor) -> float:
    """The scale a relative error divides by; the floor keeps an all-black target from dividing by zero."""
    return max(float(target.float().pow(2).mean()), 1e-12)


def initial_image(init: str, content: torch.Tensor, style: torch.Tensor | None, seed: int) -> torch.Tensor:
    """The starting point: the content image, white noise in [0, 1] (seeded, CPU-generated), or the style image."""
    if init == "content":
        return content.clone()
    if init == "noise":
        noise = torch.rand(content.shape, generator=torch.Generator().manual_seed(seed))
        return noise.to(content.device)
    if init == "style" and style is not None:
        return F.interpolate(style, size=content.shape[-2:], mode="bicubic", antialias=True).clamp(0, 1)
    raise ValueError(f"init must be one of {', '.join(INITS)}; got {init!r}")


def resize_style(style: torch.Tensor, like: torch.Tensor, scale: float, layers: Sequence[str]) -> torch.Tensor:
    """Resize ``style`` to ``scale**2`` times the pixel count of ``like``, keeping the style's own aspect ratio.

    Matching pixel counts (not sides) keeps brush strokes the same size relative to the result whatever the two
    aspect ratios. A very thin style is upscaled until its short side reaches what the deepest layer needs.
    """
    height, width = style.shape[-2:]
    factor = scale * (like.shape[-2] * like.shape[-1] / (height * width)) ** 0.5
    factor = max(factor, downsampling_factor(max(layers, key=LAYER_NAMES.index)) / min(height, width))
    size = (max(1, round(height * factor)), max(1, round(width * factor)))
    return F.interpolate(style, size=size, mode="bicubic", antialias=True, align_corners=False).clamp(0, 1)


def scale_schedule(size: int, scales: Sequence[float] | None) -> list[int]:
    """Image sizes (longest side) of a coarse-to-fine run; ``None``: one scale, ``size`` itself."""
    if scales is None:
        return [size]
    if not scales or any(not 0 < s <= 1 for s in scales) or list(scales) != sorted(scales) or scales[-1] != 1:
        raise ValueError(f"scales must increase, lie in (0, 1] and end with 1, got {list(scales)}")
    return [max(16, round(size * s)) for s in scales]


def steps_per_scale(steps: int | Sequence[int], count: int) -> list[int]:
    """A list is taken as it is; a number is the steps at full size, and each coarser scale gets a quarter of it."""
    if isinstance(steps, int):
        return [max(1, steps // 4)] * (count - 1) + [steps]
    if len(steps) != count:
        raise ValueError(f"steps has {len(steps)} entries but the schedule has {count} scales")
    return list(steps)


def stylize(
    content: Any,
    style: Any,
    *,
    content_weight: float = CONTENT_WEIGHT,
    style_weight: float | None = None,
    tv_weight: float | None = None,
    steps: int | Sequence[int] = 200,
    optimizer: str = "lbfgs",
    init: str = "content",
    size: int | None = 512,
    style_scale: float = 1.0,
    style_blend: Sequence[float] | None = None,
    weights: str = "original",
    pooling: str = "max",
    content_layer: str = CONTENT_LAYER,
    style_layers: Sequence[str] | Mapping[str, float] = STYLE_LAYERS,
    scales: Sequence[float] | None = None,
    pyramid_levels: int | None = None,
    precision: str = "auto",
    seed: int = 0,
    device: str | torch.device | None = None,
    lr: float | None = None,
    progress: bool = True,
    callback: Callback | None = None,
    every: int | None = None,
) -> Result:
    """Render ``content`` in the style of ``style`` (Gatys et al. 2016); returns a :class:`Result`.

    ``content`` and ``style`` take anything :func:`load_image` does; ``style`` may be a list, mixed by
    ``style_blend``. ``size`` is the longest side of the result (``None``: the content's own size); each style
    image is resized to ``style_scale**2`` times the result's pixel count, keeping its own aspect ratio.
    ``scales`` is a coarse-to-fine schedule, fractions of ``size`` ending in 1 (``None``: for L-BFGS and results of
    :data:`COARSE_TO_FINE_FROM_SIZE` px or more :data:`DEFAULT_SCALES`, otherwise one scale). ``steps`` counts
    forward-backward passes: a list gives each scale's; a number is the last scale's, and each coarser scale takes a
    quarter of it (its steps cost about a quarter). ``pyramid_levels`` sets the optimizer's
    coordinates (:mod:`nst_helpers.pyramid`): 1 optimizes the pixels, as in the paper; ``None`` picks, for L-BFGS
    and results of :data:`PYRAMID_FROM_SIZE` px or more, halvings down to 32 px at each scale (512 px: 5 levels),
    and otherwise 1.
    ``style_weight`` and ``tv_weight`` default to :data:`STYLE_WEIGHT` and :data:`TV_WEIGHT`. Results smaller than
    :data:`MIN_WORKING_SIZE` are optimized at that size and downsized (frames stay at the working size).
    """
    device = choose_device(device)
    dtype = resolve_precision(precision, device)
    seed_everything(seed)
    style_list = list(style) if isinstance(style, list | tuple) else [style]
    content_image = load_image(content)
    style_images = [load_image(item) for item in style_list]
    size = size or max(content_image.shape[-2:])
    working_size = max(size, MIN_WORKING_SIZE)
    if scales is None and optimizer == "lbfgs" and working_size >= COARSE_TO_FINE_FROM_SIZE:
        scales = DEFAULT_SCALES
    sizes = scale_schedule(working_size, scales)
    step_counts = steps_per_scale(steps, len(sizes))
    style_weight = STYLE_WEIGHT if style_weight is None else style_weight
    tv_weight = TV_WEIGHT if tv_weight is None else tv_weight
    model = load_vgg(weights, pooling=pooling, device=device).to(memory_format=torch.channels_last)
    settings = {
        "content_weight": content_weight, "style_weight": style_weight, "tv_weight": tv_weight, "init": init,
        "size": size, "sizes": sizes, "style_scale": style_scale, "style_blend": style_blend, "weights": weights,
        "pooling": pooling, "content_layer": content_layer, "style_layers": layer_weights(style_layers),
        "precision": str(dtype).replace("torch.", ""), "seed": seed, "device": str(device),
    }
    if pyramid_levels is not None and pyramid_levels < 1:
        raise ValueError(f"pyramid_levels must be None (automatic) or at least 1 (1: the pixels), got {pyramid_levels}")

    image, results = None, []
    for scale_size, scale_steps in zip(sizes, step_counts, strict=True):
        target = resize_longest_side(content_image, scale_size).to(device)
        styles = [resize_style(s, target, style_scale, list(style_layers)).to(device) for s in style_images]
        if image is None:
            image = initial_image(init, target, styles[0], seed)
        else:
            image = F.interpolate(image, size=target.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
        loss = FeatureLoss(
            model, content=target, styles=styles, style_blend=style_blend, content_layer=content_layer,
            style_layers=style_layers, content_weight=content_weight, style_weight=style_weight,
            tv_weight=tv_weight, dtype=dtype,
        )
        offset = sum(r.steps_done for r in results)
        automatic = optimizer == "lbfgs" and sizes[-1] >= PYRAMID_FROM_SIZE
        levels = pyramid_levels or (automatic_levels(scale_size) if automatic else 1)
        result = optimize_image(
            image, loss, steps=scale_steps, optimizer=optimizer, lr=lr, progress=progress, every=every,
            callback=_shifted(callback, offset), description=f"stylize {tuple(target.shape[-2:])}",
            pyramid_levels=levels,
        )
        results.append(result)
        image = result.image.to(device)
        if result.interrupted or result.stopped_reason:
            break
    merged = _merge(results, settings)
    if size < sizes[-1]:
        merged.image = resize_longest_side(merged.image, size)
    return merged


def _shifted(callback: Callback | None, offset: int) -> Callback | None:
    """Report step numbers counted from the start of the whole schedule, not of the current scale."""
    if callback is None or offset == 0:
        return callback
    return lambda step, image, losses: callback(step + offset, image, losses)


def _merge(results: list[Result], settings: dict[str, Any]) -> Result:
    """One :class:`Result` from the runs of a coarse-to-fine schedule."""
    history: dict[str, list[float]] = {}
    frames, offset = [], 0
    for result in results:
        for name, values in result.history.items():
            history.setdefault(name, []).extend(values)
        frames += [(step + offset, image) for step, image in result.frames]
        offset += result.steps_done
    last = results[-1]
    return Result(
        image=last.image,
        history=history,
        frames=frames,
        seconds=sum(r.seconds for r in results),
        settings={**settings, "steps": [r.settings["steps"] for r in results], "optimizer": last.settings["optimizer"],
                  "lr": last.settings["lr"], "pyramid_levels": [r.settings["pyramid_levels"] for r in results]},
        steps_done=offset,
        interrupted=last.interrupted,
        stopped_reason=last.stopped_reason,
        extra={"steps_per_scale": [r.steps_done for r in results]},
        image_scale_start=len(history.get("total", [])) - len(last.history.get("total", [])),
    )


def _prepare_target(
    image: Any, size: int | None, weights: str, pooling: str, seed: int, device: str | torch.device | None
) -> tuple[torch.Tensor, VGG19Features]:
    """Seed, load ``image`` resized to ``size`` (``None``: as it is) onto the device, and load the network there."""
    device = choose_device(device)
    seed_everything(seed)
    target = load_image(image)
    target = resize_longest_side(target, size) if size else target
    return target.to(device), load_vgg(weights, pooling=pooling, device=device)


def reconstruct_content(
    image: Any,
    layer: str = CONTENT_LAYER,
    *,
    size: int | None = 128,
    steps: int = 100,
    init: str = "noise",
    weights: str = "original",
    pooling: str = "max",
    optimizer: str = "lbfgs",
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
    callback: Callback | None = None,
    every: int | None = None,
) -> Result:
    """Find an image whose ``layer`` features match those of ``image``, starting from white noise (Gatys Fig. 1)."""
    target, model = _prepare_target(image, size, weights, pooling, seed, device)
    loss = FeatureLoss(model, content=target, content_layer=layer)
    start = initial_image(init, target, None, seed)
    settings = {"layer": layer, "size": size, "init": init, "weights": weights, "pooling": pooling, "seed": seed}
    return optimize_image(start, loss, steps=steps, optimizer=optimizer, progress=progress, callback=callback,
                          every=every, settings=settings, description=f"reconstruct {layer}")


def synthesize_texture(
    style: Any,
    layers: Sequence[str] | Mapping[str, float] = STYLE_LAYERS,
    *,
    size: int | None = 128,
    steps: int = 100,
    weights: str = "original",
    pooling: str = "max",
    optimizer: str = "lbfgs",
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
    callback: Callback | None = None,
    every: int | None = None,
) -> Result:
    """Synthesize a texture from white noise by matching the Gram matrices of ``style`` at ``layers`` (Gatys 2015)."""
    target, model = _prepare_target(style, size, weights, pooling, seed, device)
    loss = FeatureLoss(model, styles=[target], style_layers=layers)
    start = initial_image("noise", target, None, seed)
    settings = {"layers": layer_weights(layers), "size": size, "weights": weights, "pooling": pooling, "seed": seed}
    return optimize_image(start, loss, steps=steps, optimizer=optimizer, progress=progress, callback=callback,
                          every=every, settings=settings, description="texture")
