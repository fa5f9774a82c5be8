"""The error family: each error is an NSTError and the built-in that fits it; the command line prints one line."""

from __future__ import annotations

import argparse
import time

import numpy as np
import pytest
import torch
from PIL import Image

import nst_helpers
from nst_helpers import errors, transfer
from nst_helpers.cli import build_parser, main

NSTError, SettingsError, ImageError, ImageNotFoundError = (errors.NSTError, errors.SettingsError, errors.ImageError,
                                                           errors.ImageNotFoundError)

FAMILY = [
    (errors.SettingsError, ValueError), (errors.SettingsTypeError, TypeError), (errors.ImageError, ValueError),
    (errors.ImageNotFoundError, FileNotFoundError), (errors.OutputPathError, ValueError),
    (errors.DownloadError, OSError), (errors.WeightsError, RuntimeError),
]


@pytest.mark.parametrize(("error", "builtin"), FAMILY, ids=[error.__name__ for error, _ in FAMILY])
def test_every_error_is_an_nst_error_and_its_builtin(error, builtin):
    assert issubclass(error, NSTError) and issubclass(error, builtin)
    with pytest.raises(NSTError):
        raise error("a message")
    with pytest.raises(builtin, match=r"^a message$"):
        raise error("a message")


def test_an_image_not_found_is_also_an_image_error():
    assert issubclass(ImageNotFoundError, ImageError) and issubclass(ImageNotFoundError, ValueError)


def test_the_family_is_complete_and_exported():
    defined = {value for value in vars(errors).values() if isinstance(value, type) and issubclass(value, NSTError)}
    assert defined == {NSTError, *(error for error, _ in FAMILY)}
    assert all(getattr(nst_helpers, error.__name__) is error for error in defined)


def test_except_value_error_catches_a_settings_error_from_stylize():
    content = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    try:
        transfer.stylize(content, content, size=0, steps=2, progress=False)
    except ValueError as error:  # what a learner who knows only the built-ins writes
        assert isinstance(error, SettingsError) and "size must be at least 1, got 0" in str(error)
    else:
        pytest.fail("stylize(size=0) raised nothing")


def test_except_type_error_catches_an_unknown_option_of_stylize():
    content = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with pytest.raises(TypeError, match="unknown option 'sise'; did you mean 'size'"):
        transfer.stylize(content, content, sise=32, progress=False)


# The command line


def _subparser(name: str) -> argparse.ArgumentParser:
    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return actions[0].choices[name]


@pytest.mark.parametrize("command", ["stylize", "demo"])
def test_help_shows_the_default_of_every_option(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps lines anywhere
    options = [a for a in _subparser(command)._actions if a.option_strings and a.dest != "help"]
    assert len(options) > 20  # every StyleSettings field is a flag
    for action in options:
        assert "(default: " in action.help, action.option_strings
        assert " ".join(action.help.split()) in shown, action.option_strings
        assert action.help.count("(default: ") == 1, action.help  # said once, not twice
    size_default = "(default: 512)" if command == "stylize" else "(default: 256)"  # the demo's own defaults
    assert f"--size SIZE longest side of the result in pixels {size_default}" in shown
    assert "(default: None)" not in shown


def _write_png(path, seed: int = 0):
    pixels = np.random.default_rng(seed).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture
def no_loading(monkeypatch):
    """Loading an image or the network, or starting a run, fails the test: these errors must come first."""

    def loaded(*args, **kwargs):
        raise AssertionError("the error must be found before any image or network is loaded")

    for name in ("stylize", "load_image", "load_vgg"):
        monkeypatch.setattr(transfer, name, loaded)


BAD_FLAGS = {  # flags -> the start of the one error line
    "--device foo": "error: device='foo' is not available here; choose one of: ",
    "--style-weight nan": "error: style_weight must be a finite number, got nan",
    "--size 0": "error: size must be at least 1, got 0",
    "-o http://x/y.png": "error: cannot save to http://x/y.png: results are written to local files",
    "-o result.gif": "error: cannot save result.gif: unknown suffix '.gif'",
}


@pytest.mark.parametrize("text", BAD_FLAGS)
def test_bad_input_is_one_error_line_and_status_2_before_anything_loads(tmp_path, capsys, no_loading, text,
                                                                        monkeypatch):
    flags, message = text.split(), BAD_FLAGS[text]
    monkeypatch.chdir(tmp_path)
    content, style = _write_png(tmp_path / "content.png", 0), _write_png(tmp_path / "style.png", 1)
    start = time.perf_counter()
    status = main(["stylize", str(content), str(style), "--size", "32", "--steps", "2", "--quiet", *flags])
    seconds = time.perf_counter() - start
    captured = capsys.readouterr()
    assert status == 2
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert seconds < 2, f"took {seconds:.1f} s: the error must come before the network loads"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content.png", "style.png"]  # nothing written


def test_a_missing_input_is_one_error_line_with_status_2(tmp_path, capsys):
    style = _write_png(tmp_path / "style.png")
    missing = tmp_path / "missing.png"
    assert main(["stylize", str(missing), str(style), "-o", str(tmp_path / "out.png"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: no such file: {missing}")
