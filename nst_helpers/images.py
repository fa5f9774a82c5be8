"""Images in and out: every source becomes a float tensor of shape (1, 3, H, W) with values in [0, 1].

Style transfer compares an image with the network's view of other images, so all of them must share one layout
and one value range. :func:`load_image` turns paths, URLs, PIL images, NumPy arrays and tensors into that layout;
:func:`save_image` and :func:`show_images` bring results back out.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from io import BytesIO
from math import ceil
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeAlias

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from nst_helpers import download
from nst_helpers.errors import ImageError, ImageNotFoundError, OutputPathError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PathLike: TypeAlias = str | os.PathLike
ImageSource: TypeAlias = PathLike | Image.Image | np.ndarray | torch.Tensor

MAX_PIXELS = 100_000_000
"""Largest image (width x height) that load_image decodes; bigger files are refused before decoding."""

SAVE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"quality": 95}}

# Modes whose alpha channel is composited over white: fully transparent pixels often hold garbage colours
# (black, or whatever the painting program left there) that would otherwise show up in the result.
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa")
# Modes that Pillow converts to RGB correctly.
CONVERTIBLE_MODES = ("P", "CMYK", "YCbCr", "LAB", "HSV", "RGBX")
# 16-bit single-channel modes, divided by their full-scale value; Pillow's convert("RGB") would clip them at 255.
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")
# Modes "I" (32-bit integers) and "F" (32-bit floats) say nothing about their scale, so it is read from the values:
# F in [0, 1] is kept, F in [0, 255] (made from an 8-bit image) divided by 255; I up to 255 divided by 255, up to
# 65535 (a 16-bit image) by 65535. Anything else is refused with what to do, never clipped to black or white.
RANGE_TOLERANCE = 1e-3
"""Floats this far outside [0, 1] (resampling overshoot) are clipped silently; further out is an ImageError."""

MARK_KEY, MARK_VALUE = "nst_helpers", "result"
"""save_image marks every image it writes (a PNG text chunk, a JPEG comment, a TIFF software tag) and replaces an
existing image only if it carries the mark: a mistyped output path cannot destroy a photo, and no list of inputs
has to be kept. WEBP files carry it as the EXIF tag Software; BMP files cannot carry it."""
MARKABLE_FORMATS = ("PNG", "JPEG", "TIFF", "WEBP")  # BMP has nowhere to put it
SOFTWARE_TAG = 305  # the TIFF and EXIF tag "Software"


def load_image(source: ImageSource, max_size: int | None = None) -> torch.Tensor:
    """Load an image as a contiguous float32 tensor (1, 3, H, W) in [0, 1].

    ``source`` is a file path, an http(s) URL, a PIL image, a NumPy array (H, W), (H, W, 3) or (H, W, 4), or a
    tensor (1, 3, H, W), (3, H, W), (1, H, W) or (H, W). If ``max_size`` is given, images whose longest side is
    larger are shrunk to it; smaller images are never enlarged, since that only adds blur.

    Integers are scaled by their type's range (uint8 by 255, uint16 by 65535; PIL modes I and F by the range their
    values lie in). Floats must already be in [0, 1]: NaN, infinity or values clearly outside (a 0..255 float image)
    are an :class:`ImageError` that says how to scale them, since a silent clip would make the image black or white.
    A 3-D shape that could be channels-first or channels-last, such as (3, 32, 3), is refused as ambiguous.
    """
    if isinstance(source, torch.Tensor):
        image, name = _tensor_to_batch(source), "the tensor"
    elif isinstance(source, np.ndarray):
        _refuse_ambiguous_array(source, "the NumPy array")  # (a PIL image's pixels are always channels-last)
        image, name = _array_to_batch(source, "the NumPy array"), "the NumPy array"
    elif isinstance(source, Image.Image):
        image, name = _pil_to_upright_batch(source, "the PIL image"), "the PIL image"
    elif isinstance(source, str) and "://" in source:
        image, name = _load_url(source), source
    elif isinstance(source, (str, os.PathLike)):
        image, name = _load_file(Path(source).expanduser()), str(source)
    else:
        raise ImageError(
            f"cannot load an image from a {type(source).__name__}; "
            "pass a path, a URL, a PIL image, a NumPy array or a tensor"
        )
    _check_not_empty(image, name)
    if max_size is not None and max(image.shape[-2:]) > max_size:
        image = resize_longest_side(image, max_size)
    return image.contiguous()


def resize_longest_side(image: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a (1, 3, H, W) image so its longest side is ``size``, keeping the aspect ratio.

    Antialiasing matters when shrinking: without it, fine detail turns into jagged noise.
    """
    if size < 1:
        raise ImageError(f"cannot resize to {size} pixels; the size must be at least 1")
    height, width = image.shape[-2:]
    scale = size / max(height, width)
    new_size = (max(1, round(height * scale)), max(1, round(width * scale)))
    resized = F.interpolate(image, size=new_size, mode="bicubic", antialias=True, align_corners=False)
    # Bicubic interpolation overshoots near sharp edges, so values can leave [0, 1].
    return resized.clamp(0, 1)


def save_image(
    image: torch.Tensor | Image.Image | np.ndarray, path: PathLike, *, overwrite: bool = False,
    protect: Iterable[PathLike] = (),
) -> Path:
    """Save a (1, 3, H, W) or (3, H, W) image in [0, 1] and return its path; the suffix picks the format.

    A PIL image or a NumPy array is converted as :func:`load_image` does.

    Replaces an existing file only if an earlier :func:`save_image` wrote it (or ``overwrite=True``), and never a
    file in ``protect``. The file is written under a temporary name and renamed, so a failed save leaves no half
    image.
    """
    path = check_output_path(path, overwrite=overwrite, protect=protect)
    image_format = SAVE_FORMATS[path.suffix.lower()]
    pil = tensor_to_pil(image if isinstance(image, torch.Tensor) else load_image(image))
    with download.atomic_write(path, suffix=path.suffix) as file:
        pil.save(file, format=image_format, **SAVE_OPTIONS.get(image_format, {}), **_mark(image_format))
    return path


def check_output_path(path: PathLike, *, overwrite: bool = False, protect: Iterable[PathLike] = ()) -> Path:
    """``path`` if an image can be written there, else an :class:`OutputPathError` that says why and what to do.

    Cheap and done before a run: a known suffix, not a URL or a folder, a writable folder to write in (created if
    missing), and no existing image that this package did not write (unless ``overwrite``) or that is in ``protect``.
    """
    text = os.fspath(path)
    if "://" in text:
        raise OutputPathError(f"cannot save to {text}: results are written to local files; give a file path")
    path = Path(text).expanduser()
    if path.suffix.lower() not in SAVE_FORMATS:
        raise OutputPathError(
            f"cannot save {path}: unknown suffix {path.suffix!r}; use one of {' '.join(SAVE_FORMATS)}"
        )
    if path.is_dir():
        raise OutputPathError(f"cannot save to {path}: it is a folder; add a file name such as result.png")
    parent = next(folder for folder in [path.parent, *path.parent.parents] if folder.exists())  # made if missing
    if not parent.is_dir():
        raise OutputPathError(f"cannot save {path}: {parent} is a file, not a folder; choose another path")
    if not os.access(parent, os.W_OK):
        raise OutputPathError(f"cannot save {path}: the folder {parent} is not writable; choose another folder")
    refuse_to_overwrite_inputs(path, protect)
    if path.exists() and not overwrite and not written_by_us(path):
        why = ("it was not written by nst_helpers (it may be your photo)"
               if SAVE_FORMATS[path.suffix.lower()] in MARKABLE_FORMATS
               else f"{path.suffix} files cannot show that nst_helpers wrote them (it may be your photo)")
        raise OutputPathError(f"refusing to replace {path}: {why}; choose another name, or pass overwrite=True")
    return path


def _mark(image_format: str) -> dict:
    """Save options that mark the file as a result of this package."""
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text(MARK_KEY, MARK_VALUE)
        return {"pnginfo": info}
    if image_format == "JPEG":
        return {"comment": f"{MARK_KEY} {MARK_VALUE}".encode()}
    if image_format == "TIFF":
        return {"tiffinfo": {SOFTWARE_TAG: f"{MARK_KEY} {MARK_VALUE}"}}
    if image_format == "WEBP":
        exif = Image.Exif()
        exif[SOFTWARE_TAG] = f"{MARK_KEY} {MARK_VALUE}"
        return {"exif": exif.tobytes()}
    return {}


def written_by_us(path: Path) -> bool:
    """True when ``path`` is an image that :func:`save_image` wrote (it carries the mark)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as pil:
                if pil.format == "PNG":
                    return pil.info.get(MARK_KEY) == MARK_VALUE
                software = getattr(pil, "tag_v2", {}).get(SOFTWARE_TAG) or pil.getexif().get(SOFTWARE_TAG)
                marks = (pil.info.get("comment"), software)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    text = [m.decode(errors="replace") if isinstance(m, bytes) else str(m) for m in marks if m]
    return f"{MARK_KEY} {MARK_VALUE}" in text


def show_images(
    images: Sequence[torch.Tensor | Image.Image],
    titles: Sequence[str] | None = None,
    *,
    ncols: int | None = None,
    size: float = 3.0,
) -> Figure:
    """Draw images side by side with their titles underneath and return the matplotlib figure.

    The figure is closed before it is returned, so a notebook shows it once: as the cell's result, or wherever
    you pass it to ``display``.
    """
    # Imported here so that loading and saving images works without a plotting backend.
    import matplotlib.pyplot as plt

    if isinstance(images, (torch.Tensor, Image.Image)):
        images = [images]
    if not images:
        raise ImageError("show_images needs at least one image")
    if titles is not None and len(titles) != len(images):
        raise ImageError(f"show_images got {len(images)} images but {len(titles)} titles; give one title per image")
    ncols = ncols or min(len(images), 4)
    nrows = ceil(len(images) / ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index >= len(images):
            figure.delaxes(ax)
            continue
        ax.imshow(load_image(images[index])[0].permute(1, 2, 0).cpu().numpy())
        ax.axis("off")
        if titles is not None:
            ax.set_title(titles[index], y=0, pad=-4, verticalalignment="top")
    figure.tight_layout()
    plt.close(figure)
    return figure


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    """Convert a (1, 3, H, W) or (3, H, W) tensor in [0, 1] to an 8-bit RGB PIL image (values are clamped)."""
    if image.ndim == 4 and image.shape[0] == 1:
        image = image[0]
    if image.ndim != 3 or image.shape[0] != 3:
        raise ImageError(f"expected an image tensor of shape (1, 3, H, W) or (3, H, W), got {tuple(image.shape)}")
    pixels = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)
    return Image.fromarray(pixels.permute(1, 2, 0).cpu().numpy())


def pil_to_tensor(pil: Image.Image) -> torch.Tensor:
    """Convert a PIL image of any common mode to a float32 tensor (1, 3, H, W) in [0, 1]."""
    return _pil_to_batch(pil, "the PIL image").contiguous()


def _load_file(path: Path) -> torch.Tensor:
    if not path.exists():
        raise ImageNotFoundError(f"no such file: {path}; check the path; relative paths start at {Path.cwd()}")
    if path.is_dir():
        raise ImageError(f"{path} is a folder, not an image; pass the path of an image file inside it")
    return _decode(path, str(path))


def _load_url(url: str) -> torch.Tensor:
    return _decode(BytesIO(download.fetch_bytes(url)), url)


def load_image_bytes(data: bytes, name: str, max_size: int | None = None) -> torch.Tensor:
    """:func:`load_image` for the bytes of an image file (an upload), with the same checks; errors name ``name``."""
    image = _decode(BytesIO(data), name)
    _check_not_empty(image, name)
    if max_size is not None and max(image.shape[-2:]) > max_size:
        image = resize_longest_side(image, max_size)
    return image.contiguous()


def _decode(file: Path | IO[bytes], name: str) -> torch.Tensor:
    with _open(file, name) as pil:
        return _pil_to_upright_batch(pil, name)


def _open(file: Path | IO[bytes], name: str) -> Image.Image:
    """Read only the header; Pillow decodes the pixels later, on first use."""
    try:
        with warnings.catch_warnings():
            # MAX_PIXELS is this package's limit; Pillow's own warning for smaller images would only confuse.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(file)
    except Image.DecompressionBombError as error:
        raise ImageError(f"{name} is too large to decode safely ({error}); resize it first") from None
    except UnidentifiedImageError:
        raise ImageError(
            f"{name} is not an image Pillow can read (it may be a web page, a text file or an unsupported format "
            "with an image's name); open it in an image viewer, or download or export it again"
        ) from None
    except OSError as error:
        raise ImageError(f"could not open {name} ({error}); check that the file is readable") from None


def _decode_pixels(pil: Image.Image, name: str) -> None:
    """Decode the whole image now, so a damaged file fails here with a clear message instead of later."""
    try:
        pil.load()
    except (OSError, SyntaxError, EOFError) as error:
        raise ImageError(
            f"{name} is truncated or corrupted; download or export it again (Pillow said: {error})"
        ) from None


def _check_pixel_count(pil: Image.Image, name: str) -> None:
    """Refuse huge images before decoding: a small compressed file can expand to many gigabytes."""
    pixels = pil.width * pil.height
    if pixels > MAX_PIXELS:
        raise ImageError(
            f"{name} is {pil.width}x{pil.height} = {pixels / 1e6:.3g} megapixels, "
            f"more than the limit of {MAX_PIXELS / 1e6:.3g} megapixels; resize it first"
        )


def _check_not_empty(image: torch.Tensor, name: str) -> None:
    height, width = image.shape[-2:]
    if height == 0 or width == 0:
        raise ImageError(f"{name} is empty ({width}x{height} pixels); pass an image with at least one pixel")


def _pil_to_upright_batch(pil: Image.Image, name: str) -> torch.Tensor:
    """Check the size from the header, decode every pixel, turn the image upright as its EXIF data says, convert.

    A PIL image passed in by the caller may come straight from Image.open, so it gets the same checks as a file.
    """
    _check_pixel_count(pil, name)
    _decode_pixels(pil, name)
    return _pil_to_batch(ImageOps.exif_transpose(pil), name)


def _pil_to_batch(pil: Image.Image, name: str) -> torch.Tensor:
    mode = pil.mode
    if mode in SIXTEEN_BIT_MODES:
        return _array_to_batch(np.asarray(pil, dtype=np.float32) / 65535, name)
    if mode in ("I", "F"):
        return _array_to_batch(_scale_by_range(np.asarray(pil, dtype=np.float64), mode, name), name)
    if mode in ALPHA_MODES or (mode in ("P", "L", "RGB") and "transparency" in pil.info):
        pil = pil.convert("RGBA")
    elif mode in CONVERTIBLE_MODES:
        pil = pil.convert("RGB")
    elif mode not in ("RGB", "L", "1"):
        raise ImageError(f"{name} has the unsupported mode {mode!r}; convert it to RGB first")
    # RGB and L are uint8 (divided by 255), mode 1 is bool (0 or 1): the array's dtype carries the scale.
    return _array_to_batch(np.asarray(pil), name)


def _scale_by_range(values: np.ndarray, mode: str, name: str) -> np.ndarray:
    """Mode F or I pixels in [0, 1], their scale read from their range (the rule is above ``RANGE_TOLERANCE``)."""
    _check_finite(torch.from_numpy(values), name)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if mode == "F" and low >= -RANGE_TOLERANCE and high <= 1 + RANGE_TOLERANCE:
        return values
    if low >= -RANGE_TOLERANCE and high <= 255 + (RANGE_TOLERANCE if mode == "F" else 0):
        return values / 255
    if mode == "I" and low >= 0 and high <= 65535:
        return values / 65535
    kind = "floats (mode F)" if mode == "F" else "32-bit integers (mode I)"
    scales = "[0, 1] or [0, 255]" if mode == "F" else "0..255 or 0..65535"
    raise ImageError(
        f"{name} holds {kind} from {low:g} to {high:g}, outside {scales}, so its scale is unknown; scale it to [0, 1] "
        "yourself, e.g. (x - x.min()) / (x.max() - x.min()) on np.asarray(image, dtype=np.float32), and pass the array"
    )


def _array_to_batch(array: np.ndarray, name: str) -> torch.Tensor:
    _check_array_shape(array, name)
    if array.dtype.kind not in "biuf":  # object, strings, dates...: torch.from_numpy would raise a bare TypeError
        raise ImageError(f"{name} has dtype {array.dtype}, not numbers; pass floats in [0, 1] or uint8 (0..255), "
                         "e.g. np.asarray(x, dtype=np.float32)")
    if array.dtype == np.uint16:
        # Older PyTorch versions have no uint16 tensors, so these are scaled in NumPy.
        array = array.astype(np.float32) / 65535
    # PyTorch wants a writable, contiguous array (np.asarray(pil) is read-only); np.require copies only if needed.
    pixels = _to_unit_range(torch.from_numpy(np.require(array, requirements=["C", "W"])), name)
    if pixels.ndim == 2:
        return _gray_to_batch(pixels)
    channels_first = pixels.permute(2, 0, 1)
    if channels_first.shape[0] == 4:
        channels_first = _composite_over_white(channels_first)
    return channels_first.unsqueeze(0)


def _refuse_ambiguous_array(array: np.ndarray, name: str) -> None:
    """A caller's (3, 32, 3) array could be channels-last or channels-first: refuse it rather than guess."""
    shape = tuple(array.shape)
    if array.ndim == 3 and shape[0] in (3, 4) and shape[2] in (3, 4):
        raise ImageError(
            f"{name} has the ambiguous shape {shape}: it could be channels-last (H, W, C) or channels-first "
            "(C, H, W); pass a tensor shaped (1, 3, H, W) instead: torch.from_numpy(array).permute(2, 0, 1)[None] "
            "if it is (H, W, C), torch.from_numpy(array)[None] if it is (C, H, W)"
        )


def _check_array_shape(array: np.ndarray, name: str) -> None:
    """(H, W), (H, W, 3) or (H, W, 4), else an error (with a hint when the array looks channels-first)."""
    shape = tuple(array.shape)
    if array.ndim == 2 or (array.ndim == 3 and shape[2] in (3, 4)):
        return
    channels_first = array.ndim == 3 and shape[0] in (3, 4)
    hint = "; it looks channels-first: pass array.transpose(1, 2, 0)" if channels_first else ""
    raise ImageError(f"{name} has shape {shape}; expected (H, W), (H, W, 3) or (H, W, 4){hint}")


def _tensor_to_batch(tensor: torch.Tensor) -> torch.Tensor:
    shape = tuple(tensor.shape)
    if tensor.ndim == 3 and shape[0] == 3 and shape[2] == 3:
        raise ImageError(
            f"the tensor has the ambiguous shape {shape}: it could be channels-first (C, H, W) or channels-last "
            "(H, W, C); add the batch dimension to say which: tensor[None] if it is (C, H, W), "
            "tensor.permute(2, 0, 1)[None] if it is (H, W, C)"
        )
    pixels = _to_unit_range(tensor.detach(), "the tensor")
    if pixels.ndim == 2:
        return _gray_to_batch(pixels)
    if pixels.ndim == 3 and pixels.shape[0] == 1:
        return _gray_to_batch(pixels[0])
    if pixels.ndim == 3 and pixels.shape[0] == 3:
        return pixels.unsqueeze(0)
    if pixels.ndim == 4 and tuple(pixels.shape[:2]) == (1, 3):
        return pixels
    hint = "; it looks channels-last: pass tensor.permute(2, 0, 1)" if tensor.ndim == 3 and shape[2] == 3 else ""
    raise ImageError(f"the tensor has shape {shape}; expected (1, 3, H, W), (3, H, W), (1, H, W) or (H, W){hint}")


def _to_unit_range(values: torch.Tensor, name: str) -> torch.Tensor:
    """Scale integer pixels by their type's full range; floats must be finite and in [0, 1] already.

    Floats within ``RANGE_TOLERANCE`` of [0, 1] (resampling overshoot) are clipped; further out, a silent clip would
    turn a 0..255 image white, so it is an error that says how to scale it.
    """
    if values.dtype == torch.bool:
        return values.float()
    if values.dtype == torch.uint8:
        return values.float() / 255
    if not values.is_floating_point():
        raise ImageError(
            f"{name} has dtype {values.dtype}; use floats in [0, 1] or uint8 (0..255); NumPy arrays may also be uint16"
        )
    values = values.float()
    _check_finite(values, name)
    if values.numel() == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if low < -RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
        raise ImageError(f"{name} has values from {low:.4g} to {high:.4g}, outside [0, 1]; {_how_to_scale(low, high)}")
    return values.clamp(0, 1)


def _how_to_scale(low: float, high: float) -> str:
    if low >= -RANGE_TOLERANCE and high <= 255 + RANGE_TOLERANCE:
        return "it looks like 0..255: divide it by 255 (or pass it as uint8)"
    if low >= -1 - RANGE_TOLERANCE and high <= 1 + RANGE_TOLERANCE:
        return "it looks like [-1, 1]: pass (x + 1) / 2"
    if low >= -RANGE_TOLERANCE and high <= 65535 + RANGE_TOLERANCE:
        return "it looks like 0..65535: divide it by 65535"
    return "scale it to [0, 1], e.g. (x - x.min()) / (x.max() - x.min())"


def _check_finite(values: torch.Tensor, name: str) -> None:
    """NaN or infinite pixels would turn the whole result black: refuse them when the image is loaded."""
    finite = torch.isfinite(values)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise ImageError(
            f"{name} has {bad} NaN or infinite value(s) out of {values.numel()}; it cannot be stylized: find where "
            "they come from, or replace them, e.g. torch.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0)"
        )


def _gray_to_batch(gray: torch.Tensor) -> torch.Tensor:
    return gray.expand(1, 3, *gray.shape)


def _composite_over_white(rgba: torch.Tensor) -> torch.Tensor:
    rgb, alpha = rgba[:3], rgba[3:]
    return rgb * alpha + (1 - alpha)


def refuse_to_overwrite_inputs(path: Path, protect: Iterable[PathLike] = ()) -> None:
    """Raise :class:`OutputPathError` if ``path`` is one of the files in ``protect`` (the run's inputs)."""
    if isinstance(protect, (str, os.PathLike)):
        protect = [protect]
    protected = {Path(p).expanduser().resolve() for p in protect if "://" not in os.fspath(p)}
    if any(_same_file(path.resolve(), other) for other in protected):
        raise OutputPathError(f"refusing to overwrite {path}: it is an input image; choose another output path")


def _same_file(a: Path, b: Path) -> bool:
    """Equal resolved paths, or two names for one file (hard links, case-insensitive file systems)."""
    return a == b or (a.exists() and b.exists() and os.path.samefile(a, b))
