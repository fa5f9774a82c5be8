"""Helpers for the neural style transfer course: each module holds one idea of Gatys et al.'s method.

Layers, lower ones never importing higher ones:

- settings: :class:`StyleSettings`, every option of a run, checked before anything is loaded;
- images, data, download: anything -> a float tensor (1, 3, H, W) in [0, 1], and back to a file;
- vgg: VGG19 with the paper's layer names; :func:`extract_features` as notebook 01 writes it;
- textbook core: :mod:`~nst_helpers.losses` (content, Gram, style, TV and total loss) and :mod:`~nst_helpers.loop`
  (the optimizer, its closure, the plain loop): the notebooks' solutions, exactly;
- wrappers, each a named layer around the core: :mod:`~nst_helpers.fast` (speed), :mod:`~nst_helpers.robust`
  (relative losses, range penalty, non-finite guard), :mod:`~nst_helpers.pyramid` and :mod:`~nst_helpers.schedule`
  (fewer steps), :mod:`~nst_helpers.optimize` (the guarded loop);
- objective, transfer: the loss of a run, and :func:`stylize`, :func:`reconstruct_content`,
  :func:`synthesize_texture`;
- plots, widgets, checks, cli: figures, notebook experiments, exercise checkers, ``python -m nst_helpers``.
"""

from . import checks, config, data, plots, widgets
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
from .images import load_image, pil_to_tensor, resize_longest_side, save_image, show_images, tensor_to_pil
from .loop import make_closure, make_optimizer, plain_loop
from .losses import content_loss, gram_matrix, style_loss, total_loss, tv_loss
from .objective import StyleObjective
from .optimize import Result, optimize_image
from .pyramid import ImagePyramid, automatic_levels
from .robust import MIN_WORKING_SIZE, RANGE_WEIGHT, range_penalty
from .settings import StyleSettings, choose_device, largest_size
from .transfer import reconstruct_content, resize_style, stylize, synthesize_texture
from .vgg import CONTENT_LAYER, LAYER_NAMES, STYLE_LAYERS, VGG19Features, extract_features, layer_table, load_vgg

__version__ = "0.1.0"

__all__ = [
    "CONTENT_LAYER", "LAYER_NAMES", "MIN_WORKING_SIZE", "RANGE_WEIGHT", "STYLE_LAYERS", "DownloadError", "ImageError",
    "ImageNotFoundError", "ImagePyramid", "NSTError", "OutputPathError", "Result", "SettingsError",
    "SettingsTypeError", "StyleObjective", "StyleSettings", "VGG19Features", "WeightsError", "automatic_levels",
    "checks", "choose_device", "classic_path", "config", "content_loss", "data", "extract_features", "get_profile",
    "gram_matrix", "largest_size", "layer_table", "list_examples", "load_example", "load_image", "load_vgg",
    "make_closure", "make_optimizer", "optimize_image", "pil_to_tensor", "plain_loop", "plots", "range_penalty",
    "reconstruct_content", "resize_longest_side", "resize_style", "save_image", "show_images", "style_loss",
    "stylize", "synthesize_texture", "tensor_to_pil", "total_loss", "tv_loss", "widgets",
]
