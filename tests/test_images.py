"""Tests of nst_helpers.images: every source and PIL mode, bad files, resizing, saving and showing.

Expected pixel values are worked out by hand from tiny images, so a wrong scale or channel order shows up exactly.
"""

from __future__ import annotations

import stat
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from nst_helpers import images
from nst_helpers.errors import ImageError, ImageNotFoundError, OutputPathError
from nst_helpers.images import (
    check_output_path,
    load_image,
    pil_to_tensor,
    resize_longest_side,
    save_image,
    show_images,
    tensor_to_pil,
    written_by_us,
)

HALF_16_BIT = 32768 / 65535


def row(*pixels: tuple[float, float, float]) -> torch.Tensor:
    """Expected (1, 3, 1, W) tensor for a one-row image, given its RGB pixels from left to right."""
    return torch.tensor(pixels, dtype=torch.float32).T.reshape(1, 3, 1, len(pixels))


def gray_row(*values: float) -> torch.Tensor:
    return row(*[(value, value, value) for value in values])


def from_array(array: list, dtype: type) -> Image.Image:
    return Image.fromarray(np.array([array], dtype=dtype))


def palette_image(transparent_index: int | None = None) -> Image.Image:
    """Two pixels: palette entry 0 is red, entry 1 is blue."""
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255])
    image.putpixel((1, 0), 1)
    if transparent_index is not None:
        image.info["transparency"] = transparent_index
    return image


def filled(mode: str, *pixels: tuple[int, ...]) -> Image.Image:
    image = Image.new(mode, (len(pixels), 1))
    for x, pixel in enumerate(pixels):
        image.putpixel((x, 0), pixel)
    return image


# (mode, image factory, expected tensor, file suffixes the mode can be saved as)
MODE_CASES = [
    ("RGB", lambda: from_array([[255, 0, 51], [0, 255, 0]], np.uint8), row((1, 0, 0.2), (0, 1, 0)), [".png"]),
    # Half-transparent red over white: R = 1, G = B = 1 - 128/255 = 127/255. Fully transparent blue becomes white.
    (
        "RGBA",
        lambda: from_array([[255, 0, 0, 128], [0, 0, 255, 0]], np.uint8),
        row((1, 127 / 255, 127 / 255), (1, 1, 1)),
        [".png", ".tif"],
    ),
    ("LA", lambda: from_array([[100, 255], [0, 0]], np.uint8), row((100 / 255,) * 3, (1, 1, 1)), [".png"]),
    ("PA", lambda: filled("PA", (0, 255), (0, 0)), row((0, 0, 0), (1, 1, 1)), [".tif"]),
    ("P", palette_image, row((1, 0, 0), (0, 0, 1)), [".png", ".bmp"]),
    ("P", lambda: palette_image(transparent_index=1), row((1, 0, 0), (1, 1, 1)), [".png"]),
    # Pillow's CMYK -> RGB: each channel is 255 - (ink + black), so magenta ink alone gives (1, 0, 1).
    ("CMYK", lambda: filled("CMYK", (0, 255, 0, 0), (0, 0, 0, 255)), row((1, 0, 1), (0, 0, 0)), [".tif", ".jpg"]),
    ("L", lambda: from_array([0, 51, 255], np.uint8), gray_row(0, 0.2, 1), [".png", ".jpg"]),
    ("1", lambda: from_array([True, False], bool), gray_row(1, 0), [".png", ".bmp"]),
    ("I;16", lambda: from_array([0, 32768, 65535], np.uint16), gray_row(0, HALF_16_BIT, 1), [".png", ".tif"]),
    (
        "I;16B",
        lambda: Image.frombytes("I;16B", (3, 1), np.array([0, 32768, 65535], dtype=">u2").tobytes()),
        gray_row(0, HALF_16_BIT, 1),
        [".tif"],
    ),
    # Modes I and F are scaled by the range their values lie in (issue 14, item 6).
    ("I", lambda: from_array([0, 32768, 65535], np.int32), gray_row(0, HALF_16_BIT, 1), [".tif"]),
    ("I", lambda: from_array([0, 51, 255], np.int32), gray_row(0, 0.2, 1), [".tif"]),
    ("F", lambda: from_array([0, 127.5, 255], np.float32), gray_row(0, 0.5, 1), [".tif"]),
    ("F", lambda: from_array([0, 0.25, 1], np.float32), gray_row(0, 0.25, 1), [".tif"]),
    ("HSV", lambda: filled("HSV", (0, 255, 255), (0, 0, 255)), row((1, 0, 0), (1, 1, 1)), []),
    # Cb = Cr = 128 means no colour: R = G = B = Y.
    ("YCbCr", lambda: filled("YCbCr", (128, 128, 128), (255, 128, 128)), gray_row(128 / 255, 1), []),
]
MODE_IDS = [f"{mode}-{index}" for index, (mode, *_) in enumerate(MODE_CASES)]
FILE_CASES = [(case, suffix) for case in MODE_CASES for suffix in case[3]]
FILE_IDS = [f"{case[0]}{suffix}" for case, suffix in FILE_CASES]
LOSSY_SUFFIXES = (".jpg",)


def assert_image(actual: torch.Tensor, expected: torch.Tensor, atol: float = 1e-6) -> None:
    assert actual.dtype == torch.float32
    assert actual.is_contiguous()
    torch.testing.assert_close(actual, expected, atol=atol, rtol=0)


def write_png(path: Path, pixels: list, dtype: type = np.uint8) -> Path:
    Image.fromarray(np.array(pixels, dtype=dtype)).save(path)
    return path


def only_files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


# Modes


@pytest.mark.parametrize(("mode", "make", "expected", "suffixes"), MODE_CASES, ids=MODE_IDS)
def test_each_mode_from_memory(mode: str, make: Callable[[], Image.Image], expected, suffixes) -> None:
    image = make()
    assert image.mode == mode
    assert_image(load_image(image), expected)


@pytest.mark.parametrize(("case", "suffix"), FILE_CASES, ids=FILE_IDS)
def test_each_mode_from_a_file(case: tuple, suffix: str, tmp_path: Path) -> None:
    mode, make, expected, _ = case
    path = tmp_path / f"image{suffix}"
    make().save(path)
    if suffix not in LOSSY_SUFFIXES:
        assert Image.open(path).mode == mode
    assert_image(load_image(path), expected, atol=0.02 if suffix in LOSSY_SUFFIXES else 1e-6)


def test_lab_is_converted_by_pillow() -> None:
    lab = filled("LAB", (255, 128, 128), (0, 128, 128))
    assert_image(load_image(lab), row((1, 1, 1), (0, 0, 0)), atol=2 / 255)


def test_unsupported_mode_is_refused() -> None:
    with pytest.raises(ImageError, match="unsupported mode 'La'"):
        load_image(Image.new("La", (2, 2)))


def test_pil_to_tensor_and_back() -> None:
    image = from_array([[255, 0, 51], [0, 255, 0]], np.uint8)
    tensor = pil_to_tensor(image)
    assert_image(tensor, row((1, 0, 0.2), (0, 1, 0)))
    assert np.array_equal(np.asarray(tensor_to_pil(tensor)), np.asarray(image))
    assert np.array_equal(np.asarray(tensor_to_pil(tensor[0])), np.asarray(image))


# EXIF orientation


def jpeg_needing_rotation(path: Path) -> Path:
    """A 4x2 JPEG whose top-left pixel is red and whose EXIF says: turn me 90 degrees clockwise to view."""
    pixels = np.zeros((2, 4, 3), dtype=np.uint8)
    pixels[0, 0] = (255, 0, 0)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # Orientation
    image.save(path, exif=exif, quality=100, subsampling=0)
    return path


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    loaded = load_image(jpeg_needing_rotation(tmp_path / "rotated.jpg"))
    assert loaded.shape == (1, 3, 4, 2)
    # Turning clockwise moves the top-left corner to the top right.
    red = torch.tensor([1.0, 0.0, 0.0])
    torch.testing.assert_close(loaded[0, :, 0, 1], red, atol=0.15, rtol=0)
    assert loaded[0, 0, 0, 0] < 0.3


def test_exif_orientation_is_applied_to_an_opened_pil_image(tmp_path: Path) -> None:
    with Image.open(jpeg_needing_rotation(tmp_path / "rotated.jpg")) as image:
        assert load_image(image).shape == (1, 3, 4, 2)


# Bad files


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageNotFoundError, match="no such file") as caught:
        load_image(tmp_path / "missing.jpg")
    assert isinstance(caught.value, FileNotFoundError) and isinstance(caught.value, ImageError)
    assert str(tmp_path / "missing.jpg") in str(caught.value)
    assert str(Path.cwd()) in str(caught.value)


def test_home_folder_shortcut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_png(tmp_path / "photo.png", [[0, 255]])
    monkeypatch.setenv("HOME", str(tmp_path))
    assert_image(load_image("~/photo.png"), gray_row(0, 1))


def test_folder_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="is a folder"):
        load_image(tmp_path)


def test_text_file_named_like_an_image(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_text("<html>this is a web page</html>")
    with pytest.raises(ImageError, match="is not an image Pillow can read") as caught:
        load_image(str(path))
    assert str(path) in str(caught.value)


def test_truncated_jpeg(tmp_path: Path) -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    path = tmp_path / "cut.jpg"
    Image.fromarray(noise).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="is truncated or corrupted; download or export it again"):
        load_image(path)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that announces a size in its header but holds no pixels: opening it costs nothing, decoding fails."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    chunks = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", b"") + png_chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunks)
    return path


@pytest.fixture
def decoded_images(monkeypatch: pytest.MonkeyPatch) -> list[Image.Image]:
    """Records every image Pillow is asked to decode, without decoding it."""
    decoded: list[Image.Image] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded.append)
    return decoded


def test_huge_image_is_refused_before_decoding(tmp_path: Path, decoded_images: list) -> None:
    path = png_header_only(tmp_path / "huge.png", 12_000, 9_000)
    message = r"is 12000x9000 = 108 megapixels, more than the limit of 100 megapixels; resize it first"
    with pytest.raises(ImageError, match=message):
        load_image(path)
    assert decoded_images == []


def test_the_pixel_limit_can_be_lowered(tmp_path: Path, monkeypatch, decoded_images: list) -> None:
    path = write_png(tmp_path / "big.png", np.zeros((20, 30, 3)))
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    with pytest.raises(ImageError, match=r"is 30x20 = 0\.0006 megapixels, more than the limit of 0\.0001 megapixels"):
        load_image(path)
    assert decoded_images == []


def test_pillow_decompression_bomb_error_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_png(tmp_path / "big.png", np.zeros((20, 30, 3)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ImageError, match="too large to decode safely"):
        load_image(path)


@pytest.mark.filterwarnings("error")
def test_no_pillow_warning_below_our_own_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_png(tmp_path / "big.png", np.zeros((20, 30, 3)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)
    assert load_image(path).shape == (1, 3, 20, 30)


@pytest.mark.parametrize(
    "source",
    [Image.new("RGB", (0, 3)), np.zeros((0, 3, 3), dtype=np.uint8), torch.zeros(3, 4, 0)],
    ids=["pil", "numpy", "tensor"],
)
def test_empty_image_is_refused(source) -> None:
    with pytest.raises(ImageError, match="is empty"):
        load_image(source)


def test_unknown_source_type_is_refused() -> None:
    with pytest.raises(ImageError, match="cannot load an image from a int"):
        load_image(42)


# NumPy and tensor sources


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.array([[[255, 0, 51], [0, 255, 0]]], dtype=np.uint8), row((1, 0, 0.2), (0, 1, 0))),
        (np.array([[0, 32768, 65535]], dtype=np.uint16), gray_row(0, HALF_16_BIT, 1)),
        (np.array([[True, False]]), gray_row(1, 0)),
        (np.array([[-0.0005, 0.25, 1.0005]], dtype=np.float64), gray_row(0, 0.25, 1)),  # overshoot: clipped
        (np.array([[[0.5, 0, 1]]], dtype=np.float32), row((0.5, 0, 1))),
        (np.array([[[0.5, 0.5, 0.5]]], dtype=np.float16), row((0.5, 0.5, 0.5))),
        (np.array([[[255, 0, 0, 128]]], dtype=np.uint8), row((1, 127 / 255, 127 / 255))),
        (np.array([[[0, 0, 0, 255], [0, 0, 0, 0]]], dtype=np.uint8)[:, ::-1], row((1, 1, 1), (0, 0, 0))),
    ],
    ids=["uint8-rgb", "uint16-gray", "bool-gray", "float64-gray", "float32-rgb", "float16-rgb", "rgba", "reversed"],
)
def test_numpy_arrays(array: np.ndarray, expected: torch.Tensor) -> None:
    assert_image(load_image(array), expected)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((2, 2), dtype=np.int32), "dtype torch.int32"),
        (np.zeros((2, 2, 2), dtype=np.uint8), r"shape \(2, 2, 2\)"),
        (np.zeros((1, 2, 2, 3), dtype=np.uint8), "expected"),
    ],
)
def test_unusable_numpy_arrays(array: np.ndarray, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        load_image(array)


@pytest.mark.parametrize(
    ("tensor", "expected"),
    [
        (torch.tensor([[[1.0, 0.0]], [[0.5, 1.0009]], [[-0.0009, 0.25]]]), row((1, 0.5, 0), (0, 1, 0.25))),
        (torch.tensor([[[[1.0, 0.0]], [[0.5, 1.0]], [[0.0, 0.25]]]]), row((1, 0.5, 0), (0, 1, 0.25))),
        (torch.tensor([[0.0, 0.5, 1.0]]), gray_row(0, 0.5, 1)),
        (torch.tensor([[[0, 51, 255]]], dtype=torch.uint8), gray_row(0, 0.2, 1)),
        (torch.tensor([[True, False]]), gray_row(1, 0)),
        (torch.tensor([[[0.5]], [[0.5]], [[0.5]]], dtype=torch.float64), row((0.5, 0.5, 0.5))),
    ],
    ids=["chw-float", "nchw-float", "hw-float", "1hw-uint8", "hw-bool", "chw-float64"],
)
def test_tensors(tensor: torch.Tensor, expected: torch.Tensor) -> None:
    assert_image(load_image(tensor), expected)


def test_tensor_result_is_a_detached_copy() -> None:
    source = torch.full((1, 3, 2, 2), 0.5, requires_grad=True)
    loaded = load_image(source)
    assert not loaded.requires_grad
    loaded.fill_(0)
    assert torch.all(source == 0.5)


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        (torch.zeros(2, 3, 4, 4), r"shape \(2, 3, 4, 4\)"),
        (torch.zeros(4, 4, 4), r"shape \(4, 4, 4\)"),
        (torch.zeros(4, 4, dtype=torch.int64), "dtype torch.int64"),
    ],
)
def test_unusable_tensors(tensor: torch.Tensor, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        load_image(tensor)


# Resizing


def test_max_size_shrinks_the_longest_side_and_keeps_the_aspect_ratio(tmp_path: Path) -> None:
    path = write_png(tmp_path / "wide.png", np.full((50, 100, 3), 200))
    loaded = load_image(path, max_size=20)
    assert loaded.shape == (1, 3, 10, 20)
    assert_image(loaded, torch.full((1, 3, 10, 20), 200 / 255), atol=1e-5)
    assert load_image(np.zeros((100, 50), dtype=np.uint8), max_size=20).shape == (1, 3, 20, 10)


def test_max_size_never_enlarges() -> None:
    array = np.random.default_rng(0).random((30, 40, 3))
    assert_image(load_image(array, max_size=1000), load_image(array))
    assert load_image(array, max_size=40).shape == (1, 3, 30, 40)


@pytest.mark.parametrize(
    ("shape", "size", "expected"),
    [((30, 60), 20, (10, 20)), ((30, 60), 120, (60, 120)), ((90, 30), 30, (30, 10)), ((1, 100), 10, (1, 10))],
)
def test_resize_longest_side(shape: tuple[int, int], size: int, expected: tuple[int, int]) -> None:
    image = torch.full((1, 3, *shape), 0.3)
    resized = resize_longest_side(image, size)
    assert resized.shape == (1, 3, *expected)
    torch.testing.assert_close(resized, torch.full_like(resized, 0.3))


def test_resize_keeps_values_in_range() -> None:
    checkerboard = (torch.arange(16).reshape(4, 4) + torch.arange(4).reshape(4, 1)) % 2
    resized = resize_longest_side(checkerboard.float().expand(1, 3, 4, 4), 13)
    assert resized.min() >= 0
    assert resized.max() <= 1


def test_resize_to_zero_is_refused() -> None:
    with pytest.raises(ImageError, match="at least 1"):
        resize_longest_side(torch.zeros(1, 3, 4, 4), 0)


# Saving


def test_png_round_trip(tmp_path: Path) -> None:
    image = torch.rand(1, 3, 5, 7, generator=torch.Generator().manual_seed(0))
    path = tmp_path / "new" / "folder" / "result.png"  # missing folders are made
    assert save_image(image, path) == path
    assert_image(load_image(path), image, atol=0.5 / 255 + 1e-6)
    assert only_files_in(path.parent) == ["result.png"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_file_where_a_folder_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("a file, not a folder")
    for path in (tmp_path / "notes" / "result.png", tmp_path / "notes" / "deeper" / "result.png"):
        with pytest.raises(OutputPathError, match=r"notes is a file, not a folder; choose another path"):
            check_output_path(path)
        with pytest.raises(OutputPathError, match=r"notes is a file, not a folder"):
            save_image(torch.zeros(1, 3, 2, 2), path)
    assert only_files_in(tmp_path) == ["notes"]


@pytest.mark.parametrize("suffix", [".jpg", ".JPEG", ".webp", ".bmp", ".tif"])
def test_other_formats(suffix: str, tmp_path: Path) -> None:
    image = torch.full((3, 4, 6), 0.5)
    path = save_image(image, str(tmp_path / f"result{suffix}"))
    assert_image(load_image(path), torch.full((1, 3, 4, 6), 0.5), atol=0.02)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".JPEG", ".webp", ".tif", ".tiff"])
def test_saved_images_carry_the_mark_and_can_be_replaced(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"result{suffix}"
    save_image(torch.zeros(1, 3, 4, 4), path)
    assert written_by_us(path)
    save_image(torch.ones(1, 3, 4, 4), path)  # the next run replaces its own result
    assert_image(load_image(path), torch.ones(1, 3, 4, 4), atol=0.02)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif", ".bmp"])
def test_images_from_elsewhere_carry_no_mark(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"photo{suffix}"
    Image.new("RGB", (4, 4), "red").save(path)
    assert not written_by_us(path)


def test_a_comment_that_only_looks_like_the_mark_is_not_the_mark(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (4, 4), "red").save(path, comment=b"result")  # the PNG key's value, but in a JPEG comment
    assert not written_by_us(path)
    (tmp_path / "notes.png").write_text("not an image")
    assert not written_by_us(tmp_path / "notes.png")
    assert not written_by_us(tmp_path / "missing.png")


def test_values_outside_the_range_are_clamped(tmp_path: Path) -> None:
    path = save_image(torch.tensor([[[-1.0, 2.0]]]).expand(3, 1, 2), tmp_path / "clamped.png")
    assert_image(load_image(path), gray_row(0, 1))


def test_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputPathError, match=r"unknown suffix '\.gif'; use one of \.png \.jpg \.jpeg \.webp \.bmp"):
        save_image(torch.zeros(1, 3, 2, 2), tmp_path / "result.gif")
    assert only_files_in(tmp_path) == []


def test_an_unmarked_existing_image_is_never_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replaces the old test of a registry of loaded paths: an image save_image did not write is refused."""
    path = write_png(tmp_path / "photo.png", [[0, 128]])
    original = path.read_bytes()
    load_image(path)  # loading no longer matters: the file itself says whether it may be replaced
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    for same_file in (path, "photo.png", tmp_path / "sub" / ".." / "photo.png"):
        with pytest.raises(OutputPathError, match=r"refusing to replace .*photo\.png: it was not written by nst_"):
            save_image(torch.zeros(1, 3, 2, 2), same_file)
    assert path.read_bytes() == original


def test_a_pil_image_saved_back_to_its_own_file_is_refused(tmp_path: Path) -> None:
    path = write_png(tmp_path / "photo.png", [[0, 128]])
    original = path.read_bytes()
    with Image.open(path) as pil:
        with pytest.raises(OutputPathError, match="refusing to replace"):
            save_image(pil, path)
        with pytest.raises(OutputPathError, match="refusing to replace"):
            save_image(load_image(pil), path)
    assert path.read_bytes() == original


def test_a_pil_image_or_array_can_be_saved(tmp_path: Path) -> None:
    pixels = np.array([[[0, 128, 255], [255, 0, 128]]], dtype=np.uint8)
    save_image(Image.fromarray(pixels), tmp_path / "pil.png")
    save_image(pixels, tmp_path / "array.png")
    expected = torch.tensor(pixels, dtype=torch.float32).permute(2, 0, 1).unsqueeze(0) / 255
    assert_image(load_image(tmp_path / "pil.png"), expected)
    assert_image(load_image(tmp_path / "array.png"), expected)


def test_overwrite_replaces_an_unmarked_image(tmp_path: Path) -> None:
    path = write_png(tmp_path / "old.png", [[0, 128]])
    save_image(torch.ones(1, 3, 2, 2), path, overwrite=True)
    assert_image(load_image(path), torch.ones(1, 3, 2, 2))
    assert written_by_us(path)


def test_an_unmarkable_format_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = save_image(torch.zeros(1, 3, 2, 2), tmp_path / "result.bmp")
    with pytest.raises(OutputPathError, match=r"\.bmp files cannot show that nst_helpers wrote them"):
        save_image(torch.ones(1, 3, 2, 2), path)
    save_image(torch.ones(1, 3, 2, 2), path, overwrite=True)
    assert_image(load_image(path), torch.ones(1, 3, 2, 2))


def test_protected_paths_are_never_overwritten(tmp_path: Path) -> None:
    path = save_image(torch.full((1, 3, 2, 2), 0.5), tmp_path / "style.png")  # marked: only protect keeps it
    original = path.read_bytes()
    for protect in ([path], [str(path)], str(path)):
        for overwrite in (False, True):
            with pytest.raises(OutputPathError, match=r"refusing to overwrite .*style\.png: it is an input image"):
                save_image(torch.zeros(1, 3, 2, 2), path, protect=protect, overwrite=overwrite)
    assert path.read_bytes() == original
    save_image(torch.zeros(1, 3, 2, 2), tmp_path / "other.png", protect=[path])
    assert only_files_in(tmp_path) == ["other.png", "style.png"]


@pytest.mark.parametrize("existing", [False, True], ids=["new-file", "existing-file"])
def test_interrupted_save_leaves_no_trace(existing: bool, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "result.png"
    if existing:  # the previous result, which save_image may replace
        save_image(torch.full((1, 3, 2, 2), 0.5), path)
    before = path.read_bytes() if existing else None

    def save_half_then_interrupt(self: Image.Image, fp, *args: object, **kwargs: object) -> None:
        fp.write(b"\x89PNG half an image")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", save_half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_image(torch.zeros(1, 3, 2, 2), path)
    if not existing:
        assert only_files_in(tmp_path) == []
    else:
        assert only_files_in(tmp_path) == ["result.png"]
        assert path.read_bytes() == before


def test_saving_to_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "out.png"
    folder.mkdir()
    with pytest.raises(OutputPathError, match="it is a folder"):
        save_image(torch.zeros(1, 3, 2, 2), folder)
    assert only_files_in(folder) == []


@pytest.mark.parametrize("url", ["http://example.com/out.png", "https://x/y.png", "file:///tmp/out.png"])
def test_a_url_as_output_is_refused(url: str) -> None:
    with pytest.raises(OutputPathError, match="results are written to local files"):
        check_output_path(url)


def test_check_output_path_accepts_a_new_file_and_says_nothing_else(tmp_path: Path) -> None:
    assert check_output_path(str(tmp_path / "out.png")) == tmp_path / "out.png"
    assert only_files_in(tmp_path) == []  # only checks: nothing is created


def test_a_read_only_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_access = images.os.access
    monkeypatch.setattr(images.os, "access", lambda p, mode: False if Path(p) == tmp_path else real_access(p, mode))
    with pytest.raises(OutputPathError, match="is not writable; choose another folder"):
        check_output_path(tmp_path / "out.png")


def test_tensor_to_pil_refuses_a_batch() -> None:
    with pytest.raises(ImageError, match=r"\(2, 3, 2, 2\)"):
        tensor_to_pil(torch.zeros(2, 3, 2, 2))


# Showing


@pytest.fixture
def agg_backend() -> None:
    matplotlib.use("Agg")


@pytest.mark.usefixtures("agg_backend")
def test_show_images_draws_a_grid_with_titles() -> None:
    pictures = [torch.rand(1, 3, 4, 6), torch.rand(3, 5, 5), Image.new("RGB", (3, 2), "red")]
    figure = show_images(pictures, ["content", "style", "result"], ncols=2)
    assert len(figure.axes) == len(pictures)
    assert [ax.get_title() for ax in figure.axes] == ["content", "style", "result"]
    assert not any(ax.axison for ax in figure.axes)
    assert figure.get_size_inches().tolist() == [6.0, 6.0]


@pytest.mark.usefixtures("agg_backend")
def test_show_images_defaults() -> None:
    figure = show_images([torch.rand(1, 3, 4, 4)] * 5, size=2.0)
    assert len(figure.axes) == 5
    assert figure.get_size_inches().tolist() == [8.0, 4.0]
    assert all(ax.get_title() == "" for ax in figure.axes)


@pytest.mark.usefixtures("agg_backend")
def test_show_images_needs_one_title_per_image() -> None:
    with pytest.raises(ImageError, match="2 images but 1 titles"):
        show_images([torch.rand(3, 4, 4)] * 2, ["only one"])
