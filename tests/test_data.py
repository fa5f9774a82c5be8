"""Tests of nst_helpers.data: the catalogue, the drawn and photo examples, and the classics over a local server.

The classics are served from ``../shared/classics`` by an HTTP server on 127.0.0.1; no other address is contacted.
"""

from __future__ import annotations

import hashlib
import http.server
import importlib.util
import socket
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nst_helpers import data
from nst_helpers.data import CLASSICS_URL_VARIABLE, EXAMPLES, list_examples, load_example
from nst_helpers.errors import DownloadError, ImageError

ROOT = Path(__file__).resolve().parents[1]
CLASSICS = Path(__file__).resolve().parents[2] / "shared" / "classics"
CLASSIC_NAMES = ["starry_night", "the_scream", "shipwreck", "tubingen"]
needs_classics = pytest.mark.skipif(not CLASSICS.is_dir(), reason=f"no local copies of the classics in {CLASSICS}")


# --------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------


def test_examples_come_in_three_kinds():
    drawn, photos, classics = list_examples("drawn"), list_examples("photo"), list_examples("classic")
    assert len(drawn) >= 3
    assert {"brushstrokes", "mosaic", "swirls"} <= set(drawn)
    assert {"astronaut", "chelsea", "coffee", "brick"} <= set(photos)
    assert sorted(classics) == sorted(CLASSIC_NAMES)
    assert list_examples() == list(EXAMPLES)
    assert sorted(drawn + photos + classics) == sorted(EXAMPLES)
    assert all(EXAMPLES[name].kind == "drawn" for name in drawn)


def test_offline_examples_are_all_but_the_classics():
    offline = list_examples(offline_only=True)
    assert offline == list_examples("drawn") + list_examples("photo")
    assert not set(offline) & set(CLASSIC_NAMES)
    assert list_examples("classic", offline_only=True) == []
    assert list_examples("drawn", offline_only=True) == list_examples("drawn")


def test_every_example_is_credited_and_licensed():
    for example in EXAMPLES.values():
        assert example.title and example.credit and example.licence and example.file, example.name
        if example.kind == "classic":
            assert len(example.sha256) == 64 and int(example.sha256, 16) >= 0, example.name


def test_the_catalogue_in_data_readme_lists_every_example():
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    missing = [name for name in EXAMPLES if name not in readme]
    assert missing == []
    for example in EXAMPLES.values():
        if example.kind != "photo":
            assert example.file in readme, example.file


@needs_classics
def test_pinned_hashes_match_the_local_copies_list():
    sums_file = CLASSICS / "SHA256SUMS"
    if not sums_file.is_file():
        pytest.skip(f"no {sums_file}")
    listed = {}
    for line in sums_file.read_text().splitlines():
        if line.strip():
            digest, file = line.split()
            listed[file.lstrip("*")] = digest
    pinned = {EXAMPLES[name].file: EXAMPLES[name].sha256 for name in CLASSIC_NAMES}
    assert pinned == listed


# --------------------------------------------------------------------------
# Offline examples
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list_examples(offline_only=True))
def test_offline_example_loads_as_a_small_rgb_batch(name):
    image = load_example(name, max_size=64)
    assert image.dtype == torch.float32
    assert image.ndim == 4 and image.shape[:2] == (1, 3)
    assert max(image.shape[-2:]) == 64  # every example is larger than 64 px, so it is shrunk to exactly that
    assert min(image.shape[-2:]) >= 16
    assert image.min().item() >= 0.0 and image.max().item() <= 1.0
    assert image.std().item() > 0.01  # a picture, not a flat colour


@pytest.mark.parametrize("name", ["brick", "gravel", "grass"])
def test_grey_textures_become_three_equal_channels(name):
    image = load_example(name, max_size=32)
    assert torch.equal(image[0, 0], image[0, 1]) and torch.equal(image[0, 1], image[0, 2])


def test_drawn_example_keeps_its_full_size_without_max_size():
    assert tuple(load_example("swirls").shape) == (1, 3, 512, 512)


def test_unknown_kind_is_explained():
    with pytest.raises(ValueError, match="kind must be one of drawn, photo, classic; got 'paintings'"):
        list_examples("paintings")


def test_unknown_example_lists_the_names():
    with pytest.raises(KeyError, match=r"no example named 'van_gogh'; choose one of: brushstrokes, mosaic.*tubingen"):
        load_example("van_gogh")


def test_missing_drawn_example_says_how_to_recreate_it(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "data_dir", lambda: tmp_path)
    with pytest.raises(ImageError, match=r"mosaic\.jpg is missing; recreate it with: python data/draw_styles.py"):
        load_example("mosaic")


def _load_draw_styles():
    path = ROOT / "data" / "draw_styles.py"
    spec = importlib.util.spec_from_file_location("draw_styles", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_drawn_images_are_reproduced_by_the_script(tmp_path):
    """Redraw the fastest image (the stained glass, well under a second) and compare it with the committed file.

    PNG is lossless, so the pixels must match; data/README.md allows the slightest differences across library
    versions, which the tolerance below admits while any change to the picture fails.
    """
    draw_styles = _load_draw_styles()
    target = tmp_path / "stained_glass.png"
    draw_styles.save(draw_styles.draw_stained_glass(), target)
    redrawn = np.asarray(Image.open(target).convert("RGB"), dtype=np.int16)
    committed = np.asarray(Image.open(ROOT / "data" / "stained_glass.png").convert("RGB"), dtype=np.int16)
    assert redrawn.shape == committed.shape == (512, 512, 3)
    difference = np.abs(redrawn - committed)
    assert difference.mean() < 0.05
    assert (difference > 1).mean() < 0.001


# --------------------------------------------------------------------------
# Classics, served from 127.0.0.1
# --------------------------------------------------------------------------


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder and records every path asked for."""

    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args) -> None:
        pass  # keep the test output clean


@pytest.fixture
def serve(monkeypatch, tmp_path) -> Iterator[Callable[[Path], list[str]]]:
    """Start a server for a folder, point the package at it with an empty cache; return the request log."""
    servers = []

    def start(folder: Path) -> list[str]:
        requests: list[str] = []
        handler = type("Handler", (CountingHandler,), {"requests": requests})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        monkeypatch.setenv(CLASSICS_URL_VARIABLE, f"http://127.0.0.1:{server.server_address[1]}/")
        monkeypatch.setenv("NST_CACHE_DIR", str(tmp_path / "cache"))
        return requests

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@needs_classics
def test_classic_is_downloaded_once_verified_and_cached(serve, tmp_path):
    requests = serve(CLASSICS)
    image = load_example("starry_night", max_size=64)
    assert image.dtype == torch.float32 and image.shape[:2] == (1, 3) and max(image.shape[-2:]) == 64
    assert requests == ["/starry_night.jpg"]
    cached = tmp_path / "cache" / "classics" / "starry_night.jpg"
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == EXAMPLES["starry_night"].sha256

    again = load_example("starry_night", max_size=64)
    assert requests == ["/starry_night.jpg"]  # the cached file was used: no second request
    assert torch.equal(again, image)


@needs_classics
def test_every_classic_downloads_with_its_pinned_hash(serve, tmp_path):
    requests = serve(CLASSICS)
    for name in CLASSIC_NAMES:
        path = data.classic_path(name)
        assert path == tmp_path / "cache" / "classics" / EXAMPLES[name].file
        assert hashlib.sha256(path.read_bytes()).hexdigest() == EXAMPLES[name].sha256
    assert sorted(requests) == sorted(f"/{EXAMPLES[name].file}" for name in CLASSIC_NAMES)


def test_classic_with_a_wrong_hash_is_refused_and_not_cached(serve, tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    Image.new("RGB", (8, 8), "red").save(folder / "the_scream.jpg")
    serve(folder)
    with pytest.raises(DownloadError, match=r"'the_scream'.*failed its checksum.*work offline: brushstrokes"):
        load_example("the_scream")
    assert not (tmp_path / "cache" / "classics" / "the_scream.jpg").exists()


def test_classic_offline_names_the_examples_that_work_offline(monkeypatch, tmp_path):
    with socket.socket() as probe:  # a port that was free a moment ago and now has nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(CLASSICS_URL_VARIABLE, f"http://127.0.0.1:{port}/")
    monkeypatch.setenv("NST_CACHE_DIR", str(tmp_path))
    with pytest.raises(DownloadError) as caught:
        load_example("tubingen", max_size=64)
    message = str(caught.value)
    assert "'tubingen'" in message
    assert f"127.0.0.1:{port}/tubingen.jpg" in message
    assert "work offline: brushstrokes, mosaic, swirls" in message
    assert "chelsea" in message
    assert "starry_night" not in message  # only offline examples are offered
    assert not (tmp_path / "classics" / "tubingen.jpg").exists()
