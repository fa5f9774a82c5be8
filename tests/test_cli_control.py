"""The command line's controls (notebook 07): ``--preserve-colors``, ``--mask`` once per style, and ``inpaint``."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from nst_helpers.cli import main

FAST = ["--size", "32", "--steps", "2", "--quiet"]


def _png(path, array):
    Image.fromarray(array).save(path)
    return path


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    content = _png(tmp_path / "content.png", rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    style_a = _png(tmp_path / "a.png", rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    style_b = _png(tmp_path / "b.png", rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    left = np.zeros((16, 16), dtype=np.uint8)  # another size than the content: resized, with a warning
    left[:, :8] = 255
    mask_a, mask_b = _png(tmp_path / "left.png", left), _png(tmp_path / "right.png", 255 - left)
    return {"content": content, "a": style_a, "b": style_b, "mask_a": mask_a, "mask_b": mask_b, "dir": tmp_path}


def test_masks_one_per_style(files, capsys):
    out = files["dir"] / "two.png"
    status = main(["stylize", str(files["content"]), str(files["a"]), str(files["b"]), "--mask", str(files["mask_a"]),
                   "--mask", str(files["mask_b"]), "-o", str(out), *FAST])
    captured = capsys.readouterr()
    assert status == 0 and out.is_file(), captured.err
    assert "resized to the image" in captured.err


def test_masks_that_do_not_match_the_styles_are_one_line_and_exit_2(files, capsys):
    status = main(["stylize", str(files["content"]), str(files["a"]), str(files["b"]), "--mask", str(files["mask_a"]),
                   "-o", str(files["dir"] / "x.png"), *FAST])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "1 masks for 2 style images" in err


def test_preserve_colors_choices(files, capsys):
    out = files["dir"] / "lum.png"
    assert main(["stylize", str(files["content"]), str(files["a"]), "--preserve-colors", "luminance", "-o", str(out),
                 *FAST]) == 0 and out.is_file()
    with pytest.raises(SystemExit) as stopped:
        main(["stylize", str(files["content"]), str(files["a"]), "--preserve-colors", "lab", *FAST])
    assert stopped.value.code == 2 and "invalid choice: 'lab'" in capsys.readouterr().err


def test_inpaint_keeps_the_known_pixels_and_refuses_a_full_mask(files, capsys):
    hole = np.zeros((32, 32), dtype=np.uint8)
    hole[8:20, 10:24] = 255
    mask = _png(files["dir"] / "hole.png", hole)
    out = files["dir"] / "filled.png"
    assert main(["inpaint", str(files["content"]), str(mask), "-o", str(out), "--steps", "2", "--quiet"]) == 0
    before, after = np.asarray(Image.open(files["content"])), np.asarray(Image.open(out))
    assert np.array_equal(before[hole == 0], after[hole == 0]) and not np.array_equal(before, after)
    full = _png(files["dir"] / "full.png", np.full((32, 32), 255, dtype=np.uint8))
    status = main(["inpaint", str(files["content"]), str(full), "-o", str(files["dir"] / "y.png"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and "covers the whole image" in err and err.count("\n") == 1


def test_inpaint_default_output_name(files, monkeypatch, capsys):
    hole = np.zeros((32, 32), dtype=np.uint8)
    hole[4:12, 4:12] = 255
    mask = _png(files["dir"] / "hole2.png", hole)
    monkeypatch.chdir(files["dir"])
    assert main(["inpaint", str(files["content"]), str(mask), "--steps", "1", "--quiet"]) == 0
    assert (files["dir"] / "content_inpainted.png").is_file()
