"""Issue 14: every fault and bad input gets a clear, early error, and nothing is lost. One test group per item.

``COVERAGE`` below maps each of the issue's 13 items to the tests that show it handled: the ``test_itemNN_...`` tests
in this file, and tests elsewhere that already covered part of an item (``test_every_item_has_its_tests`` checks that
each one exists). Servers are local (127.0.0.1, started by the tests), and a guard refuses any other address.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import torch
from PIL import Image
from test_download import Handler, Server

from nst_helpers import data, download, images, transfer, vgg
from nst_helpers.cli import main
from nst_helpers.errors import (
    DownloadError,
    ImageError,
    OutputPathError,
    SettingsError,
    SettingsTypeError,
    WeightsError,
)
from nst_helpers.images import load_image, save_image, written_by_us
from nst_helpers.optimize import optimize_image

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

COVERAGE = {
    1: ["test_faults.py::test_item01_a_planted_pickle_never_runs",
        "test_faults.py::test_item01_weights_only_refuses_a_pickle_even_with_a_matching_hash",
        "test_faults.py::test_item01_a_state_dict_with_torchvision_names_loads_and_is_checked_every_time",
        "test_faults.py::test_item01_a_missing_file_is_downloaded_verified_into_torchs_cache",
        "test_vgg.py::test_torchvision_weights_offline_points_to_original",
        "test_vgg.py::test_corrupted_weights_file_fails_its_hash"],
    2: ["test_faults.py::test_item02_stylize_an_opened_photo_then_save_over_it",
        "test_faults.py::test_item02_a_downloaded_copy_is_never_replaced",
        "test_images.py::test_a_pil_image_saved_back_to_its_own_file_is_refused",
        "test_images.py::test_an_unmarked_existing_image_is_never_replaced",
        "test_cli.py::test_output_equal_to_the_content_is_refused_and_the_content_kept"],
    3: ["test_faults.py::test_item03_a_bad_output_path_is_one_line_before_anything_loads",
        "test_cli.py::test_a_failed_save_after_the_run_keeps_the_result_in_a_temporary_file",
        "test_images.py::test_a_read_only_folder_is_refused"],
    4: ["test_faults.py::test_item04_a_trickling_server_is_cut_off_at_the_deadline",
        "test_faults.py::test_item04_load_image_of_a_trickling_url_ends_at_the_default_deadline",
        "test_faults.py::test_item04_a_redirect_to_ftp_is_refused_and_the_ftp_port_never_contacted",
        "test_faults.py::test_item04_redirects_between_http_addresses_still_work",
        "test_download.py::test_undeclared_size_over_the_limit_is_refused_while_reading"],
    5: ["test_faults.py::test_item05_nan_or_inf_in_an_input_is_an_image_error_naming_it",
        "test_faults.py::test_item05_a_nan_tiff_file_is_refused_naming_the_file",
        "test_faults.py::test_item05_stylize_refuses_a_nan_content_before_loading_the_network",
        "test_faults.py::test_item05_optimize_image_refuses_a_non_finite_start",
        "test_faults.py::test_item05_the_recorder_never_keeps_a_non_finite_image",
        "test_transfer.py::test_non_finite_loss_stops_and_returns_the_last_finite_image"],
    6: ["test_faults.py::test_item06_pil_modes_f_and_i_by_their_real_range",
        "test_faults.py::test_item06_floats_outside_0_1_say_how_to_scale",
        "test_faults.py::test_item06_resampling_overshoot_is_clipped_silently",
        "test_images.py::test_each_mode_from_memory"],
    7: ["test_faults.py::test_item07_a_size_too_large_for_the_memory_is_one_line",
        "test_settings.py::test_the_size_limit_from_memory_names_the_largest_size",
        "test_settings.py::test_the_largest_size_follows_the_memory"],
    8: ["test_faults.py::test_item08_ctrl_c_while_importing_the_command_line",
        "test_faults.py::test_item08_ctrl_c_after_a_third_of_a_second",
        "test_faults.py::test_item08_ctrl_c_after_two_seconds",
        "test_faults.py::test_item08_ctrl_c_during_the_run_keeps_the_best_image",
        "test_faults.py::test_item08_ctrl_c_between_two_scales_keeps_the_last_image_shown",
        "test_faults.py::test_item08_ctrl_c_while_saving_is_one_line_and_leaves_no_file",
        "test_faults.py::test_item08_the_package_imports_nothing_heavy",
        "test_cli.py::test_ctrl_c_before_the_run_is_one_line_and_status_130"],
    9: ["test_faults.py::test_item09_a_device_that_is_not_there_is_one_line",
        "test_settings.py::test_cuda_without_cuda_names_the_devices_there_are",
        "test_settings.py::test_a_device_that_is_no_device_is_a_settings_error"],
    10: ["test_faults.py::test_item10_bad_weights_are_one_line_naming_the_argument",
         "test_settings.py::test_a_bad_value_gets_the_right_error_naming_the_argument"],
    11: ["test_faults.py::test_item11_bad_arguments_of_stylize_are_clear_errors_before_the_run",
         "test_settings.py::test_bad_options_are_reported_before_any_image_is_loaded"],
    12: ["test_widgets.py::test_studio_bad_upload_is_a_status_line_naming_the_file",
         "test_widgets.py::test_studio_skips_a_bad_upload_and_keeps_a_good_one_of_the_same_batch",
         "test_widgets.py::test_studio_upload_named_like_an_example_never_replaces_it",
         "test_widgets.py::test_upload_names_are_sanitized",
         "test_widgets.py::test_studio_save_shortens_a_300_character_name_and_never_raises"],
    13: ["test_faults.py::test_item13_an_ambiguous_shape_says_so_and_how_to_pass_it",
         "test_errors.py::test_help_shows_the_default_of_every_option",
         "test_errors.py::test_bad_input_is_one_error_line_and_status_2_before_anything_loads",
         "test_images.py::test_a_url_as_output_is_refused"],
}


def test_every_item_has_its_tests():
    assert sorted(COVERAGE) == list(range(1, 14))
    for item, tests in COVERAGE.items():
        for test in tests:
            file, name = test.split("::")
            assert re.search(rf"^def {name}\(", (TESTS / file).read_text(), re.MULTILINE), (item, test)


# --------------------------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def only_localhost(monkeypatch):
    """Any connection to an address other than this machine's loopback fails the test."""
    connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        assert host in ("127.0.0.1", "::1", "localhost"), f"a test tried to reach {address}"
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@pytest.fixture
def no_loading(monkeypatch):
    """Loading the network (which every run does first) fails the test: these errors must come before it."""

    def loaded(*args, **kwargs):
        raise AssertionError("the error must be found before the network is loaded")

    monkeypatch.setattr(transfer, "load_vgg", loaded)


def write_png(path: Path, width: int = 32, height: int = 24, seed: int = 0) -> Path:
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)
    return path


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    status = main(args)
    captured = capsys.readouterr()
    return status, one_line(captured.err)


# --------------------------------------------------------------------------------------------------------------------
# 1. Code runs from torch's weights cache
# --------------------------------------------------------------------------------------------------------------------

TORCHVISION_CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)  # in vgg19().features


class Payload:
    """Pickled, it asks the unpickler to call ``open(marker, "w")``: a file appears if the pickle runs."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


@pytest.fixture
def torch_home(monkeypatch, tmp_path, only_localhost) -> Path:
    """An empty torch cache in tmp_path; the path where torch keeps vgg19-dcbb9e9d.pth; no cached weights."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    vgg._cached_state.cache_clear()
    path = vgg.torchvision_weights_path()
    assert path == tmp_path / "torch" / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    path.parent.mkdir(parents=True)
    yield path
    vgg._cached_state.cache_clear()


def plant_pickle(path: Path, marker: Path, legacy: bool) -> None:
    state = {f"features.{i}.weight": torch.zeros(1) for i in TORCHVISION_CONV_INDICES}
    state["features.0.bias"] = Payload(marker)
    torch.save(state, path, _use_new_zipfile_serialization=not legacy)


def no_download(*args, **kwargs):
    raise AssertionError("the weights file is there: nothing may be downloaded")


@pytest.mark.parametrize("legacy", [False, True], ids=["zip-format", "legacy-format"])
def test_item01_a_planted_pickle_never_runs(torch_home, tmp_path, monkeypatch, legacy):
    marker = tmp_path / "pwned"
    plant_pickle(torch_home, marker, legacy)
    monkeypatch.setattr(vgg, "download_verified", no_download)
    with pytest.raises(WeightsError, match="fails its SHA-256 check") as caught:
        vgg.load_vgg("torchvision")
    message = str(caught.value)
    assert str(torch_home) in message and vgg.TORCHVISION_WEIGHTS_SHA256 in message
    assert "Delete it to download it again, or use weights='original'" in message
    assert not marker.exists()
    torch.load(torch_home, weights_only=False)  # the control: loaded the way torch.hub loads, the pickle does run
    assert marker.exists()


@pytest.mark.parametrize("legacy", [False, True], ids=["zip-format", "legacy-format"])
def test_item01_weights_only_refuses_a_pickle_even_with_a_matching_hash(torch_home, tmp_path, monkeypatch, legacy):
    marker = tmp_path / "pwned"
    plant_pickle(torch_home, marker, legacy)
    monkeypatch.setattr(vgg, "TORCHVISION_WEIGHTS_SHA256", download.sha256_of(torch_home))  # as if pinned wrongly
    monkeypatch.setattr(vgg, "download_verified", no_download)
    with pytest.raises(WeightsError, match="could not be read as plain tensors") as caught:
        vgg.load_vgg("torchvision")
    assert str(torch_home) in str(caught.value) and "delete it to download it again" in str(caught.value)
    assert not marker.exists()


def torchvision_like_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors under torchvision's VGG19 key names and shapes (float16 to keep the file at 40 MB)."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for index, shape in zip(TORCHVISION_CONV_INDICES, vgg.conv_shapes().values(), strict=True):
        state[f"features.{index}.weight"] = (torch.randn(shape, generator=generator) * 0.05).half()
        state[f"features.{index}.bias"] = (torch.randn(shape[0], generator=generator) * 0.05).half()
    state["classifier.0.weight"] = torch.zeros(4, 8)  # the real file has the classifier too; it is not used
    return state


def test_item01_a_state_dict_with_torchvision_names_loads_and_is_checked_every_time(torch_home, monkeypatch):
    state = torchvision_like_state()
    torch.save(state, torch_home)
    monkeypatch.setattr(vgg, "TORCHVISION_WEIGHTS_SHA256", download.sha256_of(torch_home))
    monkeypatch.setattr(vgg, "download_verified", no_download)
    calls = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(k) or real_load(*a, **k))
    model = vgg.load_vgg("torchvision", device="cpu")
    assert calls == [{"map_location": "cpu", "weights_only": True}]
    assert isinstance(model.preprocess, vgg.ImageNetPreprocess)
    assert torch.equal(model.layers["conv1_1"].weight, state["features.0.weight"].float())
    assert torch.equal(model.layers["conv3_4"].bias, state["features.16.bias"].float())
    assert torch.equal(model.layers["conv5_4"].weight, state["features.34.weight"].float())
    features = model(torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1)), ["relu5_1"])["relu5_1"]
    assert features.shape == (1, 512, 2, 2) and torch.isfinite(features).all() and features.abs().sum() > 0

    vgg._cached_state.cache_clear()  # a new process: the file is checked again before it is loaded
    damaged = bytearray(torch_home.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    torch_home.write_bytes(bytes(damaged))
    with pytest.raises(WeightsError, match="fails its SHA-256 check"):
        vgg.load_vgg("torchvision")
    assert len(calls) == 1  # refused before torch.load


def test_item01_a_missing_file_is_downloaded_verified_into_torchs_cache(torch_home, tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    torch.save(torchvision_like_state(), served / "vgg19-dcbb9e9d.pth")
    (served / "wrong.pth").write_bytes(b"not the weights")
    server = Server(served)
    try:
        monkeypatch.setattr(vgg, "TORCHVISION_WEIGHTS_SHA256", download.sha256_of(served / "vgg19-dcbb9e9d.pth"))
        monkeypatch.setattr(vgg, "TORCHVISION_WEIGHTS_URL", f"{server.url}/wrong.pth")
        with pytest.raises(WeightsError, match=r"could not download .*failed its checksum.*weights='original'"):
            vgg.load_torchvision_state()
        assert list(torch_home.parent.iterdir()) == []  # nothing kept
        monkeypatch.setattr(vgg, "TORCHVISION_WEIGHTS_URL", f"{server.url}/vgg19-dcbb9e9d.pth")
        state = vgg.load_torchvision_state()
    finally:
        server.stop()
    assert server.requests == ["/wrong.pth", "/vgg19-dcbb9e9d.pth"]
    assert torch_home.read_bytes() == (served / "vgg19-dcbb9e9d.pth").read_bytes()
    assert sorted(state) == sorted(f"{name}.{part}" for name in vgg.conv_shapes() for part in ("weight", "bias"))


# --------------------------------------------------------------------------------------------------------------------
# 2. An input photo overwritten
# --------------------------------------------------------------------------------------------------------------------


def test_item02_stylize_an_opened_photo_then_save_over_it(tmp_path):
    victim = write_png(tmp_path / "victim.png")
    original = victim.read_bytes()
    with Image.open(victim) as photo:
        result = transfer.stylize(photo, write_png(tmp_path / "style.png", seed=1), size=32, steps=1, progress=False)
    with pytest.raises(OutputPathError, match=r"refusing to replace .*victim\.png: it was not written by nst_helpers"):
        save_image(result.image, victim)
    assert victim.read_bytes() == original


def test_item02_a_downloaded_copy_is_never_replaced(tmp_path, monkeypatch, only_localhost):
    served = tmp_path / "served"
    served.mkdir()
    Image.new("RGB", (8, 8), "navy").save(served / "starry_night.jpg")
    example = dataclasses.replace(data.EXAMPLES["starry_night"], sha256=download.sha256_of(served / "starry_night.jpg"))
    monkeypatch.setitem(data.EXAMPLES, "starry_night", example)
    monkeypatch.setenv("NST_CACHE_DIR", str(tmp_path / "cache"))
    server = Server(served)
    try:
        monkeypatch.setenv(data.CLASSICS_URL_VARIABLE, server.url)
        cached = data.classic_path("starry_night")
    finally:
        server.stop()
    original = cached.read_bytes()
    with pytest.raises(OutputPathError, match=r"refusing to replace .*starry_night\.jpg: it was not written by"):
        save_image(torch.zeros(1, 3, 4, 4), cached)
    with pytest.raises(OutputPathError, match="it is an input image"):
        save_image(torch.zeros(1, 3, 4, 4), cached, overwrite=True, protect=[cached])
    assert cached.read_bytes() == original


# --------------------------------------------------------------------------------------------------------------------
# 3. A result lost after the whole run
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["folder-named-out.png", "parent-is-a-file", "read-only-folder"])
def test_item03_a_bad_output_path_is_one_line_before_anything_loads(case, tmp_path, capsys, monkeypatch, no_loading):
    content, style = write_png(tmp_path / "content.png"), write_png(tmp_path / "style.png", seed=1)
    monkeypatch.setattr(transfer, "load_image", lambda *a, **k: pytest.fail("an image was loaded before the check"))
    if case == "folder-named-out.png":
        output, expected = tmp_path / "out.png", "it is a folder; add a file name such as result.png"
        output.mkdir()
    elif case == "parent-is-a-file":
        (tmp_path / "notes").write_text("a file")
        output, expected = tmp_path / "notes" / "out.png", "notes is a file, not a folder; choose another path"
    else:
        folder = tmp_path / "locked"
        folder.mkdir()
        real_access = os.access
        monkeypatch.setattr(images.os, "access", lambda p, mode: Path(p) != folder and real_access(p, mode))
        output, expected = folder / "out.png", "is not writable; choose another folder"
    status, line = run_cli(["stylize", str(content), str(style), "-o", str(output), "--size", "32"], capsys)
    assert status == 2 and line.startswith("error: cannot save ") and str(output) in line and line.endswith(expected)


# --------------------------------------------------------------------------------------------------------------------
# 4. A download that never ends; a redirect to ftp://
# --------------------------------------------------------------------------------------------------------------------

TRICKLE_SECONDS = 2.0  # one byte every 2 s, as in the issue


class FaultyHandler(Handler):
    """The test server's routes, plus a server that trickles and one that redirects anywhere."""

    def do_GET(self) -> None:
        if self.path == "/trickle.png":
            self.requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:  # the client gave up
                    return
                time.sleep(TRICKLE_SECONDS)
        elif self.path.startswith("/redirect?"):
            self.requests.append(self.path)
            self.send_response(302)
            self.send_header("Location", parse_qs(urlsplit(self.path).query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            super().do_GET()


@pytest.fixture
def faulty_server(tmp_path, only_localhost):
    folder = tmp_path / "served"
    folder.mkdir()
    server = Server(folder, FaultyHandler)
    yield server, folder
    server.stop()


def test_item04_a_trickling_server_is_cut_off_at_the_deadline(faulty_server):
    server, _ = faulty_server
    url = f"{server.url}/trickle.png"
    started = time.monotonic()
    # The per-read timeout (5 s) never fires: a byte comes every 2 s. Only the total deadline ends it.
    with pytest.raises(DownloadError, match=r"did not finish downloading within the deadline of 1 s") as caught:
        download.fetch_bytes(url, timeout=5.0, deadline=1.0)
    seconds = time.monotonic() - started
    assert url in str(caught.value) and "try again later, or download it yourself" in str(caught.value)
    assert 1.0 <= seconds < 1.0 + TRICKLE_SECONDS + 1.5


def test_item04_load_image_of_a_trickling_url_ends_at_the_default_deadline(faulty_server, monkeypatch):
    server, _ = faulty_server
    monkeypatch.setattr(download, "DEADLINE_SECONDS", 1.0)  # read at each call; 120 s by default
    started = time.monotonic()
    with pytest.raises(DownloadError, match="deadline of 1 s"):
        load_image(f"{server.url}/trickle.png")
    assert time.monotonic() - started < 1.0 + TRICKLE_SECONDS + 1.5


def test_item04_a_redirect_to_ftp_is_refused_and_the_ftp_port_never_contacted(faulty_server):
    server, _ = faulty_server
    with socket.socket() as ftp:
        ftp.bind(("127.0.0.1", 0))
        ftp.listen(1)
        ftp.settimeout(0.3)
        target = f"ftp://127.0.0.1:{ftp.getsockname()[1]}/image.png"
        url = f"{server.url}/redirect?to={target}"
        with pytest.raises(DownloadError, match="which is not an http:// or https:// address, so it was not followed"):
            download.fetch_bytes(url, timeout=1.0)
        with pytest.raises(DownloadError, match="not an http:// or https:// address"):
            load_image(url)
        with pytest.raises(TimeoutError):
            ftp.accept()  # nobody ever connected
        # The control: urllib's own opener follows the same redirect and connects to the ftp port.
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url, timeout=0.5)
        connection, _ = ftp.accept()
        connection.close()
    with pytest.raises(DownloadError, match=r"redirects to file:///etc/passwd, which is not"):
        download.fetch_bytes(f"{server.url}/redirect?to=file:///etc/passwd")


def test_item04_redirects_between_http_addresses_still_work(faulty_server, tmp_path):
    server, folder = faulty_server
    (folder / "hello.txt").write_bytes(b"hello")
    assert download.fetch_bytes(f"{server.url}/redirect?to={server.url}/hello.txt") == b"hello"
    digest = hashlib.sha256(b"hello").hexdigest()
    dest = download.download_verified(f"{server.url}/redirect?to=/hello.txt", digest, tmp_path / "hello.txt")
    assert dest.read_bytes() == b"hello"


# --------------------------------------------------------------------------------------------------------------------
# 5. NaN input
# --------------------------------------------------------------------------------------------------------------------

NAN_SOURCES = {
    "tensor": (lambda: torch.tensor([[0.5, float("nan")], [0.2, 0.1]]), "the tensor has 1 NaN or infinite value"),
    "tensor-inf": (lambda: torch.full((1, 3, 2, 2), float("inf")), "the tensor has 12 NaN or infinite value"),
    "array": (lambda: np.array([[[0.5, np.nan, 0.1]]]), "the NumPy array has 1 NaN or infinite value"),
    "pil-mode-F": (lambda: Image.fromarray(np.array([[0.5, -np.inf]], dtype=np.float32)),
                   "the PIL image has 1 NaN or infinite value"),
}


@pytest.mark.parametrize("kind", NAN_SOURCES)
def test_item05_nan_or_inf_in_an_input_is_an_image_error_naming_it(kind):
    make, message = NAN_SOURCES[kind]
    with pytest.raises(ImageError, match=message) as caught:
        load_image(make())
    assert "torch.nan_to_num" in str(caught.value)  # what to do


def test_item05_a_nan_tiff_file_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "nan.tif"
    Image.fromarray(np.array([[0.5, np.nan]], dtype=np.float32)).save(path)
    with pytest.raises(ImageError, match=rf"{re.escape(str(path))} has 1 NaN or infinite value\(s\) out of 2"):
        load_image(path)


def test_item05_stylize_refuses_a_nan_content_before_loading_the_network(no_loading):
    content = torch.rand(1, 3, 32, 32)
    content[0, 0, 3, 4] = float("nan")
    with pytest.raises(ImageError, match="the tensor has 1 NaN or infinite value"):
        transfer.stylize(content, torch.rand(1, 3, 32, 32), size=32, steps=2, progress=False)


def test_item05_optimize_image_refuses_a_non_finite_start():
    init = torch.full((1, 3, 8, 8), 0.5)
    init[0, 1, 2, 2] = float("nan")  # stylize refuses this when loading (above); optimize_image is public too
    with pytest.raises(ImageError, match="the starting image has 1 NaN or infinite values"):
        optimize_image(init, lambda image: {"total": (image - 0.25).pow(2).mean()}, steps=3, progress=False)


def test_item05_the_recorder_never_keeps_a_non_finite_image():
    """Even when a loss function reports a finite, lower loss for an image with NaN pixels, the best and the last
    finite images stay the last finite one: what a run returns is always finite."""
    from nst_helpers.optimize import Recorder

    finite, broken = torch.full((1, 3, 4, 4), 0.5), torch.full((1, 3, 4, 4), float("nan"))
    recorder = Recorder(finite, steps=2, every=1, callback=None)
    recorder.record(finite, {"total": torch.tensor(2.0)})
    recorder.record(broken, {"total": torch.tensor(1.0)})
    assert torch.equal(recorder.best_image, finite) and torch.equal(recorder.last_finite, finite)
    assert recorder.history["total"] == [2.0, 1.0]


# --------------------------------------------------------------------------------------------------------------------
# 6. Silent mis-scaling
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("values", "dtype", "expected"), [
    ([0.0, 0.25, 1.0], np.float32, [0.0, 0.25, 1.0]),  # F holding 0..1: as it is (came out black before)
    ([0.0, 127.5, 255.0], np.float32, [0.0, 0.5, 1.0]),  # F holding 0..255: divided by 255
    ([0, 51, 255], np.int32, [0.0, 0.2, 1.0]),  # I holding 0..255: divided by 255 (came out black before)
    ([0, 32768, 65535], np.int32, [0.0, 32768 / 65535, 1.0]),  # I holding 16-bit values: divided by 65535
], ids=["F-0..1", "F-0..255", "I-0..255", "I-0..65535"])
def test_item06_pil_modes_f_and_i_by_their_real_range(values, dtype, expected):
    pil = Image.fromarray(np.array([values], dtype=dtype))
    assert pil.mode == ("F" if dtype == np.float32 else "I")
    torch.testing.assert_close(load_image(pil)[0, :, 0], torch.tensor([expected] * 3), atol=1e-6, rtol=0)


@pytest.mark.parametrize(("source", "message"), [
    (Image.fromarray(np.array([[-1.0, 300.0]], dtype=np.float32)),
     r"the PIL image holds floats \(mode F\) from -1 to 300, outside \[0, 1\] or \[0, 255\].*scale it to \[0, 1\]"),
    (Image.fromarray(np.array([[-5, 70000]], dtype=np.int32)),
     r"holds 32-bit integers \(mode I\) from -5 to 70000, outside 0\.\.255 or 0\.\.65535.*scale it to \[0, 1\]"),
    (np.array([[0.0, 128.0, 255.0]]), r"the NumPy array has values from 0 to 255, outside \[0, 1\]; it looks like "
                                      r"0\.\.255: divide it by 255"),
    (torch.linspace(0, 255, 48).reshape(1, 3, 4, 4), r"the tensor has values from 0 to 255, outside \[0, 1\]; it "
                                                     r"looks like 0\.\.255: divide it by 255 \(or pass it as uint8\)"),
    (torch.linspace(-1, 1, 48).reshape(3, 4, 4), r"the tensor has values from -1 to 1, outside \[0, 1\]; it looks "
                                                 r"like \[-1, 1\]: pass \(x \+ 1\) / 2"),
    (np.full((2, 2), 1000.0), r"it looks like 0\.\.65535: divide it by 65535"),
    (np.array([[-3.0, 3.0]]), r"scale it to \[0, 1\], e\.g\. \(x - x\.min\(\)\) / \(x\.max\(\) - x\.min\(\)\)"),
], ids=["F-other", "I-other", "array-0..255", "tensor-0..255", "tensor-minus1..1", "array-0..65535", "other"])
def test_item06_floats_outside_0_1_say_how_to_scale(source, message):
    with pytest.raises(ImageError, match=message):
        load_image(source)


def test_item06_resampling_overshoot_is_clipped_silently():
    image = torch.full((1, 3, 4, 4), 0.5)
    image[0, 0, 0, 0], image[0, 1, 1, 1] = 1.0009, -0.0009
    loaded = load_image(image)
    assert loaded.min() == 0 and loaded.max() == 1 and loaded[0, 2, 2, 2] == 0.5
    with pytest.raises(ImageError, match="outside"):
        load_image(image * 1.01)  # 1.011: too far to be resampling


# --------------------------------------------------------------------------------------------------------------------
# 7. No size limit
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flags", [["--size", "100000"], ["--size", "256", "--style-scale", "1e6"]])
def test_item07_a_size_too_large_for_the_memory_is_one_line(flags, tmp_path, capsys, no_loading):
    content, style = write_png(tmp_path / "content.png"), write_png(tmp_path / "style.png", seed=1)
    status, line = run_cli(["stylize", str(content), str(style), "-o", str(tmp_path / "out.png"), *flags], capsys)
    assert status == 2 and "more than the largest size that fits in this device's memory, about" in line
    assert re.search(r"about \d+ px; choose a smaller size \(or set size_limit", line), line
    assert not (tmp_path / "out.png").exists()


# --------------------------------------------------------------------------------------------------------------------
# 8. Ctrl-C at any moment
# --------------------------------------------------------------------------------------------------------------------

BEFORE_THE_RUN = "Interrupted before the run started: nothing was saved."


def _default_sigint() -> None:
    """In the child: Ctrl-C's default handling, as in a terminal (a job started in the background ignores it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nst_helpers", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)


def interrupt(process: subprocess.Popen) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, (process.returncode, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    return out, err


def lines_shown(err: str) -> list[str]:
    """The lines a terminal would show: a progress bar rewrites its line with carriage returns, then clears it."""
    return [shown for line in err.split("\n") if (shown := line.split("\r")[-1].strip())]


def test_item08_ctrl_c_while_importing_the_command_line(monkeypatch, capsys):
    """``run()`` (``python -m nst_helpers`` and ``nst-stylize``) holds a Ctrl-C that comes while torch imports, lets
    the import finish, then ends with one line and status 130; Ctrl-C's handler is restored."""
    from nst_helpers import __main__ as entry

    class CtrlCDuringImport:
        def find_spec(self, name, path=None, target=None):
            if name == "nst_helpers.cli":
                os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, in the middle of the import

    handler = signal.getsignal(signal.SIGINT)
    package = sys.modules["nst_helpers"]
    monkeypatch.setitem(vars(package), "cli", sys.modules["nst_helpers.cli"])  # the re-import replaces it: restore
    monkeypatch.delitem(sys.modules, "nst_helpers.cli")
    monkeypatch.setattr(sys, "meta_path", [CtrlCDuringImport(), *sys.meta_path])
    assert entry.run() == 130
    assert capsys.readouterr().err == BEFORE_THE_RUN + "\n"
    assert "nst_helpers.cli" in sys.modules and signal.getsignal(signal.SIGINT) is handler
    pyproject = (ROOT / "pyproject.toml").read_text()  # tomllib is Python 3.11+; the package supports 3.10
    assert re.search(r'^\[project\.scripts\]\nnst-stylize = "nst_helpers\.__main__:run"$', pyproject, re.MULTILINE)


def test_item08_ctrl_c_after_a_third_of_a_second(tmp_path):
    process = start_cli(["demo", "--size", "32", "--steps", "50", "-o", "out.png"], tmp_path)
    time.sleep(0.3)  # importing torch takes longer than that
    out, err = interrupt(process)
    assert lines_shown(err) == [BEFORE_THE_RUN] and out == ""
    assert list(tmp_path.iterdir()) == []


def test_item08_ctrl_c_after_two_seconds(tmp_path):
    """Two seconds in: importing, loading the weights, computing targets or optimizing, depending on the machine."""
    process = start_cli(["demo", "--size", "32", "--steps", "50", "-o", "out.png"], tmp_path)
    time.sleep(2.0)
    _, err = interrupt(process)
    shown = lines_shown(err)
    assert shown in ([BEFORE_THE_RUN], ["Interrupted: saved the best image so far."]), err
    assert (tmp_path / "out.png").exists() == (shown != [BEFORE_THE_RUN])


def test_item08_ctrl_c_during_the_run_keeps_the_best_image(tmp_path):
    content, style = write_png(tmp_path / "content.png", 48, 40), write_png(tmp_path / "style.png", seed=1)
    output = tmp_path / "out.png"
    process = start_cli(["stylize", str(content), str(style), "-o", str(output), "--size", "32", "--steps", "1000",
                         "--save-every", "1", "--quiet"], tmp_path)
    deadline = time.monotonic() + 120
    while not (tmp_path / "out_step2.png").exists():  # the run has started and taken two steps
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    out, err = interrupt(process)
    assert lines_shown(err) == ["Interrupted: saved the best image so far."]
    assert out.startswith(f"Saved {output.resolve()} (")
    assert written_by_us(output) and max(Image.open(output).size) == 32


def test_item08_ctrl_c_between_two_scales_keeps_the_last_image_shown(tmp_path, capsys, monkeypatch):
    """A Ctrl-C outside the optimizer's own guard (computing the next scale's targets) still keeps an image."""
    shown = torch.rand(1, 3, 40, 64, generator=torch.Generator().manual_seed(0))

    def first_scale_then_interrupt(content, styles, settings, *, callback, **kwargs):
        callback(7, shown, {"total": 1.0})
        raise KeyboardInterrupt

    monkeypatch.setattr(transfer, "stylize", first_scale_then_interrupt)
    content, style = write_png(tmp_path / "content.png"), write_png(tmp_path / "style.png", seed=1)
    output = tmp_path / "out.png"
    assert main(["stylize", str(content), str(style), "-o", str(output), "--size", "32", "--quiet"]) == 130
    captured = capsys.readouterr()
    assert captured.err == "Interrupted: saved the last image shown.\n"
    assert captured.out == f"Saved {output.resolve()} (the image shown at step 7)\n"
    assert Image.open(output).size == (32, 20) and written_by_us(output)  # resized to --size


def test_item08_ctrl_c_while_saving_is_one_line_and_leaves_no_file(tmp_path, capsys, monkeypatch):
    from nst_helpers import cli

    def interrupted_save(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "save_or_rescue", interrupted_save)
    content, style = write_png(tmp_path / "content.png"), write_png(tmp_path / "style.png", seed=1)
    output = tmp_path / "out.png"
    assert main(["stylize", str(content), str(style), "-o", str(output), "--size", "32", "--steps", "1",
                 "--quiet"]) == 130
    captured = capsys.readouterr()
    assert captured.err == "Interrupted while saving: the result was not saved.\n" and captured.out == ""
    assert not output.exists()


def test_item08_the_package_imports_nothing_heavy():
    code = ("import sys, nst_helpers as nh; assert 'torch' not in sys.modules; "
            "from nst_helpers import checks, plots, StyleSettings; assert 'torch' in sys.modules; "
            "assert nh.stylize.__module__ == 'nst_helpers.transfer' and 'stylize' in dir(nh); "
            "assert sorted(nh.__all__) == sorted(nh._SOURCES); print('ok')")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.stdout == "ok\n", completed.stderr


# --------------------------------------------------------------------------------------------------------------------
# 9. Devices; 10. weights; 11. arguments
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["cuda", "cuda:7", "foo"])
def test_item09_a_device_that_is_not_there_is_one_line(device, tmp_path, capsys, no_loading):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    content, style = write_png(tmp_path / "content.png"), write_png(tmp_path / "style.png", seed=1)
    status, line = run_cli(["stylize", str(content), str(style), "--device", device, "--size", "32"], capsys)
    assert status == 2 and line.startswith(f"error: device={device!r} is not available here; choose one of: ")
    assert line.endswith("cpu")


@pytest.mark.parametrize(("flags", "message"), [
    (["--style-weight", "-1"], "style_weight must be at least 0, got -1.0"),
    (["--style-weight", "nan"], "style_weight must be a finite number, got nan"),
    (["--style-weight", "inf"], "style_weight must be a finite number, got inf"),
    (["--content-weight=-inf"], "content_weight must be a finite number, got -inf"),
    (["--style-blend", "nan", "1"], "style_blend must be a finite number, got nan"),
    (["--style-blend", "inf", "1"], "style_blend must be a finite number, got inf"),
    (["--style-blend", "-1", "1"], "style_blend must be at least 0, got -1.0"),
    (["--style-blend", "0", "0"], "style_blend needs at least one weight above 0, got [0.0, 0.0]"),
])
def test_item10_bad_weights_are_one_line_naming_the_argument(flags, message, tmp_path, capsys, no_loading):
    content = write_png(tmp_path / "content.png")
    styles = [str(write_png(tmp_path / f"style{i}.png", seed=i)) for i in (1, 2)]
    status, line = run_cli(["stylize", str(content), *styles, "--size", "32", *flags], capsys)
    assert status == 2 and line == f"error: {message}"


@pytest.mark.parametrize(("options", "error", "message"), [
    ({"size": 0}, SettingsError, "size must be at least 1, got 0"),
    ({"size": -5}, SettingsError, "size must be at least 1, got -5"),
    ({"size": "128"}, SettingsTypeError, "size must be a whole number, got '128' (str)"),
    ({"steps": 2.5}, SettingsTypeError, "steps must be a whole number, got 2.5 (float)"),
    ({"style": []}, SettingsError, "style is an empty list; pass at least one style image"),
    ({"content": np.array([[1, None]], dtype=object)}, ImageError, "the NumPy array has dtype object, not numbers"),
    ({"style": np.array([["a", "b"]])}, ImageError, "the NumPy array has dtype <U1, not numbers"),
], ids=["size-0", "size-minus-5", "size-str", "steps-float", "style-empty", "object-array", "string-array"])
def test_item11_bad_arguments_of_stylize_are_clear_errors_before_the_run(options, error, message, no_loading):
    arguments = {"content": torch.rand(1, 3, 16, 16), "style": torch.rand(1, 3, 16, 16), "steps": 2, **options}
    with pytest.raises(error) as caught:
        transfer.stylize(arguments.pop("content"), arguments.pop("style"), progress=False, **arguments)
    assert type(caught.value) is error and str(caught.value).startswith(message)


# --------------------------------------------------------------------------------------------------------------------
# 13. Smaller: an ambiguous shape
# --------------------------------------------------------------------------------------------------------------------


def test_item13_an_ambiguous_shape_says_so_and_how_to_pass_it():
    array = np.random.default_rng(0).random((3, 32, 3))
    with pytest.raises(ImageError, match=r"the NumPy array has the ambiguous shape \(3, 32, 3\): it could be "
                                         r"channels-last \(H, W, C\) or channels-first \(C, H, W\)") as caught:
        load_image(array)
    assert "torch.from_numpy(array).permute(2, 0, 1)[None] if it is (H, W, C)" in str(caught.value)
    as_hwc = load_image(torch.from_numpy(array).permute(2, 0, 1)[None])  # the two ways the message offers
    as_chw = load_image(torch.from_numpy(array)[None])
    assert as_hwc.shape == (1, 3, 3, 32) and as_chw.shape == (1, 3, 32, 3)
    with pytest.raises(ImageError, match=r"the tensor has the ambiguous shape \(3, 32, 3\).*tensor\[None\] if it is"):
        load_image(torch.from_numpy(array))
    with pytest.raises(ImageError, match=r"shape \(3, 32, 32\).*it looks channels-first: pass array\.transpose"):
        load_image(np.zeros((3, 32, 32)))
    assert load_image(np.zeros((32, 3, 3))).shape == (1, 3, 32, 3)  # (H, W, 3) with H != 3: not ambiguous
    assert load_image(Image.new("RGB", (3, 3), "red")).shape == (1, 3, 3, 3)  # a PIL image is never ambiguous
