"""Style transfer and its two halves: content reconstruction (notebook 02) and texture synthesis (notebook 03).

Each is a short composition: check the settings, load the images and the network, build a
:class:`~nst_helpers.objective.StyleObjective` with the targets, optimize. ``textbook=True`` runs the notebooks'
plain loop (:func:`~nst_helpers.loop.plain_loop`) on the textbook losses; otherwise the guarded loop
(:func:`~nst_helpers.optimize.optimize_image`) with the speed and robustness wrappers, scale by scale.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .config import resolve_precision
from .control import prepare_colors, restore_colors
from .errors import SettingsError
from .fast import channels_last_model
from .guided import GuidedObjective, Region, load_mask
from .images import load_image, resize_longest_side
from .loop import plain_loop
from .objective import StyleObjective
from .optimize import Callback, Recorder, Result, optimize_image
from .robust import MIN_WORKING_SIZE
from .schedule import Scale, plan_scales
from .settings import StyleSettings, choose_device, largest_size
from .vgg import CONTENT_LAYER, LAYER_NAMES, STYLE_LAYERS, VGG19Features, downsampling_factor, load_vgg

# The defaults of the two halves: small, from faint noise, one term, in float32 (notebooks 02 and 03 show why faint).
RECONSTRUCTION = {"size": 128, "steps": 100, "init": "faint_noise", "style_weight": 0.0, "tv_weight": 0.0,
                  "precision": "fp32"}
TEXTURE = {"size": 128, "steps": 100, "init": "faint_noise", "content_weight": 0.0, "style_weight": 1.0,
           "tv_weight": 0.0, "precision": "fp32"}


FAINT = 0.05  # faint_noise: white noise at this fraction of its amplitude, around mid-grey


def initial_image(init: str, content: torch.Tensor, style: torch.Tensor | None, seed: int) -> torch.Tensor:
    """The starting point: the content image, white noise in [0, 1] from the run's own generator, the style, or
    ``faint_noise``, 0.5 + FAINT (noise - 0.5): the first layers barely see pixel-to-pixel grain, so a full-strength
    noise start leaves grain in a texture or reconstruction that L-BFGS removes only very slowly (notebook 02)."""
    if init in ("noise", "faint_noise"):
        noise = torch.rand(content.shape, generator=torch.Generator().manual_seed(seed)).to(content.device)
        return noise if init == "noise" else 0.5 + FAINT * (noise - 0.5)
    if init == "style" and style is not None:
        return F.interpolate(style, size=content.shape[-2:], mode="bicubic", antialias=True).clamp(0, 1)
    return content.clone()


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


def load_run_model(settings: StyleSettings) -> VGG19Features:
    """The run's VGG19: as loaded for ``textbook=True``, else with channels-last weights (:mod:`nst_helpers.fast`)."""
    model = load_vgg(settings.weights, pooling=settings.pooling, device=settings.device, seed=settings.seed)
    return model if settings.textbook else channels_last_model(model)


def build_objective(
    model: VGG19Features, content: torch.Tensor | None, styles: Sequence[torch.Tensor], settings: StyleSettings,
    regions: Sequence[Region] | None = None,
) -> StyleObjective:
    """The loss of a run at the size of ``content`` (or of the first style, for a texture). ``regions`` (notebook
    07): style ``i`` of each region's ``style`` index, its mask resized to ``content``, in guided Gram terms."""
    like = content if content is not None else styles[0]
    layers = list(settings.style_layers)
    device = choose_device(settings.device)
    styles = [resize_style(s, like, settings.style_scale, layers) for s in styles]
    options = dict(
        content=content, content_layer=settings.content_layer, style_layers=settings.style_layers,
        weights={"content": settings.content_weight, "style": settings.style_weight, "tv": settings.tv_weight},
        textbook=settings.textbook, bf16=resolve_precision(settings.precision, device) == torch.bfloat16,
        statistic=settings.statistic, seed=settings.seed,
    )
    if regions is not None:
        return GuidedObjective(model, regions=[regions_at(region, styles, like) for region in regions], **options)
    return StyleObjective(model, styles=styles, style_blend=settings.style_blend, **options)


def regions_at(region: Region, styles: Sequence[torch.Tensor], like: torch.Tensor) -> Region:
    """``region`` with its style index replaced by that (resized) style and its mask at the size of ``like``."""
    mask = None if region.mask is None else F.interpolate(region.mask, size=like.shape[-2:], mode="area")
    return Region(styles[region.style], mask, region.source_mask, region.layers)


def run_textbook(
    content: torch.Tensor | None, styles: Sequence[torch.Tensor], settings: StyleSettings, model: VGG19Features,
    callback: Callback | None = None, every: int | None = None,
) -> Result:
    """The notebooks' plain loop on the textbook losses, at the size of ``content`` (of the style for a texture)."""
    device = model.layers["conv1_1"].weight.device
    content = content.to(device) if content is not None else None
    styles = [style.to(device) for style in styles]
    target = content if content is not None else styles[0]
    objective = build_objective(model, content, styles, settings)
    steps = last_steps(settings)
    recorder = Recorder(target, steps, every or max(1, steps // 10), callback)

    def recorded(image: torch.Tensor) -> dict[str, torch.Tensor]:
        losses = objective(image)
        recorder.record(image, losses)
        return losses

    start = time.perf_counter()
    first = initial_image(settings.init, target, styles[0] if styles else None, settings.seed)
    image = plain_loop(first, recorded, steps, settings.optimizer, settings.lr)
    return Result(image=image.cpu(), history=recorder.history, frames=recorder.frames,
                  seconds=time.perf_counter() - start, settings=settings, steps_done=recorder.evaluations,
                  schedule=[{"size": max(target.shape[-2:]), "steps": steps, "pyramid_levels": 1,
                             "precision": "fp32"}])


def run_scales(
    content: torch.Tensor | None, styles: Sequence[torch.Tensor], settings: StyleSettings, model: VGG19Features,
    plan: Sequence[Scale], progress: bool, callback: Callback | None, every: int | None, task: str = "stylize",
    regions: Sequence[Region] | None = None,
) -> Result:
    """The guarded loop with the wrappers, scale by scale, at the sizes of ``content`` (of the style for a texture)."""
    device = choose_device(settings.device)
    source = content if content is not None else styles[0]
    image, results = None, []
    for scale in plan:
        target = resize_longest_side(source, scale.size).to(device)
        objective = build_objective(model, target if content is not None else None, styles, settings, regions)
        if image is None:
            image = initial_image(settings.init, target, objective_style(styles, target, settings), settings.seed)
        else:
            image = F.interpolate(image, size=target.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
        offset = sum(r.steps_done for r in results)
        result = optimize_image(
            image, objective, steps=scale.steps, optimizer=settings.optimizer, lr=settings.lr, progress=progress,
            every=every, callback=_shifted(callback, offset), description=f"{task} {tuple(target.shape[-2:])}",
            pyramid_levels=scale.pyramid_levels, lbfgs_history=settings.lbfgs_history,
        )
        result.schedule[0].update(size=scale.size, precision="bf16" if objective.bf16 else "fp32")
        results.append(result)
        image = result.image.to(device)
        if result.interrupted or result.stopped_reason:
            break
    return merge_scales(results, settings)


def objective_style(styles: Sequence[torch.Tensor], like: torch.Tensor, settings: StyleSettings) -> torch.Tensor | None:
    """The first style image at the size of ``like``, for ``init="style"``."""
    return resize_style(styles[0], like, settings.style_scale, list(settings.style_layers)) if styles else None


def _shifted(callback: Callback | None, offset: int) -> Callback | None:
    """Report step numbers counted from the start of the whole schedule, not of the current scale."""
    if callback is None or offset == 0:
        return callback
    return lambda step, image, losses: callback(step + offset, image, losses)


def merge_scales(results: list[Result], settings: StyleSettings) -> Result:
    """One :class:`Result` from the runs of a coarse-to-fine schedule (history and frames joined, steps counted on)."""
    history: dict[str, list[float]] = {}
    frames, offset = [], 0
    for result in results:
        for name, values in result.history.items():
            history.setdefault(name, []).extend(values)
        frames += [(step + offset, image) for step, image in result.frames]
        offset += result.steps_done
    last = results[-1]
    return Result(
        image=last.image, history=history, frames=frames, seconds=sum(r.seconds for r in results),
        settings=settings, steps_done=offset, interrupted=last.interrupted, stopped_reason=last.stopped_reason,
        schedule=[r.schedule[0] for r in results],
        image_scale_start=len(history.get("total", [])) - len(last.history.get("total", [])),
    )


def last_steps(settings: StyleSettings) -> int:
    """The steps of the last (or only) scale."""
    return settings.steps if isinstance(settings.steps, int) else settings.steps[-1]


def planned_steps(settings: StyleSettings) -> int:
    """The forward-backward passes :func:`stylize` takes with ``settings`` over all scales (``size`` must be set)."""
    if settings.textbook:
        return last_steps(settings)
    return sum(scale.steps for scale in plan_scales(settings, max(settings.size, MIN_WORKING_SIZE)))


def check_loaded_size(image: torch.Tensor, settings: StyleSettings) -> int:
    """The result's longest side (``size``, or the image's own when it is ``None``), checked against the limit."""
    size = settings.size or max(image.shape[-2:])
    limit = settings.size_limit or largest_size(choose_device(settings.device))
    if size > limit:
        raise SettingsError(f"the content image is {size} px on its longest side, more than the largest size that "
                            f"fits in this device's memory, about {limit} px; set size to {limit} or less")
    return size


def stylize(
    content: Any, style: Any, settings: StyleSettings | None = None, *, masks: Sequence[Any] | None = None,
    progress: bool = True, callback: Callback | None = None, every: int | None = None, **options: Any,
) -> Result:
    """Render ``content`` in the style of ``style`` (Gatys et al. 2016); returns a :class:`Result`.

    ``content`` and ``style`` take anything :func:`load_image` does; ``style`` may be a list, mixed by
    ``style_blend``. ``options`` are the fields of :class:`StyleSettings` (``size``, ``steps``, ``style_weight``,
    ``textbook``, ...), applied on top of ``settings``; all are checked before any image or network is loaded.
    ``callback(step, image, losses)`` runs every ``every`` steps. Results smaller than ``MIN_WORKING_SIZE`` are
    optimized at that size and downsized (frames stay at the working size), except with ``textbook=True``.
    ``masks``: one per style (white = where it applies; see :mod:`nst_helpers.guided`); ``preserve_colors`` keeps
    the content's colours (:mod:`nst_helpers.control`).
    """
    settings = StyleSettings.from_options(settings, **options)
    style_list = list(style) if isinstance(style, list | tuple) else [style]
    if not style_list:
        raise SettingsError("style is an empty list; pass at least one style image")
    if settings.style_blend is not None and len(settings.style_blend) != len(style_list):
        raise SettingsError(f"style_blend has {len(settings.style_blend)} weights for {len(style_list)} style "
                            "images; give one weight per style image")
    if settings.statistic == "sliced_wasserstein" and len(style_list) > 1:
        raise SettingsError("statistic='sliced_wasserstein' takes one style image; use 'gram' or 'meanstd' to blend")
    check_masks(masks, len(style_list), settings)
    original = load_image(content)
    content_image, style_images = prepare_colors(original, [load_image(item) for item in style_list],
                                                 settings.preserve_colors)
    regions = None if masks is None else [
        Region(index, load_mask(mask, original, f"mask {index + 1}")) for index, mask in enumerate(masks)]
    size = check_loaded_size(content_image, settings)
    model = load_run_model(settings)
    if settings.textbook:
        result = run_textbook(resize_longest_side(content_image, size), style_images, settings, model, callback,
                              every)
    else:
        working_size = max(size, MIN_WORKING_SIZE)
        result = run_scales(content_image, style_images, settings, model, plan_scales(settings, working_size),
                            progress, callback, every, regions=regions)
        if size < working_size:
            result.image = resize_longest_side(result.image, size)
    result.image = restore_colors(result.image, original, settings.preserve_colors)
    return result


def check_masks(masks: Sequence[Any] | None, styles: int, settings: StyleSettings) -> None:
    """Masks need one per style, the guarded loop, and no ``style_blend`` (a blend mixes styles; masks place them)."""
    if masks is None:
        return
    if isinstance(masks, str) or not isinstance(masks, Sequence):
        raise SettingsError("masks must be a list with one mask per style image, e.g. masks=[mask_a, mask_b]")
    if len(masks) != styles:
        raise SettingsError(f"{len(masks)} masks for {styles} style images; give one mask per style image")
    if settings.textbook:
        raise SettingsError("masks need textbook=False (the plain loop of the notebooks has no guided Gram terms)")
    if settings.style_blend is not None:
        raise SettingsError("masks and style_blend do not combine: a mask places each style; drop style_blend")
    if settings.statistic != "gram":
        raise SettingsError(f"masks need statistic='gram' (guided Gram matrices), got {settings.statistic!r}")


def reconstruct_content(
    image: Any, layer: str = CONTENT_LAYER, settings: StyleSettings | None = None, *, progress: bool = True,
    callback: Callback | None = None, every: int | None = None, **options: Any,
) -> Result:
    """Find an image whose ``layer`` features match those of ``image``, from faint noise (Gatys Fig. 1)."""
    base = settings or StyleSettings(**RECONSTRUCTION)
    settings = StyleSettings.from_options(base, **{"content_layer": layer, "scales": None, **options})
    target = load_image(image)
    size = check_loaded_size(target, settings)
    model = load_run_model(settings)
    if settings.textbook:
        return run_textbook(resize_longest_side(target, size), [], settings, model, callback, every)
    plan = [Scale(size, last_steps(settings), 1)]
    return run_scales(target, [], settings, model, plan, progress, callback, every,
                      task=f"reconstruct {settings.content_layer}")


def synthesize_texture(
    style: Any, layers: Sequence[str] | Mapping[str, float] = STYLE_LAYERS, settings: StyleSettings | None = None, *,
    progress: bool = True, callback: Callback | None = None, every: int | None = None, **options: Any,
) -> Result:
    """Synthesize a texture from faint noise by matching the Gram matrices of ``style`` at ``layers`` (Gatys 2015)."""
    base = settings or StyleSettings(**TEXTURE)
    start = base.init if base.init != "content" else TEXTURE["init"]  # a texture has no content to start from
    settings = StyleSettings.from_options(base, **{"style_layers": layers, "init": start, **options})
    source = load_image(style)
    size = check_loaded_size(source, settings)
    model = load_run_model(settings)
    target = resize_longest_side(source, size)
    if settings.textbook:
        return run_textbook(None, [target], settings, model, callback, every)
    plan = [Scale(size, last_steps(settings), 1)]
    return run_scales(None, [target], settings, model, plan, progress, callback, every, task="texture")
