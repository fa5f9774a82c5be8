"""Helpers for the neural style transfer course: each module holds one idea of Gatys et al.'s method.

Data flows one way: ``images`` -> ``vgg`` (features) -> ``losses`` -> ``optimize`` / ``transfer`` -> ``plots`` /
``widgets``. The notebooks build each piece by hand, show it equals the version here, then import it.
"""

from .config import choose_device, get_profile, seed_everything
from .data import list_examples, load_example
from .errors import DownloadError, ImageError, NSTError, WeightsError
from .images import load_image, resize_longest_side, save_image, show_images
from .losses import content_loss, gram_matrix, style_loss, tv_loss
from .optimize import Result, optimize_image
from .transfer import reconstruct_content, stylize, synthesize_texture
from .vgg import CONTENT_LAYER, LAYER_NAMES, STYLE_LAYERS, load_vgg

__version__ = "0.1.0"

__all__ = [
    "CONTENT_LAYER", "LAYER_NAMES", "STYLE_LAYERS", "DownloadError", "ImageError", "NSTError", "Result",
    "WeightsError", "choose_device", "content_loss", "get_profile", "gram_matrix", "list_examples", "load_example",
    "load_image", "load_vgg", "optimize_image", "reconstruct_content", "resize_longest_side", "save_image",
    "seed_everything", "show_images", "style_loss", "stylize", "synthesize_texture", "tv_loss",
]
