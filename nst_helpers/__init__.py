"""Helpers for the neural style transfer course: each module holds one idea of Gatys et al.'s method.

Layers, lower ones never importing higher ones:

- settings: :class:`StyleSettings`, every option of a run, checked before anything is loaded;
- images, data, download: anything -> a float tensor (1, 3, H, W) in [0, 1], and back to a file;
- vgg: VGG19 with the paper's layer names; :func:`extract_features` as notebook 01 writes it;
- textbook core: :mod:`~nst_helpers.losses` (content, Gram, style, TV and total loss) and :mod:`~nst_helpers.loop`
  (the optimizer, its closure, the plain loop): the notebooks' solutions, exactly;
- wrappers, each a named layer around the core: :mod:`~nst_helpers.fast` (speed), :mod:`~nst_helpers.robust`
  (relative losses, range penalty, non-finite guard), :mod:`~nst_helpers.pyramid` and :mod:`~nst_helpers.schedule`
  (fewer steps), :mod:`~nst_helpers.optimize` (the guarded loop), :mod:`~nst_helpers.allocator` (CPU memory reuse,
  for a process that only stylizes);
- objective, transfer: the loss of a run, and :func:`stylize`, :func:`reconstruct_content`,
  :func:`synthesize_texture`;
- plots, widgets, checks, cli: figures, notebook experiments, exercise checkers, ``python -m nst_helpers``.

Names are loaded lazily (PEP 562): ``import nst_helpers`` itself imports nothing heavy, and ``nh.stylize`` or
``from nst_helpers import stylize`` imports the module that defines it on first use. So ``python -m nst_helpers``
reaches its ``__main__`` at once and can turn a Ctrl-C during the seconds torch takes to import into one line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it; the submodules a notebook uses map to themselves
_SOURCES = {
    "checks": "checks", "config": "config", "control": "control", "data": "data", "plots": "plots",
    "widgets": "widgets", "metrics": "metrics", "statistics": "statistics", "widgets_quiz": "widgets_quiz",
    "content_distance": "metrics", "style_distance": "metrics", "adain": "statistics", "mean_std": "statistics",
    "get_profile": "config",
    "classic_path": "data", "list_examples": "data", "load_example": "data",
    "DownloadError": "errors", "ImageError": "errors", "ImageNotFoundError": "errors", "NSTError": "errors",
    "OutputPathError": "errors", "SettingsError": "errors", "SettingsTypeError": "errors", "WeightsError": "errors",
    "load_image": "images", "pil_to_tensor": "images", "resize_longest_side": "images", "save_image": "images",
    "show_images": "images", "tensor_to_pil": "images",
    "make_closure": "loop", "make_optimizer": "loop", "plain_loop": "loop",
    "content_loss": "losses", "gram_matrix": "losses", "style_loss": "losses", "total_loss": "losses",
    "tv_loss": "losses",
    "StyleObjective": "objective", "textbook_style_transfer": "objective",
    "Result": "optimize", "optimize_image": "optimize",
    "ImagePyramid": "pyramid", "automatic_levels": "pyramid",
    "MIN_WORKING_SIZE": "robust", "RANGE_WEIGHT": "robust", "range_penalty": "robust",
    "StyleSettings": "settings", "choose_device": "settings", "largest_size": "settings",
    "inpaint": "inpainting", "mix_scales": "mixing", "load_mask": "guided", "keep_freed_memory": "allocator",
    "reconstruct_content": "transfer", "resize_style": "transfer", "stylize": "transfer",
    "synthesize_texture": "transfer",
    "CONTENT_LAYER": "vgg", "LAYER_NAMES": "vgg", "STYLE_LAYERS": "vgg", "VGG19Features": "vgg",
    "extract_features": "vgg", "layer_table": "vgg", "load_vgg": "vgg",
}

__all__ = [
    "CONTENT_LAYER", "LAYER_NAMES", "MIN_WORKING_SIZE", "RANGE_WEIGHT", "STYLE_LAYERS", "DownloadError",
    "ImageError", "ImageNotFoundError", "ImagePyramid", "NSTError", "OutputPathError", "Result", "SettingsError",
    "SettingsTypeError", "StyleObjective", "StyleSettings", "VGG19Features", "WeightsError", "adain",
    "automatic_levels", "checks", "choose_device", "classic_path", "config", "content_distance", "content_loss",
    "control", "data", "extract_features", "get_profile", "gram_matrix", "inpaint", "keep_freed_memory", "largest_size",
    "layer_table",
    "list_examples", "load_example", "load_image", "load_mask", "load_vgg", "make_closure", "make_optimizer",
    "mean_std", "metrics", "mix_scales", "optimize_image", "pil_to_tensor", "plain_loop", "plots", "range_penalty",
    "reconstruct_content", "resize_longest_side", "resize_style", "save_image", "show_images", "statistics",
    "style_distance", "style_loss", "stylize", "synthesize_texture", "tensor_to_pil", "textbook_style_transfer",
    "total_loss", "tv_loss", "widgets", "widgets_quiz",
]


def __getattr__(name: str) -> Any:
    """Import the module behind a public name on first use and remember the value (PEP 562)."""
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{source}", __name__)
    value = module if source == name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what type checkers and editors see: the same names, imported eagerly
    from . import checks, config, control, data, metrics, plots, statistics, widgets, widgets_quiz
    from .allocator import keep_freed_memory
    from .config import get_profile
    from .data import classic_path, list_examples, load_example
    from .errors import (
        DownloadError,
        ImageError,
        ImageNotFoundError,
        NSTError,
        OutputPathError,
        SettingsError,
        SettingsTypeError,
        WeightsError,
    )
    from .guided import load_mask
    from .images import load_image, pil_to_tensor, resize_longest_side, save_image, show_images, tensor_to_pil
    from .inpainting import inpaint
    from .loop import make_closure, make_optimizer, plain_loop
    from .losses import content_loss, gram_matrix, style_loss, total_loss, tv_loss
    from .metrics import content_distance, style_distance
    from .mixing import mix_scales
    from .objective import StyleObjective, textbook_style_transfer
    from .optimize import Result, optimize_image
    from .pyramid import ImagePyramid, automatic_levels
    from .robust import MIN_WORKING_SIZE, RANGE_WEIGHT, range_penalty
    from .settings import StyleSettings, choose_device, largest_size
    from .statistics import adain, mean_std
    from .transfer import reconstruct_content, resize_style, stylize, synthesize_texture
    from .vgg import CONTENT_LAYER, LAYER_NAMES, STYLE_LAYERS, VGG19Features, extract_features, layer_table, load_vgg
