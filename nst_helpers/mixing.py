"""Scale control (Gatys et al. 2017, section 6): the fine scales of one style with the coarse scales of another.

Low layers (``relu1_1``, ``relu2_1``) see a few pixels: colours and fine strokes. High layers see large patches:
the shapes the strokes make. Giving each layer the Gram target of a different style image mixes the two by scale,
not by an average of everything (``style_blend``). Each layer still has one target, so the loss is the ordinary
style loss with its targets taken from two images: :class:`~nst_helpers.guided.Region` objects with layers, no masks.
"""

from __future__ import annotations

from typing import Any

from .errors import SettingsError
from .guided import Region
from .images import load_image, resize_longest_side
from .optimize import Callback, Result
from .robust import MIN_WORKING_SIZE
from .schedule import plan_scales
from .settings import StyleSettings
from .transfer import check_loaded_size, load_run_model, run_scales

SPLIT = "relu3_1"  # the first coarse layer: relu1_1 and relu2_1 are the fine scales


def split_layers(layers: list[str], split: str) -> tuple[list[str], list[str]]:
    """``layers`` before ``split`` (fine) and from ``split`` on (coarse); both must be non-empty."""
    if split not in layers:
        raise SettingsError(f"split={split!r} is not one of the style layers {layers}; choose one of them")
    index = layers.index(split)
    if index == 0:
        raise SettingsError(f"split={split!r} is the first style layer, which leaves no fine layers; choose a later "
                            "one")
    return layers[:index], layers[index:]


def mix_scales(
    content: Any, fine: Any, coarse: Any, *, split: str = SPLIT, settings: StyleSettings | None = None,
    progress: bool = True, callback: Callback | None = None, every: int | None = None, **options: Any,
) -> Result:
    """Stylize ``content`` with the style layers before ``split`` matching ``fine`` and the rest matching ``coarse``.

    ``options`` are :class:`StyleSettings` fields, as for :func:`~nst_helpers.stylize` (``textbook`` is refused).
    """
    settings = StyleSettings.from_options(settings, **options)
    if settings.textbook or settings.style_blend is not None or settings.preserve_colors is not None:
        raise SettingsError("mix_scales takes neither textbook, style_blend nor preserve_colors; leave them unset")
    fine_layers, coarse_layers = split_layers(list(settings.style_layers), split)
    content_image = load_image(content)
    styles = [load_image(fine), load_image(coarse)]
    size = check_loaded_size(content_image, settings)
    model = load_run_model(settings)
    working_size = max(size, MIN_WORKING_SIZE)
    regions = [Region(0, layers=fine_layers), Region(1, layers=coarse_layers)]
    result = run_scales(content_image, styles, settings, model, plan_scales(settings, working_size), progress,
                        callback, every, task="mix scales", regions=regions)
    if size < working_size:
        result.image = resize_longest_side(result.image, size)
    return result
