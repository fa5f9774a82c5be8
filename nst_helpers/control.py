r"""Colour control (Gatys et al., *Controlling Perceptual Factors in Neural Style Transfer*, CVPR 2017, section 4).

A style transfer copies the painting's colours along with its strokes. Two ways keep the photo's colours instead:

- ``"luminance"``: transfer on lightness only. Content and style become grey images of their CIE L* channel, the
  style's lightness first matched to the content's mean and spread, :math:`L_s' = (L_s - \mu_s)\,\sigma_c/\sigma_s +
  \mu_c`; the stylized lightness is then recombined with the content's a*, b* channels. The paper uses YIQ; CIELAB
  (scikit-image's ``rgb2lab``) separates lightness from colour the same way and is what the tests measure. Only
  the final image is recombined: progress frames and callbacks show the grey lightness being stylized.
- ``"histogram"``: recolour the style image with the photo's colours before the transfer, so the network copies
  colours that already are the photo's. The paper's linear transfer :func:`linear_color_transfer` (mean and
  covariance) is used; :func:`histogram_color_transfer` (scikit-image's per-channel histogram matching) is the
  alternative notebook 07 compares with it. The linear map keeps the style's colour *structure* (which colours go
  together), while per-channel matching breaks the links between channels and can invent colours that are in
  neither image.

Everything here is an image operation on (1, 3, H, W) tensors in [0, 1]; colour spaces come from scikit-image.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from skimage import color, exposure

from .errors import SettingsError
from .settings import COLOR_MODES


def to_array(image: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) tensor -> (H, W, 3) float64 array."""
    return image[0].detach().cpu().permute(1, 2, 0).double().numpy()


def to_tensor(array: np.ndarray) -> torch.Tensor:
    """(H, W, 3) array -> (1, 3, H, W) float32 tensor, clipped to [0, 1]."""
    return torch.from_numpy(np.clip(array, 0.0, 1.0)).float().permute(2, 0, 1).unsqueeze(0).contiguous()


def to_lab(image: torch.Tensor) -> np.ndarray:
    """CIELAB of an RGB image: (H, W, 3) with L* in [0, 100] and a*, b* roughly in [-128, 127]."""
    return color.rgb2lab(to_array(image))


def from_lab(lab: np.ndarray) -> torch.Tensor:
    """RGB of a CIELAB array; colours outside the RGB gamut are clipped (scikit-image warns; that is expected)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return to_tensor(color.lab2rgb(lab))


def grey_from_lightness(lightness: np.ndarray) -> torch.Tensor:
    """The grey RGB image with lightness ``lightness`` (a* = b* = 0)."""
    return from_lab(np.stack([lightness, np.zeros_like(lightness), np.zeros_like(lightness)], axis=-1))


def match_statistics(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Textbook core (notebook 07): ``values`` shifted and scaled to the mean and standard deviation of ``like``."""
    return (values - values.mean()) * like.std() / values.std() + like.mean()


def match_lightness(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The style as a grey image whose L* has the content's mean and standard deviation (paper, eq. 6); a style of a
    single lightness, with no spread to scale, becomes the content's mean lightness."""
    style_l, content_l = (torch.from_numpy(to_lab(image)[..., 0]) for image in (style, content))
    if style_l.std() < 1e-6:
        return grey_from_lightness(np.full(style_l.shape, float(content_l.mean())))
    return grey_from_lightness(match_statistics(style_l, content_l).clamp(0.0, 100.0).numpy())


def recombine_lightness(result: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The result's L* with the content's a*, b* (the content resized to the result first)."""
    content = F.interpolate(content, size=result.shape[-2:], mode="bicubic", antialias=True).clamp(0, 1)
    lab = to_lab(content)
    lab[..., 0] = to_lab(result)[..., 0]
    return from_lab(lab)


def linear_color_transfer(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    r"""Recolour ``style`` so its RGB mean and covariance are the content's: :math:`x' = A(x - \mu_s) + \mu_c`,
    :math:`A = \Sigma_c^{1/2}\Sigma_s^{-1/2}` (symmetric square roots; the paper's eq. 5)."""
    pixels_s, pixels_c = to_array(style).reshape(-1, 3), to_array(content).reshape(-1, 3)
    mean_s, mean_c = pixels_s.mean(0), pixels_c.mean(0)
    transform = _matrix_power(np.cov(pixels_c.T), 0.5) @ _matrix_power(np.cov(pixels_s.T), -0.5)
    matched = (pixels_s - mean_s) @ transform.T + mean_c
    return to_tensor(matched.reshape(to_array(style).shape))


def _matrix_power(covariance: np.ndarray, power: float) -> np.ndarray:
    """A symmetric positive semi-definite matrix to ``power`` (eigenvalues floored: a grey image has rank 1)."""
    values, vectors = np.linalg.eigh(covariance)
    return (vectors * np.maximum(values, 1e-8) ** power) @ vectors.T


def histogram_color_transfer(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Recolour ``style`` so each RGB channel has the content's histogram (``skimage.exposure.match_histograms``)."""
    return to_tensor(exposure.match_histograms(to_array(style), to_array(content), channel_axis=-1))


def check_color_mode(mode: str | None) -> None:
    """``None`` or one of :data:`COLOR_MODES`, else a one-line :class:`SettingsError`."""
    if mode is not None and mode not in COLOR_MODES:
        raise SettingsError(f"preserve_colors must be None, 'luminance' or 'histogram'; got {mode!r}")


def prepare_colors(
    content: torch.Tensor, styles: Sequence[torch.Tensor], mode: str | None
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The images the transfer sees: unchanged, grey lightness images, or styles recoloured like the content."""
    check_color_mode(mode)
    if mode == "luminance":
        return grey_from_lightness(to_lab(content)[..., 0]), [match_lightness(s, content) for s in styles]
    if mode == "histogram":
        return content, [linear_color_transfer(s, content) for s in styles]
    return content, list(styles)


def restore_colors(result: torch.Tensor, content: torch.Tensor, mode: str | None) -> torch.Tensor:
    """After the transfer: in ``"luminance"`` mode the stylized lightness gets the content's colours back."""
    return recombine_lightness(result, content) if mode == "luminance" else result
