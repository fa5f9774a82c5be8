r"""Inpainting, the paper's third use of Gram matrices: fill a hole so its texture statistics match the rest.

Only the hole's pixels :math:`z` are optimized; the image is :math:`x = (1 - h)\,x_0 + h\,z` for the binary hole
:math:`h` (white = fill), so every pixel outside the hole stays exactly the input's. The loss is that of a texture
synthesis restricted to the hole (:mod:`nst_helpers.guided`): the guided Gram matrices of :math:`x` over the hole
(at each layer's resolution a border cell counts in part, so the seam is judged too) against those of the known part
of the image, or of a separate ``source`` texture; plus a content term at a shallow layer over the known positions
only, whose receptive fields reach a few pixels into the hole and so keep its boundary continuous. A deep content
layer would instead copy back what the hole held, which is what object removal must not do.

:func:`gram_distance` and :func:`seam_ratio` are the two measurements notebook 07 judges a fill by, against the
classical baseline ``skimage.restoration.inpaint_biharmonic`` (:func:`biharmonic`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from skimage import filters, restoration, segmentation

from .config import resolve_precision
from .control import to_array, to_tensor
from .errors import SettingsError
from .guided import GuidedObjective, Region, guided_gram, load_mask
from .images import load_image, resize_longest_side
from .optimize import Callback, Result, optimize_image
from .settings import StyleSettings, choose_device
from .transfer import check_loaded_size, load_run_model
from .vgg import STYLE_LAYERS, VGG19Features

# Defaults: the image's own size, a texture synthesis from noise in the hole, a light shallow content term.
INPAINT = {"size": None, "steps": 100, "init": "noise", "content_layer": "relu2_1", "tv_weight": 10.0}
NOISE = 0.2  # width of the uniform noise added to the start in the hole


def compose(image: torch.Tensor, fill: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """``(1 - hole) * image + hole * fill``: the known pixels of ``image``, the hole's from ``fill``."""
    return torch.where(hole > 0.5, fill, image)


def load_hole(mask: Any, image: torch.Tensor, source: Any) -> torch.Tensor:
    """The binary hole (1, 1, H, W) at the image's size; a hole over everything needs a ``source`` texture."""
    hole = (load_mask(mask, image, "mask") > 0.5).float()
    if float(hole.sum()) == 0:
        raise SettingsError("mask has no pixel above 0.5 (white = fill); paint the hole white")
    if bool(hole.all()) and source is None:
        raise SettingsError("mask covers the whole image, so no known part is left to take the texture from; "
                            "pass source= a texture image (the fill is then a texture synthesis)")
    return hole


def inpaint(
    image: Any, mask: Any, *, source: Any = None, settings: StyleSettings | None = None, progress: bool = True,
    callback: Callback | None = None, every: int | None = None, **options: Any,
) -> Result:
    """Fill the white part of ``mask`` in ``image`` with texture like the rest of ``image`` (or like ``source``).

    ``options`` are :class:`StyleSettings` fields on top of :data:`INPAINT` (``size=None``: the image's own size;
    otherwise the image is resized first and the result has that size). Pixels outside the mask are the (resized)
    input's exactly. A mask of another size is resized with a warning; soft masks are cut at 0.5.
    """
    settings = StyleSettings.from_options(settings or StyleSettings(**INPAINT), **options)
    if settings.textbook or settings.style_blend is not None or settings.preserve_colors is not None:
        raise SettingsError("inpaint takes neither textbook, style_blend nor preserve_colors; leave them unset")
    if settings.statistic != "gram":
        raise SettingsError(f"inpaint matches guided Gram matrices: leave statistic='gram', not {settings.statistic!r}")
    picture = load_image(image)
    picture = resize_longest_side(picture, check_loaded_size(picture, settings))
    hole = load_hole(mask, picture, source)
    texture = load_image(source) if source is not None else picture
    device = choose_device(settings.device)
    model = load_run_model(settings)
    start = initial_fill(picture, hole, settings).to(device)
    picture, hole, texture = picture.to(device), hole.to(device), texture.to(device)
    objective = inpainting_objective(model, picture, hole, texture if source is not None else None, settings)
    shown = None if callback is None else (lambda step, z, losses: callback(step, compose(picture, z, hole), losses))
    result = optimize_image(
        start, lambda z: objective(compose(picture, z, hole)), steps=settings.steps if isinstance(settings.steps, int)
        else settings.steps[-1], optimizer=settings.optimizer, lr=settings.lr, progress=progress, every=every,
        callback=shown, description=f"inpaint {tuple(picture.shape[-2:])}", lbfgs_history=settings.lbfgs_history,
    )
    result.image = compose(picture.cpu(), result.image, hole.cpu())
    result.frames = [(step, compose(picture.cpu(), frame, hole.cpu())) for step, frame in result.frames]
    result.settings = settings
    return result


def initial_fill(picture: torch.Tensor, hole: torch.Tensor, settings: StyleSettings) -> torch.Tensor:
    """The start: the biharmonic fill (the right colours at once), plus grey uniform noise of width ``NOISE`` with
    ``init="noise"`` (the texture grows from it); with a hole over everything, the hole is pure noise."""
    generator = torch.Generator().manual_seed(settings.seed)
    if bool(hole.all()):
        return torch.rand(picture.shape, generator=generator)
    noise = torch.rand(1, 1, *picture.shape[-2:], generator=generator)  # grey: no colour specks in a grey texture
    smooth = biharmonic(picture, hole)
    return (smooth + (noise - 0.5) * NOISE).clamp(0, 1) if settings.init == "noise" else smooth


def inpainting_objective(
    model: VGG19Features, picture: torch.Tensor, hole: torch.Tensor, source: torch.Tensor | None,
    settings: StyleSettings,
) -> GuidedObjective:
    """Guided Gram terms over the hole against the known part (or all of ``source``); content on the known part."""
    known = 1.0 - hole
    region = Region(source if source is not None else picture, mask=hole,
                    source_mask=None if source is not None else known)
    bf16 = resolve_precision(settings.precision, choose_device(settings.device)) == torch.bfloat16
    content_known = None if bool(hole.all()) else known
    return GuidedObjective(
        model, regions=[region], content_mask=content_known, content=picture if content_known is not None else None,
        content_layer=settings.content_layer, style_layers=settings.style_layers, textbook=False, bf16=bf16,
        weights={"content": settings.content_weight, "style": settings.style_weight, "tv": settings.tv_weight},
    )


def biharmonic(image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """The classical baseline: ``skimage.restoration.inpaint_biharmonic`` (smooth, textureless fill)."""
    filled = restoration.inpaint_biharmonic(to_array(image), hole[0, 0].cpu().numpy() > 0.5, channel_axis=-1)
    return compose(image, to_tensor(filled), hole)


def gram_distance(
    image: torch.Tensor, hole: torch.Tensor, reference: torch.Tensor, reference_mask: torch.Tensor | None,
    model: VGG19Features, layers: Sequence[str] = STYLE_LAYERS,
) -> float:
    """Mean over ``layers`` of the relative Gram error ``|G[hole] - A|^2 / |A|^2`` (float32, no speed wrappers)."""
    errors = []
    with torch.no_grad():
        ours, theirs = model(image, list(layers)), model(reference, list(layers))
        for name in layers:
            gram = guided_gram(ours[name], hole, textbook=True)
            target = guided_gram(theirs[name], reference_mask, textbook=True)
            errors.append(float((gram - target).pow(2).sum() / target.pow(2).sum()))
    return float(np.mean(errors))


def seam_ratio(image: torch.Tensor, hole: torch.Tensor) -> float:
    """Mean gradient magnitude (Sobel, on grey) on the hole's border over that of the known part: about 1 when the
    border is as busy as the texture, well above 1 for a visible seam, below 1 for a blurred one."""
    grey = to_array(image).mean(axis=-1)
    edges = filters.sobel(grey)
    inside = hole[0, 0].cpu().numpy() > 0.5
    border = segmentation.find_boundaries(inside, mode="thick")
    known = ~inside & ~border
    return float(edges[border].mean() / max(edges[known].mean(), 1e-8))
