"""Tests of the command line ``python -m nst_helpers``: tiny runs (32 px, 2 steps) and every kind of bad input."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nst_helpers import images as images_module
from nst_helpers import transfer
from nst_helpers.cli import main
from nst_helpers.images import written_by_us

FAST = ["--size", "32", "--steps", "2", "--quiet"]


def _write_png(path: Path, width: int, height: int, seed: int) -> Path:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def _images(folder: Path) -> tuple[Path, Path, Path]:
    """A content image (48x40, landscape) and two style images of other sizes."""
    return (
        _write_png(folder / "content.png", 48, 40, seed=0),
        _write_png(folder / "style_a.png", 32, 32, seed=1),
        _write_png(folder / "style_b.png", 24, 40, seed=2),
    )


@pytest.fixture
def images(tmp_path):
    return _images(tmp_path)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """One stylization with ``--save-every 1``, shared by the tests that only read its results (runs are slow)."""
    folder = tmp_path_factory.mktemp("first_run")
    content, style_a, style_b = _images(folder)
    output = folder / "out" / "result.png"  # a folder that does not exist yet
    # capsys is function-scoped, so this fixture captures the output itself.
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["stylize", str(content), str(style_a), "-o", str(output), "--save-every", "1", *FAST])
    return {"status": status, "out": out.getvalue(), "err": err.getvalue(), "output": output,
            "content": content, "style_a": style_a, "style_b": style_b}


def _final_loss(out: str) -> str:
    match = re.search(r"final loss (\S+)\)", out)
    assert match, out
    return match.group(1)


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    return lines[0]


def test_stylize_writes_the_result_and_says_where(first_run):
    output = first_run["output"]
    assert first_run["status"] == 0
    assert first_run["out"].startswith(f"Saved {output.resolve()} (2 steps in ")
    assert first_run["err"] == ""  # --quiet: no progress bar
    with Image.open(output) as result:
        assert result.format == "PNG"
        assert result.size == (32, 27)  # longest side 32, the content's aspect ratio 48:40 kept


def test_save_every_writes_the_intermediate_images(first_run):
    folder = first_run["output"].parent
    assert sorted(p.name for p in folder.iterdir()) == ["result.png", "result_step1.png", "result_step2.png"]
    # The result is the step with the lowest loss (an L-BFGS line-search trial may be worse than the one before).
    final = _pixels(first_run["output"])
    assert any(np.array_equal(_pixels(folder / f"result_step{n}.png"), final) for n in (1, 2))
    assert _pixels(folder / "result_step1.png").shape == (27, 32, 3)


def test_style_blend_mixes_several_styles(first_run, tmp_path, capsys):
    """A blend of (1, 0) gives the result of the first style alone; (0, 1) gives another one."""
    content, style_a, style_b = first_run["content"], first_run["style_a"], first_run["style_b"]
    losses = {}
    for weights in ("1", "0"), ("0", "1"):
        output = tmp_path / f"blend_{'_'.join(weights)}.png"
        argv = ["stylize", str(content), str(style_a), str(style_b), "--style-blend", *weights, "-o", str(output)]
        assert main([*argv, *FAST]) == 0
        losses[weights] = _final_loss(capsys.readouterr().out)
    assert losses[("1", "0")] == _final_loss(first_run["out"])
    assert np.abs(_pixels(tmp_path / "blend_1_0.png") - _pixels(first_run["output"])).max() <= 1
    assert losses[("0", "1")] != losses[("1", "0")]


def _nothing_loaded(monkeypatch):
    """Make loading an image or the network fail the test: errors must come before either."""

    def loaded(*args, **kwargs):
        raise AssertionError("the error must be found before any image or network is loaded")

    monkeypatch.setattr(transfer, "load_image", loaded)
    monkeypatch.setattr(transfer, "load_vgg", loaded)


def test_style_blend_with_the_wrong_count_is_one_error_line(images, tmp_path, capsys, monkeypatch):
    _nothing_loaded(monkeypatch)
    content, style_a, style_b = images
    output = tmp_path / "out.png"
    argv = ["stylize", str(content), str(style_a), str(style_b), "--style-blend", "0.5", "-o", str(output), *FAST]
    assert main(argv) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "style_blend has 1 weights for 2 style images; give one weight per style image" in line
    assert not output.exists()


def test_missing_content_file_is_one_error_line(images, tmp_path, capsys):
    _, style, _ = images
    missing = tmp_path / "no_such_photo.jpg"
    assert main(["stylize", str(missing), str(style), "-o", str(tmp_path / "out.png"), *FAST]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"no such file: {missing}" in line


def test_text_file_named_jpg_is_one_error_line(images, tmp_path, capsys):
    content, _, _ = images
    fake = tmp_path / "style.jpg"
    fake.write_text("<html>not a picture</html>")
    assert main(["stylize", str(content), str(fake), "-o", str(tmp_path / "out.png"), *FAST]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"{fake} is not an image Pillow can read" in line
    assert not (tmp_path / "out.png").exists()


def _no_stylize(*args, **kwargs):
    raise AssertionError("the output path must be checked before the optimization starts")


def test_output_equal_to_the_content_is_refused_and_the_content_kept(images, capsys, monkeypatch):
    monkeypatch.setattr(transfer, "stylize", _no_stylize)
    content, style, _ = images
    before = content.read_bytes()
    assert main(["stylize", str(content), str(style), "-o", str(content), *FAST]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"refusing to overwrite {content}" in line
    assert content.read_bytes() == before


def test_output_equal_to_a_style_by_another_spelling_is_refused(images, capsys, monkeypatch):
    monkeypatch.setattr(transfer, "stylize", _no_stylize)
    content, style, _ = images
    other_spelling = style.parent / "." / style.name
    before = style.read_bytes()
    assert main(["stylize", str(content), str(style), "-o", str(other_spelling), *FAST]) == 2
    assert "refusing to overwrite" in _one_error_line(capsys.readouterr().err)
    assert style.read_bytes() == before


def test_output_without_an_image_suffix_is_refused(images, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(transfer, "stylize", _no_stylize)
    content, style, _ = images
    output = tmp_path / "result.txt"
    assert main(["stylize", str(content), str(style), "-o", str(output), *FAST]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"cannot save {output}: unknown suffix '.txt'; use one of .png .jpg" in line
    assert not output.exists()


def test_too_small_image_is_optimized_larger_and_saved_at_its_size(tmp_path):
    """Documented upscaling: an 8 px result is optimized at the minimum working size (128 px), then downsized."""
    content = _write_png(tmp_path / "tiny.png", 8, 8, seed=3)
    style = _write_png(tmp_path / "style.png", 32, 32, seed=4)
    out = tmp_path / "out.png"
    argv = ["stylize", str(content), str(style), "-o", str(out), "--size", "8", "--steps", "2", "--save-every", "1"]
    assert main([*argv, "--quiet"]) == 0
    assert Image.open(out).size == (8, 8) and Image.open(tmp_path / "out_step1.png").size == (8, 8)


def test_scales_run_coarse_to_fine_with_a_quarter_of_the_steps_first(images, tmp_path, capsys):
    """32 px results are optimized at 128 px: ``--scales 0.5 1`` adds 1 step (a quarter of 4) at 64 px."""
    content, style, _ = images
    output = tmp_path / "out.png"
    argv = ["stylize", str(content), str(style), "-o", str(output), "--scales", "0.5", "1"]
    assert main([*argv, "--size", "32", "--steps", "4", "--quiet"]) == 0
    assert capsys.readouterr().out.startswith(f"Saved {output.resolve()} (5 steps in ")
    assert Image.open(output).size == (32, 27)


def test_scales_not_ending_in_1_are_one_error_line(images, tmp_path, capsys):
    content, style, _ = images
    output = tmp_path / "out.png"
    assert main(["stylize", str(content), str(style), "-o", str(output), "--scales", "0.5", "0.75", *FAST]) == 2
    assert "scales must increase, lie in (0, 1] and end with 1, e.g. (0.5, 1); got [0.5, 0.75]" in _one_error_line(
        capsys.readouterr().err)
    assert not output.exists()


@pytest.mark.parametrize("bad", [["--steps", "many"], ["--size", "1.5"], ["--seed", "x"], ["--style-weight", "lots"],
                                 ["--optimizer", "sgd"]])
def test_values_that_are_not_numbers_or_choices_are_refused_by_argparse(images, tmp_path, capsys, bad):
    content, style, _ = images
    with pytest.raises(SystemExit) as exited:
        main(["stylize", str(content), str(style), "-o", str(tmp_path / "out.png"), "--quiet", *bad])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {bad[0]}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("bad", "message"), [
    (["--steps", "-1"], "steps must be at least 1, got -1"),
    (["--size", "-3"], "size must be at least 1, got -3"),
    (["--size", "0"], "size must be at least 1, got 0"),
    (["--pyramid-levels", "0"], "pyramid_levels must be at least 1, got 0"),
    (["--style-weight", "-1"], "style_weight must be at least 0, got -1.0"),
    (["--tv-weight", "inf"], "tv_weight must be a finite number, got inf"),
    (["--steps", "2", "3"], "steps has 2 entries but there is one scale"),
    (["--style-layers", "rleu3_1"], "style_layers: unknown VGG19 layer 'rleu3_1'; did you mean 'relu3_1'?"),
    (["--size", "64", "--size-limit", "32"], "size = 64 px is more than the largest size"),
])
def test_numbers_out_of_range_are_one_error_line_before_the_run(images, tmp_path, capsys, monkeypatch, bad, message):
    monkeypatch.setattr(transfer, "stylize", _no_stylize)
    content, style, _ = images
    output = tmp_path / "out.png"
    assert main(["stylize", str(content), str(style), "-o", str(output), *FAST, *bad]) == 2
    assert message in _one_error_line(capsys.readouterr().err)
    assert not output.exists()


def test_an_existing_image_not_written_by_us_is_refused_unless_overwrite(images, tmp_path, capsys, monkeypatch):
    content, style, _ = images
    photo = _write_png(tmp_path / "holiday.png", 20, 20, seed=9)
    before = photo.read_bytes()
    with monkeypatch.context() as patched:
        patched.setattr(transfer, "stylize", _no_stylize)
        assert main(["stylize", str(content), str(style), "-o", str(photo), *FAST]) == 2
        line = _one_error_line(capsys.readouterr().err)
    assert f"refusing to replace {photo}: it was not written by nst_helpers" in line and "overwrite" in line
    assert photo.read_bytes() == before
    assert main(["stylize", str(content), str(style), "-o", str(photo), "--overwrite", *FAST]) == 0
    assert capsys.readouterr().out.startswith(f"Saved {photo.resolve()} (2 steps in ")
    assert photo.read_bytes() != before and Image.open(photo).size == (32, 27)


def test_a_second_run_replaces_its_own_result(images, tmp_path, capsys):
    content, style, _ = images
    output = tmp_path / "out.png"
    for seed in ("0", "1"):
        assert main(["stylize", str(content), str(style), "-o", str(output), "--init", "noise", "--seed", seed,
                     *FAST]) == 0
        assert capsys.readouterr().err == ""
        if seed == "0":
            first = output.read_bytes()
    assert output.read_bytes() != first  # the other seed's image replaced the first result


def test_ctrl_c_before_the_run_is_one_line_and_status_130(images, tmp_path, capsys, monkeypatch):
    content, style, _ = images

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(images_module, "check_output_path", interrupted)
    assert main(["stylize", str(content), str(style), "-o", str(tmp_path / "out.png"), *FAST]) == 130
    captured = capsys.readouterr()
    assert captured.err == "Interrupted before the run started: nothing was saved.\n" and captured.out == ""
    assert not (tmp_path / "out.png").exists()


def test_a_failed_save_after_the_run_keeps_the_result_in_a_temporary_file(images, tmp_path, capsys, monkeypatch):
    """The output folder disappears during the run: the result goes to a temporary file, and the line says where."""
    content, style, _ = images
    folder = tmp_path / "out"
    folder.mkdir()
    output = folder / "result.png"
    stylize = transfer.stylize

    def stylize_then_lose_the_folder(*args, **kwargs):
        result = stylize(*args, **kwargs)
        folder.rmdir()
        folder.write_text("a file where the folder was")
        return result

    monkeypatch.setattr(transfer, "stylize", stylize_then_lose_the_folder)
    assert main(["stylize", str(content), str(style), "-o", str(output), *FAST]) == 1
    captured = capsys.readouterr()
    line = _one_error_line(captured.err)
    assert line.startswith(f"error: could not save {output} (") and "the result is in " in line
    rescue = Path(line.split("the result is in ")[1])
    try:
        assert rescue.is_file() and rescue.suffix == ".png" and rescue.parent != folder
        assert captured.out.startswith(f"Saved {rescue.resolve()} (2 steps in ")
        assert Image.open(rescue).size == (32, 27) and written_by_us(rescue)
    finally:
        rescue.unlink(missing_ok=True)


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "required: command" in capsys.readouterr().err


def test_demo_runs_as_a_module(tmp_path):
    """The one subprocess run: ``python -m nst_helpers demo`` works offline and writes a PNG."""
    output = tmp_path / "demo.png"
    completed = subprocess.run(
        [sys.executable, "-m", "nst_helpers", "demo", "--size", "32", "--steps", "2", "-o", str(output), "--quiet"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    assert f"Saved {output.resolve()} (2 steps in " in completed.stdout
    assert completed.stderr == ""
    with Image.open(output) as result:
        assert result.format == "PNG"
        assert max(result.size) == 32
        assert result.size == (32, 21)  # chelsea is 451x300
